"""Routing enforced by the call service, with a real published rota on a real database."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta

import pytest

from hub.calls import live
from hub.calls.consultation import State
from hub.clock import FixedClock
from hub.context import HubContext
from hub.errors import Forbidden
from hub.people.access import SYSTEM, Actor, Role, Skill
from hub.people.admin import create_staff, update_staff
from hub.people.staff import NewStaff, StaffUser
from hub.rostering import plans, routing
from hub.rostering.cover import OnShift, on_shift_at
from hub.rostering.routing_rules import NOT_ON_SHIFT
from tests.conftest import PASSWORD
from tests.hub.rota_fixtures import MONDAY, actor_for, rota_lead, rota_team
from tests.hub.test_calls import edna, request, tablet

LIMIT = 3.0


@dataclass
class Hub:
    """A published week of rota, seen at a moment when at least two are on shift."""

    team: list[StaffUser]
    on: list[StaffUser]  # on shift now
    off: list[StaffUser]  # not on shift now

    def actor(self, user: StaffUser) -> Actor:
        return actor_for(user)


async def publish_week(ctx: HubContext) -> None:
    lead = await rota_lead(ctx)
    record = await plans.generate(ctx, lead, MONDAY, 7, "8h", time_limit_s=LIMIT)
    await plans.publish(ctx, lead, record.id)


async def staffed_hub(ctx: HubContext, clock: FixedClock) -> Hub:
    """Publish a rota, and move the clock (whole hours) to a moment with two or more on
    shift: the solver decides who works when, the tests decide only what they need."""
    team = await rota_team(ctx)
    await publish_week(ctx)
    cover: OnShift | None = None
    for _ in range(7 * 24):
        cover = await on_shift_at(ctx, clock.now())
        if len(cover.staff) >= 2:
            break
        clock.advance(timedelta(hours=1))
    assert cover is not None and len(cover.staff) >= 2, "no hour of the week has two on shift"
    return Hub(
        team,
        [u for u in team if u.id in cover.staff],
        [u for u in team if u.id not in cover.staff],
    )


async def set_skills(ctx: HubContext, user: StaffUser, *skills: Skill) -> None:
    await update_staff(
        ctx,
        SYSTEM,
        user.id,
        user.display_name,
        Role.CLINICIAN,
        frozenset({Skill.CLINICIAN, *skills}),
        True,
    )


async def waiting_call(ctx: HubContext, clock: FixedClock, home, reason: str = "fall"):  # type: ignore[no-untyped-def]
    tab = await tablet(ctx, home)
    resident = await edna(ctx, clock, home)
    return await live.request_call(ctx, tab, request(resident.id, reason=reason))


async def state_of(ctx: HubContext, call_id: int) -> State:
    return (await live.participants(ctx, call_id)).state


async def test_on_shift_answers_and_off_shift_is_refused(ctx, clock, home) -> None:  # type: ignore[no-untyped-def]
    hub = await staffed_hub(ctx, clock)
    call = await waiting_call(ctx, clock, home)
    off = hub.actor(hub.off[0])
    with pytest.raises(Forbidden) as refused:
        await live.claim(ctx, off, call.id)
    assert refused.value.message == NOT_ON_SHIFT
    assert await state_of(ctx, call.id) is State.WAITING
    async with ctx.uow() as uow:
        (event,) = await uow.audit.recent(1)
    assert (event.action, event.actor, event.subject_id) == (
        "call.claim_refused",
        off.ref,
        str(call.id),
    )
    assert event.detail == {"why": NOT_ON_SHIFT}
    answered = await live.claim(ctx, hub.actor(hub.on[0]), call.id)
    assert answered.state is State.ANSWERED and answered.answered_by == hub.on[0].id


async def test_a_medication_call_goes_to_a_prescriber_on_shift(ctx, clock, home) -> None:  # type: ignore[no-untyped-def]
    hub = await staffed_hub(ctx, clock)
    nurse, prescriber = hub.on[0], hub.on[1]
    await set_skills(ctx, nurse)
    await set_skills(ctx, prescriber, Skill.PRESCRIBER)
    call = await waiting_call(ctx, clock, home, "medication")
    with pytest.raises(Forbidden) as refused:
        await live.claim(ctx, hub.actor(nurse), call.id)
    assert refused.value.message == "this call needs a prescriber"
    assert await state_of(ctx, call.id) is State.WAITING
    assert await routing.current_alerts(ctx) == []  # a prescriber can take it
    answered = await live.claim(ctx, hub.actor(prescriber), call.id)
    assert answered.answered_by == prescriber.id


async def test_with_no_prescriber_on_shift_anyone_on_shift_answers_and_it_alerts(
    ctx, clock, home
) -> None:  # type: ignore[no-untyped-def]
    hub = await staffed_hub(ctx, clock)
    for user in hub.on:
        await set_skills(ctx, user)
    off_prescriber = hub.off[0]
    await set_skills(ctx, off_prescriber, Skill.PRESCRIBER)
    call = await waiting_call(ctx, clock, home, "medication")
    (alert,) = await routing.current_alerts(ctx)
    assert (alert.call_id, alert.kind, alert.why) == (
        call.id,
        "unanswerable",
        "no prescriber is on shift",
    )
    # A prescriber who is off shift is still off shift.
    with pytest.raises(Forbidden, match="not on shift"):
        await live.claim(ctx, hub.actor(off_prescriber), call.id)
    answered = await live.claim(ctx, hub.actor(hub.on[0]), call.id)
    assert answered.state is State.ANSWERED
    assert await routing.current_alerts(ctx) == []  # only waiting calls alert


async def test_with_no_rota_published_anyone_answers(ctx, clock, home) -> None:  # type: ignore[no-untyped-def]
    team = await rota_team(ctx)
    nurse = next(u for u in team if Skill.PRESCRIBER not in u.skills)
    call = await waiting_call(ctx, clock, home, "medication")
    assert not (await on_shift_at(ctx, clock.now())).in_force
    assert await routing.current_alerts(ctx) == []
    answered = await live.claim(ctx, actor_for(nurse), call.id)
    assert answered.answered_by == nurse.id


async def test_enforcement_can_be_switched_off(ctx, clock, home) -> None:  # type: ignore[no-untyped-def]
    hub = await staffed_hub(ctx, clock)
    loose = dataclasses.replace(ctx, settings=ctx.settings.replace("rota", enforce_on_shift=False))
    call = await waiting_call(ctx, clock, home)
    answered = await live.claim(loose, hub.actor(hub.off[0]), call.id)
    assert answered.answered_by == hub.off[0].id


async def test_a_call_cannot_be_transferred_to_someone_off_shift(ctx, clock, home) -> None:  # type: ignore[no-untyped-def]
    hub = await staffed_hub(ctx, clock)
    holder, colleague, off = hub.on[0], hub.on[1], hub.off[0]
    call = await waiting_call(ctx, clock, home)
    await live.claim(ctx, hub.actor(holder), call.id)
    with pytest.raises(Forbidden) as refused:
        await live.transfer(ctx, hub.actor(holder), call.id, off.id)
    assert refused.value.message == f"{off.display_name} is not on shift, so cannot take this call"
    still = await live.participants(ctx, call.id)
    assert (still.state, still.answered_by) == (State.ANSWERED, holder.id)
    async with ctx.uow() as uow:
        (event,) = await uow.audit.recent(1)
    assert event.action == "call.transfer_refused" and event.detail["to"] == off.id
    moved = await live.transfer(ctx, hub.actor(holder), call.id, colleague.id)
    assert moved.answered_by == colleague.id


async def test_a_transfer_respects_the_skill_a_call_needs(ctx, clock, home) -> None:  # type: ignore[no-untyped-def]
    hub = await staffed_hub(ctx, clock)
    prescriber, nurse = hub.on[0], hub.on[1]
    await set_skills(ctx, prescriber, Skill.PRESCRIBER)
    await set_skills(ctx, nurse)
    call = await waiting_call(ctx, clock, home, "medication")
    await live.claim(ctx, hub.actor(prescriber), call.id)
    with pytest.raises(Forbidden) as refused:
        await live.transfer(ctx, hub.actor(prescriber), call.id, nurse.id)
    assert refused.value.message == (
        f"this call needs a prescriber, and {nurse.display_name} is not one"
    )


async def test_someone_not_on_the_rota_is_off_shift_while_a_rota_is_in_force(
    ctx, clock, home
) -> None:  # type: ignore[no-untyped-def]
    await staffed_hub(ctx, clock)
    user = await create_staff(
        ctx, SYSTEM, NewStaff.parse("agency", "Agency Nurse", "clinician", ["clinician"]), PASSWORD
    )
    call = await waiting_call(ctx, clock, home)
    with pytest.raises(Forbidden, match="not on shift"):
        await live.claim(ctx, actor_for(user), call.id)
