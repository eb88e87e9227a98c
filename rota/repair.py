"""Sickness after publication: re-solve only the affected days.

Everyone else's shifts on every other day are frozen, because a published rota is a
promise: people have arranged childcare around it. Only shifts starting on the sick
days may change; the hard rules still hold across the boundary, since the frozen shifts
sit in the same model as the free ones.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import replace
from datetime import date, timedelta

from rota.errors import RotaInputError
from rota.model import Assignment, Leave, Problem, Solution
from rota.solver import ProgressFn, solve


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
) -> tuple[Problem, Solution]:
    """Record sickness as leave and re-solve the days it touches inside the period."""
    sick = with_sickness(problem, staff, first, last)
    end = problem.start + timedelta(days=problem.days - 1)
    lo, hi = max(first, problem.start), min(last, end)
    if hi < lo:
        raise RotaInputError(f"sickness: {first}..{last} is outside the period")
    dates = [lo + timedelta(days=i) for i in range((hi - lo).days + 1)]
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
    return sick, solution
