"""Schema only through Alembic; the app refuses an out-of-date database."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from hub.store.db import SchemaOutOfDate, create_engine
from hub.store.migrate import alembic_config, check_current, revisions, upgrade
from hub.store.tables import metadata


@pytest.mark.empty_database
async def test_fresh_database_is_refused_with_the_fix_named(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with pytest.raises(SchemaOutOfDate, match=r"has no schema yet.*run `telehub migrate`"):
            await check_current(engine)
        await upgrade(engine)
        await check_current(engine)
        current, head = await revisions(engine)
        assert current == head is not None
    finally:
        await engine.dispose()


async def test_tables_match_the_migrations(engine) -> None:  # type: ignore[no-untyped-def]
    def diff(conn: Connection) -> list[object]:
        return compare_metadata(MigrationContext.configure(conn), metadata)

    async with engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_migrations_downgrade_and_upgrade_again(engine) -> None:  # type: ignore[no-untyped-def]
    def down(conn: Connection) -> None:
        command.downgrade(alembic_config(conn), "base")

    async with engine.begin() as conn:
        await conn.run_sync(down)
    with pytest.raises(SchemaOutOfDate):
        await check_current(engine)
    await upgrade(engine)
    await check_current(engine)
