"""Small rota problems built in code, so each test shows the one thing it is about."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from rota.model import (
    PRESCRIBER,
    SENIOR,
    Assignment,
    Demand,
    Leave,
    Problem,
    Request,
    RuleParams,
    ShiftType,
    SkillCover,
    Staff,
)
from rota.patterns import EIGHT_HOUR

START = date(2026, 3, 2)  # a Monday
SENIOR_ONLY = RuleParams(skill_cover=(SkillCover(SENIOR),))


def person(sid: str, *skills: str, hours: float = 37.5, night: bool = True) -> Staff:
    return Staff(sid, hours, frozenset(skills), night)


def team() -> tuple[Staff, ...]:
    """Enough people for senior cover 24/7 and a prescriber 08–22 over a week or two."""
    return (
        *(person(f"sen{i}", SENIOR) for i in range(1, 6)),
        *(person(f"pre{i}", PRESCRIBER, night=i != 3) for i in range(1, 4)),
        person("nur1"),
        person("nur2", hours=22.5, night=False),
    )


def make_problem(
    *,
    days: int = 7,
    staff: Sequence[Staff] | None = None,
    shifts: Sequence[ShiftType] = EIGHT_HOUR,
    demand: int | Sequence[int] = 1,
    leave: Sequence[Leave] = (),
    requests: Sequence[Request] = (),
    rules: RuleParams = SENIOR_ONLY,
) -> Problem:
    hourly = tuple([demand] * 24 * days) if isinstance(demand, int) else tuple(demand)
    return Problem(
        start=START,
        days=days,
        staff=tuple(team() if staff is None else staff),
        shifts=tuple(shifts),
        demand=Demand(hourly),
        leave=tuple(leave),
        requests=tuple(requests),
        rules=rules,
    )


def day(n: int) -> date:
    return START + timedelta(days=n)


def a(staff: str, n: int, shift: str) -> Assignment:
    return Assignment(staff, day(n), shift)


def problem_json(**override: Any) -> dict[str, Any]:
    """A valid problem document; tests break one field at a time."""
    doc: dict[str, Any] = {
        "period": {"start": START.isoformat(), "days": 7},
        "staff": [
            {"id": "ann", "skills": [SENIOR], "fte": 1.0},
            {"id": "bob", "skills": [SENIOR], "contracted_hours": 30},
            {"id": "cat", "skills": [PRESCRIBER], "fte": 0.6, "night_capable": False},
        ],
        "shifts": [
            {"name": "day", "start": "07:00", "hours": 12},
            {"name": "night", "start": "19:00", "hours": 12},
        ],
        "demand": {"hourly": [1] * 24 * 7},
        "leave": [{"staff": "ann", "from": "2026-03-03", "to": "2026-03-04"}],
        "requests": [{"staff": "bob", "kind": "day_off", "date": "2026-03-05", "weight": 2}],
    }
    doc.update(override)
    return doc
