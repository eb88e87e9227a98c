"""Outcome before the next call: a clinician with an ended call of theirs that has no
outcome (and no deferral) cannot answer another; a deferral needs a reason."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.calls import closure, live
from hub.calls.closure import MAX_DEFERRAL_REASON, OutcomeOutstanding
from hub.errors import Conflict, Forbidden, ValidationError
from tests.hub.test_calls import clinicians, edna, request, tablet

OUTCOME = {"outcome": "managed_advice", "follow_up": "none", "admission_judgement": "no"}


async def one_ended_and_one_waiting(ctx, clock, home):  # type: ignore[no-untyped-def]
    tab = await tablet(ctx, home)
    r = await edna(ctx, clock, home)
    nurse, other = await clinicians(ctx, 2)
    first = await live.request_call(ctx, tab, request(r.id))
    await live.claim(ctx, nurse, first.id)
    clock.advance(timedelta(minutes=9))
    await live.end(ctx, nurse, first.id)
    clock.advance(timedelta(minutes=1))
    second = await live.request_call(ctx, tab, request(r.id))
    return first.id, second.id, nurse, other


async def test_claim_is_refused_naming_the_call_without_an_outcome(ctx, clock, home) -> None:
    first, second, nurse, other = await one_ended_and_one_waiting(ctx, clock, home)
    with pytest.raises(OutcomeOutstanding) as refused:
        await live.claim(ctx, nurse, second)
    err = refused.value
    assert err.call_id == first and err.code == "outcome_outstanding"
    assert isinstance(err, Conflict)  # 409 over HTTP, like every clash with the state
    # The fixed clock is 10:00 UTC on 2 March 2026: GMT, so 10:09 UK time.
    assert err.message == (
        f"record the outcome of call {first} (Edna Smith, ended 02 Mar 2026 10:09 UK time) "
        "before answering another call, or defer it with a reason"
    )
    assert (await live.participants(ctx, second)).state.value == "waiting"  # untouched
    async with ctx.uow() as uow:
        (event,) = await uow.audit.recent(1)
    assert (event.action, event.actor, event.subject_id) == (
        "call.claim_refused",
        nurse.ref,
        str(second),
    )
    assert event.detail == {"why": "outcome outstanding", "outstanding": [first]}
    # Another clinician, with nothing outstanding, may answer it.
    assert (await live.claim(ctx, other, second)).answered_by == other.id


async def test_claim_is_allowed_once_the_outcome_is_recorded(ctx, clock, home) -> None:
    first, second, nurse, _ = await one_ended_and_one_waiting(ctx, clock, home)
    await closure.record_outcome(ctx, nurse, first, OUTCOME)
    assert (await live.claim(ctx, nurse, second)).answered_by == nurse.id


async def test_claim_is_allowed_after_deferring_with_a_reason(ctx, clock, home) -> None:
    first, second, nurse, _ = await one_ended_and_one_waiting(ctx, clock, home)
    deferred = await closure.defer_outcome(
        ctx, nurse, first, "  waiting to hear   back from the GP  "
    )
    assert deferred.outcome_deferred_reason == "waiting to hear back from the GP"
    assert deferred.outcome_deferred_at == clock.now()
    assert deferred.outcome is None
    async with ctx.uow() as uow:
        (event,) = await uow.audit.recent(1)
    assert (event.action, event.actor, event.subject_id) == (
        "call.outcome_deferred",
        nurse.ref,
        str(first),
    )
    assert event.detail == {"why": "waiting to hear back from the GP"}
    assert (await live.claim(ctx, nurse, second)).answered_by == nurse.id
    # Still outstanding until the outcome is recorded.
    (still,) = await closure.outstanding_outcomes(ctx, nurse)
    assert (still.call.id, still.deferred, still.resident_name) == (first, True, "Edna Smith")
    await closure.record_outcome(ctx, nurse, first, OUTCOME)
    assert await closure.outstanding_outcomes(ctx, nurse) == []


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "say why the outcome is being deferred"),
        ("   \n ", "say why the outcome is being deferred"),
        ("x" * (MAX_DEFERRAL_REASON + 1), "the reason must be at most 500 characters"),
    ],
)
async def test_a_deferral_needs_a_short_reason(ctx, clock, home, reason: str, message: str) -> None:
    first, second, nurse, _ = await one_ended_and_one_waiting(ctx, clock, home)
    with pytest.raises(ValidationError) as refused:
        await closure.defer_outcome(ctx, nurse, first, reason)
    assert refused.value.message == message and refused.value.field == "reason"
    with pytest.raises(OutcomeOutstanding):  # nothing was deferred
        await live.claim(ctx, nurse, second)


async def test_only_the_clinician_of_an_ended_call_without_outcome_defers(ctx, clock, home) -> None:
    first, second, nurse, other = await one_ended_and_one_waiting(ctx, clock, home)
    with pytest.raises(Forbidden, match="for the clinician who took it"):
        await closure.defer_outcome(ctx, other, first, "not mine")
    with pytest.raises(Conflict, match=f"call {second} is waiting"):
        await closure.defer_outcome(ctx, nurse, second, "not ended")
    await closure.record_outcome(ctx, nurse, first, OUTCOME)
    with pytest.raises(Conflict, match="already has its outcome"):
        await closure.defer_outcome(ctx, nurse, first, "too late")
