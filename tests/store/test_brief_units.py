"""Brief units of work (``ctx.uow(brief=True)``, hub/store/db.py): on SQLite they run
on the event loop's own thread, where SQLite never waits for a lock; when another
process holds it they wait for it on aiosqlite's thread instead, as every other unit of
work does. The connection goes back to the pool with every call on the thread again.
On PostgreSQL the flag changes nothing."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.cipher import Keyring
from hub.errors import Unavailable
from hub.people.homes import NewHome
from hub.settings import Settings
from hub.store import db
from hub.store import uow as uow_module
from hub.store.bootstrap import make_uow_factory
from hub.store.db import BUSY_TIMEOUT_MS, loop_sqlite
from hub.store.uow import BUSY, SqlUnitOfWork

AT = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


@pytest.fixture
def sqlite_only(engine: AsyncEngine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's driver has no thread to skip")


def trace_threads(unit: SqlUnitOfWork) -> list[int]:
    """The threads SQLite runs this unit of work's statements on, from now on."""
    seen: list[int] = []
    raw: Any = unit.homes.conn.sync_connection
    assert raw is not None
    sqlite_conn = raw.connection.driver_connection._conn  # the sqlite3.Connection
    sqlite_conn.set_trace_callback(lambda _sql: seen.append(threading.get_ident()))
    return seen


@pytest.mark.usefixtures("sqlite_only")
async def test_a_brief_unit_of_work_runs_on_the_event_loop_thread(
    engine: AsyncEngine, keyring: Keyring
) -> None:
    uow = make_uow_factory(engine, keyring)
    loop_thread = threading.get_ident()
    async with uow(brief=True) as unit:
        seen = trace_threads(unit)  # type: ignore[arg-type]
        await unit.homes.add(NewHome.parse("AB123", "Rose Court", "", 40), AT)
        await unit.homes.list()
        await unit.commit()
    assert seen and set(seen) == {loop_thread}

    async with uow() as unit:  # the same pooled connection, back on aiosqlite's thread
        seen = trace_threads(unit)  # type: ignore[arg-type]
        assert [h.code for h in await unit.homes.list()] == ["AB123"]
        # ... where it waits for another process's lock again (on the loop it never does)
        busy = await unit.homes.conn.exec_driver_sql("PRAGMA busy_timeout")  # type: ignore[attr-defined]
        assert busy.scalar_one() == BUSY_TIMEOUT_MS
    assert seen and loop_thread not in seen


@pytest.mark.usefixtures("sqlite_only")
async def test_a_brief_unit_of_work_waits_for_another_writer_without_stopping_the_loop(
    engine: AsyncEngine, keyring: Keyring, settings: Settings
) -> None:
    """Another process holds SQLite's lock: the brief unit of work's BEGIN on the loop
    fails at once, and it waits for the lock on aiosqlite's thread (busy timeout) while
    the event loop carries on."""
    other = sqlite3.connect(str(make_url(settings.database.url).database), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    uow = make_uow_factory(engine, keyring)
    began = asyncio.Event()

    async def brief_write() -> None:
        async with uow(brief=True) as unit:
            began.set()
            await unit.homes.add(NewHome.parse("AB124", "Ash House", "", 20), AT)
            await unit.commit()

    task = asyncio.create_task(brief_write())
    ticks = 0
    while ticks < 20:  # the loop turns while the unit of work waits for the lock
        await asyncio.sleep(0.01)
        ticks += 1
        assert not began.is_set()
    other.execute("COMMIT")
    other.close()
    await task
    async with uow() as unit:
        assert [h.code for h in await unit.homes.list()] == ["AB124"]


@pytest.mark.usefixtures("sqlite_only")
async def test_a_failed_brief_unit_of_work_writes_nothing_and_frees_its_connection(
    engine: AsyncEngine, keyring: Keyring
) -> None:
    uow = make_uow_factory(engine, keyring)
    with pytest.raises(RuntimeError):
        async with uow(brief=True) as unit:
            await unit.homes.add(NewHome.parse("AB125", "Elm Lodge", "", 30), AT)
            raise RuntimeError("the request failed half-way")
    async with uow() as unit:
        driver = await loop_sqlite(unit.homes.conn)  # type: ignore[attr-defined]
        assert driver is not None and not driver.on_loop
        assert await unit.homes.list() == []


@pytest.mark.usefixtures("sqlite_only")
async def test_a_brief_unit_of_work_that_runs_long_is_logged(
    engine: AsyncEngine,
    keyring: Keyring,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(uow_module, "BRIEF_WARN_S", 0.0)
    uow = make_uow_factory(engine, keyring)
    with caplog.at_level(logging.WARNING, logger="hub.store.uow"):
        async with uow(brief=True) as unit:
            await unit.homes.list()
    assert "a brief unit of work ran" in caplog.text


async def test_brief_or_not_a_unit_of_work_sees_and_commits_the_same(
    engine: AsyncEngine, keyring: Keyring
) -> None:
    """On both databases: the flag changes where statements run, never what they do."""
    uow = make_uow_factory(engine, keyring)
    async with uow(brief=True) as unit:
        await unit.homes.add(NewHome.parse("AB126", "Oak View", "", 10), AT)
        await unit.commit()
    async with uow() as unit:
        await unit.homes.add(NewHome.parse("AB127", "Yew Court", "", 12), AT)
        await unit.commit()
    async with uow(brief=True) as unit:
        listed = await unit.homes.list()
    assert sorted(h.code for h in listed) == ["AB126", "AB127"]


@pytest.mark.usefixtures("sqlite_only")
async def test_a_lock_held_past_the_busy_timeout_is_a_503_not_an_error(
    engine: AsyncEngine, keyring: Keyring, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Brief or not: another process that keeps SQLite's lock past the busy timeout
    makes the unit of work say "busy" (HTTP 503), and it wrote nothing."""
    other = sqlite3.connect(str(make_url(settings.database.url).database), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 50)  # SQLite's wait, 30 s in service
    quick = db.create_engine(settings.database.url)
    uow = make_uow_factory(quick, keyring)
    try:
        for brief in (True, False):
            with pytest.raises(Unavailable) as refused:
                async with uow(brief=brief) as unit:
                    await unit.homes.add(NewHome.parse("AB128", "Fir Grove", "", 9), AT)
                    await unit.commit()
            assert str(refused.value) == BUSY
    finally:
        other.execute("ROLLBACK")
        other.close()
        await quick.dispose()
    async with make_uow_factory(engine, keyring)() as unit:
        assert await unit.homes.list() == []
