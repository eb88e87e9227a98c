"""Closing a consultation: the coded outcome, its amendments, and re-presentations.

Every store of an outcome or a re-presentation recomputes the call's avoided events
with ``hub.avoided.avoided`` and keeps them on the row, so reports can add them up in
SQL. Outcomes can be amended later, with a reason; the audit trail keeps who changed
what, from what, and why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from hub.access import Actor, Role
from hub.audit import AuditRecord
from hub.avoided import Avoided, avoided
from hub.consultations import Consultation, State
from hub.context import HubContext
from hub.errors import Conflict, Forbidden, NotFound, ValidationError
from hub.outcomes import (
    AdmissionJudgement,
    FollowUp,
    Intention,
    Outcome,
    OutcomeCode,
    OutcomeError,
    Representation,
    parse_outcome,
    parse_representation,
    validate_representation,
)
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
            detail |= {"previous": call.outcome, "why": why.strip()[:500]}
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


async def record_representation(
    ctx: HubContext, actor: Actor, call_id: int, data: Mapping[str, Any]
) -> Consultation:
    """The resident went to A&E / was admitted / 999 was called / was conveyed after all."""
    rep = parse_representation(data)
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        call = await _get(uow, call_id)
        if not actor.can_see_home(call.home_id) or (
            actor.is_device and call.home_id != actor.home_id
        ):
            raise NotFound(f"no call {call_id}")
        if call.ended_at is None or call.state is not State.ENDED:
            raise Conflict(f"call {call_id} has not ended")
        if rep.at > now:
            raise OutcomeError("a re-presentation cannot be in the future", field="at")
        validate_representation(
            call.ended_at, window(ctx), rep, call_requested_at=call.requested_at
        )
        await uow.consultations.add_representation(call_id, rep, actor.ref, now)
        await uow.audit.append(
            AuditRecord(
                "call.representation",
                actor.ref,
                "consultation",
                str(call_id),
                {"kind": rep.kind.value, "at": rep.at.isoformat()},
            ),
            now,
        )
        stored = await _recompute(ctx, uow, call_id)
        await uow.commit()
    return stored


async def awaiting_outcome(ctx: HubContext, actor: Actor) -> list[Consultation]:
    async with ctx.uow() as uow:
        return await uow.consultations.awaiting_outcome(actor.id)


def derive(
    call: Consultation, representations: Sequence[Representation], follow_up: timedelta
) -> Avoided:
    """The avoided events of a stored call, from its intention and outcome."""
    outcome = None
    if call.outcome is not None:
        outcome = Outcome(
            OutcomeCode(call.outcome),
            FollowUp(call.follow_up or "none"),
            call.call_back_at,
            AdmissionJudgement(call.admission_judgement or "unsure"),
        )
    intention = Intention(call.intention) if call.intention else None
    return avoided(intention, outcome, representations, call.requested_at, call.ended_at, follow_up)


async def _recompute(ctx: HubContext, uow: UnitOfWork, call_id: int) -> Consultation:
    call = await _get(uow, call_id)
    result = derive(call, await uow.consultations.representations(call_id), window(ctx))
    await uow.consultations.set_avoided(call_id, result)
    return call


async def _get(uow: UnitOfWork, call_id: int) -> Consultation:
    call = await uow.consultations.get(call_id)
    if call is None:
        raise NotFound(f"no call {call_id}")
    return call
