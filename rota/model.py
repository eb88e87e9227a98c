"""The rota problem and its solution as plain frozen values.

Nothing here knows about JSON, CP-SAT or the web: the parser (``problem_io``), the
checker (``rules``), the scorer (``score``) and the solver all meet on these types, so a
rota produced by any of them can be checked by any other.

Time is a grid of whole hours counted from 00:00 on the first day of the period, in the
hub's local wall-clock time (``Problem.timezone``); every day has 24 hours in the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

SENIOR = "senior_clinician"
PRESCRIBER = "prescriber"


@dataclass(frozen=True)
class Staff:
    """A clinician as the rota sees them; ``contracted_hours`` is per week."""

    id: str
    contracted_hours: float
    skills: frozenset[str] = frozenset()
    night_capable: bool = True
    name: str = ""


@dataclass(frozen=True)
class Leave:
    """Days (inclusive) on which no shift of ``staff`` may start."""

    staff: str
    first: date
    last: date
    kind: str = "annual"


class RequestKind(StrEnum):
    DAY_OFF = "day_off"
    NO_NIGHTS = "no_nights"
    SHIFT = "shift"


@dataclass(frozen=True)
class Request:
    """A wish that costs ``weight`` × the request weight for each day it is not met."""

    staff: str
    kind: RequestKind
    first: date
    last: date
    weight: int = 1
    shift: str | None = None


@dataclass(frozen=True)
class ShiftType:
    """A shift of a pattern: starts on the hour, lasts ``hours`` (may cross midnight)."""

    name: str
    start_hour: int
    hours: int

    @property
    def end_hour(self) -> int:
        """Hour the shift ends, counted from 00:00 of its start day (may exceed 24)."""
        return self.start_hour + self.hours


@dataclass(frozen=True)
class SkillCover:
    """Hard rule: at least ``minimum`` staff with ``skill`` on duty each hour of
    [``from_hour``, ``to_hour``) every day."""

    skill: str
    from_hour: int = 0
    to_hour: int = 24
    minimum: int = 1

    @property
    def rule(self) -> str:
        return f"skill_cover:{self.skill}"


def _default_skill_cover() -> tuple[SkillCover, ...]:
    return (SkillCover(SENIOR, 0, 24, 1), SkillCover(PRESCRIBER, 8, 22, 1))


@dataclass(frozen=True)
class RuleParams:
    """Parameters of the hard rules (UK Working Time Regulations and hub policy)."""

    min_rest_hours: int = 11
    weekly_rest_hours: int = 24
    weekly_rest_window_days: int = 7
    max_avg_weekly_hours: float = 48.0
    max_consecutive_days: int = 6
    max_consecutive_nights: int = 4
    max_consecutive_long_nights: int = 3
    long_night_min_hours: int = 12
    night_window_start: int = 23
    night_window_end: int = 6
    night_min_hours: int = 3
    full_time_hours: float = 37.5
    skill_cover: tuple[SkillCover, ...] = field(default_factory=_default_skill_cover)


@dataclass(frozen=True)
class Weights:
    """Objective weights of the soft rules; uncovered hours dwarf everything else."""

    uncovered: int = 1000
    over_cover: int = 1
    contract_hours: int = 2
    request: int = 20
    fair_nights: int = 10
    fair_weekends: int = 10


@dataclass(frozen=True)
class Demand:
    """Clinicians needed per hour of the period (index 0 = 00:00 on day one), and
    optionally per skill."""

    hourly: tuple[int, ...]
    by_skill: Mapping[str, tuple[int, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    start: date
    days: int
    staff: tuple[Staff, ...]
    shifts: tuple[ShiftType, ...]
    demand: Demand
    leave: tuple[Leave, ...] = ()
    requests: tuple[Request, ...] = ()
    rules: RuleParams = field(default_factory=RuleParams)
    weights: Weights = field(default_factory=Weights)
    timezone: str = "Europe/London"


@dataclass(frozen=True, order=True)
class Assignment:
    staff: str
    day: date
    shift: str


@dataclass(frozen=True)
class Violation:
    """One broken hard rule; ``start``/``hours`` locate it when it is about hours."""

    rule: str
    message: str
    staff: str | None = None
    day: date | None = None
    start: datetime | None = None
    hours: int = 0


@dataclass(frozen=True)
class ScoreLine:
    """What one soft rule costs, for whom and when: ``amount`` in the rule's unit
    (hours, days, shifts), ``penalty`` = amount × weight."""

    rule: str
    amount: int
    penalty: int
    staff: str | None = None
    day: date | None = None
    detail: str = ""


@dataclass(frozen=True)
class UncoveredHour:
    start: datetime
    needed: int
    on_duty: int
    skill: str | None = None

    @property
    def short(self) -> int:
        return self.needed - self.on_duty


@dataclass(frozen=True)
class Score:
    total: int
    lines: tuple[ScoreLine, ...]
    uncovered: tuple[UncoveredHour, ...]

    def by_rule(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for line in self.lines:
            totals[line.rule] = totals.get(line.rule, 0) + line.penalty
        return totals


class Status(StrEnum):
    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    HEURISTIC = "heuristic"  # the greedy rota, when CP-SAT found nothing better in time


@dataclass(frozen=True)
class Solution:
    assignments: tuple[Assignment, ...]
    score: Score
    status: Status
    objective: int
    best_bound: float | None = None
    time_to_first_s: float | None = None
    wall_time_s: float = 0.0
    solutions_found: int = 0

    @property
    def gap(self) -> float | None:
        """Relative distance to the proven bound (0.0 = proven optimal)."""
        if self.best_bound is None:
            return None
        if self.objective == 0:
            return 0.0
        return max(0.0, (self.objective - self.best_bound) / abs(self.objective))
