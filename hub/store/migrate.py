"""Alembic, driven from code: ``telehub migrate`` and the start-up schema check."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.resources import package_directory
from hub.store.db import SchemaOutOfDate


def migrations_directory() -> Path:
    """The Alembic script directory, shipped inside the ``hub.store`` package."""
    return package_directory("hub.store", "migrations")


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_directory()))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    def run(conn: Connection) -> None:
        command.upgrade(alembic_config(conn), revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)


async def revisions(engine: AsyncEngine) -> tuple[str | None, str | None]:
    """(current revision of the database, newest revision this code knows)."""

    def read(conn: Connection) -> str | None:
        return MigrationContext.configure(conn).get_current_revision()

    async with engine.connect() as conn:
        current = await conn.run_sync(read)
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    return current, head


async def check_current(engine: AsyncEngine, fix_command: str = "telehub migrate") -> None:
    current, head = await revisions(engine)
    if current != head:
        state = "has no schema yet" if current is None else f"is at revision {current}"
        raise SchemaOutOfDate(
            f"the database {state}, but this telehub needs revision {head}: "
            f"run `{fix_command}` first"
        )
