"""A real telehub server (subprocess) on a temp database, and real headless Chromium."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from hub import settings as settings_mod
from hub.clock import SystemClock
from hub.context import HubContext
from hub.people.access import SYSTEM
from hub.people.admin import add_resident, create_home, create_staff
from hub.people.enrolment import issue_code
from hub.people.homes import NewHome
from hub.people.residents import ResidentDetails
from hub.people.staff import NewStaff
from hub.store.bootstrap import keyring_from, make_uow_factory, resolve_secrets
from hub.store.db import create_engine
from hub.store.migrate import upgrade
from tests.browser.browser_log import BrowserLog
from tests.conftest import CHEAP_PASSWORD_TOML

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct horse battery staple"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def run_async(coro: Any) -> Any:
    """Run a coroutine to completion on its own thread: Playwright's sync API already
    owns an event loop in this one."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    config: Path
    proc: subprocess.Popen[str]
    data: dict[str, Any] = field(default_factory=dict)

    def enrolment_code(self, home: str = "Rose Court") -> str:
        return str(run_async(_issue(self.config, self.data["homes"][home])))


async def _context(config: Path) -> tuple[HubContext, Any]:
    settings = resolve_secrets(settings_mod.load(config))
    engine = create_engine(settings.database.url)
    keyring = keyring_from(settings)
    return HubContext(make_uow_factory(engine, keyring), SystemClock(), keyring, settings), engine


async def _issue(config: Path, home_id: int) -> str:
    ctx, engine = await _context(config)
    try:
        return (await issue_code(ctx, SYSTEM, home_id, "Browser tablet")).code
    finally:
        await engine.dispose()


async def _seed(config: Path) -> dict[str, Any]:
    ctx, engine = await _context(config)
    try:
        await upgrade(engine)
        homes = {}
        for code, name in (("RC001", "Rose Court"), ("OH002", "Oak House")):
            homes[name] = (await create_home(ctx, SYSTEM, NewHome.parse(code, name, "", 30))).id
        today = ctx.clock.now().date()
        for home, given, nhs in (
            ("Rose Court", "Edna", "9434765919"),
            ("Rose Court", "Arthur", "4010232137"),
            ("Rose Court", "Mabel", "9990000018"),
            ("Oak House", "Walter", "9990000026"),
        ):
            await add_resident(
                ctx,
                SYSTEM,
                homes[home],
                ResidentDetails.parse(
                    given_name=given,
                    family_name="Smith",
                    date_of_birth="1931-04-02",
                    nhs_number=nhs,
                    today=today,
                ),
            )
        users = {}
        for username, role, skills in (
            ("ada", "admin", []),
            ("cleo", "clinician", ["clinician", "senior_clinician"]),
            ("bob", "clinician", ["clinician"]),
        ):
            user = await create_staff(
                ctx, SYSTEM, NewStaff.parse(username, username.capitalize(), role, skills), PASSWORD
            )
            users[username] = user.id
        return {"homes": homes, "users": users}
    finally:
        await engine.dispose()


def start_server(
    tmp: Path,
    extra_toml: str = "",
    *,
    test_hooks: bool = True,
    database_url: str = "",
    host: str = "127.0.0.1",
) -> LiveServer:
    """Seed a database (a SQLite file in ``tmp`` unless ``database_url`` names another)
    and serve it. ``test_hooks`` (server.test_hooks) lets the pages expose window.telehub*
    objects to the tests and benchmarks; production has it off. ``host``: the address it
    listens on (a test namespace's veth address for a browser inside that namespace)."""
    config = tmp / "telehub.toml"
    database_url = database_url or f"sqlite+aiosqlite:///{tmp / 'browser.db'}"
    config.write_text(
        f'[database]\nurl = "{database_url}"\n'
        f'[security]\nkeys_file = "{tmp / "keys.toml"}"\n'
        # Real Argon2id at its cheapest for the seeded staff and every login in the
        # browser (production's cost is a setting; nothing here measures it).
        f"{CHEAP_PASSWORD_TOML}{extra_toml}"
    )
    data = run_async(_seed(config))
    port = free_port()
    proc = _serve(config, port, test_hooks=test_hooks, host=host)
    return LiveServer(f"http://{host}:{port}", config, proc, data)


def kill_and_restart(server: LiveServer, log_name: str = "server.log") -> None:
    """``kill -9`` the server (no shutdown of any kind), then serve the same database on
    the same port again, as a supervisor would restart it."""
    server.proc.kill()
    server.proc.wait(timeout=10)
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    server.proc = _serve(
        server.config, int(port), test_hooks=True, append=True, log_name=log_name, host=host
    )


def serve_another(server: LiveServer, name: str) -> LiveServer:
    """A second process serving the same config (database, bus, keys) on a port of its
    own, logging to ``<name>.log``: another node of the same telehub."""
    port = free_port()
    proc = _serve(server.config, port, test_hooks=True, log_name=f"{name}.log")
    return LiveServer(f"http://127.0.0.1:{port}", server.config, proc, server.data)


def _serve(
    config: Path,
    port: int,
    *,
    test_hooks: bool,
    append: bool = False,
    log_name: str = "server.log",
    host: str = "127.0.0.1",
) -> subprocess.Popen[str]:
    tmp = config.parent
    log_path = tmp / log_name
    # A restart appends to the log: count the "listening" lines already there.
    started_before = _listening_lines(log_path) if append else 0
    log = log_path.open("a" if append else "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "web.cli.commands",
            "--config",
            str(config),
            "serve",
            "--host",
            host,
            "--port",
            str(port),
        ],
        cwd=tmp,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "TELEHUB_SERVER_TEST_HOOKS": "true" if test_hooks else "false",
        },
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://{host}:{port}"
    deadline = time.monotonic() + 60  # bounded; a loaded machine starts slowly
    while True:
        # Only once this process says it listens: free_port() gave the port back to the
        # kernel, and under load another worker's server can take it first; its
        # /healthz would answer for ours (and this test would talk to a stranger).
        if _listening_lines(log_path) > started_before:
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=1).close()
                break
            except OSError:
                pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"telehub did not come up: {log_path.read_text()}")
        try:  # not listening yet: wait for it to die (at once) or to try again shortly
            proc.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            continue
        raise RuntimeError(f"telehub died: {log_path.read_text()}")
    return proc


def _listening_lines(log: Path) -> int:
    """How many times the server logging to ``log`` has said it listens (its socket is
    bound: telehub serve prints this once its site has started)."""
    try:
        return log.read_text(errors="replace").count("telehub listening on ")
    except FileNotFoundError:
        return 0


def stop_server(server: LiveServer) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.proc.kill()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(tmp_path_factory.mktemp("live"))
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Module-scoped on purpose: Playwright's sync API keeps an event loop running on
    this thread while it is open, which would break every async test after it."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make system-deps installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield BrowserLog.attach(b)
        b.close()
