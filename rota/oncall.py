"""Who is on shift at a given moment: what call routing asks the rota.

Shifts are placed in real time here, not on the model's 24-hour grid: a shift starts at
its wall-clock time in the hub's time zone and lasts its length in elapsed hours, so on
the night the clocks change a night shift ends an hour earlier or later on the clock,
as it does for the clinician working it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rota.model import Assignment, Problem


@dataclass(frozen=True)
class OnShift:
    staff: str
    shift: str
    start: datetime  # aware, in the hub's time zone
    end: datetime
    skills: frozenset[str]


def shift_times(problem: Problem, assignment: Assignment) -> tuple[datetime, datetime]:
    zone = ZoneInfo(problem.timezone)
    shift = next(s for s in problem.shifts if s.name == assignment.shift)
    start = datetime.combine(assignment.day, time(shift.start_hour), tzinfo=zone)
    end = (start.astimezone(UTC) + timedelta(hours=shift.hours)).astimezone(zone)
    return start, end


def on_shift(
    problem: Problem,
    assignments: Iterable[Assignment],
    at: datetime,
    skill: str | None = None,
) -> list[OnShift]:
    """Everyone whose shift covers ``at`` (start inclusive, end exclusive), optionally
    only those with ``skill``, earliest start first. A time without an offset is taken
    as the hub's local time."""
    zone = ZoneInfo(problem.timezone)
    moment = (at if at.tzinfo else at.replace(tzinfo=zone)).astimezone(UTC)
    staff = {s.id: s for s in problem.staff}
    out: list[OnShift] = []
    for a in assignments:
        person = staff.get(a.staff)
        if person is None or (skill is not None and skill not in person.skills):
            continue
        start, end = shift_times(problem, a)
        if start.astimezone(UTC) <= moment < end.astimezone(UTC):
            out.append(OnShift(a.staff, a.shift, start, end, person.skills))
    return sorted(out, key=lambda o: (o.start, o.staff))
