"""The hard rules, checked on any rota: solver output, hand edits, tests.

This is deliberately written apart from the CP-SAT model (it walks each clinician's
shifts in time order instead of enumerating constraints), so that a mistake in one shows
up as a disagreement with the other. It reports every broken rule at once, never only
the first: a rota lead fixing a hand edit wants the whole list.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from rota.grid import Grid
from rota.model import Assignment, Problem, ShiftType, Staff, Violation

RULES = (
    "unknown",
    "one_shift_per_day",
    "leave",
    "night_capable",
    "min_rest",
    "weekly_rest",
    "max_avg_weekly_hours",
    "max_consecutive_days",
    "max_consecutive_nights",
    "max_consecutive_long_nights",
    "skill_cover:<skill>",
)


@dataclass(frozen=True)
class Worked:
    """One assigned shift placed on the hour grid."""

    day: int
    shift: ShiftType
    start: int
    end: int


def check(problem: Problem, assignments: Iterable[Assignment]) -> list[Violation]:
    grid = Grid(problem)
    out: list[Violation] = []
    by_staff: dict[str, list[Worked]] = defaultdict(list)
    for a in assignments:
        staff = grid.staff_by_id.get(a.staff)
        shift = grid.shift_by_name.get(a.shift)
        day = grid.day_index(a.day)
        if staff is None or shift is None or not 0 <= day < grid.days:
            what = (
                f"unknown staff id {a.staff!r}"
                if staff is None
                else f"unknown shift {a.shift!r}"
                if shift is None
                else f"{a.day} is outside the period"
            )
            out.append(Violation("unknown", f"{a.staff} {a.day} {a.shift}: {what}", a.staff, a.day))
            continue
        start, end = grid.span(day, shift)
        by_staff[a.staff].append(Worked(day, shift, start, end))
    for staff in problem.staff:
        shifts = sorted(by_staff.get(staff.id, []), key=lambda w: (w.start, w.end))
        out.extend(staff_violations(grid, staff, shifts))
    out.extend(_skill_cover(grid, by_staff))
    return out


def staff_violations(grid: Grid, staff: Staff, shifts: list[Worked]) -> list[Violation]:
    """Every per-person rule for one clinician's shifts (sorted by start)."""
    out: list[Violation] = []
    rules = grid.problem.rules
    sid = staff.id

    def v(rule: str, message: str, day: int | None = None, hour: int | None = None) -> None:
        out.append(
            Violation(
                rule,
                f"{sid}: {message}",
                sid,
                None if day is None else grid.date_of(day),
                None if hour is None else grid.hour_start(hour),
            )
        )

    per_day: dict[int, list[Worked]] = defaultdict(list)
    for w in shifts:
        per_day[w.day].append(w)
    for day, ws in sorted(per_day.items()):
        if len(ws) > 1:
            names = ", ".join(w.shift.name for w in ws)
            v("one_shift_per_day", f"{len(ws)} shifts start on {grid.date_of(day)} ({names})", day)
    for w in shifts:
        if w.day in grid.leave_days.get(sid, frozenset()):
            v("leave", f"{w.shift.name} on {grid.date_of(w.day)} falls on leave", w.day)
        if not staff.night_capable and grid.is_night(w.shift):
            v(
                "night_capable",
                f"day-only, but on night {w.shift.name} {grid.date_of(w.day)}",
                w.day,
            )
    for prev, nxt in itertools.pairwise(shifts):
        rest = nxt.start - prev.end
        if rest < rules.min_rest_hours:
            v(
                "min_rest",
                f"{rest} hours' rest between {prev.shift.name} {grid.date_of(prev.day)} and "
                f"{nxt.shift.name} {grid.date_of(nxt.day)} (at least {rules.min_rest_hours})",
                nxt.day,
                nxt.start,
            )
    out.extend(_weekly_rest(grid, sid, shifts))
    total = sum(w.shift.hours for w in shifts)
    if total > grid.hours_cap():
        v(
            "max_avg_weekly_hours",
            f"{total} hours over {grid.days} days, more than {rules.max_avg_weekly_hours:g} a "
            f"week on average allows ({grid.hours_cap()})",
        )
    days = sorted(per_day)
    nights = sorted({w.day for w in shifts if grid.is_night(w.shift)})
    long_nights = sorted({w.day for w in shifts if grid.is_long_night(w.shift)})
    for rule, run_days, limit, what in (
        ("max_consecutive_days", days, rules.max_consecutive_days, "working days"),
        ("max_consecutive_nights", nights, rules.max_consecutive_nights, "nights"),
        (
            "max_consecutive_long_nights",
            long_nights,
            rules.max_consecutive_long_nights,
            "long nights",
        ),
    ):
        for first, length in runs(run_days):
            if length > limit:
                v(
                    rule,
                    f"{length} consecutive {what} from {grid.date_of(first)} (at most {limit})",
                    first,
                )
    return out


def runs(days: list[int]) -> list[tuple[int, int]]:
    """Maximal runs of consecutive days as (first day, length)."""
    runs: list[tuple[int, int]] = []
    for d in days:
        if runs and runs[-1][0] + runs[-1][1] == d:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((d, 1))
    return runs


def _weekly_rest(grid: Grid, sid: str, shifts: list[Worked]) -> list[Violation]:
    """Each window of ``weekly_rest_window_days`` whole days inside the period must hold
    ``weekly_rest_hours`` of continuous rest; work outside the window bounds it too."""
    rules = grid.problem.rules
    span = rules.weekly_rest_window_days
    out: list[Violation] = []
    for w in range(0, grid.days - span + 1):
        lo, hi = 24 * w, 24 * (w + span)
        longest, free_from = 0, lo
        for s in shifts:
            if s.end <= lo or s.start >= hi:
                continue
            longest = max(longest, s.start - free_from)
            free_from = max(free_from, s.end)
        longest = max(longest, hi - free_from)
        if longest < rules.weekly_rest_hours:
            out.append(
                Violation(
                    "weekly_rest",
                    f"{sid}: longest rest in the {span} days from {grid.date_of(w)} is {longest} "
                    f"hours (at least {rules.weekly_rest_hours} in one stretch)",
                    sid,
                    grid.date_of(w),
                )
            )
    return out


def _skill_cover(grid: Grid, by_staff: dict[str, list[Worked]]) -> list[Violation]:
    out: list[Violation] = []
    for cover in grid.problem.rules.skill_cover:
        on_duty = [0] * grid.hours
        for sid, shifts in by_staff.items():
            if cover.skill not in grid.staff_by_id[sid].skills:
                continue
            for w in shifts:
                for h in range(w.start, min(w.end, grid.hours)):
                    on_duty[h] += 1
        short = [
            h
            for h in range(grid.hours)
            if grid.in_scope(h)
            and cover.from_hour <= h % 24 < cover.to_hour
            and on_duty[h] < cover.minimum
        ]
        for first, length in runs(short):
            at = grid.hour_start(first)
            until = grid.hour_start(first + length)
            out.append(
                Violation(
                    cover.rule,
                    f"fewer than {cover.minimum} {cover.skill} on duty "
                    f"{at:%Y-%m-%d %H:%M}–{until:%H:%M} ({length} h)",
                    None,
                    at.date(),
                    at,
                    length,
                )
            )
    return out
