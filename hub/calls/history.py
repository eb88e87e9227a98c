"""Reading one consultation with its outcome history, and a home's recent calls; and
storing calls that happened before telehub knew of them (the demo's past calls).

Both reads are accesses to resident records, so both are audited, refusals included. A call
of another home is *not found*, as for residents (``hub.people.resident_records``). The history of a
call's outcome (recorded, amended with a reason, re-presentations) is read back from
the audit trail, which already keeps who changed what, when and why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from hub.audit.trail import AuditRecord
from hub.calls.closure import derive, window
from hub.calls.consultation import Consultation, State
from hub.calls.note_entries import NewNote, NoteEntry
from hub.calls.security import SecurityChange, SecurityLevel
from hub.context import HubContext
from hub.errors import NotFound, ValidationError
from hub.outcomes.avoided import Avoided
from hub.outcomes.codes import RecordedRepresentation
from hub.people.access import Actor, Role, require_role
from hub.people.homes import CareHome
from hub.people.residents import Resident
from hub.ports import UnitOfWork

#: Audit actions that make up a call's outcome history.
HISTORY_ACTIONS = (
    "call.outcome",
    "call.outcome_amended",
    "call.representation",
    "call.representation_undone",
    "call.outcome_deferred",  # put off with a reason (hub.calls.closure.defer_outcome)
)


@dataclass(frozen=True)
class HistoryEntry:
    """One change to a call's outcome, as the audit trail recorded it."""

    at: datetime
    action: str  # one of HISTORY_ACTIONS
    who: str  # a display name, or the audit reference if the actor is gone
    detail: Mapping[str, Any]

    @property
    def why(self) -> str:
        return str(self.detail.get("why") or "")


@dataclass(frozen=True)
class CallRecord:
    call: Consultation
    resident: Resident
    home: CareHome
    clinician_name: str | None
    history: list[HistoryEntry]
    follow_up_closes_at: datetime | None  # None until the call has ended
    avoided: Avoided  # as stored, so exactly what the reports count (never derived again)
    notes: list[NoteEntry] = field(default_factory=list)  # every entry, oldest first
    # Every change of the negotiated security level, oldest first (hub.calls.security).
    security: list[SecurityChange] = field(default_factory=list)


@dataclass(frozen=True)
class RecentCall:
    call: Consultation
    resident_name: str
    follow_up_closes_at: datetime
    representations: list[RecordedRepresentation]  # recorded and not undone, oldest first


async def view_call(ctx: HubContext, actor: Actor, call_id: int) -> CallRecord:
    """One call, its resident and home, and its outcome history (audited)."""
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        call = await uow.consultations.get(call_id)
        if call is None or not actor.can_see_home(call.home_id):
            await _deny(uow, actor, call_id, "missing" if call is None else "other home", now)
            await uow.commit()
            raise NotFound(f"no call {call_id}")
        resident = await uow.residents.get(call.resident_id)
        home = await uow.homes.get(call.home_id)
        if resident is None or home is None:  # rows are never deleted; be safe anyway
            raise NotFound(f"no call {call_id}")
        events = await uow.audit.for_subject("consultation", str(call_id), HISTORY_ACTIONS)
        security_rows = await uow.consultations.security_changes(call_id)
        names = await _names(uow, {e.actor for e in events} | {by for *_, by in security_rows})
        clinician = await uow.staff.get(call.answered_by) if call.answered_by else None
        notes = await uow.notes.for_call(call_id)  # part of the audited read below
        await uow.audit.append(
            AuditRecord(
                "call.viewed",
                actor.ref,
                "consultation",
                str(call_id),
                {"resident_id": call.resident_id, "home_id": call.home_id},
            ),
            now,
        )
        await uow.commit()
    closes = call.ended_at + window(ctx) if call.ended_at else None
    history = [HistoryEntry(e.at, e.action, names.get(e.actor, e.actor), e.detail) for e in events]
    return CallRecord(
        call,
        resident,
        home,
        clinician.display_name if clinician else None,
        history,
        closes,
        call.avoided or Avoided(attributable=False),
        notes,
        security=[
            SecurityChange(SecurityLevel(level), at, names.get(by, by))
            for level, at, by in security_rows
        ],
    )


async def recent_calls_of_home(ctx: HubContext, actor: Actor, home_id: int) -> list[RecentCall]:
    """Ended calls of a home whose follow-up window is still open, newest first (audited)."""
    now = ctx.clock.now()
    follow_up = window(ctx)
    async with ctx.uow() as uow:
        if not actor.can_see_home(home_id):
            await uow.audit.append(
                AuditRecord("home.calls.denied", actor.ref, "home", str(home_id), {}), now
            )
            await uow.commit()
            raise NotFound(f"no care home {home_id}")
        # A call ends after it was requested: a day's slack covers the longest call.
        candidates = await uow.consultations.in_range(
            now - follow_up - timedelta(days=1), now + timedelta(seconds=1), home_id
        )
        open_calls = [
            c
            for c in candidates
            if c.state is State.ENDED and c.ended_at is not None and now <= c.ended_at + follow_up
        ]
        names: dict[int, str] = {}
        reps: dict[int, list[RecordedRepresentation]] = {}
        for c in open_calls:
            if c.resident_id not in names:
                resident = await uow.residents.get(c.resident_id)
                names[c.resident_id] = resident.display_name if resident else "—"
            reps[c.id] = await uow.representations.for_call(c.id)
        await uow.audit.append(
            AuditRecord(
                "home.calls.listed", actor.ref, "home", str(home_id), {"count": len(open_calls)}
            ),
            now,
        )
        await uow.commit()
    open_calls.sort(key=lambda c: c.ended_at or c.requested_at, reverse=True)
    return [
        RecentCall(c, names[c.resident_id], (c.ended_at or now) + follow_up, reps[c.id])
        for c in open_calls
    ]


@dataclass(frozen=True)
class PastCall:
    """A call that is over, to be stored as it happened, with the note its answering
    clinician wrote when it ended (if any)."""

    call: Consultation
    note: str | None = None


CLOSED = (State.ENDED, State.CANCELLED, State.ABANDONED)


async def store_historical_calls(
    ctx: HubContext, actor: Actor, calls: Sequence[PastCall], *, source: str
) -> list[int]:
    """Store closed calls in one transaction and return their ids, in order. Their
    avoided events are derived here, as for every stored call (``closure.derive``); each
    note is written as its clinician's, at the call's end. One audit event per care home
    says how many calls it got and from where (``source``: "demo", "import-calls")."""
    require_role(actor, Role.ADMIN)
    if any(p.call.state not in CLOSED for p in calls):
        raise ValidationError("only calls that are over can be stored as past calls")
    now = ctx.clock.now()
    follow_up = window(ctx)
    async with ctx.uow() as uow:
        ids = await uow.consultations.add_many(
            [replace(p.call, avoided=derive(p.call, (), follow_up)) for p in calls]
        )
        authors: dict[int, str] = {}
        notes = []
        for call_id, past in zip(ids, calls, strict=True):
            by, at = past.call.answered_by, past.call.ended_at
            if past.note is None or by is None or at is None:
                continue
            if by not in authors:
                user = await uow.staff.get(by)
                if user is None:
                    raise NotFound(f"no staff member {by}")
                authors[by] = user.display_name
            notes.append(NewNote(call_id, f"staff:{by}", authors[by], at, past.note))
        await uow.notes.add_many(notes)
        for home_id, n in sorted(Counter(p.call.home_id for p in calls).items()):
            await uow.audit.append(
                AuditRecord(
                    "consultation.imported",
                    actor.ref,
                    "home",
                    str(home_id),
                    {"count": n, "source": source},
                ),
                now,
            )
        await uow.commit()
    return ids


async def audit_refused(ctx: HubContext, actor: Actor, call_id: int, what: str) -> None:
    """Write down a refused attempt on a call (another home's, or one that does not exist)."""
    async with ctx.uow() as uow:
        await _deny(uow, actor, call_id, what, ctx.clock.now())
        await uow.commit()


async def _deny(uow: UnitOfWork, actor: Actor, call_id: int, reason: str, at: datetime) -> None:
    await uow.audit.append(
        AuditRecord("call.denied", actor.ref, "consultation", str(call_id), {"reason": reason}),
        at,
    )


async def _names(uow: UnitOfWork, refs: set[str]) -> dict[str, str]:
    """Audit references (``staff:3``, ``device:7``) to the names people know them by."""
    names: dict[str, str] = {}
    for ref in refs:
        kind, _, raw = ref.partition(":")
        if kind == "system":
            names[ref] = "telehub (system)"
        elif not raw.isdigit():
            continue
        elif kind == "staff":
            user = await uow.staff.get(int(raw))
            if user is not None:
                names[ref] = user.display_name
        elif kind == "device":
            device = await uow.devices.get(int(raw))
            if device is not None:
                names[ref] = f"Tablet: {device.label or device.id}"
    return names
