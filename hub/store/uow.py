"""The SQL unit of work: one connection, one transaction, all repositories on it."""

from __future__ import annotations

from types import TracebackType
from typing import Self

import sqlalchemy.exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.cipher import Keyring
from hub.errors import Unavailable
from hub.store.audit_repository import SqlAudit
from hub.store.consultation_repository import SqlConsultations
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


class SqlUnitOfWork:
    def __init__(self, engine: AsyncEngine, keyring: Keyring) -> None:
        self._engine = engine
        self._keyring = keyring
        self._conn: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        try:
            conn = await self._engine.connect()
        except sqlalchemy.exc.TimeoutError:
            # Every pooled connection is busy: say so (503), never an internal error.
            raise Unavailable("the hub is very busy right now: try again in a moment") from None
        except (sqlalchemy.exc.DBAPIError, OSError) as err:
            raise Unavailable(DATABASE_AWAY) from err
        try:
            await conn.begin()
        except BaseException:
            # Cancelled (or failed) after SQLite's BEGIN IMMEDIATE may already hold the
            # write lock: give the connection back (rolled back) or the lock leaks.
            await conn.close()
            raise
        self._conn = conn
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

    async def commit(self) -> None:
        assert self._conn is not None, "commit() outside `async with`"
        await self._conn.commit()

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
            await self._conn.close()
            self._conn = None
        if _connection_lost(exc):
            # Its transaction was rolled back by the database; say so plainly (503).
            raise Unavailable(DATABASE_AWAY) from exc


#: What a request gets while the database cannot be reached (HTTP 503, or a WebSocket
#: error with code "unavailable"). Its transaction was not committed (a connection lost
#: during COMMIT itself is the one ambiguous case: clients resend idempotently).
DATABASE_AWAY = "the hub's database cannot be reached just now: try again in a moment"


def _connection_lost(exc: BaseException | None) -> bool:
    if isinstance(exc, sqlalchemy.exc.DBAPIError):
        return bool(exc.connection_invalidated) or isinstance(exc.orig, OSError | ConnectionError)
    return isinstance(exc, OSError)
