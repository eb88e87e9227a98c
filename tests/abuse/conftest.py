"""The abuse suite's fixtures.

``world`` (tests/abuse/world.py): two care homes and everyone who may or may not reach
them, built once per session into a copy of the migrated template and copied again for
each test that asks for it — as every test gets a copy of the migrated database — so a
hostile request always meets the same, untouched world. Its keys (notes, audit) are
fixed for the session, since the world's sealed TOTP secrets must open in every copy.

The signalling fixtures (real WebSockets against the real app) are imported as they
are, not moved.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hub.cipher import Keyring
from hub.clock import FixedClock
from hub.context import HubContext
from hub.settings import Settings
from hub.store.bootstrap import make_uow_factory
from hub.store.db import create_engine
from tests.abuse.world import Seed, World, seed, world_of
from tests.conftest import PG_URL, WORKER, _pg_url, _run, _server_sql
from tests.signalling.conftest import (  # noqa: F401  (pytest finds fixtures by name)
    clinician,
    peers,
    reconnect,
    resident,
    tablet,
    waiting_call,
)


@pytest.fixture(scope="session")
def world_keys() -> dict[str, Any]:
    """The notes and audit keys of every copy of the world (its TOTP secrets are sealed
    with them)."""
    return {
        "notes_key_id": "k1",
        "notes_keys": {"k1": Keyring.new_key_b64()},
        "audit_key": Keyring.new_key_b64(),
    }


@pytest.fixture
def settings(settings: Settings, world_keys: dict[str, Any]) -> Settings:
    return settings.replace("crypto", **world_keys)


def _seeded(url: str, settings: Settings, start: FixedClock) -> Seed:
    found: list[Seed] = []

    async def build() -> None:
        engine = create_engine(url)
        try:
            c = settings.crypto
            keyring = Keyring.from_b64(c.notes_keys, c.notes_key_id, c.audit_key)
            ctx = HubContext(make_uow_factory(engine, keyring), start, keyring, settings)
            found.append(await seed(ctx))
        finally:
            await engine.dispose()

    _run(build)
    return found[0]


@pytest.fixture(scope="session")
def world_template(
    migrated_template: str, tmp_path_factory: pytest.TempPathFactory, world_keys: dict[str, Any]
) -> Iterator[tuple[str, Seed]]:
    """The world, seeded once: a SQLite file's path or a PostgreSQL database's name."""
    from hub import settings as settings_mod
    from tests.conftest import CHEAP_PASSWORD_HASHING

    start = FixedClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))  # the ``clock`` fixture's now
    if not PG_URL:
        path = tmp_path_factory.mktemp("abuse") / "world.db"
        shutil.copyfile(migrated_template, path)
        url = f"sqlite+aiosqlite:///{path}"
        name = str(path)
    else:
        name = f"telehub_abuse_{WORKER}_{uuid.uuid4().hex[:8]}"
        _run(lambda: _server_sql(f'CREATE DATABASE "{name}" TEMPLATE "{migrated_template}"'))
        url = _pg_url(name)
    overrides: dict[str, dict[str, Any]] = {
        "database": {"url": url},
        "security": {"secret_key": "seed", **CHEAP_PASSWORD_HASHING},
        "crypto": world_keys,
    }
    try:
        world = _seeded(url, settings_mod.load(overrides=overrides), start)
        assert PG_URL or not Path(f"{name}-wal").exists(), "the world's WAL was not checkpointed"
        yield name, world
    finally:
        if PG_URL:
            _run(lambda: _server_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_template: str
) -> AsyncIterator[str]:
    """A copy of the world for tests that ask for ``world``; else, as everywhere, a copy
    of the migrated template."""
    seeded = "world" in request.fixturenames
    template = request.getfixturevalue("world_template")[0] if seeded else migrated_template
    if not PG_URL:
        path = tmp_path / "test.db"
        shutil.copyfile(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    name = f"telehub_t_{uuid.uuid4().hex[:12]}"
    await _server_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield _pg_url(name)
    await _server_sql(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
async def world(client, engine, world_template, peers) -> World:  # type: ignore[no-untyped-def]  # noqa: F811
    return world_of(world_template[1], client, engine, peers)
