"""Re-presentations: the resident reached A&E, 999, an ambulance, a ward or a GP after all.

Within a call's follow-up window the home (or hub staff) may record that the resident
nevertheless had an A&E attendance, an admission, a 999 call, an ambulance conveyance
or a GP visit; it cancels the matching "avoided" (``hub.outcomes.avoided``; docs/outcomes.md).
Because that changes what the hub is credited with, recording is deliberate:

1. ``preview`` checks the re-presentation exactly as recording would and says what
   changes ("this call will no longer count as an avoided A&E attendance");
2. ``record`` stores it only when ``confirmed``; unconfirmed, it raises
   ``ConfirmationNeeded`` carrying the same ``Change`` (the API's confirm step);
3. for ``outcomes.representation_undo_minutes`` after, whoever recorded it can
   ``undo`` it, which restores exactly the previous state: the row stays, marked undone,
   and the avoided flags (and with them the report rollup) are derived again.

Every step that writes is audited (``call.representation``,
``call.representation_undone``, with what stopped or started counting); the call page
shows them (``hub.calls.history.HISTORY_ACTIONS``). A preview reads a resident's call,
so it is audited too (``call.representation_checked``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hub.audit.trail import AuditRecord
from hub.calls.closure import derive, window
from hub.calls.consultation import Consultation, State
from hub.context import HubContext
from hub.errors import Conflict, Forbidden, NotFound, ValidationError
from hub.outcomes.avoided import EVENT_LABELS, EVENTS, Avoided
from hub.outcomes.codes import (
    OutcomeError,
    RecordedRepresentation,
    Representation,
    parse_representation,
    validate_representation,
)
from hub.people.access import Actor
from hub.ports import UnitOfWork


@dataclass(frozen=True)
class Change:
    """What recording (or undoing) one re-presentation does to one call's figures."""

    call: Consultation
    resident_name: str
    representation: Representation
    before: Avoided
    after: Avoided

    @property
    def no_longer_avoided(self) -> tuple[str, ...]:
        """Events (``hub.outcomes.avoided.EVENTS``) counted as avoided before and not after."""
        return tuple(e for e in EVENTS if getattr(self.before, e) and not getattr(self.after, e))

    @property
    def avoided_again(self) -> tuple[str, ...]:
        """Events counted as avoided after and not before (an undo)."""
        return tuple(e for e in EVENTS if getattr(self.after, e) and not getattr(self.before, e))

    @property
    def sentence(self) -> str:
        """What changes, in words a carer would use."""
        if self.no_longer_avoided:
            lost = _avoided_list(self.no_longer_avoided, "or")
            return f"This call will no longer count as {lost}."
        if self.avoided_again:
            return f"This call will count again as {_avoided_list(self.avoided_again, 'and')}."
        return (
            "This does not change what the hub counts as avoided for this call; "
            "it is kept on the call's record."
        )


@dataclass(frozen=True)
class Recorded:
    change: Change
    representation: RecordedRepresentation
    undo_until: datetime


class ConfirmationNeeded(ValidationError):
    """A re-presentation submitted without confirmation; ``change`` says what it would do."""

    code = "confirmation_required"

    def __init__(self, change: Change) -> None:
        super().__init__(f"confirm to record it: {change.sentence}", field="confirm")
        self.change = change


def undo_window(ctx: HubContext) -> timedelta:
    return timedelta(minutes=ctx.settings.outcomes.representation_undo_minutes)


async def preview(
    ctx: HubContext,
    actor: Actor,
    call_id: int,
    data: Mapping[str, Any],
    *,
    resident_id: int | None = None,
) -> Change:
    """Check a re-presentation exactly as ``record`` would, and say what it would change.

    ``resident_id``, when given (a page of that resident), must be the call's resident.
    """
    rep = parse_representation(data)
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        change = await _check(ctx, uow, actor, call_id, rep, now, resident_id)
        await uow.audit.append(
            AuditRecord(
                "call.representation_checked",
                actor.ref,
                "consultation",
                str(call_id),
                {"kind": rep.kind.value, "at": rep.at.isoformat()},
            ),
            now,
        )
        await uow.commit()
    return change


async def record(
    ctx: HubContext,
    actor: Actor,
    call_id: int,
    data: Mapping[str, Any],
    *,
    confirmed: bool,
    resident_id: int | None = None,
) -> Recorded:
    """Store a re-presentation the person has confirmed; derive the avoided flags again."""
    rep = parse_representation(data)
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        change = await _check(ctx, uow, actor, call_id, rep, now, resident_id)
        if not confirmed:
            raise ConfirmationNeeded(change)
        rep_id = await uow.representations.add(call_id, rep, actor.ref, now)
        await uow.audit.append(
            AuditRecord(
                "call.representation",
                actor.ref,
                "consultation",
                str(call_id),
                {
                    "id": rep_id,
                    "kind": rep.kind.value,
                    "at": rep.at.isoformat(),
                    "no_longer_avoided": list(change.no_longer_avoided),
                },
            ),
            now,
        )
        await _store_flags(ctx, uow, call_id)
        stored = await uow.representations.get(rep_id)
        assert stored is not None
        await uow.commit()
    return Recorded(change, stored, now + undo_window(ctx))


async def undo(ctx: HubContext, actor: Actor, call_id: int, rep_id: int) -> Change:
    """Undo a re-presentation recorded by this actor within the undo window."""
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        call = await _visible_call(uow, actor, call_id)
        stored = await uow.representations.get(rep_id)
        if stored is None or stored.call_id != call_id:
            raise NotFound(f"no re-presentation {rep_id} on call {call_id}")
        if stored.undone_at is not None:
            raise Conflict("that has already been undone")
        if stored.recorded_by != actor.ref:
            raise Forbidden("only whoever recorded it can undo it; ask the hub to correct it")
        if now > stored.recorded_at + undo_window(ctx):
            minutes = ctx.settings.outcomes.representation_undo_minutes
            raise Conflict(
                f"it can only be undone in the {minutes} minutes after it was recorded; "
                "ask the hub to correct it"
            )
        before = _stored(call)
        if not await uow.representations.undo(rep_id, actor.ref, now):
            raise Conflict("that has already been undone")
        after = await _store_flags(ctx, uow, call_id)
        change = Change(call, await _resident_name(uow, call), stored.representation, before, after)
        await uow.audit.append(
            AuditRecord(
                "call.representation_undone",
                actor.ref,
                "consultation",
                str(call_id),
                {
                    "id": rep_id,
                    "kind": stored.kind.value,
                    "at": stored.at.isoformat(),
                    "avoided_again": list(change.avoided_again),
                },
            ),
            now,
        )
        await uow.commit()
    return change


async def for_calls(
    ctx: HubContext, actor: Actor, calls: Sequence[Consultation]
) -> dict[int, list[RecordedRepresentation]]:
    """The re-presentations that count, per call, of calls already read with an audited
    view (a resident's record): for listing them with their Undo buttons."""
    out: dict[int, list[RecordedRepresentation]] = {}
    async with ctx.uow() as uow:
        for call in calls:
            if actor.can_see_home(call.home_id):
                out[call.id] = await uow.representations.for_call(call.id)
    return out


def can_undo(ctx: HubContext, actor: Actor, rep: RecordedRepresentation) -> bool:
    """Whether ``actor`` may still undo ``rep`` now (to offer the button)."""
    return (
        rep.undone_at is None
        and rep.recorded_by == actor.ref
        and ctx.clock.now() <= rep.recorded_at + undo_window(ctx)
    )


async def _check(
    ctx: HubContext,
    uow: UnitOfWork,
    actor: Actor,
    call_id: int,
    rep: Representation,
    now: datetime,
    resident_id: int | None,
) -> Change:
    call = await _visible_call(uow, actor, call_id)
    if resident_id is not None and call.resident_id != resident_id:
        raise NotFound(f"no call {call_id}")
    if call.ended_at is None or call.state is not State.ENDED:
        raise Conflict(f"call {call_id} has not ended")
    if rep.at > now:
        raise OutcomeError("a re-presentation cannot be in the future", field="at")
    validate_representation(call.ended_at, window(ctx), rep, call_requested_at=call.requested_at)
    current = await uow.consultations.representations(call_id)
    # Before: what the reports count now (the stored flags); after: what storing the
    # re-presentation will store, derived as every write derives them.
    after = derive(call, [*current, rep], window(ctx))
    before = _stored(call)
    return Change(call, await _resident_name(uow, call), rep, before, after)


async def _visible_call(uow: UnitOfWork, actor: Actor, call_id: int) -> Consultation:
    call = await uow.consultations.get(call_id)
    if (
        call is None
        or not actor.can_see_home(call.home_id)
        or (actor.is_device and call.home_id != actor.home_id)
    ):
        raise NotFound(f"no call {call_id}")
    return call


async def _store_flags(ctx: HubContext, uow: UnitOfWork, call_id: int) -> Avoided:
    call = await uow.consultations.get(call_id)
    assert call is not None
    result = derive(call, await uow.consultations.representations(call_id), window(ctx))
    await uow.consultations.set_avoided(call_id, result)  # moves the report rollup with it
    return result


def _stored(call: Consultation) -> Avoided:
    """The call's avoided flags as stored (a stored call always has them)."""
    return call.avoided or Avoided(attributable=False)


async def _resident_name(uow: UnitOfWork, call: Consultation) -> str:
    resident = await uow.residents.get(call.resident_id)
    return resident.display_name if resident else "—"


def _avoided_list(events: tuple[str, ...], conjunction: str) -> str:
    names = [f"an avoided {EVENT_LABELS[e]}" for e in events]
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + f" {conjunction} " + names[-1]
