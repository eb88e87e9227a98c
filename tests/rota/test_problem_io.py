"""Problem JSON: every bad input fails with one error type and a message naming the
field; good input round-trips."""

from __future__ import annotations

from typing import Any

import pytest

from rota.errors import RotaInputError
from rota.model import RequestKind
from rota.patterns import EIGHT_HOUR
from rota.problem_io import dump_problem, parse_assignments, parse_problem
from tests.rota.factory import START, make_problem, problem_json


def fails(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(RotaInputError) as err:
        parse_problem(doc)
    assert err.value.message == message


def test_a_valid_problem_parses() -> None:
    p = parse_problem(problem_json())
    assert p.start == START and p.days == 7
    assert [s.contracted_hours for s in p.staff] == [37.5, 30.0, 22.5]
    assert not p.staff[2].night_capable
    assert p.requests[0].kind is RequestKind.DAY_OFF and p.requests[0].weight == 2
    assert p.rules.min_rest_hours == 11


def test_round_trip() -> None:
    p = make_problem()
    assert parse_problem(dump_problem(p)) == p
    q = parse_problem(problem_json())
    assert parse_problem(dump_problem(q)) == q


def test_a_period_of_zero_days_is_refused() -> None:
    fails(
        problem_json(period={"start": "2026-03-02", "days": 0}),
        "period.days: must be at least 1 (got 0)",
    )


def test_unknown_staff_ids_are_refused() -> None:
    fails(
        problem_json(leave=[{"staff": "zed", "from": "2026-03-03", "to": "2026-03-03"}]),
        "leave[0].staff: unknown staff id 'zed'",
    )
    fails(
        problem_json(requests=[{"staff": "zed", "kind": "day_off", "date": "2026-03-03"}]),
        "requests[0].staff: unknown staff id 'zed'",
    )


def test_overlapping_leave_is_refused() -> None:
    leave = [
        {"staff": "ann", "from": "2026-03-03", "to": "2026-03-05"},
        {"staff": "bob", "from": "2026-03-04", "to": "2026-03-04"},
        {"staff": "ann", "from": "2026-03-05", "to": "2026-03-06"},
    ]
    fails(
        problem_json(leave=leave),
        "leave[2]: leave for 'ann' (2026-03-05..2026-03-06) overlaps leave[0] "
        "(2026-03-03..2026-03-05); merge them into one entry",
    )


def test_leave_that_ends_before_it_starts_is_refused() -> None:
    fails(
        problem_json(leave=[{"staff": "ann", "from": "2026-03-05", "to": "2026-03-04"}]),
        "leave[0]: 'to' (2026-03-04) is before 'from' (2026-03-05)",
    )


def test_demand_for_a_skill_nobody_has_is_refused() -> None:
    demand = {"hourly": [1] * 168, "by_skill": {"paediatrics": {"hourly": [1] * 168}}}
    fails(
        problem_json(demand=demand),
        "demand.by_skill.paediatrics: no staff member has skill 'paediatrics'",
    )


def test_demand_must_cover_the_period() -> None:
    fails(problem_json(demand={"hourly": [1] * 100}), "demand.hourly: expected 168 values, got 100")
    fails(
        problem_json(demand={"hourly": [1] * 167 + [-1]}),
        "demand.hourly[167]: expected a whole number >= 0, got -1",
    )


def test_hour_of_week_demand_is_laid_from_the_start_weekday() -> None:
    week = list(range(168))
    doc = problem_json(
        period={"start": "2026-03-04", "days": 2},
        demand={"hour_of_week": week},
        leave=[],
        requests=[],
    )
    p = parse_problem(doc)
    assert p.demand.hourly[0] == 48  # Wednesday 00:00 is hour 48 of the week
    assert len(p.demand.hourly) == 48


@pytest.mark.parametrize(
    ("shift", "message"),
    [
        (
            {"name": "zero", "start": "07:00", "hours": 0},
            "shifts[1].hours: a shift lasts 1 to 24 hours (got 0)",
        ),
        (
            {"name": "long", "start": "07:00", "hours": 25},
            "shifts[1].hours: a shift lasts 1 to 24 hours (got 25)",
        ),
        (
            {"name": "day", "start": "09:00", "hours": 8},
            "shifts[1].name: duplicate shift name 'day'",
        ),
        (
            {"name": "half", "start": "07:30", "hours": 8},
            "shifts[1].start: must start on the hour, got '07:30'",
        ),
        (
            {"name": "late", "start": "25:00", "hours": 8},
            "shifts[1].start: hour must be between 0 and 23 (got 25)",
        ),
    ],
)
def test_malformed_shift_patterns_are_refused(shift: dict[str, Any], message: str) -> None:
    fails(problem_json(shifts=[{"name": "day", "start": "07:00", "hours": 12}, shift]), message)


def test_shifts_that_cross_midnight_are_legal() -> None:
    p = parse_problem(problem_json(shifts=[{"name": "night", "start": "22:00", "hours": 10}]))
    assert p.shifts[0].end_hour == 32


def test_a_pattern_can_be_named() -> None:
    assert parse_problem(problem_json(shifts="8h")).shifts == EIGHT_HOUR
    fails(problem_json(shifts="9h"), "shifts: unknown pattern '9h' (known: 12h, 8h)")


def test_unknown_fields_and_bad_types_name_the_field() -> None:
    fails(problem_json(rules={"min_rest": 11}), "rules.min_rest: unknown field")
    fails(
        problem_json(rules={"min_rest_hours": "11"}),
        'rules.min_rest_hours: expected a whole number, got "11"',
    )
    staff = [{"id": "ann", "fte": 1.0, "contracted_hours": 37.5}]
    fails(
        problem_json(staff=staff, leave=[], requests=[]),
        "staff[0]: give exactly one of fte or contracted_hours",
    )
    fails(
        problem_json(
            staff=[{"id": "ann", "fte": 1}, {"id": "ann", "fte": 1}], leave=[], requests=[]
        ),
        "staff[1].id: duplicate staff id 'ann'",
    )


def test_skill_cover_rules_are_parsed_and_checked() -> None:
    rules = {"skill_cover": [{"skill": "senior_clinician", "from": "08:00", "to": 22}]}
    p = parse_problem(problem_json(rules=rules))
    assert [(c.skill, c.from_hour, c.to_hour, c.minimum) for c in p.rules.skill_cover] == [
        ("senior_clinician", 8, 22, 1)
    ]
    rules = {"skill_cover": [{"skill": "senior_clinician", "from": 22, "to": 8}]}
    fails(
        problem_json(rules=rules), "rules.skill_cover[0]: 'to' (8:00) must be after 'from' (22:00)"
    )


def test_requests_are_checked() -> None:
    fails(
        problem_json(requests=[{"staff": "bob", "kind": "shift", "date": "2026-03-05"}]),
        "requests[0].shift: missing",
    )
    fails(
        problem_json(requests=[{"staff": "bob", "kind": "holiday", "date": "2026-03-05"}]),
        "requests[0].kind: expected one of day_off, no_nights, shift",
    )
    fails(
        problem_json(
            requests=[{"staff": "bob", "kind": "day_off", "date": "2026-03-05", "weight": 0}]
        ),
        "requests[0].weight: must be between 1 and 100 (got 0)",
    )


def test_assignments_must_name_known_staff_shifts_and_days() -> None:
    p = parse_problem(problem_json())
    ok = parse_assignments(
        p, {"assignments": [{"staff": "ann", "date": "2026-03-02", "shift": "day"}]}
    )
    assert len(ok) == 1
    for item, message in [
        (
            {"staff": "zed", "date": "2026-03-02", "shift": "day"},
            "assignments[0].staff: unknown staff id 'zed'",
        ),
        (
            {"staff": "ann", "date": "2026-03-02", "shift": "early"},
            "assignments[0].shift: unknown shift 'early'",
        ),
        (
            {"staff": "ann", "date": "2026-03-09", "shift": "day"},
            "assignments[0].date: 2026-03-09 is outside the period 2026-03-02..2026-03-08",
        ),
    ]:
        with pytest.raises(RotaInputError) as err:
            parse_assignments(p, {"assignments": [item]})
        assert err.value.message == message
