"""Shared fixtures: a real, migrated database (SQLite file, or PostgreSQL when
TELEHUB_TEST_DATABASE_URL is set), a fixed clock, and a HubContext on top.

Migrations run once per session (per xdist worker), into a template: a SQLite file
copied for each test, or a PostgreSQL database each test's database is created from
(``CREATE DATABASE … TEMPLATE …``). Every test still gets a database of its own. A test
marked ``empty_database`` gets an empty one instead, to run migrations itself.
Password hashing uses the cheapest Argon2 parameters (``CHEAP_PASSWORD_HASHING``),
through the settings, as production uses its own."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hub import settings as settings_mod
from hub.cipher import Keyring
from hub.clock import FixedClock
from hub.context import HubContext
from hub.people.access import SYSTEM, Role, Skill
from hub.people.admin import add_resident, create_home, create_staff
from hub.people.homes import NewHome
from hub.people.residents import ResidentDetails
from hub.people.staff import NewStaff
from hub.settings import Settings
from hub.store import db as store_db
from hub.store.bootstrap import make_uow_factory
from hub.store.db import create_engine
from hub.store.migrate import upgrade

PG_URL = os.environ.get("TELEHUB_TEST_DATABASE_URL", "")
PASSWORD = "correct horse battery staple"
# The cheapest Argon2id parameters argon2-cffi allows (argon2.profiles.CHEAPEST's
# costs): still real Argon2id hashes, at a fraction of a millisecond instead of ~0.1 s.
CHEAP_PASSWORD_HASHING = {
    "password_time_cost": 1,
    "password_memory_kib": 8,
    "password_parallelism": 1,
}
# The same, for tests that write a config file for a `telehub` subprocess.
CHEAP_PASSWORD_TOML = "".join(f"{k} = {v}\n" for k, v in CHEAP_PASSWORD_HASHING.items())
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


# The browser modules that keep both cores busy by themselves: three or four browsers
# encoding, encrypting and decoding video at once, or a link whose quality is graded in
# real time. ``make test`` runs one worker more than there are cores (the other browser
# tests spend much of their time waiting on real time), and these run one after another
# on one worker, never beside each other.
HEAVY_MEDIA = frozenset(
    {
        "tests/browser/test_guest_call_browser.py",
        "tests/browser/test_network_faults_browser.py",
        "tests/browser/test_relay_e2ee_browser.py",
    }
)


def _test_file(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The ``HEAVY_MEDIA`` files first: the longest unit of work starts at once, and the
    many small ones that follow fill the other workers' time around it."""
    items.sort(key=lambda item: _test_file(item.nodeid) not in HEAVY_MEDIA)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadfile``, except that the ``HEAVY_MEDIA`` files are one unit of work."""
    if config.getoption("dist") != "loadfile":
        return None  # pytest-xdist's own choice
    from xdist.scheduler import LoadScopeScheduling

    class FileScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            path = _test_file(nodeid)
            return "heavy media" if path in HEAVY_MEDIA else path

    return FileScheduling(config, log)


def _run(make: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a coroutine to completion on a loop of its own (in a thread, so whatever
    event loop pytest-asyncio has set up is left alone)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, make()).result()


async def _migrate(url: str) -> None:
    eng = create_engine(url)
    try:
        await upgrade(eng)
    finally:
        await eng.dispose()


async def _server_sql(*statements: str) -> None:
    server = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with server.connect() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await server.dispose()


def _pg_url(name: str) -> str:
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session", autouse=True)
def one_sql_compilation_per_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every SQLite engine the tests make (thousands: one or two a test, the app's and
    the fixtures') shares one dialect and one compiled-statement cache, so a statement
    is compiled once per test process, not once per test. SQLAlchemy keys its statement
    cache by the dialect object, so a new engine compiles every statement again: 12–18 %
    of ``tests/web`` and ``tests/hub`` in one process (docs/testing.md). Production makes
    one engine per process and needs none of this. The shared dialect is one that has
    connected once (SQLAlchemy initialises a dialect at its engine's first connection);
    each engine's own connection set-up (``hub.store.db``'s pragmas) is untouched."""
    if PG_URL:
        yield
        return
    path = tmp_path_factory.mktemp("dialect") / "first.db"
    first = create_engine(f"sqlite+aiosqlite:///{path}")

    async def connect_once() -> None:
        async with first.connect():
            pass
        await first.dispose()

    _run(connect_once)
    dialect, cache = first.sync_engine.dialect, first.sync_engine._compiled_cache

    def sharing(url: Any, **kwargs: Any) -> AsyncEngine:
        engine = create_async_engine(url, **kwargs)
        if make_url(url).get_backend_name() == "sqlite":
            engine.sync_engine.dialect = dialect
            engine.sync_engine._compiled_cache = cache
        return engine

    with pytest.MonkeyPatch.context() as patch:
        # What hub.store.db makes every engine with (SQLAlchemy's, imported there).
        patch.setattr(store_db, "create_async_engine", sharing)
        yield


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Migrated once per session: a SQLite file's path, or a PostgreSQL database's name."""
    if not PG_URL:
        path = tmp_path_factory.mktemp("template") / "migrated.db"
        _run(lambda: _migrate(f"sqlite+aiosqlite:///{path}"))
        assert not Path(f"{path}-wal").exists(), "the template's WAL was not checkpointed"
        yield str(path)
        return
    name = f"telehub_tpl_{WORKER}_{uuid.uuid4().hex[:8]}"
    _run(lambda: _server_sql(f'CREATE DATABASE "{name}"'))
    try:
        _run(lambda: _migrate(_pg_url(name)))
        yield name
    finally:
        _run(lambda: _server_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_template: str
) -> AsyncIterator[str]:
    """A database of this test's own, migrated to head (a copy of the template), or
    empty when the test is marked ``empty_database``."""
    empty = request.node.get_closest_marker("empty_database") is not None
    if not PG_URL:
        path = tmp_path / "test.db"
        if not empty:
            shutil.copyfile(migrated_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    name = f"telehub_t_{uuid.uuid4().hex[:12]}"
    template = "" if empty else f' TEMPLATE "{migrated_template}"'
    await _server_sql(f'CREATE DATABASE "{name}"{template}')
    yield _pg_url(name)
    await _server_sql(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return settings_mod.load(
        overrides={
            "database": {"url": database_url},
            "security": {
                "secret_key": "test-secret",
                "keys_file": str(tmp_path / "k.toml"),
                **CHEAP_PASSWORD_HASHING,
            },
            "crypto": {
                "notes_key_id": "k1",
                "notes_keys": {"k1": Keyring.new_key_b64()},
                "audit_key": Keyring.new_key_b64(),
            },
        }
    )


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """The test's database, already migrated (see ``database_url``)."""
    eng = create_engine(settings.database.url)
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


class TemplateCache(jinja2.BytecodeCache):
    """Compiled templates kept in memory for every app a test process makes (keyed by
    Jinja on the template's name and source: an edited template compiles again)."""

    def __init__(self) -> None:
        self._compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if (code := self._compiled.get(bucket.key)) is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._compiled[bucket.key] = bucket.bytecode_to_string()


@pytest.fixture(scope="session")
def template_cache() -> TemplateCache:
    return TemplateCache()


@pytest.fixture
async def client(  # type: ignore[no-untyped-def]
    aiohttp_client,
    settings: Settings,
    engine: AsyncEngine,
    clock: FixedClock,
    template_cache: TemplateCache,
):
    """The real app on a real migrated database, through aiohttp's test client."""
    from web.app import create_app

    return await aiohttp_client(create_app(settings, clock=clock, template_cache=template_cache))
