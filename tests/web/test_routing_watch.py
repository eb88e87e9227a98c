"""The routing watcher logs and audits each alert once, not on every tick."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.audit.trail import AuditRecord
from hub.rostering.routing import ALERT_ACTION
from hub.store.bootstrap import make_uow_factory
from tests.hub.test_calls_routing import set_skills, staffed_hub, waiting_call
from web.rota import routing_watch


async def test_each_alert_is_logged_and_audited_once(ctx, clock, home, caplog) -> None:  # type: ignore[no-untyped-def]
    hub = await staffed_hub(ctx, clock)
    for user in hub.on:  # nobody on shift can prescribe
        await set_skills(ctx, user)
    call = await waiting_call(ctx, clock, home, "medication")
    recorded: set[tuple[int, str]] = set()
    caplog.set_level(logging.WARNING, logger="telehub.routing")

    first = await routing_watch.check(ctx, recorded)
    assert [(a.call_id, a.kind) for a in first] == [(call.id, "unanswerable")]
    assert await routing_watch.check(ctx, recorded) == []  # the next tick: nothing new

    clock.advance(timedelta(seconds=ctx.settings.rota.answer_target_s + 60))
    second = await routing_watch.check(ctx, recorded)
    assert [(a.call_id, a.kind) for a in second] == [(call.id, "over_target")]
    assert await routing_watch.check(ctx, recorded) == []
    # A restarted watcher (empty memory) finds both already in the audit trail.
    assert await routing_watch.check(ctx, set()) == []

    lines = [r for r in caplog.records if r.name == "telehub.routing"]
    assert [r.levelno for r in lines] == [logging.WARNING, logging.WARNING]
    assert lines[0].getMessage() == (
        f"routing alert kind=unanswerable call={call.id} home='Rose Court' waited_s=0 "
        "reason=medication why='no prescriber is on shift'"
    )
    assert f"kind=over_target call={call.id}" in lines[1].getMessage()
    assert "waited_s=360" in lines[1].getMessage()
    async with ctx.uow() as uow:
        events = await uow.audit.for_subject("consultation", str(call.id), [ALERT_ACTION])
    assert [(e.actor, e.detail["kind"]) for e in events] == [
        ("system:0", "unanswerable"),
        ("system:0", "over_target"),
    ]
    assert events[1].detail["waited_s"] == 360 and events[1].detail["home"] == "Rose Court"


async def test_no_alerts_while_calls_are_answered_in_time(ctx, clock, home, caplog) -> None:  # type: ignore[no-untyped-def]
    await waiting_call(ctx, clock, home)  # no rota published: nothing to say yet
    caplog.set_level(logging.WARNING, logger="telehub.routing")
    assert await routing_watch.check(ctx, set()) == []
    assert not [r for r in caplog.records if r.name == "telehub.routing"]


async def test_two_hub_processes_record_an_alert_once(ctx, engine, clock, home) -> None:  # type: ignore[no-untyped-def]
    """Another telehub process's watcher is recording the same alert (its transaction
    still open) when this one ticks: this one waits for it and finds the alert already
    audited. On PostgreSQL it would read the trail before the other commits, and audit
    the alert again, unless the chain is held before reading."""
    hub = await staffed_hub(ctx, clock)
    for user in hub.on:
        await set_skills(ctx, user)
    call = await waiting_call(ctx, clock, home, "medication")

    # The other process: its own units of work (SQLite turns are per process).
    other_process = make_uow_factory(engine, ctx.keyring)
    async with other_process() as other:
        detail = {"kind": "unanswerable", "why": "no prescriber is on shift"}
        record = AuditRecord(ALERT_ACTION, "system:0", "consultation", str(call.id), detail)
        await other.audit.append(record, clock.now())
        with statement_watch(engine, held_up_by_the_audit_head) as sent:
            tick = asyncio.create_task(routing_watch.check(ctx, set()))
            # This process's tick reaches the audit trail: it has sent the statement
            # the other transaction holds up.
            assert await asyncio.to_thread(sent.wait, 30)
        await other.commit()
    assert await tick == []
    async with ctx.uow() as uow:
        events = await uow.audit.for_subject("consultation", str(call.id), [ALERT_ACTION])
    assert [e.detail["kind"] for e in events] == ["unanswerable"]


def held_up_by_the_audit_head(statement: str) -> bool:
    """The statement a held audit head makes wait: SQLite's BEGIN IMMEDIATE (any
    writer waits), PostgreSQL's SELECT … FOR UPDATE of the audit head."""
    s = statement.upper()
    return s.startswith("BEGIN IMMEDIATE") or ("AUDIT_HEAD" in s and "FOR UPDATE" in s)


@contextlib.contextmanager
def statement_watch(
    engine: AsyncEngine, matches: Callable[[str], bool]
) -> Iterator[threading.Event]:
    """An event set when a connection of ``engine`` sends a statement that ``matches``."""
    sent = threading.Event()

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if matches(statement):
            sent.set()

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)
