"""The routing service: what the console shows about who may answer which call, and the
alerts the background watcher records (``hub.rostering.routing_rules`` holds the rules themselves).

Each alert (call, kind) is audited once as ``routing.alert``: the watcher remembers
what it has recorded, and the audit trail is asked before recording again, so a
restarted process (or a second one) does not record it twice.
"""

from __future__ import annotations

from collections.abc import MutableSet
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hub.audit.trail import AuditRecord
from hub.calls.consultation import State
from hub.calls.queue import QueueEntry, order
from hub.context import HubContext
from hub.people.access import Actor, Role, require_role
from hub.rostering import routing_rules
from hub.rostering.cover import OnShift, on_shift_at
from hub.rostering.plans import my_shifts
from hub.rostering.problem import TIMEZONE

ALERT_ACTION = "routing.alert"
SHIFT_LOOKAHEAD = timedelta(days=14)


@dataclass(frozen=True)
class CallRouting:
    """One queue entry as this viewer sees it."""

    entry: QueueEntry
    needs: str | None  # the skill the call needs
    refusal: str | None  # why this viewer may not answer it (None: they may)
    shortfall: str | None  # why nobody on shift meets its need (alert)
    waited_s: int

    @property
    def may_answer(self) -> bool:
        return self.refusal is None


@dataclass(frozen=True)
class ConsoleRouting:
    at: datetime
    cover: OnShift
    enforced: bool
    answer_target_s: int
    clinician: bool  # only clinicians answer
    on_shift: bool
    read_only: bool  # a clinician off shift while on-shift routing is enforced
    skills: frozenset[str]
    shift_note: str | None
    calls: list[CallRouting]
    alerts: list[routing_rules.Alert]


async def console_routing(ctx: HubContext, actor: Actor) -> ConsoleRouting:
    """Who may answer what, for the console of ``actor`` (hub staff)."""
    require_role(actor, Role.CLINICIAN, Role.MANAGER, Role.ADMIN)
    settings = ctx.settings.rota
    now = ctx.clock.now()
    cover = await on_shift_at(ctx, now)
    async with ctx.uow() as uow:
        entries = order(await uow.consultations.queue())
        user = await uow.staff.get(actor.id)
    clinician = actor.role is Role.CLINICIAN and user is not None and user.active
    skills = frozenset(s.value for s in user.skills) if user is not None else frozenset()
    note = None
    if clinician:
        shifts = await my_shifts(ctx, actor, now - timedelta(days=1), now + SHIFT_LOOKAHEAD)
        note = routing_rules.shift_note(shifts, now, ZoneInfo(TIMEZONE))
    views = []
    for e in entries:
        why = (
            routing_rules.refusal(actor.id, skills, e.reason, cover, settings)
            if clinician
            else "only clinicians answer calls"
        )
        views.append(
            CallRouting(
                e,
                routing_rules.needed_skill(e.reason, settings),
                why,
                routing_rules.shortfall(e.reason, cover, settings)
                if e.state is State.WAITING
                else None,
                routing_rules.waited_s(e, now),
            )
        )
    return ConsoleRouting(
        at=now,
        cover=cover,
        enforced=routing_rules.enforced(cover, settings),
        answer_target_s=settings.answer_target_s,
        clinician=clinician,
        on_shift=cover.has(actor.id),
        read_only=clinician and routing_rules.read_only(actor.id, cover, settings),
        skills=skills,
        shift_note=note,
        calls=views,
        alerts=routing_rules.alerts(entries, cover, settings, now),
    )


@dataclass(frozen=True)
class Colleague:
    """A clinician a call can be transferred to, as the transfer list shows them."""

    id: int
    name: str
    online: bool  # has a live console socket (on any telehub process)
    on_shift: bool | None  # None: no published rota is in force, so shifts say nothing


async def transfer_list(
    ctx: HubContext, actor: Actor, cover: OnShift, online: frozenset[int]
) -> list[Colleague]:
    """The other active clinicians, those on shift and online first (who ``online`` is
    comes from the signalling layer; the rota says who is on shift)."""
    require_role(actor, Role.CLINICIAN, Role.MANAGER, Role.ADMIN)
    async with ctx.uow() as uow:
        staff = await uow.staff.list()
    listed = [
        Colleague(u.id, u.display_name, u.id in online, cover.has(u.id) if cover.in_force else None)
        for u in staff
        if u.role is Role.CLINICIAN and u.active and u.id != actor.id
    ]
    return sorted(listed, key=lambda c: (c.on_shift is False, not c.online, c.name))


async def current_alerts(ctx: HubContext) -> list[routing_rules.Alert]:
    now = ctx.clock.now()
    cover = await on_shift_at(ctx, now)
    async with ctx.uow() as uow:
        entries = await uow.consultations.queue()
    return routing_rules.alerts(entries, cover, ctx.settings.rota, now)


async def record_alerts(
    ctx: HubContext, recorded: MutableSet[tuple[int, str]]
) -> list[routing_rules.Alert]:
    """Audit the alerts not recorded before; return them (the caller logs them).

    ``recorded`` is the caller's memory of (call id, kind) pairs already recorded; it is
    updated, and pruned of calls that have left the queue.
    """
    now = ctx.clock.now()
    cover = await on_shift_at(ctx, now)
    fresh: list[routing_rules.Alert] = []
    async with ctx.uow() as uow:
        entries = await uow.consultations.queue()
        live = {e.call_id for e in entries}
        for key in [k for k in recorded if k[0] not in live]:
            recorded.discard(key)
        new = [
            a
            for a in routing_rules.alerts(entries, cover, ctx.settings.rota, now)
            if a.key not in recorded
        ]
        if new:
            # Another telehub process's watcher may be recording the same alerts: with
            # the audit chain held, its append is either visible below or waits for ours.
            await uow.audit.lock()
        for alert in new:
            earlier = await uow.audit.for_subject(
                "consultation", str(alert.call_id), [ALERT_ACTION]
            )
            if not any(ev.detail.get("kind") == alert.kind for ev in earlier):
                await uow.audit.append(
                    AuditRecord(
                        ALERT_ACTION,
                        "system:0",
                        "consultation",
                        str(alert.call_id),
                        {
                            "kind": alert.kind,
                            "why": alert.why,
                            "waited_s": alert.waited_s,
                            "reason": alert.reason,
                            "home": alert.home_name,
                        },
                    ),
                    now,
                )
                fresh.append(alert)
            recorded.add(alert.key)
        await uow.commit()
    return fresh
