"""The CP-SAT model of a rota.

One boolean per (person, day, shift type) that the person may work at all; leave and
night gating are applied by not creating the variable. Hourly cover is a sum of those
booleans, with an integer shortfall per hour weighted far above everything else, so a
model is always feasible on demand and only the hard rules can make it infeasible.

Choices made for speed (they keep the LP relaxation tight, which is what proves bounds):
- min rest is a set of cliques (all shifts of day d ending late + all of day d+1
  starting early: at most one), not pairwise exclusions;
- over-cover needs no variable: with ``u`` the shortfall, ``over = on − need + u``, so
  its cost goes straight onto the shift booleans;
- weekly rest uses one "24 h free from hour h" boolean per candidate start (midnight or
  a shift end, which is where a longest rest can always be made to start).

Each hard-rule family can be switched off (``relax``) so the solver can tell which ones
make a problem impossible.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from rota.grid import Grid
from rota.model import Assignment, Problem, RequestKind, ShiftType

FAMILIES = (
    "skill_cover",
    "min_rest",
    "weekly_rest",
    "max_avg_weekly_hours",
    "max_consecutive_days",
    "max_consecutive_nights",
    "max_consecutive_long_nights",
    "frozen",
)

Key = tuple[str, int, str]  # (staff id, day index, shift name)
Values = Mapping[Key, int]


@dataclass
class RotaModel:
    grid: Grid
    model: cp_model.CpModel
    x: dict[Key, cp_model.IntVar]
    # auxiliary variables and how to compute each from the shift booleans (for hints)
    aux: list[tuple[cp_model.IntVar, Callable[[Values], int]]] = field(default_factory=list)

    def assignments(self, value: Callable[[cp_model.IntVar], int]) -> tuple[Assignment, ...]:
        return tuple(
            sorted(
                Assignment(sid, self.grid.date_of(d), name)
                for (sid, d, name), var in self.x.items()
                if value(var)
            )
        )

    def hint(self, assignments: Collection[Assignment]) -> None:
        """A complete hint (every variable), so CP-SAT can take it as a first rota."""
        chosen = {(a.staff, self.grid.day_index(a.day), a.shift) for a in assignments}
        values = {key: int(key in chosen) for key in self.x}
        for key, var in self.x.items():
            self.model.add_hint(var, values[key])
        for var, compute in self.aux:
            self.model.add_hint(var, compute(values))


def _total(vals: Values, keys: list[Key], coef: list[int] | None = None) -> int:
    if coef is None:
        return sum(vals.get(k, 0) for k in keys)
    return sum(c * vals.get(k, 0) for k, c in zip(keys, coef, strict=True))


def build_model(
    problem: Problem,
    *,
    frozen: Collection[Assignment] = (),
    free_days: Collection[int] | None = None,
    relax: Collection[str] = (),
    objective: bool = True,
) -> RotaModel:
    grid = Grid(problem)
    m = cp_model.CpModel()
    rm = RotaModel(grid, m, {})
    frozen_keys = {(a.staff, grid.day_index(a.day), a.shift) for a in frozen}
    relaxed = set(relax)
    free = set(range(grid.days)) if free_days is None or "frozen" in relaxed else set(free_days)
    for s in problem.staff:
        for d in range(grid.days):
            for t in problem.shifts:
                key = (s.id, d, t.name)
                if key in frozen_keys or (d in free and grid.can_work(s, d, t)):
                    rm.x[key] = m.new_bool_var(f"x[{s.id},{d},{t.name}]")
                    if key in frozen_keys and "frozen" not in relaxed:
                        m.add(rm.x[key] == 1)
    terms: list[tuple[cp_model.IntVar, int]] = []
    constant = 0
    for s in problem.staff:
        terms += _person(rm, s.id, relaxed)
    cover_terms, cover_constant = _cover(rm, relaxed)
    request_terms, request_constant = _requests(rm)
    terms += cover_terms + request_terms + _fairness(rm)
    constant += cover_constant + request_constant
    if objective:
        variables = [v for v, _ in terms]
        coefs = [c for _, c in terms]
        m.minimize(cp_model.LinearExpr.weighted_sum(variables, coefs) + constant)
    return rm


def _day_vars(rm: RotaModel, sid: str, day: int, which: Callable[[ShiftType], bool]) -> list[Key]:
    return [
        (sid, day, t.name)
        for t in rm.grid.problem.shifts
        if which(t) and (sid, day, t.name) in rm.x
    ]


def _windows(rm: RotaModel, days: list[list[Key]], limit: int) -> None:
    """At most ``limit`` of any ``limit + 1`` consecutive days (runs of at most limit)."""
    for d in range(len(days) - limit):
        keys = [k for day in days[d : d + limit + 1] for k in day]
        if len(keys) > limit:
            rm.model.add(sum(rm.x[k] for k in keys) <= limit)


def _person(rm: RotaModel, sid: str, relaxed: set[str]) -> list[tuple[cp_model.IntVar, int]]:
    grid, m, x = rm.grid, rm.model, rm.x
    rules = grid.problem.rules
    shifts = grid.problem.shifts
    staff = grid.staff_by_id[sid]
    every = [_day_vars(rm, sid, d, _anything) for d in range(grid.days)]
    for keys in every:
        if len(keys) > 1:
            m.add_at_most_one(x[k] for k in keys)
    if "min_rest" not in relaxed:
        _min_rest(rm, sid)
    if "weekly_rest" not in relaxed:
        _weekly_rest(rm, sid)
    if "max_consecutive_days" not in relaxed:
        _windows(rm, every, rules.max_consecutive_days)
    if "max_consecutive_nights" not in relaxed:
        nights = [_day_vars(rm, sid, d, grid.is_night) for d in range(grid.days)]
        _windows(rm, nights, rules.max_consecutive_nights)
    if "max_consecutive_long_nights" not in relaxed:
        longs = [_day_vars(rm, sid, d, grid.is_long_night) for d in range(grid.days)]
        _windows(rm, longs, rules.max_consecutive_long_nights)
    keys = [k for day in every for k in day]
    length = {t.name: t.hours for t in shifts}
    coef = [length[k[2]] for k in keys]
    hours = cp_model.LinearExpr.weighted_sum([x[k] for k in keys], coef)
    if "max_avg_weekly_hours" not in relaxed:
        m.add(hours <= grid.hours_cap())
    target = grid.target_hours(staff)
    dev = m.new_int_var(0, max(target, sum(coef)), f"dev[{sid}]")
    m.add(dev >= hours - target)
    m.add(dev >= target - hours)
    # Hours only come in multiples of g; without this cut the LP relaxation rosters
    # fractional shifts to hit the target exactly and the bound stays loose.
    g = math.gcd(*(t.hours for t in shifts))
    low, r = divmod(target, g)
    if r:
        m.add(g * dev >= g * r + (g - 2 * r) * (hours - g * low))
    rm.aux.append((dev, _gap(keys, coef, target)))
    return [(dev, grid.problem.weights.contract_hours)]


def _min_rest(rm: RotaModel, sid: str) -> None:
    grid = rm.grid
    rest = grid.problem.rules.min_rest_hours
    shifts = grid.problem.shifts
    longest = max(t.end_hour for t in shifts)
    earliest = min(t.start_hour for t in shifts)
    delta = 1
    while 24 * delta + earliest - longest < rest:
        clashes = {
            a.name: frozenset(
                b.name for b in shifts if 24 * delta + b.start_hour - a.end_hour < rest
            )
            for a in shifts
        }
        cliques = set()
        for hits in clashes.values():
            if hits:
                firsts = frozenset(o for o, other in clashes.items() if other >= hits)
                cliques.add((firsts, hits))
        for d in range(grid.days - delta):
            for firsts, hits in cliques:
                keys = [(sid, d, n) for n in firsts] + [(sid, d + delta, n) for n in hits]
                present = [rm.x[k] for k in keys if k in rm.x]
                if len(present) > 1:
                    rm.model.add_at_most_one(present)
        delta += 1


def _weekly_rest(rm: RotaModel, sid: str) -> None:
    grid, m = rm.grid, rm.model
    rules = grid.problem.rules
    need, span = rules.weekly_rest_hours, rules.weekly_rest_window_days
    if grid.days < span or need <= 0:
        return
    starts = {24 * d for d in range(grid.days)}
    starts |= {24 * d + t.end_hour for d in range(grid.days) for t in grid.problem.shifts}
    free: dict[int, cp_model.IntVar] = {}

    def free_from(h: int) -> cp_model.IntVar:
        if h not in free:
            var = m.new_bool_var(f"rest[{sid},{h}]")
            clash: list[Key] = []
            for d in range(max(0, (h - 48) // 24), min(grid.days, (h + need) // 24 + 1)):
                keys = [
                    k
                    for k in _day_vars(rm, sid, d, _anything)
                    if grid.span(d, grid.shift_by_name[k[2]])[0] < h + need
                    and grid.span(d, grid.shift_by_name[k[2]])[1] > h
                ]
                if keys:
                    m.add_at_most_one([var, *(rm.x[k] for k in keys)])
                    clash += keys
            rm.aux.append((var, _none_of(clash)))
            free[h] = var
        return free[h]

    for w in range(grid.days - span + 1):
        lo, hi = 24 * w, 24 * (w + span) - need
        m.add_bool_or([free_from(h) for h in sorted(starts) if lo <= h <= hi])


def _cover(rm: RotaModel, relaxed: set[str]) -> tuple[list[tuple[cp_model.IntVar, int]], int]:
    grid, m = rm.grid, rm.model
    problem, w = grid.problem, grid.problem.weights
    tail = grid.tail()
    on: list[list[Key]] = [[] for _ in range(tail.stop)]
    terms: list[tuple[cp_model.IntVar, int]] = []
    for key, var in rm.x.items():
        start, end = grid.span(key[1], grid.shift_by_name[key[2]])
        scoped = [h for h in range(start, min(end, tail.stop)) if h >= grid.first_hour]
        for h in scoped:
            on[h].append(key)
        if scoped and w.over_cover:
            terms.append((var, w.over_cover * len(scoped)))
    constant = 0
    # Past the end only over-cover counts (see rota.grid): the shortfall variable there
    # costs nothing but over-cover's own correction.
    for h in tail:
        need = grid.tail_demand(h)
        constant -= w.over_cover * need
        if need > 0 and w.over_cover:
            u = m.new_int_var(0, need, f"tail_short[{h}]")
            m.add(sum(rm.x[k] for k in on[h]) + u >= need)
            rm.aux.append((u, _shortfall(on[h], need)))
            terms.append((u, w.over_cover))
    scope = range(grid.first_hour, grid.hours)
    for h in scope:
        need = problem.demand.hourly[h]
        constant -= w.over_cover * need
        if need > 0:
            keys = on[h]
            u = m.new_int_var(0, need, f"short[{h}]")
            m.add(sum(rm.x[k] for k in keys) + u >= need)
            rm.aux.append((u, _shortfall(keys, need)))
            terms.append((u, w.uncovered + w.over_cover))
    skilled = {sk: {s.id for s in problem.staff if sk in s.skills} for sk in _skills(problem)}
    for skill, need_by_hour in problem.demand.by_skill.items():
        for h in scope:
            if need_by_hour[h] > 0:
                keys = [k for k in on[h] if k[0] in skilled[skill]]
                need = need_by_hour[h]
                u = m.new_int_var(0, need, f"short[{skill},{h}]")
                m.add(sum(rm.x[k] for k in keys) + u >= need)
                rm.aux.append((u, _shortfall(keys, need)))
                terms.append((u, w.uncovered))
    for cover in problem.rules.skill_cover:
        if "skill_cover" in relaxed or cover.rule in relaxed:
            continue
        for h in scope:
            if cover.from_hour <= h % 24 < cover.to_hour:
                keys = [k for k in on[h] if k[0] in skilled[cover.skill]]
                m.add(sum(rm.x[k] for k in keys) >= cover.minimum)
    return terms, constant


def _skills(problem: Problem) -> set[str]:
    return {c.skill for c in problem.rules.skill_cover} | set(problem.demand.by_skill)


def _requests(rm: RotaModel) -> tuple[list[tuple[cp_model.IntVar, int]], int]:
    grid = rm.grid
    weight = grid.problem.weights.request
    terms: list[tuple[cp_model.IntVar, int]] = []
    constant = 0
    for kind in RequestKind:
        for i, d, sid, wt in grid.request_days(kind):
            cost = weight * wt
            if kind is RequestKind.DAY_OFF:
                terms += [(rm.x[k], cost) for k in _day_vars(rm, sid, d, _anything)]
            elif kind is RequestKind.NO_NIGHTS:
                terms += [(rm.x[k], cost) for k in _day_vars(rm, sid, d, grid.is_night)]
            else:
                constant += cost
                key = (sid, d, grid.problem.requests[i].shift or "")
                if key in rm.x:
                    terms.append((rm.x[key], -cost))
    return terms, constant


def _fairness(rm: RotaModel) -> list[tuple[cp_model.IntVar, int]]:
    grid, m = rm.grid, rm.model
    w = grid.problem.weights
    terms: list[tuple[cp_model.IntVar, int]] = []
    for nights, weight in ((True, w.fair_nights), (False, w.fair_weekends)):
        if not weight:
            continue
        for name, members in grid.fairness_groups(nights).items():
            counts: list[list[Key]] = []
            for s in members:
                counts.append(
                    [
                        k
                        for d in range(grid.days)
                        for k in _day_vars(rm, s.id, d, grid.is_night if nights else _anything)
                        if nights or grid.is_weekend(d)
                    ]
                )
            hi = m.new_int_var(0, grid.days, f"most[{name},{nights}]")
            lo = m.new_int_var(0, grid.days, f"fewest[{name},{nights}]")
            for keys in counts:
                total = sum(rm.x[k] for k in keys)
                m.add(hi >= total)
                m.add(lo <= total)
            over = m.new_int_var(0, grid.days, f"unfair[{name},{nights}]")
            m.add(over >= hi - lo - 1)
            rm.aux.append((hi, _extreme(counts, max)))
            rm.aux.append((lo, _extreme(counts, min)))
            rm.aux.append((over, _spread(counts)))
            terms.append((over, weight))
    return terms


def _anything(_: ShiftType) -> bool:
    return True


# Hint values of auxiliary variables, computed from the shift booleans' values.


def _none_of(keys: list[Key]) -> Callable[[Values], int]:
    return lambda v: int(_total(v, keys) == 0)


def _gap(keys: list[Key], coef: list[int], target: int) -> Callable[[Values], int]:
    return lambda v: abs(_total(v, keys, coef) - target)


def _shortfall(keys: list[Key], need: int) -> Callable[[Values], int]:
    return lambda v: max(0, need - _total(v, keys))


def _extreme(counts: list[list[Key]], pick: Callable[[list[int]], int]) -> Callable[[Values], int]:
    return lambda v: pick([_total(v, keys) for keys in counts])


def _spread(counts: list[list[Key]]) -> Callable[[Values], int]:
    def spread(v: Values) -> int:
        totals = [_total(v, keys) for keys in counts]
        return max(0, max(totals) - min(totals) - 1)

    return spread
