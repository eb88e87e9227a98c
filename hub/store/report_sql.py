"""SQL expressions shared by the row-level report queries and the report rollup, so that
both compute every figure the same way, on SQLite and on PostgreSQL.

- ``local_time``: the UK local day, month (``YYYY-MM``) and hour of week (Monday 00:00
  = 0 … Sunday 23:00 = 167) of an instant. Every day and month in a report is a UK
  calendar day or month (``hub.reports.summary.REPORT_ZONE``), like the heat map's hours.
  PostgreSQL converts with its own time-zone database (``AT TIME ZONE``). SQLite has
  none, so the UTC offsets in force between two instants are worked out in Python
  (zoneinfo) and become a CASE over the transition instants: such an expression is
  only right for rows between those two instants, which every caller guarantees.
- ``wait_us``: an answer wait in exact whole microseconds (no floating point, so a wait
  of exactly five minutes is within a five-minute target on both databases), and
  ``wait_bucket`` its answer-time histogram bucket (``hub.reports.summary.wait_bucket``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Date, Integer, case, cast, func, literal, literal_column
from sqlalchemy.sql import ColumnElement

from hub.reports.summary import (
    COARSE_STEP_US,
    COARSE_UNTIL_US,
    FINE_BUCKETS,
    FINE_STEP_US,
    FINE_UNTIL_US,
    OVERFLOW_BUCKET,
    REPORT_ZONE,
)

Expr = ColumnElement[Any]


def _const(value: int | str) -> Expr:
    """A constant written into the SQL text (not a parameter): the same expression in
    SELECT and GROUP BY stays textually identical, and integers stay 64-bit."""
    return literal_column(str(value) if isinstance(value, int) else f"'{value}'")


def month_of_day(day: Expr, dialect: str) -> Expr:
    """``YYYY-MM`` of a date column."""
    if dialect == "postgresql":
        return func.to_char(day, _const("YYYY-MM"))
    return func.strftime(_const("%Y-%m"), day)


def _sqlite_us(at: Expr) -> Expr:
    # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff': whole seconds by strftime, then the digits.
    whole = cast(func.strftime(_const("%s"), func.substr(at, _const(1), _const(19))), Integer)
    return whole * _const(1_000_000) + cast(func.substr(at, _const(21), _const(6)), Integer)


def wait_us(answered: Expr, requested: Expr, dialect: str) -> Expr:
    if dialect == "postgresql":
        return cast(func.extract("epoch", answered - requested) * _const(1_000_000), BigInteger)
    return _sqlite_us(answered) - _sqlite_us(requested)


def _div(value: Expr, divisor: int) -> Expr:
    """Integer division of a positive integer expression (both databases truncate)."""
    return value.op("/", precedence=8)(_const(divisor))


def wait_bucket(wait: Expr) -> Expr:
    """``hub.reports.summary.wait_bucket`` in SQL (integer arithmetic only)."""
    return case(
        (wait <= _const(0), _const(0)),
        (
            wait <= _const(FINE_UNTIL_US),
            _div(wait + _const(FINE_STEP_US - 1), FINE_STEP_US),
        ),
        (
            wait <= _const(COARSE_UNTIL_US),
            _const(FINE_BUCKETS)
            + _div(wait - _const(FINE_UNTIL_US - COARSE_STEP_US + 1), COARSE_STEP_US),
        ),
        else_=_const(OVERFLOW_BUCKET),
    )


def utc_offsets(zone: tzinfo, since: datetime, until: datetime) -> list[tuple[datetime, int]]:
    """The UTC offsets (seconds) in force from ``since`` to ``until``: the offset at
    ``since``, then each transition instant with the offset from then on."""

    def offset(at: datetime) -> int:
        delta = at.astimezone(zone).utcoffset()
        assert delta is not None
        return int(delta.total_seconds())

    since, until = since.astimezone(UTC), until.astimezone(UTC)
    found = [(since, offset(since))]
    day = timedelta(days=1)
    start = since
    while start < until:
        end = min(start + day, until)
        if offset(end) != found[-1][1]:
            # Zones change at most once a day and on a whole second: find that second.
            lo, hi = int(start.timestamp()), int(end.timestamp()) + 1
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if offset(datetime.fromtimestamp(mid, UTC)) == found[-1][1]:
                    lo = mid
                else:
                    hi = mid
            at = datetime.fromtimestamp(hi, UTC)
            found.append((at, offset(at)))
        start = end
    return found


@dataclass(frozen=True)
class LocalTime:
    """The UK local day, month and hour of week of the instant ``at``, as SQL.

    On SQLite ``shift`` is a date modifier (such as '+3600 seconds', or a CASE choosing
    one per row) that moves ``at`` to the wall clock; PostgreSQL needs none. The day,
    month and hour of one row are always taken with the same shift, so they agree.
    """

    at: Expr
    dialect: str
    zone: str = REPORT_ZONE
    shift: Expr | None = None

    def _shift(self) -> Expr:
        if self.shift is None:
            raise ValueError("SQLite needs a shift to convert to local time")
        return self.shift

    def _whole_seconds(self) -> Expr:
        # SQLite rounds to the millisecond once a modifier applies: 23:59:59.9999 would
        # become the next day. Days and hours need whole seconds only, so drop the rest.
        return func.substr(self.at, _const(1), _const(19))

    @property
    def day(self) -> Expr:
        """The local calendar day (a DATE on PostgreSQL, 'YYYY-MM-DD' on SQLite)."""
        if self.dialect == "postgresql":
            return cast(func.timezone(_const(self.zone), self.at), Date)
        return func.date(self._whole_seconds(), self._shift())

    @property
    def month(self) -> Expr:
        """``YYYY-MM`` of the local calendar month."""
        if self.dialect == "postgresql":
            return func.to_char(func.timezone(_const(self.zone), self.at), _const("YYYY-MM"))
        return func.strftime(_const("%Y-%m"), self._whole_seconds(), self._shift())

    @property
    def hour_of_week(self) -> Expr:
        """Monday 00:00 = 0 … Sunday 23:00 = 167 on the local wall clock."""
        if self.dialect == "postgresql":
            local = func.timezone(_const(self.zone), self.at)
            dow = cast(func.extract("isodow", local), Integer) - _const(1)
            return dow * _const(24) + cast(func.extract("hour", local), Integer)
        at, shift = self._whole_seconds(), self._shift()
        dow = (cast(func.strftime(_const("%w"), at, shift), Integer) + _const(6)) % _const(7)
        return dow * _const(24) + cast(func.strftime(_const("%H"), at, shift), Integer)


def local_time(
    at: Expr, dialect: str, span: tuple[datetime, datetime] | None, zone: str = REPORT_ZONE
) -> LocalTime:
    """Local time of ``at`` for rows with ``span[0] <= at <= span[1]`` (PostgreSQL needs
    no span; on SQLite the expression is only right inside it)."""
    if dialect == "postgresql":
        return LocalTime(at, dialect, zone)
    if span is None:
        raise ValueError("SQLite needs the span of instants to convert to local time")
    segments = utc_offsets(ZoneInfo(zone), *span)

    def shift(seconds: int) -> Expr:
        return literal(_modifier(seconds))

    modifier: Expr = shift(segments[0][1])
    if len(segments) > 1:
        modifier = case(
            *((at >= start, shift(off)) for start, off in reversed(segments[1:])),
            else_=shift(segments[0][1]),
        )
    return LocalTime(at, dialect, zone, modifier)


def sqlite_local_time(at: Expr, shift: Expr) -> LocalTime:
    """Local time of ``at`` on SQLite, moved by the given modifier (for one-row
    statements, whose modifier is ``sqlite_modifier_at`` of the row's instant)."""
    return LocalTime(at, "sqlite", REPORT_ZONE, shift)


def sqlite_modifier_at(at: datetime, zone: str = REPORT_ZONE) -> str:
    """The modifier that moves the instant ``at`` to local time (for one-row statements)."""
    return _modifier(utc_offsets(ZoneInfo(zone), at, at)[0][1])


def _modifier(seconds: int) -> str:
    return f"{seconds:+d} seconds"
