"""Shared fixtures: a real, migrated database (SQLite file, or PostgreSQL when
TELEHUB_TEST_DATABASE_URL is set), a fixed clock, and a HubContext on top."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hub import settings as settings_mod
from hub.access import SYSTEM, Role, Skill
from hub.admin import add_resident, create_home, create_staff
from hub.cipher import Keyring
from hub.clock import FixedClock
from hub.context import HubContext
from hub.homes import NewHome
from hub.residents import ResidentDetails
from hub.settings import Settings
from hub.staff import NewStaff
from hub.store.bootstrap import make_uow_factory
from hub.store.db import create_engine
from hub.store.migrate import upgrade

PG_URL = os.environ.get("TELEHUB_TEST_DATABASE_URL", "")
PASSWORD = "correct horse battery staple"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))


@pytest.fixture
async def database_url(tmp_path: Path) -> AsyncIterator[str]:
    """A fresh empty database per test: a SQLite file, or a new PostgreSQL database."""
    if not PG_URL:
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    name = f"telehub_t_{uuid.uuid4().hex[:12]}"
    server = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with server.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    async with server.connect() as conn:
        await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    await server.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return settings_mod.load(
        overrides={
            "database": {"url": database_url},
            "security": {"secret_key": "test-secret", "keys_file": str(tmp_path / "k.toml")},
            "crypto": {
                "notes_key_id": "k1",
                "notes_keys": {"k1": Keyring.new_key_b64()},
                "audit_key": Keyring.new_key_b64(),
            },
        }
    )


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(settings.database.url)
    await upgrade(eng)
    yield eng
    await eng.dispose()


@pytest.fixture
def keyring(settings: Settings) -> Keyring:
    c = settings.crypto
    return Keyring.from_b64(c.notes_keys, c.notes_key_id, c.audit_key)


@pytest.fixture
def ctx(engine: AsyncEngine, clock: FixedClock, keyring: Keyring, settings: Settings) -> HubContext:
    return HubContext(make_uow_factory(engine, keyring), clock, keyring, settings)


@pytest.fixture
async def home(ctx: HubContext):  # type: ignore[no-untyped-def]
    return await create_home(ctx, SYSTEM, NewHome.parse("AB123", "Rose Court", "1 Lane", 40))


@pytest.fixture
async def other_home(ctx: HubContext):  # type: ignore[no-untyped-def]
    return await create_home(ctx, SYSTEM, NewHome.parse("CD456", "Oak House", "2 Road", 30))


@pytest.fixture
async def other_resident(ctx: HubContext, clock: FixedClock, other_home):  # type: ignore[no-untyped-def]
    """Al Jones of Oak House: a resident that home A's accounts must never reach."""
    details = ResidentDetails.parse(
        given_name="Al",
        family_name="Jones",
        date_of_birth="1940-01-01",
        nhs_number="4010232137",
        today=clock.now().date(),
    )
    return await add_resident(ctx, SYSTEM, other_home.id, details)


@pytest.fixture
async def admin_user(ctx: HubContext):  # type: ignore[no-untyped-def]
    new = NewStaff.parse("ada", "Ada Admin", Role.ADMIN.value, [])
    return await create_staff(ctx, SYSTEM, new, PASSWORD)


@pytest.fixture
async def clinician_user(ctx: HubContext):  # type: ignore[no-untyped-def]
    new = NewStaff.parse(
        "cleo",
        "Cleo Clinician",
        Role.CLINICIAN.value,
        [Skill.CLINICIAN.value, Skill.SENIOR_CLINICIAN.value],
    )
    return await create_staff(ctx, SYSTEM, new, PASSWORD)


@pytest.fixture
async def client(aiohttp_client, settings: Settings, engine: AsyncEngine, clock: FixedClock):  # type: ignore[no-untyped-def]
    """The real app on a real migrated database, through aiohttp's test client."""
    from web.app import create_app

    return await aiohttp_client(create_app(settings, clock=clock))
