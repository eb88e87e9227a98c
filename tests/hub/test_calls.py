"""The call service on a real database: requests, the exclusive claim, transitions, audit."""

from __future__ import annotations

import asyncio

import pytest

from hub.audit.trail import verify
from hub.calls import live
from hub.calls.consultation import State
from hub.errors import Conflict, Forbidden, NotFound, ValidationError
from hub.events import CallChanged
from hub.people import enrolment
from hub.people.access import SYSTEM, Actor, Role
from hub.people.admin import add_resident, create_staff
from hub.people.residents import ResidentDetails
from hub.people.staff import NewStaff
from tests.conftest import PASSWORD


class Recorder:
    """An in-memory EventPublisher: what the hub announced, in order."""

    def __init__(self) -> None:
        self.events: list[CallChanged] = []

    async def publish(self, event: CallChanged) -> None:
        self.events.append(event)


@pytest.fixture
def recorder(ctx):  # type: ignore[no-untyped-def]
    import dataclasses

    rec = Recorder()
    return rec, dataclasses.replace(ctx, events=rec)


async def tablet(ctx, home) -> Actor:  # type: ignore[no-untyped-def]
    issued = await enrolment.issue_code(ctx, SYSTEM, home.id, "T")
    actor = await enrolment.device_actor(ctx, (await enrolment.enrol(ctx, issued.code)).token)
    assert actor is not None
    return actor


async def edna(ctx, clock, home):  # type: ignore[no-untyped-def]
    return await add_resident(
        ctx,
        SYSTEM,
        home.id,
        ResidentDetails.parse(
            given_name="Edna",
            family_name="Smith",
            date_of_birth="1931-04-02",
            nhs_number="9434765919",
            today=clock.now().date(),
        ),
    )


async def clinicians(ctx, n: int) -> list[Actor]:  # type: ignore[no-untyped-def]
    out = []
    for i in range(n):
        user = await create_staff(
            ctx,
            SYSTEM,
            NewStaff.parse(f"nurse{i:02d}", f"Nurse {i}", "clinician", ["clinician"]),
            PASSWORD,
        )
        out.append(Actor("staff", user.id, user.display_name, Role.CLINICIAN))
    return out


def request(resident_id: int, **extra: object) -> live.CallRequest:
    return live.CallRequest.parse(
        {
            "resident_id": resident_id,
            "reason": "breathing",
            "soft_signs": ["breathing_changed"],
            "observations": {"respiration_rate": 26, "spo2": 91},
            "intention": "call_999",
            **extra,
        }
    )


async def test_request_scores_news2_and_queues(ctx, clock, home, recorder) -> None:
    rec, ctx2 = recorder
    tab = await tablet(ctx, home)
    r = await edna(ctx, clock, home)
    call = await live.request_call(ctx2, tab, request(r.id))
    assert call.state is State.WAITING and call.news2_score == 6
    assert call.news2_band == "medium" and call.intention == "call_999"
    assert rec.events == [CallChanged(call.id, "waiting", home.id, tab.id, None, None)]
    (entry,) = await live.queue(ctx)
    assert entry.news2_missing == (
        "air_or_oxygen",
        "systolic_bp",
        "pulse",
        "consciousness",
        "temperature",
    )


async def test_one_open_call_per_resident(ctx, clock, home) -> None:
    tab = await tablet(ctx, home)
    r = await edna(ctx, clock, home)
    await live.request_call(ctx, tab, request(r.id))
    with pytest.raises(Conflict, match="the hub already has a call for Edna Smith"):
        await live.request_call(ctx, tab, request(r.id))


async def test_another_homes_resident_cannot_be_called_about(ctx, clock, home, other_home) -> None:
    tab = await tablet(ctx, other_home)
    r = await edna(ctx, clock, home)
    with pytest.raises(NotFound, match=f"no resident {r.id}"):
        await live.request_call(ctx, tab, request(r.id))
    async with ctx.uow() as uow:
        (event,) = await uow.audit.recent(1)
    assert event.action == "resident.denied" and event.actor == tab.ref


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"resident_id": "1", "reason": "fall"}, "resident_id must be a positive whole number"),
        ({"resident_id": 1, "reason": "sneeze"}, "reason must be one of fall, breathing"),
        ({"resident_id": 1, "reason": "fall", "soft_signs": ["grumpy"]}, "soft_signs must be"),
        (
            {"resident_id": 1, "reason": "fall", "observations": {"pulse": 400}},
            "pulse must be between 20 and 300",
        ),
        (
            {"resident_id": 1, "reason": "fall", "observations": {"bmi": 20}},
            "unknown observation(s): bmi",
        ),
        ({"resident_id": 1, "reason": "fall", "intention": "pray"}, "intention must be one of"),
    ],
)
def test_bad_call_requests(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as err:
        live.CallRequest.parse(data)
    assert message in err.value.message


async def test_twenty_clinicians_claim_at_once_exactly_one_wins(ctx, clock, home) -> None:
    tab = await tablet(ctx, home)
    r = await edna(ctx, clock, home)
    call = await live.request_call(ctx, tab, request(r.id))
    nurses = await clinicians(ctx, 20)
    results = await asyncio.gather(
        *(live.claim(ctx, n, call.id) for n in nurses), return_exceptions=True
    )
    winners = [res for res in results if not isinstance(res, BaseException)]
    losers = [res for res in results if isinstance(res, BaseException)]
    assert len(winners) == 1 and len(losers) == 19
    winner = next(n for n in nurses if n.id == winners[0].answered_by)
    assert all(isinstance(e, Conflict) for e in losers)
    assert {e.message for e in losers} == {  # type: ignore[union-attr]
        f"call {call.id} is already answered by {winner.name}"
    }
    async with ctx.uow() as uow:
        stored = await uow.consultations.get(call.id)
        claims = [e for e in await uow.audit.recent(50) if e.action == "call.claim"]
    assert stored is not None and stored.answered_by == winner.id
    assert len(claims) == 1


async def test_lifecycle_end_to_end_is_audited(ctx, clock, home) -> None:
    tab = await tablet(ctx, home)
    r = await edna(ctx, clock, home)
    (nurse,) = await clinicians(ctx, 1)
    call = await live.request_call(ctx, tab, request(r.id))
    await live.claim(ctx, nurse, call.id)
    await live.connected(ctx, tab, call.id)
    await live.connected(ctx, tab, call.id)  # idempotent
    ended = await live.end(ctx, nurse, call.id)
    assert ended.state is State.ENDED and ended.ended_at == clock.now()
    async with ctx.uow() as uow:
        events = [e async for e in uow.audit.events()]
    trail = [(e.action, e.detail.get("to")) for e in events if e.subject_type == "consultation"]
    assert trail == [
        ("call.requested", None),
        ("call.queue", "waiting"),
        ("call.claim", "answered"),
        ("call.connect", "in_call"),
        ("call.end", "ended"),
    ]
    assert verify(events, ctx.keyring.audit_key).ok


async def test_only_participants_act_on_a_call(ctx, clock, home, other_home) -> None:
    tab = await tablet(ctx, home)
    stranger_tablet = await tablet(ctx, other_home)
    r = await edna(ctx, clock, home)
    a, b = await clinicians(ctx, 2)
    call = await live.request_call(ctx, tab, request(r.id))
    with pytest.raises(NotFound):
        await live.cancel(ctx, stranger_tablet, call.id)
    await live.claim(ctx, a, call.id)
    with pytest.raises(Forbidden, match=f"call {call.id} is being handled by Nurse 0"):
        await live.end(ctx, b, call.id)
    with pytest.raises(Forbidden, match="only clinicians"):
        await live.claim(ctx, Actor("staff", 99, "M", Role.MANAGER), call.id)


async def test_cancel_only_while_waiting(ctx, clock, home) -> None:
    tab = await tablet(ctx, home)
    r = await edna(ctx, clock, home)
    (nurse,) = await clinicians(ctx, 1)
    call = await live.request_call(ctx, tab, request(r.id))
    await live.claim(ctx, nurse, call.id)
    with pytest.raises(Conflict, match="already answered by Nurse 0"):
        await live.cancel(ctx, tab, call.id)


async def test_transfer_needs_an_active_clinician(ctx, clock, home, admin_user) -> None:
    tab = await tablet(ctx, home)
    r = await edna(ctx, clock, home)
    a, b = await clinicians(ctx, 2)
    call = await live.request_call(ctx, tab, request(r.id))
    await live.claim(ctx, a, call.id)
    with pytest.raises(NotFound, match="no active clinician"):
        await live.transfer(ctx, a, call.id, admin_user.id)
    with pytest.raises(Conflict, match="to yourself"):
        await live.transfer(ctx, a, call.id, a.id)
    moved = await live.transfer(ctx, a, call.id, b.id)
    assert moved.answered_by == b.id and moved.state is State.ANSWERED
