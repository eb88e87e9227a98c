"""The soft rules: what a rota costs, rule by rule and person by person.

Computed from the assignments alone, like ``rules.check``, so the figure shown for a hand
edit and the one for solver output mean the same thing. The CP-SAT objective is built to
equal this score on the solutions it keeps (tests hold the two together).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from rota.grid import Grid
from rota.model import (
    Assignment,
    Problem,
    RequestKind,
    Score,
    ScoreLine,
    UncoveredHour,
)

SOFT_RULES = (
    "uncovered",
    "uncovered:<skill>",
    "over_cover",
    "contract_hours",
    "request:day_off",
    "request:no_nights",
    "request:shift",
    "fair_nights",
    "fair_weekends",
)


def on_duty(
    grid: Grid, assignments: Iterable[Assignment], skill: str | None = None, *, tail: bool = False
) -> list[int]:
    """Clinicians on duty in each hour of the period (with ``skill``, if given); with
    ``tail``, also in the hours past the end that the last day's shifts cover."""
    stop = grid.tail().stop if tail else grid.hours
    counts = [0] * stop
    for a in assignments:
        staff = grid.staff_by_id[a.staff]
        if skill is not None and skill not in staff.skills:
            continue
        start, end = grid.span(grid.day_index(a.day), grid.shift_by_name[a.shift])
        for h in range(start, min(end, stop)):
            counts[h] += 1
    return counts


def score(problem: Problem, assignments: Iterable[Assignment]) -> Score:
    grid = Grid(problem)
    chosen = list(assignments)
    w = problem.weights
    lines: list[ScoreLine] = []
    uncovered: list[UncoveredHour] = []

    demands: list[tuple[str | None, tuple[int, ...]]] = [(None, problem.demand.hourly)]
    demands += sorted(problem.demand.by_skill.items())
    for skill, need in demands:
        have = on_duty(grid, chosen, skill, tail=True)
        rule = "uncovered" if skill is None else f"uncovered:{skill}"
        short_by_day: dict[int, int] = defaultdict(int)
        over_by_day: dict[int, int] = defaultdict(int)
        for h in range(grid.first_hour, grid.hours):
            if have[h] < need[h]:
                short_by_day[h // 24] += need[h] - have[h]
                uncovered.append(UncoveredHour(grid.hour_start(h), need[h], have[h], skill))
            elif skill is None:
                over_by_day[h // 24] += have[h] - need[h]
        if skill is None:  # past the end, over-cover counts against the last day
            for h in grid.tail():
                over_by_day[grid.days - 1] += max(0, have[h] - grid.tail_demand(h))
        for day, amount in sorted(short_by_day.items()):
            lines.append(
                ScoreLine(
                    rule,
                    amount,
                    amount * w.uncovered,
                    None,
                    grid.date_of(day),
                    f"{amount} {skill or 'clinician'}-hours short",
                )
            )
        for day, amount in sorted(over_by_day.items()):
            if amount:
                lines.append(
                    ScoreLine(
                        "over_cover",
                        amount,
                        amount * w.over_cover,
                        None,
                        grid.date_of(day),
                        f"{amount} clinician-hours above demand",
                    )
                )

    worked: dict[str, list[Assignment]] = defaultdict(list)
    for a in chosen:
        worked[a.staff].append(a)
    for staff in problem.staff:
        hours = sum(grid.shift_by_name[a.shift].hours for a in worked[staff.id])
        target = grid.target_hours(staff)
        if hours != target:
            gap = abs(hours - target)
            lines.append(
                ScoreLine(
                    "contract_hours",
                    gap,
                    gap * w.contract_hours,
                    staff.id,
                    None,
                    f"{hours} h rostered, {target} h contracted for the period",
                )
            )

    lines.extend(_requests(grid, worked))
    lines.extend(_fairness(grid, worked))
    return Score(sum(line.penalty for line in lines), tuple(lines), tuple(uncovered))


def _requests(grid: Grid, worked: dict[str, list[Assignment]]) -> list[ScoreLine]:
    out: list[ScoreLine] = []
    weight = grid.problem.weights.request
    for req in grid.problem.requests:
        on_day = {grid.day_index(a.day): a.shift for a in worked[req.staff]}
        broken: list[int] = []
        for d in grid.day_range(req.first, req.last):
            shift = on_day.get(d)
            if req.kind is RequestKind.DAY_OFF:
                bad = shift is not None
            elif req.kind is RequestKind.NO_NIGHTS:
                bad = shift is not None and grid.is_night(grid.shift_by_name[shift])
            else:
                bad = shift != req.shift
            if bad:
                broken.append(d)
        if broken:
            days = ", ".join(str(grid.date_of(d)) for d in broken)
            wanted = f" {req.shift}" if req.shift else ""
            out.append(
                ScoreLine(
                    f"request:{req.kind.value}",
                    len(broken),
                    len(broken) * req.weight * weight,
                    req.staff,
                    grid.date_of(broken[0]),
                    f"{req.kind.value}{wanted} (weight {req.weight}) not met on {days}",
                )
            )
    return out


def _fairness(grid: Grid, worked: dict[str, list[Assignment]]) -> list[ScoreLine]:
    out: list[ScoreLine] = []
    w = grid.problem.weights
    for rule, nights, weight in (
        ("fair_nights", True, w.fair_nights),
        ("fair_weekends", False, w.fair_weekends),
    ):
        for key, members in sorted(grid.fairness_groups(nights).items()):
            counts = {
                s.id: sum(
                    1
                    for a in worked[s.id]
                    if (
                        grid.is_night(grid.shift_by_name[a.shift])
                        if nights
                        else grid.is_weekend(grid.day_index(a.day))
                    )
                )
                for s in members
            }
            most = max(counts, key=lambda k: counts[k])
            fewest = min(counts, key=lambda k: counts[k])
            # A spread of one is as even as whole shifts allow; only more than that costs.
            spread = counts[most] - counts[fewest] - 1
            if spread > 0:
                what = "nights" if nights else "weekend shifts"
                out.append(
                    ScoreLine(
                        rule,
                        spread,
                        spread * weight,
                        None,
                        None,
                        f"{key}: {most} has {counts[most]} {what}, {fewest} has {counts[fewest]}",
                    )
                )
    return out
