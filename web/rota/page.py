"""What the rota page shows, built from a ``hub.rostering.plans.RotaView``: the grid of
clinicians × days, the broken hard rules, the score by rule and the hours left short.

Also the two downloads (docs/rota.md formats) for ``telehub rota check``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from hub.rostering.plans import RotaView
from rota.grid import Grid
from rota.model import ShiftType, Solution, Status, Violation
from rota.solution_io import dump_solution

SHORT = {
    "early": "E",
    "day": "D",
    "late": "L",
    "night": "N",
    "long_day": "LD",
    "long_late": "LL",
    "twilight": "T",
}
SKILL_SHORT = {"senior_clinician": "senior", "prescriber": "prescriber", "clinician": ""}
RULE_LABELS = {
    "uncovered": "Hours short of demand",
    "over_cover": "Hours above demand",
    "contract_hours": "Hours away from contract",
    "request:day_off": "Day-off requests not met",
    "request:no_nights": "No-nights requests not met",
    "request:shift": "Preferred shifts not met",
    "fair_nights": "Nights shared unevenly",
    "fair_weekends": "Weekends shared unevenly",
}
# Hard rules, as a rota lead would name them (rota/rules.py keeps the codes).
HARD_RULE_LABELS = {
    "unknown": "Unknown clinician or shift",
    "one_shift_per_day": "More than one shift a day",
    "leave": "Works on leave",
    "night_capable": "Night shift for day-only staff",
    "min_rest": "Too little rest between shifts",
    "weekly_rest": "No full day's rest in the week",
    "max_avg_weekly_hours": "Over 48 hours a week on average",
    "max_consecutive_days": "Too many days in a row",
    "max_consecutive_nights": "Too many nights in a row",
    "max_consecutive_long_nights": "Too many long nights in a row",
    "skill_cover:senior_clinician": "No senior clinician on duty",
    "skill_cover:prescriber": "No prescriber on duty",
}


@dataclass(frozen=True)
class ShiftInfo:
    name: str
    short: str
    start: str
    end: str
    hours: int


@dataclass(frozen=True)
class Cell:
    field: str  # form field of the cell's select: "cell:<staff>:<date>"
    day: date
    shift: str | None
    leave: str | None  # leave kind when the day is leave
    weekend: bool


@dataclass(frozen=True)
class Row:
    staff_id: str
    name: str
    skills: str
    night_capable: bool
    cells: list[Cell]
    hours: int
    target: int


@dataclass(frozen=True)
class Broken:
    rule: str
    label: str
    who: str
    when: str
    message: str


@dataclass(frozen=True)
class ScoreRule:
    rule: str
    label: str
    penalty: int
    lines: list[dict[str, Any]]


@dataclass(frozen=True)
class RotaPage:
    days: list[date]
    shifts: list[ShiftInfo]
    rows: list[Row]
    broken: list[Broken]
    score_total: int
    by_rule: list[ScoreRule]
    uncovered: list[dict[str, Any]]


def shift_info(shift: ShiftType, short: str | None = None) -> ShiftInfo:
    end = (shift.start_hour + shift.hours) % 24
    return ShiftInfo(
        shift.name,
        short or SHORT.get(shift.name, shift.name[:1].upper()),
        f"{shift.start_hour:02d}:00",
        f"{end:02d}:00",
        shift.hours,
    )


def shift_infos(shifts: Sequence[ShiftType]) -> list[ShiftInfo]:
    """The shifts of a pattern as the grid shows them. A shift of a hub's own pattern
    (config) is shown by its first letter — or its whole name where two shifts would
    read the same — in a neutral colour (rota.css)."""
    shorts = [shift_info(s).short for s in shifts]
    return [
        shift_info(s, short if shorts.count(short) == 1 else s.name)
        for s, short in zip(shifts, shorts, strict=True)
    ]


def pattern_summary(shifts: Sequence[ShiftType]) -> str:
    """``early 07:00–15:00, day 10:00–18:00, …``: a pattern as the generate form lists it."""
    return ", ".join(f"{i.name} {i.start}–{i.end}" for i in shift_infos(shifts))


def cell_field(staff_id: str, day: date) -> str:
    return f"cell:{staff_id}:{day.isoformat()}"


def parse_cell_field(name: str) -> tuple[int, date] | None:
    parts = name.split(":")
    if len(parts) != 3 or parts[0] != "cell" or not parts[1].isdigit() or len(parts[1]) > 12:
        return None
    try:
        return int(parts[1]), date.fromisoformat(parts[2])
    except ValueError:
        return None


def _who(names: Mapping[str, str], staff: str | None) -> str:
    if staff is None:
        return "—"
    return names.get(staff, f"#{staff}")


def _when(v: Violation) -> str:
    if v.start is not None:
        text = f"{v.start:%a %d %b %H:00}"
        return f"{text}, {v.hours} h" if v.hours > 1 else text
    return f"{v.day:%a %d %b}" if v.day is not None else "—"


def broken_rules(violations: list[Violation], names: Mapping[str, str]) -> list[Broken]:
    return [
        Broken(
            v.rule, HARD_RULE_LABELS.get(v.rule, v.rule), _who(names, v.staff), _when(v), _what(v)
        )
        for v in violations
    ]


def _what(v: Violation) -> str:
    """The checker's message without the staff id it starts with (the page names the
    person in its own column; "7: only 9 hours' rest" reads badly beside "Cleo Jones")."""
    prefix = f"{v.staff}: "
    return v.message[len(prefix) :] if v.staff and v.message.startswith(prefix) else v.message


def build(shown: RotaView) -> RotaPage:
    problem, names = shown.problem, shown.names
    grid = Grid(problem)
    days = [problem.start + timedelta(days=d) for d in range(problem.days)]
    chosen = {(a.staff, a.day): a.shift for a in shown.assignments}
    leave = {
        (x.staff, x.first + timedelta(days=i)): x.kind
        for x in problem.leave
        for i in range((x.last - x.first).days + 1)
    }
    rows = []
    for staff in problem.staff:
        hours = sum(
            grid.shift_by_name[s].hours for (sid, _), s in chosen.items() if sid == staff.id
        )
        skills = ", ".join(label for s in sorted(staff.skills) if (label := SKILL_SHORT.get(s, s)))
        cells = [
            Cell(
                cell_field(staff.id, d),
                d,
                chosen.get((staff.id, d)),
                leave.get((staff.id, d)),
                d.weekday() >= 5,
            )
            for d in days
        ]
        name = names.get(staff.id) or staff.name or f"#{staff.id}"
        rows.append(
            Row(staff.id, name, skills, staff.night_capable, cells, hours, grid.target_hours(staff))
        )
    lines: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in shown.score.lines:
        lines[line.rule].append(
            {
                "who": _who(names, line.staff) if line.staff else "",
                "day": line.day,
                "amount": line.amount,
                "penalty": line.penalty,
                "detail": line.detail,
            }
        )
    by_rule = [
        ScoreRule(rule, RULE_LABELS.get(rule, rule.replace("_", " ")), penalty, lines[rule])
        for rule, penalty in sorted(shown.score.by_rule().items(), key=lambda kv: -kv[1])
    ]
    uncovered = [
        {
            "when": f"{u.start:%a %d %b %H:00}",
            "skill": (u.skill or "").replace("_", " "),
            "needed": u.needed,
            "on_duty": u.on_duty,
        }
        for u in shown.score.uncovered
    ]
    return RotaPage(
        days,
        shift_infos(problem.shifts),
        rows,
        broken_rules(shown.violations, names),
        shown.score.total,
        by_rule,
        uncovered,
    )


def solution_json(shown: RotaView) -> dict[str, Any]:
    """The stored rota as a docs/rota.md solution (``check`` reads only assignments)."""
    summary = shown.record.summary
    raw_status = str(summary.get("status", "heuristic"))
    status = Status(raw_status) if raw_status in set(Status) else Status.HEURISTIC
    bound = summary.get("best_bound")
    out = dump_solution(
        Solution(
            shown.assignments,
            shown.score,
            status,
            shown.score.total,
            float(bound) if isinstance(bound, int | float) else None,
            summary.get("time_to_first_feasible_s"),
            float(summary.get("wall_time_s") or 0.0),
            int(summary.get("solutions_found") or 0),
        )
    )
    out["status"] = raw_status  # "edited" after a hand edit
    return out


def uncovered_count(summary: Mapping[str, Any]) -> int:
    """Clinician-hours short, from a stored summary (a list when solved, a number
    after a hand edit)."""
    value = summary.get("uncovered")
    if isinstance(value, list):
        return sum(int(u.get("needed", 0)) - int(u.get("on_duty", 0)) for u in value)
    return int(value) if isinstance(value, int | float) else 0
