"""Shared set-up for benchmarks: a real telehub subprocess with enrolled tablets and
logged-in clinicians, on a fresh SQLite database."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pyotp

from hub import settings as settings_mod
from hub.clock import SystemClock
from hub.context import HubContext
from hub.people import auth, enrolment
from hub.people.access import SYSTEM
from hub.people.admin import add_resident, create_home, create_staff
from hub.people.auth import totp_context
from hub.people.homes import NewHome
from hub.people.residents import ResidentDetails
from hub.people.staff import NewStaff
from hub.store.bootstrap import keyring_from, make_uow_factory, resolve_secrets
from hub.store.db import create_engine
from hub.store.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "benchmark password 1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def nhs_numbers(n: int) -> list[str]:
    from nhs_number.validate import calculate_checksum

    out: list[str] = []
    stem = 999_000_000
    while len(out) < n:
        stem += 1
        check = calculate_checksum(str(stem))
        if check is not None and check != 10:
            out.append(f"{stem}{check}")
    return out


@dataclass
class LiveHub:
    url: str
    proc: subprocess.Popen[bytes]
    tablets: list[dict[str, str]] = field(default_factory=list)
    clinicians: list[dict[str, str]] = field(default_factory=list)
    residents: list[int] = field(default_factory=list)
    database: Path | None = None  # the SQLite file it serves from

    def database_mb(self) -> float:
        """The database's size on disk (its file and write-ahead log), in MB."""
        assert self.database is not None
        files = [self.database, self.database.with_name(self.database.name + "-wal")]
        return sum(f.stat().st_size for f in files if f.exists()) / 2**20

    def ws_url(self) -> str:
        return self.url.replace("http", "ws") + "/ws"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


HOME_SIZE = 30  # residents (and tablets) per bench care home


async def start(
    tablets: int, clinicians: int, extra_toml: str = "", database_toml: str = ""
) -> LiveHub:
    """``extra_toml``: more configuration sections; ``database_toml``: more keys of its
    ``[database]`` section (e.g. ``sqlite_cache_mb = 1``)."""
    tmp = Path(tempfile.mkdtemp(prefix="telehub-bench-"))
    config = tmp / "bench.toml"
    config.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp / "bench.db"}"\n{database_toml}'
        f'[security]\nkeys_file = "{tmp / "keys.toml"}"\n{extra_toml}'
    )
    settings = resolve_secrets(settings_mod.load(config))
    engine = create_engine(settings.database.url)
    await upgrade(engine)
    keyring = keyring_from(settings)
    ctx = HubContext(make_uow_factory(engine, keyring), SystemClock(), keyring, settings)
    # Care homes of HOME_SIZE residents, each with a tablet per resident: a home's
    # tablet page lists its own residents only, as in a real hub (one home of 900 would
    # make every tablet page read 900 residents).
    homes = [
        await create_home(
            ctx, SYSTEM, NewHome.parse(f"BENCH{h + 1}", f"Bench House {h + 1}", "", 999)
        )
        for h in range(max(1, -(-tablets // HOME_SIZE)))
    ]
    today = ctx.clock.now().date()
    hub = LiveHub("", None, database=tmp / "bench.db")  # type: ignore[arg-type]
    for i, nhs in enumerate(nhs_numbers(tablets)):
        home = homes[i // HOME_SIZE]
        r = await add_resident(
            ctx,
            SYSTEM,
            home.id,
            ResidentDetails.parse(
                given_name=f"Resident{i}",
                family_name="Bench",
                date_of_birth="1930-01-01",
                nhs_number=nhs,
                today=today,
            ),
        )
        hub.residents.append(r.id)
        code = await enrolment.issue_code(ctx, SYSTEM, home.id, f"Tablet {i}")
        hub.tablets.append({"th_device": (await enrolment.enrol(ctx, code.code)).token})
    for i in range(clinicians):
        user = await create_staff(
            ctx,
            SYSTEM,
            NewStaff.parse(f"bench{i:03d}", f"Bench {i}", "clinician", ["clinician"]),
            PASSWORD,
        )
        step = await auth.login_password(ctx, user.username, PASSWORD)
        async with ctx.uow() as uow:
            sealed = (await uow.staff.credentials(user.id)).totp_secret_sealed
        assert sealed is not None
        secret = keyring.open(sealed, totp_context(user.id))
        done = await auth.login_totp(ctx, step.token, pyotp.TOTP(secret).now())
        hub.clinicians.append({"th_session": done.token})
    await engine.dispose()
    port = free_port()
    hub.url = f"http://127.0.0.1:{port}"
    hub.proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "web.cli.commands",
            "--config",
            str(config),
            "serve",
            "--port",
            str(port),
        ],
        cwd=tmp,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=(tmp / "server.log").open("w"),
    )
    async with aiohttp.ClientSession() as s:
        deadline = time.monotonic() + 60  # bounded; a loaded machine starts slowly
        while True:
            try:
                async with s.get(f"{hub.url}/healthz") as resp:
                    if resp.status == 200:
                        break
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline or hub.proc.poll() is not None:
                raise RuntimeError(f"telehub did not start: see {tmp / 'server.log'}")
            await asyncio.sleep(0.05)
    return hub


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def now() -> float:
    return time.perf_counter()
