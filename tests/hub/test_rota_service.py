"""The hub's rota services on a real database: inputs, generate, edit, publish,
sickness, who is on shift and the cover gaps ahead."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from hub.context import HubContext
from hub.errors import Conflict, Forbidden, NotFound, ValidationError
from hub.rostering import cover, inputs, plans
from hub.rostering.plans import CellEdit
from hub.rostering.problem import LeaveKind, RotaStatus
from rota.model import Assignment, RequestKind
from tests.hub.rota_fixtures import (
    MONDAY,
    actor_for,
    call_history,
    rota_lead,
    rota_team,
    swap_legal_only_as_a_pair,
    with_nine_hour,
)

LIMIT = 3.0  # seconds: a week of ten clinicians is solved (not proven optimal) in well under


async def _draft(ctx: HubContext, lead, days: int = 7):  # type: ignore[no-untyped-def]
    return await plans.generate(ctx, lead, MONDAY, days, "8h", time_limit_s=LIMIT)


async def test_inputs_are_validated(ctx: HubContext) -> None:
    team = await rota_team(ctx)
    lead = await rota_lead(ctx)
    who = team[0].id
    await inputs.add_leave(ctx, lead, who, MONDAY, MONDAY + timedelta(days=2), LeaveKind.ANNUAL)
    with pytest.raises(ValidationError, match="overlaps"):
        await inputs.add_leave(
            ctx, lead, who, MONDAY + timedelta(days=2), MONDAY + timedelta(days=4), LeaveKind.ANNUAL
        )
    with pytest.raises(ValidationError, match="before"):
        await inputs.add_leave(ctx, lead, who, MONDAY, MONDAY - timedelta(days=1), LeaveKind.ANNUAL)
    with pytest.raises(ValidationError, match="weight"):
        await inputs.add_request(ctx, lead, who, RequestKind.DAY_OFF, MONDAY, MONDAY, 0, None)
    with pytest.raises(ValidationError, match="preferred-shift"):
        await inputs.add_request(ctx, lead, who, RequestKind.SHIFT, MONDAY, MONDAY, 5, None)
    with pytest.raises(NotFound):
        await inputs.add_leave(ctx, lead, 9999, MONDAY, MONDAY, LeaveKind.ANNUAL)
    with pytest.raises(NotFound):  # a manager is not on the rota
        await inputs.set_contract(ctx, lead, lead.id, 30, True)
    with pytest.raises(ValidationError, match="contracted hours"):
        await inputs.set_contract(ctx, lead, who, 0, True)
    with pytest.raises(ValidationError, match="168"):
        await inputs.set_demand(ctx, lead, [1] * 24)
    with pytest.raises(ValidationError, match="Monday 05:00"):
        await inputs.set_demand(ctx, lead, [1] * 5 + [-1] + [1] * 162)
    roster = await inputs.roster(ctx, lead)
    assert len(roster.clinicians) == 10 and len(roster.leave) == 1
    assert roster.demand == (1,) * 168 and not roster.demand_is_default


async def test_care_home_managers_and_clinicians_do_not_lead_the_rota(
    ctx: HubContext, home
) -> None:  # type: ignore[no-untyped-def]
    team = await rota_team(ctx)
    home_manager = await rota_lead(ctx, home.id)
    with pytest.raises(Forbidden):
        await inputs.roster(ctx, home_manager)
    with pytest.raises(Forbidden):
        await _draft(ctx, home_manager)
    clinician = actor_for(team[3])
    with pytest.raises(Forbidden):
        await inputs.set_contract(ctx, clinician, team[3].id, 20, True)
    # …but a clinician may ask for their own day off, not someone else's.
    await inputs.add_request(
        ctx, clinician, team[3].id, RequestKind.DAY_OFF, MONDAY, MONDAY, 5, None
    )
    with pytest.raises(Forbidden):
        await inputs.add_request(
            ctx, clinician, team[4].id, RequestKind.DAY_OFF, MONDAY, MONDAY, 5, None
        )


async def test_a_period_of_zero_days_or_no_contracts_is_refused(ctx: HubContext) -> None:
    lead = await rota_lead(ctx)
    with pytest.raises(ValidationError, match="no clinician has a contract"):
        await _draft(ctx, lead)
    await rota_team(ctx)
    with pytest.raises(ValidationError, match="1–84 days"):
        await _draft(ctx, lead, days=0)
    with pytest.raises(ValidationError, match="unknown shift pattern"):
        await plans.generate(ctx, lead, MONDAY, 7, "10h", time_limit_s=LIMIT)


async def test_generate_publish_and_route_by_shift(ctx: HubContext) -> None:
    team = await rota_team(ctx)
    lead = await rota_lead(ctx)
    seen: list[object] = []
    record = await plans.generate(
        ctx, lead, MONDAY, 7, "8h", time_limit_s=LIMIT, on_progress=seen.append
    )
    assert record.status is RotaStatus.DRAFT and seen
    shown = await plans.view(ctx, lead, record.id)
    assert shown.violations == [] and shown.shifts
    assert shown.score.uncovered == ()
    # Nothing is in force until it is published.
    now = ctx.clock.now()
    assert not (await cover.on_shift_at(ctx, now)).in_force
    await plans.publish(ctx, lead, record.id)
    on_shift = await cover.on_shift_at(ctx, now)
    assert on_shift.in_force
    expected = {s.staff_id for s in shown.shifts if s.starts_at <= now < s.ends_at}
    assert set(on_shift.staff) == expected and expected
    assert on_shift.with_skill("senior_clinician")  # the hard rule, seen from routing
    # Within the rota, the 48 hours ahead have no gaps; a week later nothing is planned.
    assert await cover.cover_gaps(ctx, lead) == []
    ctx.clock.advance(timedelta(days=5, hours=14))  # Sunday 00:00: 24 h covered, 24 h not
    gaps = await cover.cover_gaps(ctx, lead)
    assert [g.kind for g in gaps] == ["no_rota"] * 24
    assert gaps[0].start.date() == MONDAY + timedelta(days=7)
    names = {u.id for u in team}
    assert set(on_shift.staff) <= names


async def test_a_pattern_from_config_is_generated_with_its_own_shifts(ctx: HubContext) -> None:
    built_in_only = ctx
    ctx = dataclasses.replace(ctx, settings=with_nine_hour(ctx.settings))
    team = await rota_team(ctx)
    lead = await rota_lead(ctx)
    # A preferred-shift request may name a shift of the configured pattern...
    await inputs.add_request(ctx, lead, team[8].id, RequestKind.SHIFT, MONDAY, MONDAY, 5, "morning")
    # ...but not one no pattern has; the message lists the built-in and configured ones.
    with pytest.raises(ValidationError, match=r"needs one of .*evening.*morning.*overnight"):
        await inputs.add_request(
            ctx, lead, team[8].id, RequestKind.SHIFT, MONDAY, MONDAY, 5, "midday"
        )
    record = await plans.generate(ctx, lead, MONDAY, 7, "nine_hour", time_limit_s=LIMIT)
    assert record.pattern == "nine_hour"
    # The stored problem spells the shifts out: it does not depend on the config.
    assert record.problem["shifts"] == [
        {"name": "morning", "start": "07:00", "hours": 9},
        {"name": "evening", "start": "14:00", "hours": 9},
        {"name": "overnight", "start": "22:00", "hours": 10},
    ]
    shown = await plans.view(built_in_only, lead, record.id)
    assert shown.violations == [] and shown.score.uncovered == ()
    assert {s.shift for s in shown.shifts} == {"morning", "evening", "overnight"}
    night = next(s for s in shown.shifts if s.shift == "overnight")
    assert night.ends_at - night.starts_at == timedelta(hours=10)  # across midnight
    with pytest.raises(ValidationError, match=r"'9h' \(known: 8h, 12h, nine_hour\)"):
        await plans.prepare(ctx, lead, MONDAY, 7, "9h")
    with pytest.raises(ValidationError, match=r"'nine_hour' \(known: 8h, 12h\)"):
        await plans.prepare(built_in_only, lead, MONDAY, 7, "nine_hour")


async def test_hand_edits_show_broken_rules_and_block_publishing(ctx: HubContext) -> None:
    await rota_team(ctx)
    lead = await rota_lead(ctx)
    record = await _draft(ctx, lead)
    shown = await plans.view(ctx, lead, record.id)
    night = next(s for s in shown.shifts if s.shift == "night")
    # An early shift the morning after a night breaks the 11-hour rest rule (and more).
    broken = await plans.edit(
        ctx, lead, record.id, [CellEdit(night.staff_id, night.day + timedelta(days=1), "early")]
    )
    assert any(v.rule == "min_rest" for v in broken), [v.rule for v in broken]
    again = await plans.view(ctx, lead, record.id)
    assert again.violations == broken  # kept on the draft, shown, not silently accepted
    with pytest.raises(plans.RotaRulesBroken) as refused:
        await plans.publish(ctx, lead, record.id)
    assert refused.value.violations == broken
    # Undo the edit: the draft is legal again and can be published.
    after = night.day + timedelta(days=1)
    had = next(
        (x.shift for x in shown.shifts if x.staff_id == night.staff_id and x.day == after), None
    )
    assert await plans.edit(ctx, lead, record.id, [CellEdit(night.staff_id, after, had)]) == []
    assert (await plans.publish(ctx, lead, record.id)).status is RotaStatus.PUBLISHED


async def test_a_published_rota_refuses_a_breaking_edit(ctx: HubContext) -> None:
    await rota_team(ctx)
    lead = await rota_lead(ctx)
    record = await _draft(ctx, lead)
    await plans.publish(ctx, lead, record.id)
    before = (await plans.view(ctx, lead, record.id)).shifts
    night = next(s for s in before if s.shift == "night")
    with pytest.raises(plans.RotaRulesBroken):
        await plans.edit(
            ctx,
            lead,
            record.id,
            [CellEdit(night.staff_id, night.day + timedelta(days=1), "early")],
        )
    assert (await plans.view(ctx, lead, record.id)).shifts == before
    with pytest.raises(ValidationError, match="outside the rota"):
        await plans.edit(
            ctx, lead, record.id, [CellEdit(night.staff_id, MONDAY - timedelta(days=1), None)]
        )
    with pytest.raises(ValidationError, match="unknown shift"):
        await plans.edit(ctx, lead, record.id, [CellEdit(night.staff_id, MONDAY, "long_day")])
    with pytest.raises(ValidationError, match="no change"):
        await plans.edit(ctx, lead, record.id, [])
    with pytest.raises(ValidationError, match="changed twice"):
        twice = [CellEdit(night.staff_id, MONDAY, None), CellEdit(night.staff_id, MONDAY, "early")]
        await plans.edit(ctx, lead, record.id, twice)


async def test_overlapping_rotas_cannot_both_be_published(ctx: HubContext) -> None:
    await rota_team(ctx)
    lead = await rota_lead(ctx)
    first = await _draft(ctx, lead)
    second = await plans.generate(
        ctx, lead, MONDAY + timedelta(days=3), 7, "8h", time_limit_s=LIMIT
    )
    await plans.publish(ctx, lead, first.id)
    with pytest.raises(Conflict, match="withdraw it first"):
        await plans.publish(ctx, lead, second.id)
    await plans.withdraw(ctx, lead, first.id)
    await plans.publish(ctx, lead, second.id)
    with pytest.raises(Conflict, match="not a draft"):
        await plans.publish(ctx, lead, second.id)


async def test_sickness_re_solves_only_the_affected_days(ctx: HubContext) -> None:
    await rota_team(ctx)
    lead = await rota_lead(ctx)
    record = await _draft(ctx, lead)
    await plans.publish(ctx, lead, record.id)
    before = (await plans.view(ctx, lead, record.id)).shifts
    sick = next(s for s in before if s.day == MONDAY + timedelta(days=2))
    first, last = MONDAY + timedelta(days=2), MONDAY + timedelta(days=3)
    done = await plans.report_sickness(ctx, lead, record.id, sick.staff_id, first, last)
    after = done.view
    assert after.violations == []
    assert not [s for s in after.shifts if s.staff_id == sick.staff_id and first <= s.day <= last]
    # Only the sick days change (a day more each side only if they alone cannot hold).
    assert done.days[0] <= first and last <= done.days[-1] and len(done.days) <= 6
    lo, hi = done.days[0], done.days[-1]
    untouched = {s.assignment for s in before if not lo <= s.day <= hi}
    assert untouched == {s.assignment for s in after.shifts if not lo <= s.day <= hi}
    leave = await inputs.roster(ctx, lead)
    assert [(e.staff_id, e.kind) for e in leave.leave] == [(sick.staff_id, LeaveKind.SICK)]


async def test_forecast_needs_history(ctx: HubContext) -> None:
    await rota_team(ctx)
    lead = await rota_lead(ctx)
    with pytest.raises(ValidationError, match="no answered calls"):
        await inputs.forecast_demand(ctx, lead, MONDAY)


async def test_my_shifts_are_my_own(ctx: HubContext) -> None:
    team = await rota_team(ctx)
    lead = await rota_lead(ctx)
    record = await _draft(ctx, lead)
    await plans.publish(ctx, lead, record.id)
    mine = await plans.my_shifts(
        ctx, actor_for(team[0]), datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 10, tzinfo=UTC)
    )
    assert mine and {s.staff_id for s in mine} == {team[0].id}
    assert date(2026, 3, 2) <= mine[0].day


async def test_forecast_from_call_history_uses_erlang_c(ctx: HubContext, home) -> None:  # type: ignore[no-untyped-def]
    await rota_team(ctx)
    lead = await rota_lead(ctx)
    await call_history(ctx, home)
    result = await inputs.forecast_demand(ctx, lead, MONDAY)
    tuesday_1400 = 1 * 24 + 14
    # History spans 3 Feb … 24 Feb: 22 days, so Tuesday 14:00 was seen on 4 days, one
    # call each: 1 arrival an hour of 20 minutes → 1 clinician answers 90% in 5 minutes.
    assert result.arrivals_per_hour[tuesday_1400] == pytest.approx(1.0)
    assert result.handling_s[tuesday_1400] == pytest.approx(1200)
    assert result.clinicians[tuesday_1400] >= 1
    assert result.arrivals_per_hour[1 * 24 + 3] == 0  # the cancelled call
    assert min(result.clinicians) == 1  # the floor: a hub is never staffed by nobody


async def test_a_swap_legal_only_as_a_pair_is_saved_as_one_change(ctx: HubContext) -> None:
    await rota_team(ctx)
    lead = await rota_lead(ctx)
    record = await _draft(ctx, lead)
    await plans.publish(ctx, lead, record.id)
    shown = await plans.view(ctx, lead, record.id)
    problem, chosen = shown.problem, set(shown.assignments)
    given, taker = swap_legal_only_as_a_pair(problem, chosen)
    off = CellEdit(int(given.staff), given.day, None)
    on = CellEdit(int(taker), given.day, given.shift)
    with pytest.raises(plans.RotaRulesBroken):  # one half at a time: refused
        await plans.edit(ctx, lead, record.id, [off])
    assert set((await plans.view(ctx, lead, record.id)).assignments) == chosen
    assert await plans.edit(ctx, lead, record.id, [off, on]) == []  # together: legal
    after = set((await plans.view(ctx, lead, record.id)).assignments)
    assert after == (chosen - {given}) | {Assignment(taker, given.day, given.shift)}
    # A change that is half legal is refused whole: nothing of it is saved.
    day_only = next(s for s in problem.staff if not s.night_capable and s.id != given.staff)
    half = [
        CellEdit(int(given.staff), given.day, given.shift),  # alone: legal (one more on duty)
        CellEdit(int(day_only.id), given.day, "night"),  # a night for day-only staff
    ]
    with pytest.raises(plans.RotaRulesBroken) as refused:
        await plans.edit(ctx, lead, record.id, half)
    assert {v.rule for v in refused.value.violations} >= {"night_capable"}
    assert set((await plans.view(ctx, lead, record.id)).assignments) == after
