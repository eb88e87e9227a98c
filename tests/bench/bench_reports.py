"""Report figures (issue 4): the full dashboard over many consultations, aggregated in
SQL, on SQLite and on PostgreSQL; and ``import-calls`` throughput.

Data: 500 care homes, one resident each (reports do not care), N consultations spread
over a year with realistic flags. Rows are bulk-inserted for the dashboard timings; the
import figure runs the real ``import_calls`` path (parse, validate, derive, insert) on
a CSV of its own.
"""

from __future__ import annotations

import asyncio
import io
import random
import sys
import tempfile
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import create_async_engine

from hub import settings as settings_mod
from hub.access import SYSTEM
from hub.call_import import import_calls
from hub.clock import SystemClock
from hub.context import HubContext
from hub.reports import ReportQuery, build
from hub.store import tables as t
from hub.store.bootstrap import keyring_from, make_uow_factory, resolve_secrets
from hub.store.db import create_engine
from hub.store.migrate import upgrade
from hub.tariffs import load_tariffs
from tests.bench.livehub import nhs_numbers, now

PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
HOMES = 500
YEAR_START = datetime(2025, 1, 1, tzinfo=UTC)
OUTCOMES = (
    "managed_advice",
    "managed_medication",
    "gp_in_hours",
    "gp_out_of_hours",
    "community_team",
    "called_999_conveyed",
    "sent_to_ae",
    "admitted_direct",
)


async def fresh_context(url: str, tmp: Path) -> tuple[HubContext, object]:
    settings = resolve_secrets(
        settings_mod.load(
            overrides={"database": {"url": url}, "security": {"keys_file": str(tmp / "keys.toml")}}
        )
    )
    engine = create_engine(url)
    await upgrade(engine)
    keyring = keyring_from(settings)
    return HubContext(make_uow_factory(engine, keyring), SystemClock(), keyring, settings), engine


async def seed(engine, n: int) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(4)
    created = YEAR_START
    async with engine.begin() as conn:
        await conn.execute(
            insert(t.care_homes),
            [
                {
                    "id": i + 1,
                    "code": f"H{i:05d}",
                    "name": f"Home {i:03d}",
                    "address": "",
                    "beds": 40,
                    "created_at": created,
                }
                for i in range(HOMES)
            ],
        )
        await conn.execute(
            insert(t.residents),
            [
                {
                    "id": i + 1,
                    "home_id": i + 1,
                    "given_name": "R",
                    "family_name": str(i),
                    "date_of_birth": date(1930, 1, 1),
                    "nhs_number": nhs,
                    "dnacpr": False,
                    "end_of_life": False,
                    "created_at": created,
                }
                for i, nhs in enumerate(nhs_numbers(HOMES))
            ],
        )
        batch = []
        for i in range(n):
            home = rng.randrange(HOMES) + 1
            at = YEAR_START + timedelta(seconds=rng.randrange(365 * 86400))
            wait = timedelta(seconds=rng.lognormvariate(5, 0.6))
            batch.append(
                {
                    "id": i + 1,
                    "home_id": home,
                    "resident_id": home,
                    "state": "ended",
                    "reason": "fall",
                    "soft_signs": [],
                    "observations": {},
                    "intention": "ae",
                    "requested_at": at,
                    "answered_at": at + wait,
                    "ended_at": at + wait + timedelta(minutes=12),
                    "outcome": rng.choice(OUTCOMES),
                    "attributable": rng.random() < 0.95,
                    "avoided_ae": rng.random() < 0.4,
                    "avoided_999": rng.random() < 0.3,
                    "avoided_conveyance": rng.random() < 0.3,
                    "avoided_admission": rng.random() < 0.15,
                    "avoided_gp": rng.random() < 0.1,
                }
            )
            if len(batch) == 20_000:
                await conn.execute(insert(t.consultations), batch)
                batch = []
        if batch:
            await conn.execute(insert(t.consultations), batch)


async def time_dashboards(label: str, ctx: HubContext) -> None:
    tariffs = load_tariffs()
    year = ReportQuery(date(2025, 1, 1), date(2025, 12, 31))
    month = ReportQuery(date(2025, 6, 1), date(2025, 6, 30), home_id=7)
    for name, q in (("full year, all homes", year), ("one home, one month", month)):
        await build(ctx, SYSTEM, q, tariffs)  # warm caches once
        samples = []
        for _ in range(3):
            t0 = now()
            report = await build(ctx, SYSTEM, q, tariffs)
            samples.append(now() - t0)
        print(
            f"{label}: dashboard, {name}: best {min(samples):.3f} s "
            f"(of 3; {report.counts.calls:,} calls)",
            flush=True,
        )


async def time_import(ctx: HubContext, rows: int) -> None:
    rng = random.Random(9)
    numbers = nhs_numbers(HOMES)
    out = io.StringIO()
    out.write(
        "home_code,nhs_number,requested_at,answered_at,ended_at,reason,intention,"
        "outcome,admission_judgement\n"
    )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(rows):
        home = i % HOMES
        at = start + timedelta(minutes=i)
        out.write(
            f"H{home:05d},{numbers[home]},{at.isoformat()},"
            f"{(at + timedelta(minutes=3)).isoformat()},"
            f"{(at + timedelta(minutes=15)).isoformat()},fall,ae,"
            f"{rng.choice(OUTCOMES)},yes\n"
        )
    lines = out.getvalue().splitlines(keepends=True)
    t0 = now()
    result = await import_calls(ctx, SYSTEM, lines)
    elapsed = now() - t0
    print(
        f"import-calls: {result.imported:,} rows in {elapsed:.1f} s = "
        f"{result.imported / elapsed:,.0f} rows/s (parse, validate, derive, insert)",
        flush=True,
    )


async def run(quick: bool) -> None:
    n = 100_000 if quick else 1_000_000
    imports = 20_000 if quick else 100_000
    tmp = Path(tempfile.mkdtemp(prefix="telehub-bench-reports-"))
    print(f"{n:,} consultations across {HOMES} homes", flush=True)
    ctx, engine = await fresh_context(f"sqlite+aiosqlite:///{tmp / 'r.db'}", tmp)
    t0 = now()
    await seed(engine, n)
    print(f"sqlite: bulk seed {now() - t0:.1f} s", flush=True)
    await time_dashboards("sqlite", ctx)
    await time_import(ctx, imports)
    await engine.dispose()  # type: ignore[attr-defined]

    name = f"telehub_bench_{uuid.uuid4().hex[:8]}"
    server = create_async_engine(PG, isolation_level="AUTOCOMMIT")
    try:
        async with server.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OSError:
        print("postgresql: not reachable on 127.0.0.1:5432, skipped")
        return
    try:
        url = PG.rsplit("/", 1)[0] + f"/{name}"
        ctx, engine = await fresh_context(url, tmp)
        t0 = now()
        await seed(engine, n)
        async with engine.begin() as conn:  # type: ignore[attr-defined]
            await conn.execute(text("ANALYZE consultations"))
        print(f"postgresql: bulk seed {now() - t0:.1f} s", flush=True)
        await time_dashboards("postgresql", ctx)
        await engine.dispose()  # type: ignore[attr-defined]
    finally:
        async with server.connect() as conn:
            await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        await server.dispose()


def main(quick: bool = False) -> None:
    asyncio.run(run(quick))


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
