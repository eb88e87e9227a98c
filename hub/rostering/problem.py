"""The hub's rota records and how they become a ``rota.Problem`` and back.

``rota/`` solves and checks rotas over plain values; this module is where the hub's
staff, contracts, leave, requests and weekly demand profile meet it. Staff ids in a
problem are the staff users' ids as strings. Shifts are stored with their real start
and end instants (``rota.oncall.shift_times``) so routing asks the database one
question — "whose published shift covers now?" — whatever the clocks did overnight.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from hub.errors import ValidationError
from hub.people.access import Role
from hub.people.staff import StaffUser
from hub.settings import RotaSettings
from rota.model import (
    PRESCRIBER,
    SENIOR,
    Assignment,
    Demand,
    Leave,
    Problem,
    Request,
    RequestKind,
    RuleParams,
    ShiftType,
    SkillCover,
    Staff,
)
from rota.oncall import shift_times

HOURS_PER_WEEK = 168
MAX_DEMAND = 50
MAX_PERIOD_DAYS = 84
TIMEZONE = "Europe/London"


class LeaveKind(StrEnum):
    ANNUAL = "annual"
    SICK = "sick"
    TRAINING = "training"
    OTHER = "other"

    @property
    def label(self) -> str:
        names = {"annual": "Annual leave", "sick": "Sickness"}
        return names.get(self.value, self.value.capitalize())


class RotaStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Contract:
    staff_id: int
    contracted_hours: float
    night_capable: bool


@dataclass(frozen=True)
class LeaveEntry:
    id: int
    staff_id: int
    first: date
    last: date
    kind: LeaveKind


@dataclass(frozen=True)
class RequestEntry:
    id: int
    staff_id: int
    kind: RequestKind
    first: date
    last: date
    weight: int
    shift: str | None


@dataclass(frozen=True)
class RotaRecord:
    id: int
    start: date
    days: int
    pattern: str
    status: RotaStatus
    problem: Mapping[str, Any]  # docs/rota.md problem format, exactly as solved
    summary: Mapping[str, Any]  # solver status, objective, bound, score by rule
    created_by: int
    created_at: datetime
    published_by: int | None = None
    published_at: datetime | None = None

    @property
    def last(self) -> date:
        return self.start + timedelta(days=self.days - 1)

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.last


@dataclass(frozen=True)
class ShiftRecord:
    """One shift of a stored rota, with the real instants it starts and ends."""

    staff_id: int
    day: date
    shift: str
    starts_at: datetime
    ends_at: datetime

    @property
    def assignment(self) -> Assignment:
        return Assignment(str(self.staff_id), self.day, self.shift)


# -- validation of what a rota lead types ------------------------------------------


def validate_contract(hours: float, night_capable: bool) -> None:
    del night_capable
    if not 0 < hours <= 60:
        raise ValidationError(
            "contracted hours must be more than 0 and at most 60 a week",
            field="contracted_hours",
        )


def validate_period(first: date, last: date, what: str) -> None:
    if last < first:
        raise ValidationError(f"{what}: the last day ({last}) is before the first ({first})")
    if (last - first).days > 366:
        raise ValidationError(f"{what}: a period of more than a year is not plausible")


def overlapping_leave(existing: Iterable[LeaveEntry], first: date, last: date) -> LeaveEntry | None:
    return next((e for e in existing if e.first <= last and first <= e.last), None)


def validate_request(
    kind: RequestKind, weight: int, shift: str | None, pattern_shifts: Iterable[str]
) -> None:
    if not 1 <= weight <= 100:
        raise ValidationError("request weight must be between 1 and 100", field="weight")
    if kind is RequestKind.SHIFT:
        names = sorted(set(pattern_shifts))
        if shift not in names:
            raise ValidationError(
                f"a preferred-shift request needs one of {', '.join(names)}", field="shift"
            )
    elif shift:
        raise ValidationError("only a preferred-shift request names a shift", field="shift")


def validate_demand(values: Sequence[int]) -> tuple[int, ...]:
    if len(values) != HOURS_PER_WEEK:
        raise ValidationError(f"demand needs {HOURS_PER_WEEK} hourly values, got {len(values)}")
    for i, v in enumerate(values):
        if not 0 <= v <= MAX_DEMAND:
            day, hour = divmod(i, 24)
            raise ValidationError(
                f"demand for {_DAYS[day]} {hour:02d}:00 must be 0–{MAX_DEMAND}, got {v}"
            )
    return tuple(values)


def validate_plan(
    start: date, days: int, pattern: str, patterns: Mapping[str, tuple[ShiftType, ...]]
) -> tuple[ShiftType, ...]:
    """The shifts of ``pattern`` (one of ``RotaSettings.patterns``), if the plan is sound."""
    if not 1 <= days <= MAX_PERIOD_DAYS:
        raise ValidationError(f"a rota covers 1–{MAX_PERIOD_DAYS} days, not {days}", field="days")
    if pattern not in patterns:
        raise ValidationError(
            f"unknown shift pattern {pattern!r} (known: {', '.join(patterns)})", field="pattern"
        )
    del start
    return tuple(patterns[pattern])


_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


# -- building a problem --------------------------------------------------------------


def rule_params(settings: RotaSettings) -> RuleParams:
    """The hard rules' parameters from ``[rota]`` in the config."""
    return RuleParams(
        min_rest_hours=settings.min_rest_hours,
        weekly_rest_hours=settings.weekly_rest_hours,
        max_avg_weekly_hours=settings.max_avg_weekly_hours,
        max_consecutive_days=settings.max_consecutive_days,
        max_consecutive_nights=settings.max_consecutive_nights,
        max_consecutive_long_nights=settings.max_consecutive_long_nights,
        full_time_hours=settings.full_time_hours,
        skill_cover=(
            SkillCover(SENIOR, settings.senior_cover_from_hour, settings.senior_cover_to_hour, 1),
            SkillCover(
                PRESCRIBER,
                settings.prescriber_cover_from_hour,
                settings.prescriber_cover_to_hour,
                1,
            ),
        ),
    )


def rostered_staff(
    users: Iterable[StaffUser], contracts: Mapping[int, Contract]
) -> list[StaffUser]:
    """Active clinicians with a contract: the people a rota is made of."""
    return [u for u in users if u.active and u.role is Role.CLINICIAN and u.id in contracts]


def period_demand(week: Sequence[int], start: date, days: int) -> tuple[int, ...]:
    """The weekly profile laid over the period's local days."""
    out: list[int] = []
    for d in range(days):
        weekday = (start + timedelta(days=d)).weekday()
        out.extend(week[weekday * 24 : weekday * 24 + 24])
    return tuple(out)


def build_problem(
    settings: RotaSettings,
    start: date,
    days: int,
    pattern: str,
    users: Iterable[StaffUser],
    contracts: Mapping[int, Contract],
    leave: Iterable[LeaveEntry],
    requests: Iterable[RequestEntry],
    week_demand: Sequence[int],
) -> Problem:
    shifts = validate_plan(start, days, pattern, settings.patterns)
    people = rostered_staff(users, contracts)
    if not people:
        raise ValidationError("no clinician has a contract yet: add contracts before a rota")
    ids = {u.id for u in people}
    staff = tuple(
        Staff(
            str(u.id),
            contracts[u.id].contracted_hours,
            frozenset(s.value for s in u.skills),
            contracts[u.id].night_capable,
            u.display_name,
        )
        for u in people
    )
    last = start + timedelta(days=days - 1)
    return Problem(
        start=start,
        days=days,
        staff=staff,
        shifts=shifts,
        demand=Demand(period_demand(week_demand, start, days)),
        leave=tuple(
            Leave(str(e.staff_id), e.first, e.last, e.kind.value)
            for e in leave
            if e.staff_id in ids and e.first <= last and start <= e.last
        ),
        requests=tuple(
            Request(str(r.staff_id), r.kind, r.first, r.last, r.weight, r.shift)
            for r in requests
            if r.staff_id in ids and r.first <= last and start <= r.last
        ),
        rules=rule_params(settings),
        timezone=TIMEZONE,
    )


def shift_records(problem: Problem, assignments: Iterable[Assignment]) -> list[ShiftRecord]:
    out = []
    for a in sorted(assignments):
        start, end = shift_times(problem, a)
        out.append(
            ShiftRecord(int(a.staff), a.day, a.shift, start.astimezone(UTC), end.astimezone(UTC))
        )
    return out


def assignments_of(shifts: Iterable[ShiftRecord]) -> tuple[Assignment, ...]:
    return tuple(sorted(s.assignment for s in shifts))


def default_week_demand() -> tuple[int, ...]:
    """Clinicians needed per hour of the week before anyone sets or forecasts it: the
    reference hub's profile (2 overnight, 3 from 07:00, 5 from 10:00 to 18:00 — 4 at
    weekends — 4 until 22:00, 3 until midnight)."""
    out: list[int] = []
    for weekday in range(7):
        peak = 4 if weekday >= 5 else 5
        for hour in range(24):
            if hour < 7:
                out.append(2)
            elif hour < 10:
                out.append(3)
            elif hour < 18:
                out.append(peak)
            elif hour < 22:
                out.append(4)
            else:
                out.append(3)
    return tuple(out)
