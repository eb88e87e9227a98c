"""Inserting many rows at the speed of the database driver (imports, demo data).

SQLAlchemy's executemany prepares every row's parameters through generic machinery
that costs more than the insert itself. Here each column's own bind processor (the same
conversion SQLAlchemy would apply, e.g. ``UTCDateTime``, JSON) is looked up once and
applied value by value, then the rows go in with the driver's executemany on SQLite or
``COPY`` on PostgreSQL (asyncpg), inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Boolean, Table
from sqlalchemy.ext.asyncio import AsyncConnection


async def insert_rows(
    conn: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """INSERT ``rows`` (dicts with the same keys, naming columns of ``table``)."""
    if not rows:
        return
    names = list(rows[0])
    dialect = conn.dialect
    procs = [table.c[name].type._cached_bind_processor(dialect) for name in names]
    converted = [
        (i, p, isinstance(table.c[names[i]].type, Boolean))
        for i, p in enumerate(procs)
        if p is not None
    ]
    pick = itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))

    empty: dict[tuple[int, str], Any] = {}  # empty JSON lists and objects, converted once

    def values(row: Mapping[str, Any]) -> tuple[Any, ...]:
        out = list(pick(row))
        for i, proc, boolean in converted:
            value = out[i]
            if value is None or (boolean and (value is True or value is False)):
                continue  # both drivers take None, and True/False for a boolean, as they are
            if not value and type(value) in (list, dict):
                key = (i, type(value).__name__)
                if key not in empty:
                    empty[key] = proc(value)
                out[i] = empty[key]
            else:
                out[i] = proc(value)
        return tuple(out)

    records = [values(row) for row in rows]
    if dialect.name == "postgresql":
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        if not raw.is_in_transaction():
            # The adapter begins its transaction on the first statement: COPY must not
            # run (and commit) outside it.
            await conn.exec_driver_sql("SELECT 1")
        await raw.copy_records_to_table(table.name, records=records, columns=names)
        return
    columns = ", ".join(names)
    marks = ", ".join("?" for _ in names)
    # Names are columns of ``table`` (looked up above), never user input.
    sql = f"INSERT INTO {table.name} ({columns}) VALUES ({marks})"  # noqa: S608
    await conn.exec_driver_sql(sql, records)
