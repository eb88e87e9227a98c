"""Closing a consultation: the coded outcome and its amendments.

Every store of an outcome (or of a re-presentation, ``hub.outcomes.representations``)
recomputes the call's avoided events with ``hub.outcomes.avoided.avoided`` and keeps them on
the row, so reports can add them up in SQL. Outcomes can be amended later, with a
reason; the audit trail keeps who changed what, from what, and why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hub.audit.trail import AuditRecord
from hub.calls.consultation import Consultation, State
from hub.context import HubContext
from hub.errors import Conflict, Forbidden, NotFound, ValidationError
from hub.outcomes.avoided import Avoided, avoided
from hub.outcomes.codes import (
    AdmissionJudgement,
    FollowUp,
    Outcome,
    Representation,
    parse_outcome,
)
from hub.people.access import Actor, Role
from hub.ports import UnitOfWork


def window(ctx: HubContext) -> timedelta:
    return timedelta(hours=ctx.settings.outcomes.follow_up_hours)


async def record_outcome(
    ctx: HubContext, actor: Actor, call_id: int, data: Mapping[str, Any], why: str = ""
) -> Consultation:
    if actor.kind != "staff" or actor.role is not Role.CLINICIAN:
        raise Forbidden("only clinicians record outcomes")
    outcome = parse_outcome(data)
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        call = await _get(uow, call_id)
        if call.state in (State.ANSWERED, State.IN_CALL, State.WAITING, State.REQUESTED):
            raise Conflict(f"call {call_id} is still {call.state.value}: end it first")
        if call.state is not State.ENDED:
            raise Conflict(f"call {call_id} was {call.state.value}: there is no outcome to record")
        amending = call.outcome is not None
        if not amending and call.answered_by != actor.id:
            raise Forbidden(f"the outcome of call {call_id} is for the clinician who took it")
        if amending and not why.strip():
            raise ValidationError("say why the outcome is being changed", field="why")
        await uow.consultations.record_outcome(call_id, outcome, now)
        detail: dict[str, Any] = {
            "outcome": outcome.code.value,
            "follow_up": outcome.follow_up.value,
            "admission_judgement": outcome.admission_judgement.value,
        }
        if amending:
            previous = call.outcome.value if call.outcome else None
            detail |= {"previous": previous, "why": why.strip()[:500]}
        await uow.audit.append(
            AuditRecord(
                "call.outcome_amended" if amending else "call.outcome",
                actor.ref,
                "consultation",
                str(call_id),
                detail,
            ),
            now,
        )
        stored = await _recompute(ctx, uow, call_id)
        await uow.commit()
    return stored


async def awaiting_outcome(ctx: HubContext, actor: Actor) -> list[Consultation]:
    async with ctx.uow() as uow:
        return await uow.consultations.awaiting_outcome(actor.id)


# -- the outcome before the next call (docs/outcomes.md, "Outcome before the next call") --

#: A deferral's reason is kept on the call and in the audit trail, at most this long.
MAX_DEFERRAL_REASON = 500


class OutcomeOutstanding(Conflict):
    """A clinician tried to answer a call while one they ended still has no outcome
    (and no deferral). ``call_id`` names that call."""

    code = "outcome_outstanding"

    def __init__(self, message: str, *, call_id: int) -> None:
        super().__init__(message)
        self.call_id = call_id


@dataclass(frozen=True)
class Outstanding:
    """An ended call of this clinician's that still has no outcome."""

    call: Consultation
    resident_name: str

    @property
    def deferred(self) -> bool:
        return self.call.outcome_deferred_at is not None


async def outstanding_outcomes(ctx: HubContext, actor: Actor) -> list[Outstanding]:
    """The ended calls this clinician took that still need their outcome, oldest first,
    deferred ones included (they stay outstanding until the outcome is recorded)."""
    async with ctx.uow() as uow:
        calls = await uow.consultations.awaiting_outcome(actor.id)
        return [Outstanding(c, await _resident_name(uow, c.resident_id)) for c in calls]


async def check_outcomes_closed(ctx: HubContext, actor: Actor, claiming: int) -> None:
    """Refuse (``OutcomeOutstanding``, audited) a clinician's claim of call ``claiming``
    while a call they ended has neither an outcome nor a deferral."""
    now = ctx.clock.now()
    async with ctx.uow(brief=True) as uow:
        blocking = [
            c
            for c in await uow.consultations.awaiting_outcome(actor.id)
            if c.outcome_deferred_at is None and c.id != claiming
        ]
        if not blocking:
            return
        first = blocking[0]
        name = await _resident_name(uow, first.resident_id)
        ended = _uk_time(first.ended_at)
        await uow.audit.append(
            AuditRecord(
                "call.claim_refused",
                actor.ref,
                "consultation",
                str(claiming),
                {"why": "outcome outstanding", "outstanding": [c.id for c in blocking]},
            ),
            now,
        )
        await uow.commit()
    raise OutcomeOutstanding(
        f"record the outcome of call {first.id} ({name}, ended {ended} UK time) before "
        "answering another call, or defer it with a reason",
        call_id=first.id,
    )


async def defer_outcome(ctx: HubContext, actor: Actor, call_id: int, reason: str) -> Consultation:
    """Put off an ended call's outcome, with a reason (stored and audited). The call stays
    outstanding (shown at the top of the console, counted on the dashboard) until its
    outcome is recorded, but no longer stops this clinician answering."""
    if actor.kind != "staff" or actor.role is not Role.CLINICIAN:
        raise Forbidden("only clinicians record outcomes")
    why = " ".join(reason.split())
    if not why:
        raise ValidationError("say why the outcome is being deferred", field="reason")
    if len(why) > MAX_DEFERRAL_REASON:
        raise ValidationError(
            f"the reason must be at most {MAX_DEFERRAL_REASON} characters", field="reason"
        )
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        call = await _get(uow, call_id)
        if call.state is not State.ENDED:
            raise Conflict(
                f"call {call_id} is {call.state.value}: only an ended call's outcome is deferred"
            )
        if call.answered_by != actor.id:
            raise Forbidden(f"the outcome of call {call_id} is for the clinician who took it")
        if call.outcome is not None:
            raise Conflict(f"call {call_id} already has its outcome")
        await uow.consultations.defer_outcome(call_id, why, now)
        await uow.audit.append(
            AuditRecord(
                "call.outcome_deferred", actor.ref, "consultation", str(call_id), {"why": why}
            ),
            now,
        )
        stored = await _get(uow, call_id)
        await uow.commit()
    return stored


async def _resident_name(uow: UnitOfWork, resident_id: int) -> str:
    resident = await uow.residents.get(resident_id)
    return resident.display_name if resident else f"resident {resident_id}"


def _uk_time(at: datetime | None) -> str:
    if at is None:
        return "—"
    return at.astimezone(ZoneInfo("Europe/London")).strftime("%d %b %Y %H:%M")


def derive(
    call: Consultation, representations: Sequence[Representation], follow_up: timedelta
) -> Avoided:
    """The avoided events of a call, from its intention and outcome, as they are to be
    stored. Only writers call this (recording an outcome or a re-presentation); readers
    use the stored ``call.avoided``, so that a later change of the follow-up window
    cannot make the call page and the reports disagree."""
    outcome = None
    if call.outcome is not None:
        outcome = Outcome(
            call.outcome,
            call.follow_up or FollowUp.NONE,
            call.call_back_at,
            call.admission_judgement or AdmissionJudgement.UNSURE,
        )
    return avoided(
        call.intention, outcome, representations, call.requested_at, call.ended_at, follow_up
    )


async def _recompute(ctx: HubContext, uow: UnitOfWork, call_id: int) -> Consultation:
    call = await _get(uow, call_id)
    result = derive(call, await uow.consultations.representations(call_id), window(ctx))
    await uow.consultations.set_avoided(call_id, result)
    return replace(call, avoided=result)


async def _get(uow: UnitOfWork, call_id: int) -> Consultation:
    call = await uow.consultations.get(call_id)
    if call is None:
        raise NotFound(f"no call {call_id}")
    return call
