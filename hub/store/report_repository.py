"""Report aggregates, computed by the database (SQLite or PostgreSQL), never by looping
over rows in Python. Figures come from the avoided flags stored on each consultation.

Two ways to the same figures:

- ``RowReports`` aggregates the consultation rows of the range. For one care home it
  reads a few thousand rows at most through the (home_id, requested_at) index.
- ``SqlReports`` (the repository the unit of work hands out) answers all-homes questions
  over whole UK days (from one local midnight to another) from the daily rollup
  (``hub/store/report_rollup.py``): a year of a busy hub is a few hundred thousand
  small rows instead of a million consultations. Anything else goes to the rows.

Both compute every figure with the same SQL expressions (``hub/store/report_sql.py``),
so they agree exactly; a test compares them on random data.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, case, func, select
from sqlalchemy.sql import ColumnElement

from hub.calls.consultation import State
from hub.outcomes.avoided import FLAG_COLUMNS, AvoidedCounts
from hub.reports.answer_times import AnswerTimes
from hub.reports.summary import (
    OVERFLOW_BUCKET,
    bucket_edge_s,
    local_date,
    local_midnight,
    nearest_rank,
    reported_wait_s,
    wait_bucket,
)
from hub.store import report_sql as q
from hub.store import tables as t
from hub.store.report_rollup import COUNTED, ReportRollup
from hub.store.repositories import Repo

c = t.consultations.c
#: Each stored flag's column, by the ``AvoidedCounts`` field it is counted in.
FLAGS = {name: c[column] for name, column in FLAG_COLUMNS.items()}
BREAKDOWNS = {"outcome": c.outcome, "reason": c.reason}
PERCENTILES = (0.5, 0.9, 0.95)


def _counts(row: Any) -> AvoidedCounts:
    return AvoidedCounts(**{k: int(row[k] or 0) for k in ("calls", *FLAGS)})


class RowReports(Repo):
    """Every figure from the consultation rows of the range."""

    @property
    def dialect(self) -> str:
        return self.conn.dialect.name

    def _where(self, since: datetime, until: datetime, home_id: int | None) -> Any:
        conds = [c.requested_at >= since, c.requested_at < until, c.state.in_(COUNTED)]
        if home_id is not None:
            conds.append(c.home_id == home_id)
        return and_(*conds)

    def _count_columns(self) -> list[Any]:
        return [
            func.count().label("calls"),
            *(
                func.coalesce(func.sum(case((col, 1), else_=0)), 0).label(name)
                for name, col in FLAGS.items()
            ),
        ]

    async def counts(self, since: datetime, until: datetime, home_id: int | None) -> AvoidedCounts:
        row = await self._one(
            select(*self._count_columns()).where(self._where(since, until, home_id))
        )
        return _counts(row)

    async def by_home(
        self, since: datetime, until: datetime, home_id: int | None
    ) -> list[tuple[str, AvoidedCounts]]:
        h = t.care_homes.c
        stmt = (
            select(h.name, *self._count_columns())
            .join(t.care_homes, h.id == c.home_id)
            .where(self._where(since, until, home_id))
            .group_by(h.name)
            .order_by(h.name)
        )
        return [(row["name"], _counts(row)) for row in await self._all(stmt)]

    async def by_month(
        self, since: datetime, until: datetime, home_id: int | None
    ) -> list[tuple[str, AvoidedCounts]]:
        month = q.local_time(c.requested_at, self.dialect, (since, until)).month.label("month")
        stmt = (
            select(month, *self._count_columns())
            .where(self._where(since, until, home_id))
            .group_by(month)
            .order_by(month)
        )
        return [(row["month"], _counts(row)) for row in await self._all(stmt)]

    async def hour_of_week(
        self, since: datetime, until: datetime, home_id: int | None
    ) -> dict[tuple[int, int], int]:
        """Calls by (weekday 0=Monday, hour) on the UK wall clock
        (hub.reports.summary.REPORT_ZONE)."""
        local = q.local_time(c.requested_at, self.dialect, (since, until))
        slot = local.hour_of_week.label("slot")
        stmt = (
            select(slot, func.count().label("n"))
            .where(self._where(since, until, home_id))
            .group_by(slot)
        )
        return _hours(await self._all(stmt))

    async def breakdown(
        self, column: str, since: datetime, until: datetime, home_id: int | None
    ) -> dict[str, int]:
        col = BREAKDOWNS[column]
        n = func.count().label("n")
        stmt = (
            select(col.label("key"), n)
            .where(self._where(since, until, home_id), col.is_not(None))
            .group_by(col)
            .order_by(n.desc(), col)
        )
        return {str(row["key"]): int(row["n"]) for row in await self._all(stmt)}

    async def answer_times(
        self, since: datetime, until: datetime, home_id: int | None, target: timedelta
    ) -> AnswerTimes:
        wait = q.wait_us(c.answered_at, c.requested_at, self.dialect)
        answered = and_(self._where(since, until, home_id), c.answered_at.is_not(None))
        row = await self._one(
            select(
                func.count().label("n"),
                func.coalesce(func.sum(case((wait <= _us(target), 1), else_=0)), 0).label("within"),
            ).where(answered)
        )
        n = int(row["n"]) if row else 0
        within = int(row["within"]) if row else 0
        values: list[float | None] = []
        for p in PERCENTILES:
            values.append(await self._nth_wait(answered, nearest_rank(p, n)) if n else None)
        return AnswerTimes(n, values[0], values[1], values[2], within)

    async def outcomes_outstanding(
        self, since: datetime, until: datetime, home_id: int | None
    ) -> tuple[int, int]:
        # Few rows match (ended, answered, no outcome yet): read from the rows, not the rollup.
        where = [
            c.requested_at >= since,
            c.requested_at < until,
            c.state == State.ENDED.value,
            c.answered_by.is_not(None),
            c.outcome.is_(None),
        ]
        if home_id is not None:
            where.append(c.home_id == home_id)
        row = await self._one(
            select(
                func.count().label("n"),
                func.coalesce(
                    func.sum(case((c.outcome_deferred_at.is_not(None), 1), else_=0)), 0
                ).label("deferred"),
            ).where(*where)
        )
        return (int(row["n"]), int(row["deferred"])) if row else (0, 0)

    async def security_levels(
        self, since: datetime, until: datetime, home_id: int | None
    ) -> dict[str, int]:
        level = func.coalesce(c.security_level, "")
        n = func.count().label("n")
        stmt = (
            select(level.label("level"), n)
            .where(self._where(since, until, home_id), c.answered_at.is_not(None))
            .group_by(level)
        )
        return {str(row["level"]): int(row["n"]) for row in await self._all(stmt)}

    async def _nth_wait(self, answered: ColumnElement[bool], k: int) -> float | None:
        # Nearest rank: one ORDER BY … OFFSET in the database.
        wait = q.wait_us(c.answered_at, c.requested_at, self.dialect)
        value = (
            await self.conn.execute(select(wait).where(answered).order_by(wait).offset(k).limit(1))
        ).scalar()
        return None if value is None else reported_wait_s(int(value))


class SqlReports(RowReports):
    """All homes over whole UK days from the daily rollup; the rest from the rows."""

    def _days(
        self, since: datetime, until: datetime, home_id: int | None
    ) -> Callable[[Table], ColumnElement[bool]] | None:
        """The rollup's WHERE for this question, or None if only the rows can answer it."""
        first, end = _local_day(since), _local_day(until)
        if home_id is not None or first is None or end is None:
            return None
        return lambda table: and_(table.c.day >= first, table.c.day < end)

    @staticmethod
    def _sums(table: Any) -> list[Any]:
        """SUM of the calls and flag columns of a rollup table (or subquery)."""
        names = {"calls": "calls", **FLAG_COLUMNS}
        return [
            func.coalesce(func.sum(table.c[column]), 0).label(name)
            for name, column in names.items()
        ]

    async def counts(self, since: datetime, until: datetime, home_id: int | None) -> AvoidedCounts:
        days = self._days(since, until, home_id)
        if days is None:
            return await super().counts(since, until, home_id)
        totals = t.report_daily_totals
        return _counts(await self._one(select(*self._sums(totals)).where(days(totals))))

    async def by_home(
        self, since: datetime, until: datetime, home_id: int | None
    ) -> list[tuple[str, AvoidedCounts]]:
        days = self._days(since, until, home_id)
        if days is None:
            return await super().by_home(since, until, home_id)
        r, h = t.report_daily_homes, t.care_homes.c
        # Sum per home id first (integers), then by name as the row-level query does.
        per_home = (
            select(
                r.c.home_id,
                *(func.sum(r.c[n]).label(n) for n in ("calls", *FLAG_COLUMNS.values())),
            )
            .where(days(r))
            .group_by(r.c.home_id)
            .subquery()
        )
        stmt = (
            select(h.name, *self._sums(per_home))
            .join(t.care_homes, h.id == per_home.c.home_id)
            .group_by(h.name)
            .having(func.sum(per_home.c.calls) > 0)
            .order_by(h.name)
        )
        return [(row["name"], _counts(row)) for row in await self._all(stmt)]

    async def by_month(
        self, since: datetime, until: datetime, home_id: int | None
    ) -> list[tuple[str, AvoidedCounts]]:
        days = self._days(since, until, home_id)
        if days is None:
            return await super().by_month(since, until, home_id)
        totals = t.report_daily_totals
        month = q.month_of_day(totals.c.day, self.dialect).label("month")
        stmt = (
            select(month, *self._sums(totals))
            .where(days(totals))
            .group_by(month)
            .having(func.sum(totals.c.calls) > 0)
            .order_by(month)
        )
        return [(row["month"], _counts(row)) for row in await self._all(stmt)]

    async def hour_of_week(
        self, since: datetime, until: datetime, home_id: int | None
    ) -> dict[tuple[int, int], int]:
        days = self._days(since, until, home_id)
        if days is None:
            return await super().hour_of_week(since, until, home_id)
        s = t.report_daily_slots.c
        n = func.sum(s.calls)
        stmt = (
            select(s.slot, n.label("n"))
            .where(days(t.report_daily_slots), s.kind == "hour")
            .group_by(s.slot)
            .having(n != 0)
        )
        return _hours(await self._all(stmt))

    async def breakdown(
        self, column: str, since: datetime, until: datetime, home_id: int | None
    ) -> dict[str, int]:
        days = self._days(since, until, home_id)
        if days is None or column not in BREAKDOWNS:
            return await super().breakdown(column, since, until, home_id)
        k = t.report_daily_codes.c
        n = func.sum(k.calls).label("n")
        stmt = (
            select(k.code, n)
            .where(days(t.report_daily_codes), k.kind == column)
            .group_by(k.code)
            .having(func.sum(k.calls) != 0)
            .order_by(n.desc(), k.code)
        )
        return {str(row["code"]): int(row["n"]) for row in await self._all(stmt)}

    async def answer_times(
        self, since: datetime, until: datetime, home_id: int | None, target: timedelta
    ) -> AnswerTimes:
        days = self._days(since, until, home_id)
        edge = wait_bucket(_us(target))
        if days is None or bucket_edge_s(edge) != _us(target) / 1e6:
            # Only targets on a bucket edge can be counted from the histogram.
            return await super().answer_times(since, until, home_id, target)
        s = t.report_daily_slots.c
        waits = and_(days(t.report_daily_slots), s.kind == "wait")
        row = await self._one(
            select(
                func.coalesce(func.sum(s.calls), 0).label("n"),
                func.coalesce(func.sum(case((s.slot <= edge, s.calls), else_=0)), 0).label(
                    "within"
                ),
            ).where(waits)
        )
        n = int(row["n"]) if row else 0
        within = int(row["within"]) if row else 0
        if n == 0:
            return AnswerTimes(0, None, None, None, 0)
        # The bucket holding each nearest-rank value: the first whose running total
        # reaches rank + 1.
        hist = select(s.slot, func.sum(s.calls).label("n")).where(waits).group_by(s.slot).subquery()
        running = select(
            hist.c.slot, func.sum(hist.c.n).over(order_by=hist.c.slot).label("upto")
        ).subquery()
        ranks = [nearest_rank(p, n) + 1 for p in PERCENTILES]
        found = await self._one(
            select(
                *(
                    func.min(case((running.c.upto >= rank, running.c.slot))).label(f"p{i}")
                    for i, rank in enumerate(ranks)
                )
            )
        )
        assert found is not None
        values: list[float | None] = []
        for i, p in enumerate(PERCENTILES):
            bucket = int(found[f"p{i}"])
            if bucket >= OVERFLOW_BUCKET:  # past a day: the rows know the exact wait
                rows = RowReports(self.conn, self.keyring)
                answered = and_(rows._where(since, until, None), c.answered_at.is_not(None))
                values.append(await rows._nth_wait(answered, nearest_rank(p, n)))
            else:
                values.append(bucket_edge_s(bucket))
        return AnswerTimes(n, values[0], values[1], values[2], within)

    async def rebuild_rollup(self, on_progress: Callable[[int, int], None] | None = None) -> int:
        return await ReportRollup(self.conn).rebuild(on_progress)


def _local_day(at: datetime) -> date | None:
    """The UK day ``at`` starts, if it is a UK midnight (rollup rows are whole UK days;
    a range from any other instant must be answered from the rows)."""
    day = local_date(at)
    return day if local_midnight(day) == at else None


def _us(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _hours(rows: list[Any]) -> dict[tuple[int, int], int]:
    return {divmod(int(row["slot"]), 24): int(row["n"]) for row in rows if int(row["n"])}
