"""The routing watcher: every 15 s, look at the waiting calls and record each new alert
(a call nobody on shift can take as routed, or one waiting past the answer target)
once — a WARNING log line and a ``routing.alert`` audit event — not on every tick.

Runs as an aiohttp ``cleanup_ctx`` task next to the database (see ``web.app``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, MutableSet

from aiohttp import web

from hub.context import HubContext
from hub.rostering import routing
from hub.rostering.routing_rules import Alert
from web.http.keys import CTX

log = logging.getLogger("telehub.routing")
INTERVAL_S = 15.0


def describe(alert: Alert) -> str:
    """One structured line: greppable key=value pairs."""
    return (
        f"routing alert kind={alert.kind} call={alert.call_id} home={alert.home_name!r} "
        f"waited_s={alert.waited_s} reason={alert.reason} why={alert.why!r}"
    )


async def check(ctx: HubContext, recorded: MutableSet[tuple[int, str]]) -> list[Alert]:
    """One tick: record and log the alerts not recorded before."""
    fresh = await routing.record_alerts(ctx, recorded)
    for alert in fresh:
        log.warning(
            describe(alert),
            extra={
                "call_id": alert.call_id,
                "alert_kind": alert.kind,
                "home": alert.home_name,
                "waited_s": alert.waited_s,
                "reason": alert.reason,
            },
        )
    return fresh


async def _run(ctx: HubContext, interval_s: float) -> None:
    recorded: set[tuple[int, str]] = set()
    while True:
        await asyncio.sleep(interval_s)
        try:
            await check(ctx, recorded)
        except Exception:
            log.exception("routing watch failed")


async def routing_watch(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx``: start the watcher once the database is up, stop it on shutdown."""
    task = asyncio.create_task(_run(app[CTX], INTERVAL_S), name="routing-watch")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
