"""The database engine, and the check that its schema is current.

SQLite is the embedded default. Its transactions start with BEGIN IMMEDIATE so that
writers queue on the busy timeout instead of failing when two read-then-write
transactions meet; WAL lets readers carry on meanwhile. PostgreSQL needs nothing
special.

aiosqlite runs every SQLite call on a thread of its own; each call is a round trip
between the event loop and that thread, which costs more than the call itself (a primary
key read: 5 µs in SQLite, about 130 µs of thread hand-over each way on these machines).
A *brief* unit of work (``ctx.uow(brief=True)``: a few indexed rows, the path of every
ring) runs its BEGIN, statements and commit on the event loop's own thread
(``LoopSqlite``). Every unit of work of a process takes its turn first
(``hub/store/uow.SqliteTurns``), so nothing in the process holds SQLite's lock when a
brief one begins. On the loop SQLite's busy timeout is 0: if another process holds the
lock, the BEGIN fails at once and the unit of work waits for the lock on aiosqlite's
thread instead, like any other; the loop itself never waits for a lock. Long work
(reports, imports, exports, the rota) is not brief and stays on the thread, so that
calls and relayed media carry on beside it.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from hub.errors import DomainError

#: How long a statement on aiosqlite's thread waits for another process's lock.
BUSY_TIMEOUT_MS = 30_000


class SchemaOutOfDate(DomainError):
    code = "schema_out_of_date"


def private_file(path: Path) -> None:
    """Make ``path`` readable by its owner only (0600), in a directory made 0700 when
    telehub creates it. An existing directory keeps its mode (it may be shared, like
    /tmp); an existing file that others could read is tightened. SQLite gives its -wal
    and -shm files the database file's mode."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o600)
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def create_engine(
    url: str,
    *,
    echo: bool = False,
    pool: tuple[int, int, float] | None = None,
    sqlite_cache_mb: int = 64,
) -> AsyncEngine:
    """``pool``: (size, overflow, timeout in seconds) of the connection pool; a wait
    past the timeout raises (the unit of work turns it into ``Unavailable``).
    ``sqlite_cache_mb``: SQLite's page cache per connection (``database.sqlite_cache_mb``)."""
    parsed = make_url(url)
    sizing: dict[str, Any] = {}
    if pool is not None and parsed.database and parsed.database != ":memory:":
        sizing = {"pool_size": pool[0], "max_overflow": pool[1], "pool_timeout": pool[2]}
    if parsed.get_backend_name() != "sqlite":
        # A database that does not answer must not hold a request for a minute (asyncpg's
        # default): give up connecting after 5 s (the unit of work says 503).
        return create_async_engine(
            url, echo=echo, pool_pre_ping=True, connect_args={"timeout": 5}, **sizing
        )
    if parsed.database and parsed.database != ":memory:":
        private_file(Path(parsed.database))
    args, kwargs = SQLiteDialect_aiosqlite().create_connect_args(parsed)
    connector = partial(sqlite3.connect, *args, **{**kwargs, "timeout": 30})

    async def connect() -> LoopSqlite:
        conn = LoopSqlite(connector)
        await conn  # starts aiosqlite's thread and opens the file on it
        return conn

    engine = create_async_engine(url, echo=echo, async_creator=connect, **sizing)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the driver so BEGIN IMMEDIATE is ours.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        # The page cache (SQLite's default is 2 MB; telehub's 64): a hub's million
        # consultations and their indexes stay warm for imports and reports. Pages are
        # taken as used, so memory grows with the database up to this bound.
        cursor.execute(f"PRAGMA cache_size=-{int(sqlite_cache_mb) * 1024}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class LoopSqlite(aiosqlite.Connection):
    """An aiosqlite connection that can run its calls on the event loop's own thread.

    Off by default: every call goes to aiosqlite's thread, as in aiosqlite. A brief
    unit of work turns it on before its BEGIN (``run_on_loop``) and off again when the
    connection goes back to the pool."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        # As SQLAlchemy does for aiosqlite: a connection never closed must not keep the
        # process alive at exit.
        self._thread.daemon = True
        self.on_loop = False
        self._waits = True  # SQLite's busy timeout is BUSY_TIMEOUT_MS (set at connect)

    def run_on_loop(self, on: bool) -> None:
        """Run calls on the loop's thread (True) or on aiosqlite's (False). On the loop
        SQLite never waits for a lock (busy timeout 0: a lock held elsewhere is an
        error at once); on aiosqlite's thread it waits up to the busy timeout. The
        timeout follows lazily — 0 when the loop takes over, the full wait again with
        the first call on the thread — so a run of brief units of work sets neither.
        Only while no call of this connection is in flight (between units of work)."""
        self.on_loop = on
        if on and self._waits and self._connection is not None:
            self._connection.execute("PRAGMA busy_timeout=0")
            self._waits = False

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self.on_loop and self._running and self._connection is not None:
            return fn(*args, **kwargs)
        if not self._waits:  # back on the thread: wait for other processes' locks again
            self._waits = True
            fn = partial(self._waiting, fn)
        return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    def _waiting(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn`` on aiosqlite's thread, once the full busy timeout is back."""
        self._conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        return fn(*args, **kwargs)


async def loop_sqlite(conn: AsyncConnection) -> LoopSqlite | None:
    """The ``LoopSqlite`` under ``conn``, or None (PostgreSQL: asyncpg has no thread)."""
    driver = (await conn.get_raw_connection()).driver_connection
    return driver if isinstance(driver, LoopSqlite) else None
