"""``telehub audit`` commands: check the keyed audit chain, and print its head.

    telehub audit verify [--head SEQ:HASH]
    telehub audit head

``verify`` checks every event's HMAC under ``crypto.audit_key`` (events from before
the chain was keyed with plain SHA-256), that the stored head is the newest event, and,
with ``--head``, that a head printed earlier by ``telehub audit head`` and kept
outside the database is still in the chain with the same hash, so a later truncation or
rewrite shows. Exit status 1 when anything does not match. See docs/security.md.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from hub.audit import chain
from hub.audit.trail import ChainHead, ChainReport
from rota.progress_bar import progress_bar
from web.cli.bootstrap import hub_context, settings_from


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    v = sub.add_parser("verify", help="check the audit chain end to end")
    v.add_argument(
        "--head",
        metavar="SEQ:HASH",
        help="a head printed earlier by `telehub audit head`: show if it is gone or changed",
    )
    v.set_defaults(func=cmd_audit_verify)
    h = sub.add_parser("head", help="print the newest audit event as SEQ:HASH, to keep elsewhere")
    h.set_defaults(func=cmd_audit_head)


def cmd_audit_verify(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    expected = ChainHead.parse(args.head) if args.head else None

    async def run() -> ChainReport:
        async with hub_context(settings) as ctx:
            return await chain.check(
                ctx,
                expected,
                lambda events: progress_bar(
                    events,
                    desc="verifying audit chain",
                    unit="event",
                    disable=len(events) < 10_000,
                ),
            )

    report = asyncio.run(run())
    if not report.ok:
        print(
            f"audit chain BROKEN at event {report.first_bad_seq}: {report.problem} "
            f"({report.checked} events verified before it)",
            file=sys.stderr,
        )
        return 1
    print(f"audit chain intact: {report.checked} events verified")
    if report.unkeyed:
        print(
            f"  events 1-{report.unkeyed} predate the keyed chain (plain SHA-256); "
            f"keyed from event {report.keyed_from}"
        )
    if expected is not None:
        print(f"  the exported head {expected.seq} is in the chain unchanged")
    if report.head is not None:
        print(f"  head {report.head}")
    return 0


def cmd_audit_head(args: argparse.Namespace) -> int:
    settings = settings_from(args)

    async def run() -> ChainHead:
        async with hub_context(settings) as ctx:
            return await chain.head(ctx)

    print(asyncio.run(run()))
    return 0
