"""Can the hard rules hold at all? Cheap checks run before the solver.

CP-SAT answers an impossible problem with a bare INFEASIBLE, or worse, with nothing
before the time limit. Almost every impossible rota seen in practice is one of a few
shapes: a cover rule for a skill nobody has; an hour nobody with the skill can work
(everyone on leave, or day-only at night, or no shift covering that hour); or too few
skilled people for the cover hours once the working-time limits cap what each can do;
or frozen shifts that already break a rule. These are caught here and named; whatever
slips through is diagnosed after the solve by relaxing rule families (``solver``).
"""

from __future__ import annotations

from collections.abc import Collection

from rota.errors import RotaConflictError
from rota.grid import Grid
from rota.model import Assignment, Problem, SkillCover, Staff
from rota.rules import check, runs

MAX_LISTED = 3


def check_preconditions(
    problem: Problem,
    frozen: Collection[Assignment] = (),
    free_days: Collection[int] | None = None,
) -> None:
    """Raise ``RotaConflictError`` naming the rules when the hard rules cannot all hold."""
    grid = Grid(problem)
    rules = problem.rules
    span = 24 * rules.weekly_rest_window_days
    if problem.days >= rules.weekly_rest_window_days and rules.weekly_rest_hours > span:
        raise RotaConflictError(
            f"weekly_rest: {rules.weekly_rest_hours} hours of rest cannot fit in a window of "
            f"{rules.weekly_rest_window_days} days ({span} hours)",
            ("weekly_rest",),
        )
    _frozen_legal(problem, frozen)
    for cover in problem.rules.skill_cover:
        holders = [s for s in problem.staff if cover.skill in s.skills]
        window = f"{cover.from_hour:02d}:00–{cover.to_hour:02d}:00"
        if not holders:
            raise RotaConflictError(
                f"{cover.rule}: needs {cover.minimum} {cover.skill} on duty {window} every "
                f"day, but no staff member has skill {cover.skill!r}",
                (cover.rule,),
            )
        _every_hour_reachable(grid, cover, holders, frozen, free_days)
        _enough_capacity(grid, cover, holders)


def _frozen_legal(problem: Problem, frozen: Collection[Assignment]) -> None:
    """Per-person rules only get worse as shifts are added, so frozen shifts that break
    one alone can never be part of a legal rota."""
    broken = [v for v in check(problem, frozen) if not v.rule.startswith("skill_cover")]
    if broken:
        rules = tuple(sorted({v.rule for v in broken}))
        listed = "; ".join(v.message for v in broken[:MAX_LISTED])
        more = f" (and {len(broken) - MAX_LISTED} more)" if len(broken) > MAX_LISTED else ""
        raise RotaConflictError(
            f"the frozen shifts already break hard rules: {listed}{more}", ("frozen", *rules)
        )


def _every_hour_reachable(
    grid: Grid,
    cover: SkillCover,
    holders: list[Staff],
    frozen: Collection[Assignment],
    free_days: Collection[int] | None,
) -> None:
    frozen_keys = {(a.staff, grid.day_index(a.day), a.shift) for a in frozen}
    free = set(range(grid.days)) if free_days is None else set(free_days)
    able: list[set[str]] = [set() for _ in range(grid.hours)]
    any_shift = [False] * grid.hours
    for d in range(grid.days):
        for t in grid.problem.shifts:
            start, end = grid.span(d, t)
            for h in range(start, min(end, grid.hours)):
                any_shift[h] = True
            for s in holders:
                if (s.id, d, t.name) in frozen_keys or (d in free and grid.can_work(s, d, t)):
                    for h in range(start, min(end, grid.hours)):
                        able[h].add(s.id)
    short = [
        h
        for h in range(grid.first_hour, grid.hours)
        if cover.from_hour <= h % 24 < cover.to_hour and len(able[h]) < cover.minimum
    ]
    if not short:
        return
    reasons: set[str] = set()
    if any(not any_shift[h] for h in short):
        reasons.add("shifts")
    if any(grid.leave_days.get(s.id) for s in holders):
        reasons.add("leave")
    if any(not s.night_capable for s in holders):
        reasons.add("night_capable")
    if free_days is not None:
        reasons.add("frozen")
    stretches = runs(short)
    listed = ", ".join(
        f"{grid.hour_start(h):%Y-%m-%d %H:%M}–{grid.hour_start(h + n):%H:%M}"
        for h, n in stretches[:MAX_LISTED]
    )
    more = (
        f" and {len(stretches) - MAX_LISTED} more stretches" if len(stretches) > MAX_LISTED else ""
    )
    why = {
        "shifts": "no shift type covers those hours",
        "leave": "the others are on leave",
        "night_capable": "some are day-only",
        "frozen": "the days around are frozen",
    }
    because = "; ".join(why[r] for r in sorted(reasons)) or "nobody can work them"
    raise RotaConflictError(
        f"{cover.rule}: fewer than {cover.minimum} of the {len(holders)} staff with skill "
        f"{cover.skill!r} can be on duty {listed}{more} ({because})",
        (cover.rule, *sorted(reasons)),
    )


def max_shifts(grid: Grid, staff: Staff) -> tuple[int, str]:
    """An upper bound on one person's shift count, and the rule that sets it."""
    rules = grid.problem.rules
    shortest = min(t.hours for t in grid.problem.shifts)
    bounds = [(grid.days - len(grid.leave_days.get(staff.id, frozenset())), "leave")]
    k = rules.max_consecutive_days
    bounds.append((grid.days - grid.days // (k + 1), "max_consecutive_days"))
    spacing = max(1, shortest + rules.min_rest_hours)
    bounds.append(((grid.hours - 1) // spacing + 1, "min_rest"))
    window = 24 * rules.weekly_rest_window_days
    if grid.days >= rules.weekly_rest_window_days and rules.weekly_rest_hours + shortest > window:
        bounds.append((0, "weekly_rest"))
    return min(bounds)


def _enough_capacity(grid: Grid, cover: SkillCover, holders: list[Staff]) -> None:
    need = sum(
        cover.minimum
        for h in range(grid.first_hour, grid.hours)
        if cover.from_hour <= h % 24 < cover.to_hour
    )
    longest = max(t.hours for t in grid.problem.shifts)
    total = 0
    limits: set[str] = set()
    for s in holders:
        shifts, rule = max_shifts(grid, s)
        by_shifts = shifts * longest
        if grid.hours_cap() < by_shifts:
            total += grid.hours_cap()
            limits.add("max_avg_weekly_hours")
        else:
            total += by_shifts
            limits.add(rule)
    if total < need:
        rules = tuple(sorted(limits))
        raise RotaConflictError(
            f"{cover.rule}: needs {need} {cover.skill}-hours over the period, but the "
            f"{len(holders)} staff with that skill can work at most {total} hours under "
            f"{', '.join(rules)}",
            (cover.rule, *rules),
        )
