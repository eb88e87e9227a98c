"""The SQL unit of work: one connection, one transaction, all repositories on it.

A brief one (``brief=True``) runs its SQLite statements on the event loop's thread, and
waits on aiosqlite's thread only for a lock another process holds (``hub/store/db.py``);
on PostgreSQL the flag changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from types import TracebackType
from typing import Self

import sqlalchemy.exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.cipher import Keyring
from hub.errors import Unavailable
from hub.store.audit_repository import SqlAudit
from hub.store.consultation_repository import SqlConsultations
from hub.store.db import LoopSqlite, loop_sqlite
from hub.store.guest_repository import SqlGuests
from hub.store.note_repository import SqlNotes
from hub.store.report_repository import SqlReports
from hub.store.repositories import (
    SqlDevices,
    SqlHomes,
    SqlResidents,
    SqlSessions,
    SqlStaff,
)
from hub.store.representation_repository import SqlRepresentations
from hub.store.rota_job_repository import SqlRotaJobs
from hub.store.rota_repository import SqlRota


class SqliteTurns:
    """One SQLite unit of work at a time in this process, first come first served.

    SQLite's own wait for its lock (the busy timeout) polls with growing sleeps, so
    under load the unlucky waiter waits far longer than the work ahead of it. Turns
    taken here, in order, keep each wait to the work actually queued in front."""

    def __init__(self, timeout_s: float) -> None:
        self._lock = asyncio.Lock()
        self._timeout_s = timeout_s  # as SQLite's busy timeout: then 503, not a hang

    async def take(self) -> None:
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._lock.acquire()
        except TimeoutError:
            raise Unavailable(BUSY) from None

    def give_back(self) -> None:
        self._lock.release()


log = logging.getLogger(__name__)

#: A brief unit of work that keeps the event loop longer than this is logged: a sign it
#: reads more than a few rows and should not be brief.
BRIEF_WARN_S = 0.05


class SqlUnitOfWork:
    def __init__(
        self,
        engine: AsyncEngine,
        keyring: Keyring,
        turns: SqliteTurns | None = None,
        *,
        brief: bool = False,
    ) -> None:
        self._engine = engine
        self._keyring = keyring
        self._turns = turns
        self._brief = brief
        self._conn: AsyncConnection | None = None
        self._on_loop: LoopSqlite | None = None
        self._on_loop_since = 0.0

    async def __aenter__(self) -> Self:
        if self._turns is not None:
            await self._turns.take()
        try:
            self._conn = await self._begin()
        except BaseException:
            if self._turns is not None:
                self._turns.give_back()
            raise
        conn = self._conn
        k = self._keyring
        self.homes = SqlHomes(conn, k)
        self.residents = SqlResidents(conn, k)
        self.staff = SqlStaff(conn, k)
        self.sessions = SqlSessions(conn, k)
        self.devices = SqlDevices(conn, k)
        self.consultations = SqlConsultations(conn, k)
        self.notes = SqlNotes(conn, k)
        self.representations = SqlRepresentations(conn, k)
        self.guests = SqlGuests(conn, k)
        self.audit = SqlAudit(conn, k)
        self.reports = SqlReports(conn, k)
        self.rota = SqlRota(conn, k)
        self.rota_jobs = SqlRotaJobs(conn, k)
        return self

    async def _begin(self) -> AsyncConnection:
        if self._brief and self._turns is not None:
            conn = await self._connect()
            if await self._begin_on_loop(conn):
                return conn
            await conn.close()  # another process holds the lock: wait for it as usual
        conn = await self._connect()
        try:
            await conn.begin()
        except BaseException as err:
            # Cancelled (or failed) after SQLite's BEGIN IMMEDIATE may already hold the
            # write lock: give the connection back (rolled back) or the lock leaks.
            await conn.close()
            if isinstance(err, sqlalchemy.exc.OperationalError) and _busy(err):
                # Another process held the lock past SQLite's busy timeout (503).
                raise Unavailable(BUSY) from err
            raise
        return conn

    async def _begin_on_loop(self, conn: AsyncConnection) -> bool:
        """Begin a brief unit of work on the event loop's thread. Every unit of work of
        this process takes its turn first, so the lock is free unless another process
        holds it: then nothing is begun (False), rather than the loop waiting."""
        try:
            driver = await loop_sqlite(conn)
            if driver is None:
                await conn.begin()
                return True
            driver.run_on_loop(True)
            self._on_loop, self._on_loop_since = driver, time.perf_counter()
            await conn.begin()
        except sqlalchemy.exc.OperationalError as err:
            self._off_loop()
            if _busy(err):
                return False
            await conn.close()
            raise
        except BaseException:
            self._off_loop()
            await conn.close()
            raise
        return True

    async def _connect(self) -> AsyncConnection:
        try:
            return await self._engine.connect()
        except sqlalchemy.exc.TimeoutError:
            # Every pooled connection is busy: say so (503), never an internal error.
            raise Unavailable(BUSY) from None
        except (sqlalchemy.exc.DBAPIError, OSError) as err:
            raise Unavailable(DATABASE_AWAY) from err

    async def commit(self) -> None:
        assert self._conn is not None, "commit() outside `async with`"
        await self.audit.flush()  # the events appended in this transaction, in it
        await self._conn.commit()
        self.audit.transaction_ended()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._conn is not None
        try:
            if self._conn.in_transaction():
                await self._conn.rollback()
        except (sqlalchemy.exc.DBAPIError, OSError):
            if not _connection_lost(exc):
                raise
            # The connection died mid-transaction: the database rolled it back.
        finally:
            try:
                await self._conn.close()
            finally:
                self._conn = None
                self._off_loop()
                if self._turns is not None:
                    self._turns.give_back()
        if _connection_lost(exc):
            # Its transaction was rolled back by the database; say so plainly (503).
            raise Unavailable(DATABASE_AWAY) from exc
        if isinstance(exc, sqlalchemy.exc.OperationalError) and _busy(exc):
            # A brief unit of work met another process's lock on the loop's thread,
            # where it never waits (hub/store/db.py); rolled back, nothing half-written.
            raise Unavailable(BUSY) from exc

    def _off_loop(self) -> None:
        if self._on_loop is None:
            return
        self._on_loop.run_on_loop(False)  # the next unit of work on it may be long
        self._on_loop = None
        held = time.perf_counter() - self._on_loop_since
        if held > BRIEF_WARN_S:
            log.warning("a brief unit of work ran %.0f ms on the event loop", held * 1000)


#: What a request gets when every connection (or SQLite's one writer) stays busy.
BUSY = "the hub is very busy right now: try again in a moment"

#: What a request gets while the database cannot be reached (HTTP 503, or a WebSocket
#: error with code "unavailable"). Its transaction was not committed (a connection lost
#: during COMMIT itself is the one ambiguous case: clients resend idempotently).
DATABASE_AWAY = "the hub's database cannot be reached just now: try again in a moment"


def _busy(err: sqlalchemy.exc.OperationalError) -> bool:
    """SQLite said another connection holds the lock (SQLITE_BUSY)."""
    return getattr(err.orig, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY


def _connection_lost(exc: BaseException | None) -> bool:
    if isinstance(exc, sqlalchemy.exc.DBAPIError):
        return bool(exc.connection_invalidated) or isinstance(exc.orig, OSError | ConnectionError)
    return isinstance(exc, OSError)
