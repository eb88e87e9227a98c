"""SQL expressions shared by the row-level report queries and the report rollup, so that
both compute every figure the same way, on SQLite and on PostgreSQL.

- ``utc_day`` / ``utc_month``: report ranges and months are UTC days and months.
- ``wait_us``: an answer wait in exact whole microseconds (no floating point, so a wait
  of exactly five minutes is within a five-minute target on both databases), and
  ``wait_bucket`` its answer-time histogram bucket (``hub.reports.wait_bucket``).
- ``local_hour_of_week``: Monday 00:00 = 0 … Sunday 23:00 = 167 on the UK wall clock.
  PostgreSQL converts with its own time-zone database (``AT TIME ZONE``). SQLite has
  none, so the UTC offsets in force between two instants are worked out in Python
  (zoneinfo) and become a CASE over the transition instants: such an expression is
  only right for rows between those two instants, which every caller guarantees.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Date, Integer, case, cast, func, literal, literal_column
from sqlalchemy.sql import ColumnElement

from hub.reports import (
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


def utc_day(at: Expr, dialect: str) -> Expr:
    if dialect == "postgresql":
        return cast(func.timezone(_const("UTC"), at), Date)
    return func.date(at)


def utc_month(at: Expr, dialect: str) -> Expr:
    """``YYYY-MM`` of an instant (UTC)."""
    if dialect == "postgresql":
        return func.to_char(func.timezone(_const("UTC"), at), _const("YYYY-MM"))
    return func.strftime(_const("%Y-%m"), at)


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
    """``hub.reports.wait_bucket`` in SQL (integer arithmetic only)."""
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


def report_zone() -> tzinfo:
    return ZoneInfo(REPORT_ZONE)


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


def local_hour_of_week(
    at: Expr, dialect: str, span: tuple[datetime, datetime] | None, zone: str = REPORT_ZONE
) -> Expr:
    """The UK local hour of week of ``at``, for rows with ``span[0] <= at <= span[1]``
    (PostgreSQL needs no span)."""
    if dialect == "postgresql":
        local = func.timezone(_const(zone), at)
        dow = cast(func.extract("isodow", local), Integer) - _const(1)
        return dow * _const(24) + cast(func.extract("hour", local), Integer)
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
    return sqlite_hour_of_week(at, modifier)


def sqlite_hour_of_week(at: Expr, modifier: Expr) -> Expr:
    """Hour of week of ``at`` moved by an SQLite date modifier such as '+3600 seconds'."""
    dow = (cast(func.strftime(_const("%w"), at, modifier), Integer) + _const(6)) % _const(7)
    return dow * _const(24) + cast(func.strftime(_const("%H"), at, modifier), Integer)


def sqlite_modifier_at(at: datetime, zone: str = REPORT_ZONE) -> str:
    """The modifier that moves the instant ``at`` to local time (for one-row statements)."""
    return _modifier(utc_offsets(ZoneInfo(zone), at, at)[0][1])


def _modifier(seconds: int) -> str:
    return f"{seconds:+d} seconds"
