"""Keeping the report rollup (tables ``report_daily_*``) equal to the consultations.

The rollup holds, per UK calendar day (``hub.reports.summary.REPORT_ZONE``: a day runs from
local midnight to local midnight, 23 or 25 hours when the clocks change), the sums the
all-homes dashboard needs: per care home the counted calls and avoided events; for all
homes together the outcome and reason mix, the UK-local hour of week and the
answer-time histogram. It changes only in the transaction of the consultation write
that changes a figure:

- ``add`` after calls are inserted adds their contribution;
- ``changing`` wraps an update: it locks the row (``FOR UPDATE`` on PostgreSQL; SQLite
  transactions are ``BEGIN IMMEDIATE`` already), takes the row's old contribution away,
  lets the update run, and adds the new contribution.

A contribution is computed by the database from the stored row with the expressions the
row-level report queries use (``hub/store/report_sql.py``) and merged with an upsert
(``INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE SET calls = calls + excluded``),
so a sum in the rollup is always exactly the row-level figure. ``rebuild`` empties the
rollup and adds every call again, a block of ids at a time (``telehub report
rebuild-rollup``), keying each call by the same local-day expression as ``changing``
and ``add``, so the three always agree.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Connection,
    Executable,
    String,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    literal_column,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from hub.calls.consultation import State
from hub.outcomes.avoided import FLAG_COLUMNS
from hub.reports.summary import REPORT_ZONE
from hub.store import report_sql as q
from hub.store import tables as t

c = t.consultations.c
# Cancelled and abandoned requests are not consultations the hub could act on; waiting
# ones are not yet. A call counts from the moment it is answered.
COUNTED = (State.ENDED.value, State.IN_CALL.value, State.ANSWERED.value)
FLAGS = tuple(FLAG_COLUMNS.values())  # the stored flags, each summed by its own name
# Columns whose change can move a figure (besides leaving or entering COUNTED states).
REPORTED = frozenset({"home_id", "requested_at", "answered_at", "reason", "outcome", *FLAGS})
ROLLUP_TABLES = (
    t.report_daily_totals,
    t.report_daily_homes,
    t.report_daily_codes,
    t.report_daily_slots,
)
Parts = frozenset[str]
ALL_PARTS: Parts = frozenset({"homes", "codes", "slots"})
OUTCOME_PART: Parts = frozenset({"codes"})  # what an outcome (not its flags) changes
FLAGS_PART: Parts = frozenset({"homes"})  # what the avoided flags change (and totals)
ID_BLOCK = 5_000  # ids per statement when adding many calls
REBUILD_BLOCK = 50_000  # ids per step of a rebuild


def touches_figures(sources: Collection[State], target: State, values: Collection[str]) -> bool:
    """Whether a transition from ``sources`` to ``target`` setting ``values`` can move a
    reported figure (most lifecycle steps cannot, and then skip the rollup)."""
    counted = target.value in COUNTED
    return bool(REPORTED.intersection(values)) or any(
        (s.value in COUNTED) != counted for s in sources
    )


class ReportRollup:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name

    async def add(self, ids: Sequence[int], first: datetime, last: datetime) -> None:
        """Add the contribution of the calls ``ids`` (requested between first and last)."""
        span = (first, last)
        if ids and list(ids) == list(range(ids[0], ids[0] + len(ids))):
            # Ids reserved in one block: nobody else's rows can be in it.
            await self._merge(c.id.between(ids[0], ids[-1]), +1, span)
            return
        for start in range(0, len(ids), ID_BLOCK):
            await self._merge(c.id.in_(ids[start : start + ID_BLOCK]), +1, span)

    @asynccontextmanager
    async def changing(
        self, call_id: int, parts: Parts = ALL_PARTS, *, retimed: bool = False
    ) -> AsyncIterator[None]:
        """Around an UPDATE of call ``call_id``: old contribution out, new one in.
        ``parts`` names the rollup tables the update can change (all by default);
        ``retimed`` says it may change the call's ``requested_at``."""
        locked = select(c.requested_at).where(c.id == call_id)
        if self.dialect == "postgresql":
            locked = locked.with_for_update()
        at = (await self.conn.execute(locked)).scalar()
        if at is None:  # no such call: the update changes nothing either
            yield
            return
        params: dict[str, Any] = {"call_id": call_id}
        if self.dialect == "sqlite":
            params["shift"] = q.sqlite_modifier_at(_aware(at))
        for stmt in _one_call(self.dialect, -1, parts):
            await self.conn.execute(stmt, params)
        yield
        if retimed and self.dialect == "sqlite":
            at = (await self.conn.execute(locked)).scalar()
            params["shift"] = q.sqlite_modifier_at(_aware(at))
        for stmt in _one_call(self.dialect, +1, parts):
            await self.conn.execute(stmt, params)

    async def rebuild(self, on_progress: Callable[[int, int], None] | None = None) -> int:
        """Empty the rollup and add every consultation again; returns the counted calls."""
        return await self.conn.run_sync(rebuild, on_progress)

    async def _merge(
        self, where: ColumnElement[bool], sign: int, span: tuple[datetime, datetime] | None
    ) -> None:
        """Add ``sign`` × the contribution of the rows ``where`` to the rollup."""
        if span is None and self.dialect == "sqlite":
            found = (await self.conn.execute(_span_of(where))).one()
            if found[0] is None:
                return
            span = _aware(found[0]), _aware(found[1])
        local = q.local_time(c.requested_at, self.dialect, span)
        for stmt in merges(self.dialect, where, sign, local.day, local.hour_of_week):
            await self.conn.execute(stmt)


def rebuild(
    conn: Connection,
    on_progress: Callable[[int, int], None] | None = None,
    *,
    day_zone: str = REPORT_ZONE,
) -> int:
    """Empty the rollup and add every consultation again, a block of ids at a time;
    returns the counted calls. Synchronous, for ``run_sync`` and the migrations.

    ``day_zone`` is the clock the rollup's days are kept on: UK time, except for
    migration 0007's downgrade, which restores the UTC days that code before it
    expects (the hour of week is UK time either way)."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        # Writers wait until the rebuild commits, so no change slips in between.
        conn.execute(text("LOCK TABLE consultations IN SHARE MODE"))
    for table in ROLLUP_TABLES:
        conn.execute(delete(table))
    lo, hi = conn.execute(select(func.min(c.id), func.max(c.id))).one()
    steps = 0 if lo is None else (hi - lo) // REBUILD_BLOCK + 1
    for step in range(steps):
        first = lo + step * REBUILD_BLOCK
        where = c.id.between(first, first + REBUILD_BLOCK - 1)
        span = None
        if dialect == "sqlite":
            found = conn.execute(_span_of(where)).one()
            span = None if found[0] is None else (_aware(found[0]), _aware(found[1]))
        if dialect != "sqlite" or span is not None:
            day = q.local_time(c.requested_at, dialect, span, day_zone).day
            hour = q.local_time(c.requested_at, dialect, span).hour_of_week
            for stmt in merges(dialect, where, +1, day, hour):
                conn.execute(stmt)
        if on_progress:
            on_progress(step + 1, steps)
    total = conn.execute(select(func.sum(t.report_daily_homes.c.calls))).scalar()
    return int(total or 0)


@lru_cache(maxsize=64)
def _one_call(dialect: str, sign: int, parts: Parts) -> tuple[Executable, ...]:
    """``merges`` for the one call ``:call_id``, built once (SQLite's local time
    modifier is the parameter ``:shift``, for both the call's day and its hour)."""
    local = (
        q.sqlite_local_time(c.requested_at, bindparam("shift", type_=String))
        if dialect == "sqlite"
        else q.local_time(c.requested_at, dialect, None)
    )
    where = c.id == bindparam("call_id")
    return tuple(merges(dialect, where, sign, local.day, local.hour_of_week, parts))


def merges(
    dialect: str,
    where: ColumnElement[bool],
    sign: int,
    day: ColumnElement[Any],
    hour: ColumnElement[Any],
    parts: Parts = ALL_PARTS,
) -> list[Executable]:
    """The upserts adding ``sign`` × the contribution of the rows ``where`` to the
    rollup tables named in ``parts``. ``day`` and ``hour`` are their UK local day and
    hour of week (``report_sql.local_time`` for the span of their ``requested_at``)."""
    day = day.label("day")
    counted = and_(c.state.in_(COUNTED), where)
    n = (func.count() * literal_column(str(sign))).label("calls")

    def tally(flag: Any) -> Any:
        return func.sum(case((flag, sign), else_=0))

    def by(kind: str, value: Any, *extra: ColumnElement[bool]) -> Any:
        v = value.label("value")
        return (
            select(day, literal_column(f"'{kind}'").label("kind"), v, n)
            .where(counted, *extra)
            .group_by(day, v)
        )

    out = []
    if "homes" in parts:
        flags = [tally(c[f]).label(f) for f in FLAGS]
        totals = select(day, n, *flags).where(counted).group_by(day)
        out.append(_upsert(dialect, t.report_daily_totals, totals, ["day"]))
        homes = select(day, c.home_id, n, *flags).where(counted).group_by(day, c.home_id)
        out.append(_upsert(dialect, t.report_daily_homes, homes, ["day", "home_id"]))
    if "codes" in parts:
        codes = union_all(by("outcome", c.outcome, c.outcome.is_not(None)), by("reason", c.reason))
        out.append(_upsert(dialect, t.report_daily_codes, codes, ["day", "kind", "code"]))
    if "slots" in parts:
        bucket = q.wait_bucket(q.wait_us(c.answered_at, c.requested_at, dialect))
        slots = union_all(by("hour", hour), by("wait", bucket, c.answered_at.is_not(None)))
        out.append(_upsert(dialect, t.report_daily_slots, slots, ["day", "kind", "slot"]))
    return out


def _upsert(dialect: str, table: Table, source: Any, keys: list[str]) -> Executable:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    names = [col.name for col in table.columns]
    stmt = insert(table).from_select(names, source)
    return stmt.on_conflict_do_update(
        index_elements=keys,
        set_={n: table.c[n] + stmt.excluded[n] for n in names if n not in keys},
    )


def _span_of(where: ColumnElement[bool]) -> Any:
    return select(func.min(c.requested_at), func.max(c.requested_at)).where(where)


def _aware(value: Any) -> datetime:
    # Aggregates bypass the column type: SQLite hands back text.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
