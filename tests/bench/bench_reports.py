"""Report figures (issue 4): the manager dashboard over 1,000,000 consultations across
500 care homes, on SQLite and on PostgreSQL; and ``import-calls`` throughput.

For each database: bulk-load a year of consultations (driver-level executemany on
SQLite, COPY on PostgreSQL), rebuild the daily report rollup from them (``telehub report
rebuild-rollup``), then time the full dashboard (``hub.reports.summary.build``) for the year
across all homes and for one home-month, from the rollup and — the baseline, measured in
the same run — from the consultation rows alone (``RowReports``); the two must agree.
Then: the cost of a closure write now that it keeps the rollup in step, and
``import_calls`` on a generated CSV file (the path ``telehub import-calls`` runs:
parse, validate, derive, insert, rollup), into the loaded database.

    python -m tests.bench [--quick] reports     (--quick: 100k rows and a 100k-row CSV)

Aim: the year's dashboard under 1 s on PostgreSQL; import at ~20k rows/s or better.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import sys
import tempfile
import uuid
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from tqdm import tqdm

from hub import settings as settings_mod
from hub.calls.imports import import_calls
from hub.clock import SystemClock
from hub.context import HubContext
from hub.outcomes.avoided import Avoided
from hub.outcomes.codes import AdmissionJudgement, FollowUp, Outcome, OutcomeCode
from hub.outcomes.tariffs import load_tariffs
from hub.people.access import SYSTEM
from hub.reports.summary import Report, ReportQuery, build, rebuild_rollup
from hub.store import tables as t
from hub.store.bootstrap import keyring_from, resolve_secrets
from hub.store.bulk import insert_rows
from hub.store.db import create_engine
from hub.store.migrate import upgrade
from hub.store.report_repository import RowReports, SqlReports
from hub.store.report_rollup import ROLLUP_TABLES
from hub.store.uow import SqlUnitOfWork
from tests.bench.livehub import nhs_numbers, now
from web.calls.call_log import CsvCallLog

PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
HOMES = 500
YEAR_START = datetime(2025, 1, 1, tzinfo=UTC)
REASONS = ("fall", "breathing", "chest_pain", "confusion", "infection", "pain", "other")
INTENTIONS = ("call_999", "ae", "urgent_gp", "call_111", "manage", None)
OUTCOMES = tuple(code.value for code in OutcomeCode)
# Busier by day than by night: relative demand for each hour of the day (UTC).
HOURLY = (2, 1, 1, 1, 1, 2, 4, 6, 8, 9, 9, 8, 8, 8, 8, 8, 8, 8, 7, 6, 5, 4, 3, 2)
COLUMNS = (
    "id",
    "home_id",
    "resident_id",
    "state",
    "reason",
    "soft_signs",
    "observations",
    "intention",
    "requested_at",
    "answered_at",
    "ended_at",
    "outcome",
    "follow_up",
    "admission_judgement",
    "attributable",
    "avoided_ae",
    "avoided_999",
    "avoided_conveyance",
    "avoided_admission",
    "avoided_gp",
)


class RowsUnitOfWork(SqlUnitOfWork):
    """The same unit of work with reports answered from the consultation rows only."""

    async def __aenter__(self):  # type: ignore[no-untyped-def]
        await super().__aenter__()
        self.reports = RowReports(self.reports.conn, self.reports.keyring)  # type: ignore[assignment]
        return self


async def fresh_context(url: str, tmp: Path) -> tuple[HubContext, HubContext, AsyncEngine]:
    settings = resolve_secrets(
        settings_mod.load(
            overrides={"database": {"url": url}, "security": {"keys_file": str(tmp / "keys.toml")}}
        )
    )
    engine = create_engine(url)
    await upgrade(engine)
    keyring = keyring_from(settings)

    def rollup() -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, keyring)

    def rows() -> SqlUnitOfWork:
        return RowsUnitOfWork(engine, keyring)

    clock = SystemClock()
    return (
        HubContext(rollup, clock, keyring, settings),
        HubContext(rows, clock, keyring, settings),
        engine,
    )


def consultations(n: int, seed: int = 4) -> Any:
    """``n`` plausible consultations over YEAR_START's year, as tuples in COLUMNS order."""
    rng = random.Random(seed)
    hours = rng.choices(range(24), weights=HOURLY, k=n)
    for i in range(n):
        home = rng.randrange(HOMES) + 1
        at = (
            YEAR_START
            + timedelta(days=rng.randrange(365), hours=hours[i])
            + timedelta(seconds=rng.random() * 3600)
        )
        roll = rng.random()
        state = "ended" if roll < 0.9 else ("cancelled" if roll < 0.95 else "abandoned")
        answered = at + timedelta(seconds=rng.lognormvariate(5, 0.7)) if state == "ended" else None
        ended = (answered or at) + timedelta(minutes=rng.uniform(4, 30))
        outcome = rng.choice(OUTCOMES) if answered and rng.random() < 0.95 else None
        attributable = outcome is not None and rng.random() < 0.85
        yield (
            i + 1,
            home,
            home,
            state,
            rng.choice(REASONS),
            [],
            {},
            rng.choice(INTENTIONS),
            at,
            answered,
            ended,
            outcome,
            "none" if outcome else None,
            "yes" if outcome else None,
            attributable,
            attributable and rng.random() < 0.45,
            attributable and rng.random() < 0.3,
            attributable and rng.random() < 0.3,
            attributable and rng.random() < 0.15,
            attributable and rng.random() < 0.1,
        )


async def seed(engine: AsyncEngine, n: int, label: str) -> None:
    """Homes, one resident each, and ``n`` consultations, loaded the fastest way the
    database offers (``hub.store.bulk``: executemany on SQLite, COPY on PostgreSQL).
    The rows bypass the repository, so the rollup is rebuilt after."""
    created = YEAR_START
    async with engine.begin() as conn:
        await conn.execute(
            t.care_homes.insert(),
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
            t.residents.insert(),
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
        rows = consultations(n)
        batch = 50_000
        with tqdm(total=n, desc=f"{label}: loading consultations", unit="row", leave=False) as bar:
            done = 0
            while done < n:
                chunk = [
                    dict(zip(COLUMNS, next(rows), strict=True)) for _ in range(min(batch, n - done))
                ]
                await insert_rows(conn, t.consultations, chunk)
                done += len(chunk)
                bar.update(len(chunk))
        if engine.dialect.name == "postgresql":
            await conn.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('consultations', 'id'), "
                    "(SELECT max(id) FROM consultations))"
                )
            )
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
    else:
        async with engine.connect() as conn:
            await conn.exec_driver_sql("ANALYZE")


async def time_rebuild(label: str, ctx: HubContext) -> None:
    with tqdm(desc=f"{label}: rebuilding the rollup", unit="block", leave=False) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        t0 = now()
        counted = await rebuild_rollup(ctx, SYSTEM, progress)
        elapsed = now() - t0
    sizes = []
    async with ctx.uow() as uow:
        conn = uow.reports.conn  # type: ignore[attr-defined]
        for table in ROLLUP_TABLES:
            count = (await conn.execute(select(func.count()).select_from(table))).scalar()
            sizes.append(f"{table.name} {count:,}")
    print(
        f"{label}: rollup rebuilt from {counted:,} counted calls in {elapsed:.1f} s "
        f"({'; '.join(sizes)} rows)",
        flush=True,
    )


async def _best(ctx: HubContext, q: ReportQuery, runs: int) -> tuple[float, Report]:
    tariffs = load_tariffs()
    samples = []
    report = None
    for _ in range(runs):
        t0 = now()
        report = await build(ctx, SYSTEM, q, tariffs)
        samples.append(now() - t0)
    assert report is not None
    return min(samples), report


def _figures(report: Report) -> dict[str, Any]:
    out = asdict(report)
    out.pop("query")
    return out


async def time_dashboards(label: str, ctx: HubContext, rows: HubContext, quick: bool) -> None:
    year = ReportQuery(date(2025, 1, 1), date(2025, 12, 31))
    month = ReportQuery(date(2025, 6, 1), date(2025, 6, 30), home_id=7)
    async with ctx.uow() as uow:
        # Report days are UK days: a range from UK midnight to UK midnight, in winter
        # (the year) or in summer (23:00 UTC, BST), must still be answered by the rollup.
        assert isinstance(uow.reports, SqlReports)
        for q in (year, ReportQuery(date(2025, 4, 1), date(2025, 9, 30))):
            assert uow.reports._days(q.since, q.until, None) is not None, q
    for name, q in (("full year, all homes", year), ("one home, one month", month)):
        await build(ctx, SYSTEM, q, load_tariffs())  # warm caches once
        best, report = await _best(ctx, q, 5)
        base_runs = 3 if quick or q.home_id is not None else 1
        base, baseline = await _best(rows, q, base_runs)
        same = "same figures" if _figures(report) == _figures(baseline) else "FIGURES DIFFER"
        print(
            f"{label}: dashboard, {name}: {best:.3f} s (best of 5; {report.counts.calls:,} "
            f"calls); row-level baseline {base:.3f} s (best of {base_runs}); {same}",
            flush=True,
        )


async def time_closure_writes(label: str, ctx: HubContext, n: int = 300) -> None:
    """An outcome amendment (record_outcome + set_avoided), the write that keeps the
    rollup in step, against the same two UPDATEs without it."""
    rng = random.Random(5)
    ids = [rng.randrange(1, 50_000) for _ in range(n)]
    outcome = Outcome(OutcomeCode.MANAGED_ADVICE, FollowUp.NONE, None, AdmissionJudgement.YES)
    c = t.consultations.c
    plain = kept = 0.0
    for call_id in ids:
        async with ctx.uow() as uow:
            t0 = now()
            conn = uow.consultations.conn  # type: ignore[attr-defined]
            await conn.execute(
                update(t.consultations).where(c.id == call_id).values(follow_up="none")
            )
            await conn.execute(
                update(t.consultations).where(c.id == call_id).values(avoided_gp=False)
            )
            plain += now() - t0
            # not committed: rolled back
        async with ctx.uow() as uow:
            t0 = now()
            await uow.consultations.record_outcome(call_id, outcome, YEAR_START)
            await uow.consultations.set_avoided(call_id, Avoided(True, ae_attendance=True))
            kept += now() - t0
            # rolled back too: the figures above stay as measured
    print(
        f"{label}: outcome amendment writes: {1000 * kept / n:.2f} ms per call keeping the "
        f"rollup in step (plain UPDATEs: {1000 * plain / n:.2f} ms)",
        flush=True,
    )


def write_csv(path: Path, rows: int) -> None:
    """``rows`` calls for import, one a minute from 2023 (before the loaded year)."""
    rng = random.Random(9)
    numbers = nhs_numbers(HOMES)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(
            "home_code,nhs_number,requested_at,answered_at,ended_at,reason,intention,"
            "outcome,follow_up,admission_judgement\n"
        )
        for i in range(rows):
            home = i % HOMES
            at = start + timedelta(minutes=i, seconds=rng.randrange(60))
            wait = timedelta(seconds=int(rng.lognormvariate(5, 0.7)))
            out.write(
                f"H{home:05d},{numbers[home]},{at.isoformat()},"
                f"{(at + wait).isoformat()},{(at + wait + timedelta(minutes=12)).isoformat()},"
                f"{rng.choice(REASONS)},{rng.choice(INTENTIONS) or ''},"
                f"{rng.choice(OUTCOMES)},none,{rng.choice(('yes', 'no', 'unsure'))}\n"
            )


async def time_import(label: str, ctx: HubContext, csv_path: Path, rows: int) -> None:
    with (
        csv_path.open(encoding="utf-8-sig", newline="") as f,
        tqdm(total=rows, desc=f"{label}: import-calls", unit="row", leave=False) as bar,
    ):

        def progress(done: int) -> None:
            bar.n = done
            bar.refresh()

        t0 = now()
        result = await import_calls(ctx, SYSTEM, CsvCallLog(f), on_progress=progress)
        elapsed = now() - t0
    print(
        f"{label}: import-calls: {result.imported:,} rows in {elapsed:.1f} s = "
        f"{result.imported / elapsed:,.0f} rows/s (parse, validate, derive, insert, rollup; "
        f"into the loaded database)",
        flush=True,
    )


async def run_one(
    label: str, url: str, tmp: Path, n: int, csv_path: Path, rows: int, quick: bool
) -> None:
    ctx, row_ctx, engine = await fresh_context(url, tmp)
    try:
        t0 = now()
        await seed(engine, n, label)
        print(f"{label}: bulk load of {n:,} consultations {now() - t0:.1f} s", flush=True)
        await time_rebuild(label, ctx)
        await time_dashboards(label, ctx, row_ctx, quick)
        await time_closure_writes(label, ctx)
        await time_import(label, ctx, csv_path, rows)
        year = ReportQuery(date(2023, 1, 1), date(2025, 12, 31))
        best, report = await _best(ctx, year, 1)
        _, baseline = await _best(row_ctx, year, 1)
        same = "same figures as the rows" if _figures(report) == _figures(baseline) else "DIFFER"
        print(
            f"{label}: dashboard, three years, all homes, after the import: {best:.3f} s "
            f"({report.counts.calls:,} calls); {same}",
            flush=True,
        )
    finally:
        await engine.dispose()


async def run(quick: bool) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="telehub-bench-reports-"))
    try:
        await run_in(tmp, quick)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # a 1M-row database and CSV: ~0.7 GB


async def run_in(tmp: Path, quick: bool) -> None:
    n = 100_000 if quick else 1_000_000
    rows = 100_000 if quick else 1_000_000
    print(f"{n:,} consultations across {HOMES} homes; import of {rows:,} CSV rows", flush=True)
    csv_path = tmp / "calls.csv"
    write_csv(csv_path, rows)
    await run_one("sqlite", f"sqlite+aiosqlite:///{tmp / 'r.db'}", tmp, n, csv_path, rows, quick)

    name = f"telehub_bench_{uuid.uuid4().hex[:8]}"
    server = create_async_engine(PG, isolation_level="AUTOCOMMIT")
    try:
        async with server.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OSError:
        print("postgresql: not reachable on 127.0.0.1:5432, skipped")
        await server.dispose()
        return
    try:
        url = PG.rsplit("/", 1)[0] + f"/{name}"
        await run_one("postgresql", url, tmp, n, csv_path, rows, quick)
    finally:
        async with server.connect() as conn:
            await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        await server.dispose()


def main(quick: bool = False) -> None:
    asyncio.run(run(quick))


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
