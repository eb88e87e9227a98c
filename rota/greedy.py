"""A quick legal rota, built day by day, to hint CP-SAT and to fall back on.

CP-SAT finds a first rota fast on its own most of the time, but "most" is not "always":
with a complete legal hint it starts from a real rota at once, and if it finds nothing
within the time limit the caller still gets this one. Every shift is added only when the
per-person hard rules still hold, so the result breaks no rule except perhaps skill
cover (when the greedy paints itself into a corner), which ``rules.check`` then reports.
"""

from __future__ import annotations

import random
from collections.abc import Collection
from dataclasses import replace

from ortools.sat.python import cp_model

from rota.cpmodel import build_model
from rota.grid import Grid
from rota.model import Assignment, Demand, Problem, RequestKind, ShiftType, Staff, Weights

SKELETON_LIMIT_S = 2.0
ATTEMPTS = 4
BIG = 10**6  # a missing senior/prescriber hour outweighs any soft gain


class _Person:
    """One clinician's shifts so far, with the incremental hard-rule checks."""

    def __init__(self, grid: Grid, staff: Staff) -> None:
        self.grid = grid
        self.staff = staff
        self.target = grid.target_hours(staff)
        self.hours = 0
        self.days: dict[int, tuple[int, int, ShiftType]] = {}
        rules = grid.problem.rules
        longest = max(t.hours for t in grid.problem.shifts)
        self.scan = (rules.min_rest_hours + longest) // 24 + 2

    def add(self, day: int, shift: ShiftType) -> None:
        start, end = self.grid.span(day, shift)
        self.days[day] = (start, end, shift)
        self.hours += shift.hours

    def remove(self, day: int) -> None:
        self.hours -= self.days.pop(day)[2].hours

    def _run(self, day: int, member: set[int]) -> int:
        left = right = 0
        while day - left - 1 in member:
            left += 1
        while day + right + 1 in member:
            right += 1
        return left + right + 1

    def can_add(self, day: int, shift: ShiftType) -> bool:
        grid, rules = self.grid, self.grid.problem.rules
        if day in self.days or not grid.can_work(self.staff, day, shift):
            return False
        if self.hours + shift.hours > grid.hours_cap():
            return False
        start, end = grid.span(day, shift)
        for d in range(day - self.scan, day + self.scan + 1):
            other = self.days.get(d)
            if other is None:
                continue
            if (d < day and start - other[1] < rules.min_rest_hours) or (
                d > day and other[0] - end < rules.min_rest_hours
            ):
                return False
        if self._run(day, set(self.days)) > rules.max_consecutive_days:
            return False
        if grid.is_night(shift):
            nights = {d for d, v in self.days.items() if grid.is_night(v[2])}
            if self._run(day, nights) > rules.max_consecutive_nights:
                return False
            if grid.is_long_night(shift):
                longs = {d for d, v in self.days.items() if grid.is_long_night(v[2])}
                if self._run(day, longs) > rules.max_consecutive_long_nights:
                    return False
        return self._weekly_rest_ok(day, start, end)

    def _weekly_rest_ok(self, day: int, start: int, end: int) -> bool:
        rules = self.grid.problem.rules
        span = rules.weekly_rest_window_days
        for w in range(max(0, day - span), min(self.grid.days - span, day + 1) + 1):
            lo, hi = 24 * w, 24 * (w + span)
            if end <= lo or start >= hi:
                continue
            spans = [(s, e) for d, (s, e, _) in self.days.items() if w - 2 <= d <= w + span]
            spans.append((start, end))
            longest, free_from = 0, lo
            for s, e in sorted(spans):
                if e <= lo or s >= hi:
                    continue
                longest = max(longest, s - free_from)
                free_from = max(free_from, e)
            if max(longest, hi - free_from) < rules.weekly_rest_hours:
                return False
        return True


class _Builder:
    def __init__(self, problem: Problem, frozen: Collection[Assignment], attempt: int = 0) -> None:
        self.grid = grid = Grid(problem)
        self.rng = random.Random(attempt) if attempt else None
        self.people = {s.id: _Person(grid, s) for s in problem.staff}
        self.on = [0] * grid.hours
        skills = {c.skill for c in problem.rules.skill_cover} | set(problem.demand.by_skill)
        self.skill_on = {k: [0] * grid.hours for k in skills}
        self.required = {k: [0] * grid.hours for k in skills}
        for c in problem.rules.skill_cover:
            for h in range(grid.first_hour, grid.hours):
                if c.from_hour <= h % 24 < c.to_hour:
                    self.required[c.skill][h] = max(self.required[c.skill][h], c.minimum)
        self.request_cost: dict[tuple[str, int, str], int] = {}
        w = problem.weights.request
        for kind in (RequestKind.DAY_OFF, RequestKind.NO_NIGHTS):
            for _, d, sid, weight in grid.request_days(kind):
                for t in problem.shifts:
                    if kind is RequestKind.DAY_OFF or grid.is_night(t):
                        key = (sid, d, t.name)
                        self.request_cost[key] = self.request_cost.get(key, 0) + w * weight
        for i, d, sid, weight in grid.request_days(RequestKind.SHIFT):
            wanted = problem.requests[i].shift or ""
            key = (sid, d, wanted)
            self.request_cost[key] = self.request_cost.get(key, 0) - w * weight
        self.chosen: list[Assignment] = []
        self.nights = {s.id: 0 for s in problem.staff}
        self.weekends = {s.id: 0 for s in problem.staff}
        self.night_group = {
            s.id: [m.id for m in g] for g in grid.fairness_groups(True).values() for s in g
        }
        self.weekend_group = {
            s.id: [m.id for m in g] for g in grid.fairness_groups(False).values() for s in g
        }
        for a in frozen:
            self._place(a.staff, grid.day_index(a.day), grid.shift_by_name[a.shift])

    def _place(self, sid: str, day: int, shift: ShiftType) -> None:
        person = self.people[sid]
        person.add(day, shift)
        self.chosen.append(Assignment(sid, self.grid.date_of(day), shift.name))
        start, end = self.grid.span(day, shift)
        for h in range(start, min(end, self.grid.hours)):
            self.on[h] += 1
            for k in person.staff.skills & self.skill_on.keys():
                self.skill_on[k][h] += 1
        for counts in self._fair_counts(day, shift):
            counts[sid] += 1

    def _fair_counts(self, day: int, shift: ShiftType) -> list[dict[str, int]]:
        """The fairness tallies (nights, weekend shifts) this shift adds to."""
        out = []
        if self.grid.is_night(shift):
            out.append(self.nights)
        if self.grid.is_weekend(day):
            out.append(self.weekends)
        return out

    def _unfairness(self, person: _Person, day: int, shift: ShiftType) -> int:
        w = self.grid.problem.weights
        cost = 0
        for applies, counts, groups, weight in (
            (self.grid.is_night(shift), self.nights, self.night_group, w.fair_nights),
            (self.grid.is_weekend(day), self.weekends, self.weekend_group, w.fair_weekends),
        ):
            if not applies:
                continue
            members = groups.get(person.staff.id)
            if not members:
                continue
            before = [counts[m] for m in members]
            after = [counts[m] + (m == person.staff.id) for m in members]
            cost += weight * (
                max(0, max(after) - min(after) - 1) - max(0, max(before) - min(before) - 1)
            )
        return cost

    def delta(self, person: _Person, day: int, shift: ShiftType, fill: bool) -> int:
        """Change in objective (lower is better) if ``person`` works ``shift`` on ``day``;
        with ``fill`` false, getting closer to contracted hours earns nothing."""
        grid, w = self.grid, self.grid.problem.weights
        need = grid.problem.demand
        start, end = grid.span(day, shift)
        cost = 0
        skills = person.staff.skills & self.skill_on.keys()
        for h in range(max(start, grid.first_hour), min(end, grid.hours)):
            cost += w.over_cover if self.on[h] >= need.hourly[h] else -w.uncovered
            for k in skills:
                if self.skill_on[k][h] < self.required[k][h]:
                    cost -= BIG
                if k in need.by_skill and self.skill_on[k][h] < need.by_skill[k][h]:
                    cost -= w.uncovered
        before = abs(person.hours - person.target)
        after = abs(person.hours + shift.hours - person.target)
        if fill or after > before:
            cost += w.contract_hours * (after - before)
        cost += self._unfairness(person, day, shift)
        return cost + self.request_cost.get((person.staff.id, day, shift.name), 0)

    def jitter(self, skill_only: bool) -> float:
        """Retries shuffle the skill-cover tie-breaks; the rest stays deterministic."""
        return self.rng.uniform(-12, 12) if self.rng is not None and skill_only else 0.0

    def picks(
        self, days: list[int], fill: bool, skill_only: bool = False
    ) -> list[tuple[str, int, ShiftType]]:
        """Legal additions that lower the objective, best first."""
        scored = []
        for sid, person in self.people.items():
            scarce = len(person.staff.skills & self.required.keys())
            for d in days:
                if d in person.days:
                    continue
                for t in self.grid.problem.shifts:
                    cost = self.delta(person, d, t, fill)
                    if cost < 0 and (not skill_only or cost <= -BIG):
                        slack = person.hours - person.target + self.jitter(skill_only)
                        scored.append((cost, scarce, slack, sid, d, t.name))
        scored.sort()
        return [(sid, d, self.grid.shift_by_name[name]) for _, _, _, sid, d, name in scored]

    def best(self, days: list[int], fill: bool) -> tuple[str, int, ShiftType] | None:
        for sid, d, shift in self.picks(days, fill):
            if self.people[sid].can_add(d, shift):
                return sid, d, shift
        return None

    def best_cover(self, day: int) -> tuple[str, int, ShiftType] | None:
        for sid, d, shift in self.picks([day], fill=False, skill_only=True):
            if self.people[sid].can_add(d, shift):
                return sid, d, shift
        return None

    def skill_holes(self) -> bool:
        return any(
            have < need
            for skill, required in self.required.items()
            for have, need in zip(self.skill_on[skill], required, strict=True)
        )

    def cover(self, free_days: list[int]) -> bool:
        """Skill cover first over the whole period, so that scarce seniors and
        prescribers are not spent on general demand before the hours only they can
        cover. True when every required skill-hour is covered."""
        for d in free_days:
            while (pick := self.best_cover(d)) is not None:
                self._place(*pick)
        return not self.skill_holes()

    def fill(self, free_days: list[int]) -> tuple[Assignment, ...]:
        for d in free_days:
            while (pick := self.best([d], fill=False)) is not None:
                self._place(*pick)
        # Topping up towards contracted hours goes round the days one shift at a time, so
        # the extra shifts spread over the period instead of piling up at its start.
        added = True
        while added:
            added = False
            for d in free_days:
                if (pick := self.best([d], fill=True)) is not None:
                    self._place(*pick)
                    added = True
        return tuple(self.chosen)


def greedy_rota(
    problem: Problem,
    frozen: Collection[Assignment] = (),
    free_days: Collection[int] | None = None,
) -> tuple[Assignment, ...]:
    """Frozen shifts plus a greedy fill of the free days (all days by default).

    Skill cover is placed first, day by day. That can corner itself when a skill is
    scarce (the one prescriber free for tomorrow's early was given a sixth day in a
    row today); a few retries with shuffled tie-breaks usually find a way, and failing
    that a small CP-SAT model over the skilled staff alone lays the skill cover, and
    the greedy fills in the rest around it."""
    days = sorted(range(problem.days) if free_days is None else free_days)
    for attempt in range(ATTEMPTS):
        builder = _Builder(problem, frozen, attempt)
        if builder.cover(days):
            return builder.fill(days)
    skeleton = skill_skeleton(problem, frozen, days, hint=builder.chosen)
    return _Builder(problem, frozen if skeleton is None else skeleton).fill(days)


def skill_skeleton(
    problem: Problem,
    frozen: Collection[Assignment],
    free_days: list[int],
    hint: Collection[Assignment] = (),
) -> tuple[Assignment, ...] | None:
    """A legal placement of the skill-cover shifts (plus the frozen ones), as close to
    ``hint`` as CP-SAT's hint repair makes it, or None."""
    skills = {c.skill for c in problem.rules.skill_cover}
    holders = tuple(s for s in problem.staff if s.skills & skills)
    kept = {s.id for s in holders}
    sub = replace(
        problem,
        staff=holders,
        demand=Demand(tuple(0 for _ in problem.demand.hourly)),
        requests=(),
        leave=tuple(x for x in problem.leave if x.staff in kept),
        weights=Weights(0, 0, 0, 0, 0, 0),
    )
    own = [a for a in frozen if a.staff in kept]
    rm = build_model(sub, frozen=own, free_days=free_days, objective=False)
    rm.hint([x for x in hint if x.staff in kept])
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = SKELETON_LIMIT_S
    solver.parameters.num_workers = 1
    solver.parameters.stop_after_first_solution = True
    # Any legal skeleton will do: skip the presolve effort that only pays for optimising.
    solver.parameters.cp_model_probing_level = 0
    solver.parameters.symmetry_level = 0
    solver.parameters.max_presolve_iterations = 1
    if solver.solve(rm.model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    others = [a for a in frozen if a.staff not in kept]
    return (*rm.assignments(solver.value), *others)
