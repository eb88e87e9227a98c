"""The hard-rule checker on hand-built rotas: each rule broken once is reported once,
several broken together are all reported, and the checker agrees with the CP-SAT model
on random rotas."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, time

import pytest
from ortools.sat.python import cp_model

from rota.cpmodel import build_model
from rota.model import Assignment, Leave, Problem, RuleParams
from rota.patterns import EIGHT_HOUR, TWELVE_HOUR
from rota.rules import check
from rota.solver import solve
from tests.rota.factory import SENIOR_ONLY, a, day, make_problem

NO_COVER = RuleParams(skill_cover=())


def rules_broken(problem: Problem, rota: list[Assignment], who: str = "sen1") -> list[str]:
    return [v.rule for v in check(problem, rota) if v.staff == who]


def earlies(days: range, who: str = "sen1") -> list[Assignment]:
    return [a(who, d, "early") for d in days]


def test_a_legal_rota_breaks_nothing() -> None:
    p = make_problem(rules=NO_COVER)
    assert check(p, [*earlies(range(5)), a("sen2", 0, "night"), a("sen2", 2, "late")]) == []


@pytest.mark.parametrize(
    ("rules", "shifts", "rota", "rule"),
    [
        (
            replace(NO_COVER, min_rest_hours=0),
            EIGHT_HOUR,
            [a("sen1", 0, "early"), a("sen1", 0, "late")],
            "one_shift_per_day",
        ),
        (NO_COVER, EIGHT_HOUR, [a("sen1", 0, "late"), a("sen1", 1, "early")], "min_rest"),
        (NO_COVER, EIGHT_HOUR, [a("sen1", d, "night") for d in range(5)], "max_consecutive_nights"),
        (
            NO_COVER,
            TWELVE_HOUR,
            [a("sen1", d, "night") for d in range(4)],
            "max_consecutive_long_nights",
        ),
        (
            replace(NO_COVER, max_consecutive_days=3),
            EIGHT_HOUR,
            earlies(range(4)),
            "max_consecutive_days",
        ),
        (
            replace(NO_COVER, max_avg_weekly_hours=40),
            EIGHT_HOUR,
            earlies(range(6)),
            "max_avg_weekly_hours",
        ),
        (
            replace(NO_COVER, weekly_rest_hours=36),
            EIGHT_HOUR,
            [*earlies(range(5)), a("sen1", 5, "late")],
            "weekly_rest",
        ),
    ],
)
def test_each_rule_broken_once_is_reported_once(
    rules: RuleParams, shifts: tuple[object, ...], rota: list[Assignment], rule: str
) -> None:
    p = make_problem(rules=rules, shifts=shifts)  # type: ignore[arg-type]
    assert rules_broken(p, rota) == [rule]


def test_the_same_rotas_are_legal_under_default_parameters() -> None:
    p = make_problem(rules=NO_COVER)
    assert check(p, earlies(range(6))) == []
    assert check(p, [*earlies(range(5)), a("sen1", 5, "late")]) == []


def test_leave_is_respected() -> None:
    p = make_problem(rules=NO_COVER, leave=[Leave("sen1", day(1), day(2))])
    violations = check(p, [a("sen1", 0, "early"), a("sen1", 2, "late")])
    assert [(v.rule, v.day) for v in violations] == [("leave", day(2))]


def test_day_only_staff_work_no_nights() -> None:
    p = make_problem(rules=NO_COVER)
    [v] = check(p, [a("nur2", 3, "night")])
    assert (v.rule, v.staff, v.day) == ("night_capable", "nur2", day(3))
    assert "day-only" in v.message


def test_missing_senior_cover_is_reported_as_one_stretch_per_gap() -> None:
    p = make_problem(days=2, rules=SENIOR_ONLY)
    rota = [
        a("sen1", 0, "early"),
        a("sen2", 0, "late"),
        a("sen3", 0, "night"),
        a("sen1", 1, "early"),
        a("sen2", 1, "day"),
        a("sen3", 1, "night"),
    ]
    [gap] = check(p, rota)
    assert gap.rule == "skill_cover:senior_clinician"
    # the day shift ends at 18:00 and the night starts at 23:00
    assert (gap.start, gap.hours) == (datetime.combine(day(1), time(18)), 5)
    assert "2026-03-03 18:00–23:00" in gap.message


def test_every_broken_rule_is_shown_at_once() -> None:
    p = make_problem(rules=SENIOR_ONLY, leave=[Leave("sen2", day(0), day(0))])
    rota = [
        a("sen1", 0, "late"),
        a("sen1", 1, "early"),  # 8 hours' rest
        a("sen2", 0, "early"),  # on leave
        a("nur2", 0, "night"),  # day-only
    ]
    rules = {v.rule for v in check(p, rota)}
    assert rules == {"min_rest", "leave", "night_capable", "skill_cover:senior_clinician"}


def test_checker_and_cp_model_agree_on_random_rotas() -> None:
    """Fix every shift boolean to a rota: the model is feasible exactly when the checker
    finds nothing. Rotas are a solved one with a few random shifts added or dropped, so
    they sit on the boundary where the two readings of the rules could differ."""
    rng = random.Random(7)
    p = make_problem(days=8, rules=SENIOR_ONLY)
    base = list(solve(p, time_limit_s=2, workers=1, seed=1).assignments)
    keys = [(s.id, d, t.name) for s in p.staff for d in range(p.days) for t in p.shifts]
    agree = legal = 0
    for _ in range(40):
        rota = rng.sample(base, len(base) - rng.choice((0, 0, 1)))
        rota += [Assignment(sid, day(d), t) for sid, d, t in rng.sample(keys, rng.randint(0, 2))]
        verdict = check(p, rota) == []
        rm = build_model(p)
        chosen = {(x.staff, (x.day - day(0)).days, x.shift) for x in rota}
        if len(chosen) < len(rota) or not chosen <= set(rm.x):
            feasible = False  # a duplicate, a shift on leave or a night for day-only staff
        else:
            for key, var in rm.x.items():
                rm.model.add(var == int(key in chosen))
            solver = cp_model.CpSolver()
            solver.parameters.num_workers = 1
            feasible = solver.solve(rm.model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        agree += feasible == verdict
        legal += verdict
    assert agree == 40
    assert 5 < legal < 35
