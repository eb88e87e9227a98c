"""The hour grid: how dates, shifts and hours of a problem map to integers.

Checker, scorer, greedy builder and solver all count hours the same way, so this is the
one place that decides it:

- hour ``h`` is 00:00 of day one plus ``h`` hours; day ``d`` spans ``[24d, 24d + 24)``;
- a shift starting on day ``d`` covers ``[24d + start, 24d + start + hours)``, so a night
  shift simply runs past ``24d + 24`` into the next day;
- cover is only asked for hours in scope, ``[first shift start on day one, 24 × days)``:
  the hours of day one before the earliest shift belong to the previous rota's last
  night, and the hours of the last night past the end belong to the next rota (they
  still count as worked for the clinician);
- those hours past the end (the "tail") are not asked to be covered, but cover there
  above what the next rota will need is over-cover like any other. Without it a night on
  the last day would be the cheapest way to make up contract hours (nine hours worked
  for two hours of over-cover), and the period would end with twice the nights it needs.
  The next rota's demand is taken to be this one's a week earlier (a day earlier for a
  period shorter than a week).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from rota.model import Problem, RequestKind, ShiftType, Staff

HOURS_PER_DAY = 24


class Grid:
    """Index of one problem, built once and shared by every consumer."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.days = problem.days
        self.hours = HOURS_PER_DAY * problem.days
        self.shift_by_name = {s.name: s for s in problem.shifts}
        self.staff_by_id = {s.id: s for s in problem.staff}
        self.first_hour = min((s.start_hour for s in problem.shifts), default=0)
        leave: dict[str, set[int]] = {s.id: set() for s in problem.staff}
        for item in problem.leave:
            for d in self.day_range(item.first, item.last):
                leave.setdefault(item.staff, set()).add(d)
        self.leave_days = {k: frozenset(v) for k, v in leave.items()}

    # -- dates -----------------------------------------------------------------

    def day_index(self, day: date) -> int:
        return (day - self.problem.start).days

    def date_of(self, day: int) -> date:
        return self.problem.start + timedelta(days=day)

    def day_range(self, first: date, last: date) -> Iterator[int]:
        """Indices of the days of [first, last] that fall inside the period."""
        lo = max(0, self.day_index(first))
        hi = min(self.days - 1, self.day_index(last))
        return iter(range(lo, hi + 1))

    def hour_start(self, hour: int) -> datetime:
        return datetime.combine(self.problem.start, time()) + timedelta(hours=hour)

    def is_weekend(self, day: int) -> bool:
        return self.date_of(day).weekday() >= 5

    # -- shifts ----------------------------------------------------------------

    def span(self, day: int, shift: ShiftType) -> tuple[int, int]:
        start = HOURS_PER_DAY * day + shift.start_hour
        return start, start + shift.hours

    def night_hours(self, shift: ShiftType) -> int:
        rules = self.problem.rules
        lo, hi = rules.night_window_start, rules.night_window_end
        count = 0
        for h in range(shift.start_hour, shift.end_hour):
            hh = h % HOURS_PER_DAY
            inside = (lo <= hh < hi) if lo < hi else (hh >= lo or hh < hi) if lo > hi else False
            count += inside
        return count

    def is_night(self, shift: ShiftType) -> bool:
        """A night shift has at least ``night_min_hours`` in the night window (23–06 by
        default), the Working Time Regulations' test for night work."""
        return self.night_hours(shift) >= max(1, self.problem.rules.night_min_hours)

    def is_long_night(self, shift: ShiftType) -> bool:
        return self.is_night(shift) and shift.hours >= self.problem.rules.long_night_min_hours

    def in_scope(self, hour: int) -> bool:
        return self.first_hour <= hour < self.hours

    def tail(self) -> range:
        """The hours past the end that shifts of the last day still cover."""
        ends = (self.span(self.days - 1, s)[1] for s in self.problem.shifts)
        return range(self.hours, max(ends, default=self.hours))

    def tail_demand(self, hour: int) -> int:
        """What the next rota is taken to need at ``hour`` of the tail."""
        back = HOURS_PER_DAY * (7 if self.days >= 7 else 1)
        return self.problem.demand.hourly[hour - back]

    # -- staff -----------------------------------------------------------------

    def can_work(self, staff: Staff, day: int, shift: ShiftType) -> bool:
        """Leave and night gating: the rules that remove a shift outright."""
        if day in self.leave_days.get(staff.id, frozenset()):
            return False
        return staff.night_capable or not self.is_night(shift)

    def target_hours(self, staff: Staff) -> int:
        """Contracted hours over the period, pro rata for leave, rounded half up."""
        available = self.days - len(self.leave_days.get(staff.id, frozenset()))
        return int(staff.contracted_hours * available / 7 + 0.5)

    def hours_cap(self) -> int:
        """The average-weekly-hours limit as a total over the period; a period shorter
        than a week gets a whole week's hours (averaging 48 h over two days would allow
        one shift, which no reference period in the regulations intends)."""
        weeks = max(self.days, 7) / 7
        return int(self.problem.rules.max_avg_weekly_hours * weeks + 1e-9)

    def request_days(self, kind: RequestKind) -> Iterator[tuple[int, int, str, int]]:
        """(request index, day, staff id, weight) for each day a request of ``kind`` covers."""
        for i, req in enumerate(self.problem.requests):
            if req.kind is kind:
                for d in self.day_range(req.first, req.last):
                    yield i, d, req.staff, req.weight

    def fairness_groups(self, nights: bool) -> dict[str, list[Staff]]:
        """Comparable staff: same skills and contracted hours (and night-capable, for
        nights). A senior and a nurse are not compared: senior cover may rightly give
        seniors more nights. Groups of one are dropped: there is no one to compare."""
        groups: dict[str, list[Staff]] = {}
        for s in self.problem.staff:
            if nights and not s.night_capable:
                continue
            key = "+".join(sorted(s.skills)) + f"@{s.contracted_hours:g}h"
            groups.setdefault(key, []).append(s)
        return {k: v for k, v in groups.items() if len(v) > 1}
