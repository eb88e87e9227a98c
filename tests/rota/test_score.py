"""Soft rules: what each costs, for whom; and the solver's objective equals the score."""

from __future__ import annotations

from dataclasses import replace

from rota.model import Request, RequestKind, RuleParams, Weights
from rota.score import score
from rota.solver import solve
from tests.rota.factory import a, day, make_problem, person

NO_COVER = RuleParams(skill_cover=())


def test_uncovered_and_over_cover_hours() -> None:
    p = make_problem(days=1, demand=[0] * 7 + [2] * 8 + [1] * 9, rules=NO_COVER)
    s = score(p, [a("sen1", 0, "early"), a("sen2", 0, "late")])  # 07–15 and 15–23
    rules = s.by_rule()
    w = Weights()
    # 07–15 one short each hour; 15–23 exact; 23–24 one short
    assert [u.start.hour for u in s.uncovered] == [*range(7, 15), 23]
    assert rules["uncovered"] == 9 * w.uncovered
    assert "over_cover" not in rules


def test_hours_before_the_first_shift_on_day_one_are_out_of_scope() -> None:
    p = make_problem(days=1, demand=[5] * 7 + [0] * 17, rules=NO_COVER)
    assert score(p, []).uncovered == ()


def test_contract_hours_requests_and_fairness() -> None:
    staff = [person("ann", hours=14), person("bob", hours=14), person("cat", hours=14)]
    requests = [
        Request("ann", RequestKind.DAY_OFF, day(0), day(0), weight=2),
        Request("bob", RequestKind.SHIFT, day(1), day(1), weight=1, shift="early"),
        Request("cat", RequestKind.NO_NIGHTS, day(0), day(6), weight=3),
    ]
    p = make_problem(staff=staff, demand=0, requests=requests, rules=NO_COVER)
    rota = [
        a("ann", 0, "early"),  # day off not granted: 2 × 20
        a("bob", 1, "late"),  # wanted early: 1 × 20
        a("cat", 0, "night"),
        a("cat", 1, "night"),
        a("cat", 2, "night"),  # 3 nights × 3 × 20
    ]
    s = score(p, rota)
    lines = {(line.rule, line.staff): line for line in s.lines}
    assert lines["request:day_off", "ann"].penalty == 40
    assert lines["request:shift", "bob"].penalty == 20
    assert lines["request:no_nights", "cat"].penalty == 180
    # target 14 h each; ann and bob 8 h (6 short), cat 24 h (10 over); weight 2
    assert lines["contract_hours", "ann"].penalty == 12
    assert lines["contract_hours", "cat"].penalty == 20
    # nights: cat 3, others 0 → spread 3, one of which is free
    [fair] = [line for line in s.lines if line.rule == "fair_nights"]
    assert fair.amount == 2 and fair.penalty == 20
    assert "cat has 3 nights" in fair.detail
    assert s.total == sum(line.penalty for line in s.lines)


def test_solver_objective_is_the_score_of_its_rota() -> None:
    p = make_problem(days=7, demand=2, rules=RuleParams())
    solution = solve(p, time_limit_s=5, workers=2, seed=0)
    again = score(p, solution.assignments)
    assert solution.objective == again.total
    assert solution.best_bound is not None and solution.best_bound <= solution.objective


def test_over_cover_past_the_end_counts_against_the_last_day() -> None:
    # Night is 23–07: one hour in the period, seven in the next rota's first morning,
    # which is taken to need what this period needed a day (or a week) earlier.
    p = make_problem(days=1, demand=1, rules=NO_COVER)
    s = score(p, [a("sen1", 0, "night"), a("sen2", 0, "night")])
    [over] = [line for line in s.lines if line.rule == "over_cover"]
    assert over.day == day(0) and over.amount == 1 + 7


def test_the_last_night_is_not_where_spare_contract_hours_go() -> None:
    # Far more contracted hours than demand, and an hour above demand costs more than an
    # hour short of contract, so no extra shift pays for itself — except, before the
    # tail counted, a night on the last day (seven of its eight hours cost nothing).
    p = replace(
        make_problem(days=7, demand=1, rules=NO_COVER),
        weights=Weights(over_cover=3, contract_hours=2),
    )
    solution = solve(p, time_limit_s=5, workers=2, seed=0)
    nights = [0] * 7
    for x in solution.assignments:
        if x.shift == "night":
            nights[(x.day - day(0)).days] += 1
    assert nights[-1] <= max(nights[:-1]), nights
    assert solution.objective == score(p, solution.assignments).total
