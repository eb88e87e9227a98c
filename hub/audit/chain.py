"""Checking the audit chain, reading its head for safe keeping, and its newest events
(the CLI and the admin audit page call these; the chain itself is in
``hub/audit/trail.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from hub.audit.trail import AuditEvent, ChainHead, ChainReport, verify
from hub.context import HubContext
from hub.people.access import Actor, Role, require_role

Progress = Callable[[list[AuditEvent]], Iterable[AuditEvent]]


async def check(
    ctx: HubContext, expected: ChainHead | None = None, progress: Progress | None = None
) -> ChainReport:
    """Verify every event under the audit key, that the stored head is the newest
    event, and (when given) that a head exported earlier is still in the chain."""
    async with ctx.uow() as uow:
        state = await uow.audit.state()
        events = [e async for e in uow.audit.events()]
    walk = progress(events) if progress is not None else events
    return verify(walk, ctx.keyring.audit_key, state, expected)


async def head(ctx: HubContext) -> ChainHead:
    """The newest event's sequence number and hash, to be kept outside the database."""
    async with ctx.uow() as uow:
        return (await uow.audit.state()).head


async def recent(ctx: HubContext, actor: Actor, limit: int) -> list[AuditEvent]:
    """The newest ``limit`` events, newest first: for admins (the trail names residents)."""
    require_role(actor, Role.ADMIN)
    async with ctx.uow() as uow:
        return await uow.audit.recent(limit)
