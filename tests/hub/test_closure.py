"""Recording outcomes (and amending them), re-presentations, and the stored avoided flags."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from hub.calls import closure, live
from hub.errors import Conflict, Forbidden, ValidationError
from hub.outcomes import representations
from hub.outcomes.codes import OutcomeError
from hub.people.access import SYSTEM, Actor, Role
from tests.hub.test_calls import clinicians, edna, request, tablet

OUTCOME = {"outcome": "managed_medication", "follow_up": "none", "admission_judgement": "yes"}


async def ended_call(ctx, clock, home):  # type: ignore[no-untyped-def]
    tab = await tablet(ctx, home)
    r = await edna(ctx, clock, home)
    nurse, other = await clinicians(ctx, 2)
    call = await live.request_call(ctx, tab, request(r.id))  # intention: call 999
    await live.claim(ctx, nurse, call.id)
    clock.advance(timedelta(minutes=12))
    await live.end(ctx, nurse, call.id)
    return call.id, nurse, other, tab


async def flags(ctx, call_id: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    async with ctx.uow() as uow:
        row = (
            (
                await uow.consultations.conn.execute(
                    text(  # type: ignore[attr-defined]
                        "SELECT attributable, avoided_ae, avoided_999, avoided_conveyance, "
                        "avoided_admission, avoided_gp FROM consultations WHERE id = :i"
                    ),
                    {"i": call_id},
                )
            )
            .mappings()
            .one()
        )
    return {k: bool(v) for k, v in row.items()}


async def test_outcome_stores_derived_avoided_flags(ctx, clock, home) -> None:
    call_id, nurse, _, _ = await ended_call(ctx, clock, home)
    call = await closure.record_outcome(ctx, nurse, call_id, OUTCOME)
    assert call.outcome == "managed_medication"
    assert await flags(ctx, call_id) == {
        "attributable": True,
        "avoided_ae": True,
        "avoided_999": True,
        "avoided_conveyance": True,
        "avoided_admission": True,
        "avoided_gp": False,
    }
    assert await closure.awaiting_outcome(ctx, nurse) == []


async def test_a_live_call_cannot_be_closed_and_outcomes_are_coded(ctx, clock, home) -> None:
    tab = await tablet(ctx, home)
    r = await edna(ctx, clock, home)
    (nurse,) = await clinicians(ctx, 1)
    call = await live.request_call(ctx, tab, request(r.id))
    await live.claim(ctx, nurse, call.id)
    with pytest.raises(Conflict, match="still answered: end it first"):
        await closure.record_outcome(ctx, nurse, call.id, OUTCOME)
    await live.end(ctx, nurse, call.id)
    assert [c.id for c in await closure.awaiting_outcome(ctx, nurse)] == [call.id]
    with pytest.raises(OutcomeError, match="is not in the coded list"):
        await closure.record_outcome(ctx, nurse, call.id, {**OUTCOME, "outcome": "cured"})


async def test_amendment_needs_a_reason_and_is_audited(ctx, clock, home) -> None:
    call_id, nurse, other, _ = await ended_call(ctx, clock, home)
    with pytest.raises(Forbidden, match="clinician who took it"):
        await closure.record_outcome(ctx, other, call_id, OUTCOME)
    await closure.record_outcome(ctx, nurse, call_id, OUTCOME)
    changed = {**OUTCOME, "outcome": "admitted_direct"}
    with pytest.raises(ValidationError, match="say why"):
        await closure.record_outcome(ctx, other, call_id, changed)
    await closure.record_outcome(ctx, other, call_id, changed, "ward confirmed admission")
    async with ctx.uow() as uow:
        (event,) = await uow.audit.recent(1)
    assert event.action == "call.outcome_amended" and event.actor == other.ref
    assert event.detail["previous"] == "managed_medication"
    assert event.detail["why"] == "ward confirmed admission"
    assert (await flags(ctx, call_id))["avoided_admission"] is False


async def test_representation_cancels_avoided(ctx, clock, home) -> None:
    call_id, nurse, _, tab = await ended_call(ctx, clock, home)
    await closure.record_outcome(ctx, nurse, call_id, OUTCOME)
    clock.advance(timedelta(hours=30))
    at = clock.now().isoformat()
    await representations.record(ctx, tab, call_id, {"kind": "admission", "at": at}, confirmed=True)
    f = await flags(ctx, call_id)
    assert f["avoided_admission"] is False and f["avoided_ae"] is False
    assert f["avoided_999"] is True


async def test_representation_outside_window_or_in_future_is_refused(
    ctx, clock, home, other_home
) -> None:
    call_id, nurse, _, _ = await ended_call(ctx, clock, home)
    await closure.record_outcome(ctx, nurse, call_id, OUTCOME)
    with pytest.raises(OutcomeError, match="future"):
        await representations.record(
            ctx,
            nurse,
            call_id,
            {"kind": "admission", "at": (clock.now() + timedelta(hours=1)).isoformat()},
            confirmed=True,
        )
    clock.advance(timedelta(hours=80))
    with pytest.raises(OutcomeError, match="follow-up window"):
        await representations.record(
            ctx,
            nurse,
            call_id,
            {"kind": "admission", "at": clock.now().isoformat()},
            confirmed=True,
        )
    stranger = await tablet(ctx, other_home)
    with pytest.raises(Exception, match=f"no call {call_id}"):
        await representations.record(
            ctx,
            stranger,
            call_id,
            {"kind": "admission", "at": clock.now().isoformat()},
            confirmed=True,
        )


async def test_only_clinicians_record_outcomes(ctx, clock, home) -> None:
    call_id, _, _, _ = await ended_call(ctx, clock, home)
    with pytest.raises(Forbidden):
        await closure.record_outcome(ctx, Actor("staff", 99, "M", Role.MANAGER), call_id, OUTCOME)
    with pytest.raises(Forbidden):
        await closure.record_outcome(ctx, SYSTEM, call_id, OUTCOME)
