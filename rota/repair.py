"""Sickness after publication: re-solve only the affected days.

Everyone else's shifts on every other day are frozen, because a published rota is a
promise: people have arranged childcare around it. Only shifts starting on the sick
days may change; the hard rules still hold across the boundary, since the frozen shifts
sit in the same model as the free ones.

Sometimes the sick days alone cannot be covered legally: the only senior who could
step in worked a night just before, and the rest rule forbids it. Then, and only then,
the repair frees one more day on each side (up to ``WIDEN_UP_TO``) and tries again;
the result says which days it re-solved, so the rota lead can tell the people whose
shifts moved.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import replace
from datetime import date, timedelta
from typing import NamedTuple

from rota.errors import RotaConflictError, RotaInputError
from rota.model import Assignment, Leave, Problem, Solution
from rota.solver import ProgressFn, solve

WIDEN_UP_TO = 2  # extra days freed on each side when the sick days alone cannot hold


class Repaired(NamedTuple):
    problem: Problem  # with the sickness recorded as leave
    solution: Solution
    dates: tuple[date, ...]  # the days re-solved: the sick days, widened if it had to be


def with_sickness(problem: Problem, staff: str, first: date, last: date) -> Problem:
    if staff not in {s.id for s in problem.staff}:
        raise RotaInputError(f"sickness: unknown staff id {staff!r}")
    if last < first:
        raise RotaInputError(f"sickness: 'to' ({last}) is before 'from' ({first})")
    # Days already on leave stay as they are, so leave entries never overlap (the
    # problem file must still parse after ``--problem-out``).
    taken = {
        x.first + timedelta(days=i)
        for x in problem.leave
        if x.staff == staff
        for i in range((x.last - x.first).days + 1)
    }
    added: list[Leave] = []
    day = first
    while day <= last:
        if day not in taken:
            if added and added[-1].last == day - timedelta(days=1):
                added[-1] = replace(added[-1], last=day)
            else:
                added.append(Leave(staff, day, day, "sick"))
        day += timedelta(days=1)
    return replace(problem, leave=(*problem.leave, *added))


def resolve_days(
    problem: Problem,
    published: Collection[Assignment],
    dates: Collection[date],
    *,
    time_limit_s: float = 10.0,
    workers: int = 2,
    seed: int = 0,
    on_progress: ProgressFn | None = None,
    stop: threading.Event | None = None,
) -> Solution:
    """Re-solve ``dates`` with every shift on any other date frozen as published."""
    days = set(dates)
    frozen = [a for a in published if a.day not in days]
    return solve(problem, time_limit_s, workers, seed, on_progress, frozen, days, stop)


def repair_sickness(
    problem: Problem,
    published: Collection[Assignment],
    staff: str,
    first: date,
    last: date,
    *,
    time_limit_s: float = 10.0,
    workers: int = 2,
    seed: int = 0,
    on_progress: ProgressFn | None = None,
    stop: threading.Event | None = None,
) -> Repaired:
    """Record sickness as leave and re-solve the days it touches inside the period,
    widened a day at a time on each side when the frozen shifts make it impossible."""
    sick = with_sickness(problem, staff, first, last)
    start, end = problem.start, problem.start + timedelta(days=problem.days - 1)
    lo, hi = max(first, start), min(last, end)
    if hi < lo:
        raise RotaInputError(f"sickness: {first}..{last} is outside the period")
    for extra in range(WIDEN_UP_TO + 1):
        a = max(start, lo - timedelta(days=extra))
        b = min(end, hi + timedelta(days=extra))
        dates = tuple(a + timedelta(days=i) for i in range((b - a).days + 1))
        try:
            solution = resolve_days(
                sick,
                published,
                dates,
                time_limit_s=time_limit_s,
                workers=workers,
                seed=seed,
                on_progress=on_progress,
                stop=stop,
            )
        except RotaConflictError as err:
            widened_fully = a == start and b == end
            if "frozen" not in err.rules or widened_fully or extra == WIDEN_UP_TO:
                raise
            continue
        return Repaired(sick, solution, dates)
    raise AssertionError("unreachable: the last attempt returns or raises")
