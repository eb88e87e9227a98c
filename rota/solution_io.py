"""The solution side of docs/rota.md: assignments in (for ``check`` and hand edits),
the full solution and violation lists out."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from rota.errors import RotaInputError
from rota.jsonfields import Obj, read_json
from rota.model import Assignment, Problem, Solution, Violation


def load_assignments(problem: Problem, path: Path) -> tuple[Assignment, ...]:
    """Reads the ``assignments`` of a solution file (the rest is derived, never trusted)."""
    return parse_assignments(problem, read_json(path))


def parse_assignments(problem: Problem, data: Any) -> tuple[Assignment, ...]:
    """Assignments of a solution or hand edit; duplicates are kept so the checker can
    report them rather than have them silently merged."""
    if isinstance(data, dict):
        data = data.get("assignments")
    if not isinstance(data, list):
        raise RotaInputError("assignments: expected a list of {staff, date, shift}")
    staff_ids = {s.id for s in problem.staff}
    shifts = {s.name for s in problem.shifts}
    last = problem.start + timedelta(days=problem.days - 1)
    out: list[Assignment] = []
    for i, item in enumerate(data):
        o = Obj(item, f"assignments[{i}]", {"staff", "date", "shift"})
        sid = o.string("staff")
        if sid not in staff_ids:
            raise RotaInputError(f"{o.at('staff')}: unknown staff id {sid!r}")
        day = o.day("date")
        if not problem.start <= day <= last:
            raise RotaInputError(
                f"{o.at('date')}: {day} is outside the period {problem.start}..{last}"
            )
        shift = o.string("shift")
        if shift not in shifts:
            raise RotaInputError(f"{o.at('shift')}: unknown shift {shift!r}")
        out.append(Assignment(sid, day, shift))
    return tuple(out)


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def dump_assignments(assignments: tuple[Assignment, ...]) -> list[dict[str, str]]:
    return [
        {"staff": a.staff, "date": a.day.isoformat(), "shift": a.shift} for a in sorted(assignments)
    ]


def dump_violations(violations: list[Violation] | tuple[Violation, ...]) -> list[dict[str, Any]]:
    return [
        {
            "rule": v.rule,
            "staff": v.staff,
            "date": _iso(v.day),
            "start": _iso(v.start),
            "hours": v.hours,
            "message": v.message,
        }
        for v in violations
    ]


def dump_solution(solution: Solution) -> dict[str, Any]:
    score = solution.score
    return {
        "status": solution.status.value,
        "objective": solution.objective,
        "best_bound": solution.best_bound,
        "gap": solution.gap,
        "time_to_first_feasible_s": solution.time_to_first_s,
        "wall_time_s": round(solution.wall_time_s, 3),
        "solutions_found": solution.solutions_found,
        "assignments": dump_assignments(solution.assignments),
        "score": {
            "total": score.total,
            "by_rule": score.by_rule(),
            "lines": [
                {
                    "rule": line.rule,
                    "staff": line.staff,
                    "date": _iso(line.day),
                    "amount": line.amount,
                    "penalty": line.penalty,
                    "detail": line.detail,
                }
                for line in score.lines
            ],
        },
        "uncovered": [
            {
                "start": u.start.isoformat(),
                "skill": u.skill,
                "needed": u.needed,
                "on_duty": u.on_duty,
            }
            for u in score.uncovered
        ],
    }
