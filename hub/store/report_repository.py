"""Report aggregates, computed by the database (SQLite or PostgreSQL), never by looping
over rows in Python. Figures come from the avoided flags stored on each consultation."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Float, and_, case, cast, func, select
from sqlalchemy.sql import ColumnElement

from hub.avoided import AvoidedCounts
from hub.consultations import State
from hub.reports import AnswerTimes
from hub.store import tables as t
from hub.store.repositories import Repo

c = t.consultations.c
FLAGS = {
    "attributable": c.attributable,
    "ae_attendance": c.avoided_ae,
    "call_999": c.avoided_999,
    "conveyance": c.avoided_conveyance,
    "admission": c.avoided_admission,
    "urgent_gp": c.avoided_gp,
}
BREAKDOWNS = {"outcome": c.outcome, "reason": c.reason}
# Cancelled and abandoned requests are not consultations the hub could act on.
COUNTED = (State.ENDED.value, State.IN_CALL.value, State.ANSWERED.value)


class SqlReports(Repo):
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

    @staticmethod
    def _counts(row: Any) -> AvoidedCounts:
        return AvoidedCounts(**{k: int(row[k] or 0) for k in ("calls", *FLAGS)})

    async def counts(self, since: datetime, until: datetime, home_id: int | None) -> AvoidedCounts:
        row = await self._one(
            select(*self._count_columns()).where(self._where(since, until, home_id))
        )
        return self._counts(row)

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
        return [(row["name"], self._counts(row)) for row in await self._all(stmt)]

    def _month(self) -> ColumnElement[Any]:
        if self.conn.dialect.name == "postgresql":
            return func.to_char(func.timezone("UTC", c.requested_at), "YYYY-MM")
        return func.strftime("%Y-%m", c.requested_at)

    async def by_month(
        self, since: datetime, until: datetime, home_id: int | None
    ) -> list[tuple[str, AvoidedCounts]]:
        month = self._month().label("month")
        stmt = (
            select(month, *self._count_columns())
            .where(self._where(since, until, home_id))
            .group_by(month)
            .order_by(month)
        )
        return [(row["month"], self._counts(row)) for row in await self._all(stmt)]

    async def hour_of_week(
        self, since: datetime, until: datetime, home_id: int | None
    ) -> dict[tuple[int, int], int]:
        """Calls by (weekday 0=Monday, hour) in UTC."""
        if self.conn.dialect.name == "postgresql":
            utc = func.timezone("UTC", c.requested_at)
            dow = cast(func.extract("isodow", utc), Float) - 1
            hour = cast(func.extract("hour", utc), Float)
        else:
            dow = (cast(func.strftime("%w", c.requested_at), Float) + 6) % 7
            hour = cast(func.strftime("%H", c.requested_at), Float)
        d, hr = dow.label("dow"), hour.label("hour")
        stmt = (
            select(d, hr, func.count().label("n"))
            .where(self._where(since, until, home_id))
            .group_by(d, hr)
        )
        return {(int(row["dow"]), int(row["hour"])): int(row["n"]) for row in await self._all(stmt)}

    async def breakdown(
        self, column: str, since: datetime, until: datetime, home_id: int | None
    ) -> dict[str, int]:
        col = BREAKDOWNS[column]
        stmt = (
            select(col.label("key"), func.count().label("n"))
            .where(self._where(since, until, home_id), col.is_not(None))
            .group_by(col)
            .order_by(func.count().desc())
        )
        return {str(row["key"]): int(row["n"]) for row in await self._all(stmt)}

    def _wait_s(self) -> ColumnElement[Any]:
        if self.conn.dialect.name == "postgresql":
            return func.extract("epoch", c.answered_at - c.requested_at)
        return (func.julianday(c.answered_at) - func.julianday(c.requested_at)) * 86400.0

    async def answer_times(
        self, since: datetime, until: datetime, home_id: int | None, target: timedelta
    ) -> AnswerTimes:
        wait = self._wait_s()
        answered = and_(self._where(since, until, home_id), c.answered_at.is_not(None))
        row = await self._one(
            select(
                func.count().label("n"),
                func.coalesce(
                    func.sum(case((wait <= target.total_seconds(), 1), else_=0)), 0
                ).label("within"),
            ).where(answered)
        )
        n = int(row["n"]) if row else 0

        async def nth(p: float) -> float | None:
            # Nearest-rank percentile: one ORDER BY ... OFFSET in the database.
            if n == 0:
                return None
            k = max(0, min(n - 1, math.ceil(p * n) - 1))
            value = (
                await self.conn.execute(
                    select(wait).where(answered).order_by(wait).offset(k).limit(1)
                )
            ).scalar()
            return None if value is None else float(value)

        return AnswerTimes(
            n, await nth(0.5), await nth(0.9), await nth(0.95), int(row["within"]) if row else 0
        )
