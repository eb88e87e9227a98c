"""Rota jobs as a hub of several telehub processes sees them: the job's record lives in
the database, so a second process (here: a second app on the same database) shows its
progress and refuses a second job; a job whose process died reads as interrupted and
does not block the next one."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hub.context import HubContext
from hub.rostering.jobs import STALE_AFTER, TAKEN_OVER, JobRecord, JobState
from rota.solver import Progress
from tests.conftest import PASSWORD
from tests.hub.rota_fixtures import rota_lead, rota_team
from tests.web.helpers import login, post_form
from tests.web.rota_helpers import JSON, NEXT_MONDAY, finish_job, generate_rota
from web.app import create_app
from web.rota.jobs import ProgressFn, RotaJobs


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    return settings.replace("rota", time_limit_s=2, days=7)


@pytest.fixture
async def lead(ctx: HubContext):  # type: ignore[no-untyped-def]
    await rota_team(ctx)
    return await rota_lead(ctx)


@pytest.fixture
async def two_nodes(aiohttp_client, settings, engine, clock, ctx, lead):  # type: ignore[no-untyped-def]
    """Two telehub processes behind one load balancer: two apps, one database."""
    nodes = []
    for _ in range(2):
        node = await aiohttp_client(create_app(settings, clock=clock))
        await login(node, ctx, clock, "lead", PASSWORD, lead.id)
        nodes.append(node)
    return nodes


async def _state(node: TestClient, job_id: str) -> dict[str, Any]:
    resp = await node.get(f"/rota/jobs/{job_id}", headers=JSON)
    assert resp.status == 200, await resp.text()
    body: dict[str, Any] = await resp.json()
    return body


async def test_another_process_shows_the_job_and_its_progress(two_nodes) -> None:  # type: ignore[no-untyped-def]
    a, b = two_nodes
    job_id = await generate_rota(a, limit="3")
    seen = await _state(b, job_id)  # solved on a, asked of b
    assert seen["title"].startswith("Generating the 8h rota")
    done = await finish_job(b, job_id, owner=a)
    assert done["state"] == "done" and done["redirect"].startswith("/rota/")
    assert done["elapsed_s"] > 0 and done["solutions"] >= 1  # the owner's progress


async def test_one_job_runs_at_a_time_hub_wide(two_nodes, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    a, b = two_nodes
    now = clock.now()
    # A job another process is solving right now (its heartbeat is fresh). A record,
    # not a real solve, so that it is still running whatever the machine's speed.
    title = "Generating the 12h rota 16 Mar–22 Mar 2026"
    busy = JobRecord("e" * 32, "generate", title, "Maria", now, 60, now)
    async with ctx.uow() as uow:
        assert await uow.rota_jobs.add(busy)
        await uow.commit()
    form = {"start": NEXT_MONDAY.isoformat(), "days": "7", "pattern": "8h", "limit": "2"}
    for node in (a, b):
        page = await (await node.get("/rota")).text()
        assert 'data-testid="rota-job"' in page and busy.id in page
        refused = await post_form(node, "/rota/generate", form, token_from="/rota")
        text = await refused.text()
        assert refused.status == 409 and "already running" in text and "Maria" in text
    async with ctx.uow() as uow:
        await uow.rota_jobs.finish(busy.id, JobState.DONE, now, redirect="/rota")
        await uow.commit()
    started = await post_form(b, "/rota/generate", form, token_from="/rota")
    assert started.status == 303  # free once the other has ended
    job_id = started.headers["Location"].rsplit("=", 1)[1]
    assert (await finish_job(b, job_id))["state"] == "done"


async def test_a_job_whose_process_died_reads_as_interrupted(two_nodes, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    a, _ = two_nodes
    now = clock.now()
    dead = JobRecord("d" * 32, "generate", "Generating the 8h rota", "Lead", now, 60, now)
    async with ctx.uow() as uow:
        assert await uow.rota_jobs.add(dead)
        await uow.commit()
    assert (await _state(a, dead.id))["state"] == "running"  # beat just now
    clock.advance(STALE_AFTER + timedelta(seconds=1))  # …and never again
    seen = await _state(a, dead.id)
    assert seen["state"] == "failed" and "stopped before it finished" in seen["error"]
    page = await (await a.get("/rota")).text()
    assert dead.id not in page  # not shown as the running job
    job_id = await generate_rota(a)  # not blocked by it
    assert (await finish_job(a, job_id))["state"] == "done"
    async with ctx.uow() as uow:
        stored = await uow.rota_jobs.get(dead.id)
    assert stored is not None and stored.state is JobState.FAILED  # ended for good


async def test_the_database_allows_one_running_job(ctx, clock, lead) -> None:  # type: ignore[no-untyped-def]
    now = clock.now()
    first = JobRecord("a" * 32, "generate", "first", "Lead", now, 60, now)
    second = JobRecord("b" * 32, "generate", "second", "Lead", now, 60, now)
    async with ctx.uow() as uow:
        assert await uow.rota_jobs.add(first)
        await uow.commit()
    # Two processes racing past the "is one running?" check: the index stops the second.
    async with ctx.uow() as uow:
        assert not await uow.rota_jobs.add(second)
    async with ctx.uow() as uow:
        await uow.rota_jobs.finish(first.id, JobState.DONE, now, redirect="/rota/1")
        await uow.commit()
    async with ctx.uow() as uow:
        assert await uow.rota_jobs.add(second)
        await uow.commit()
        assert (await uow.rota_jobs.running()) == second


async def test_a_job_taken_for_interrupted_stops_instead_of_running_on(ctx, clock) -> None:  # type: ignore[no-untyped-def]
    """The owner could not beat for long enough that another process ended its job as
    interrupted (and a new job may have started): at its next beat the owner stops the
    work rather than store a second rota, and the record says why."""
    jobs = RotaJobs(ctx)

    async def work(progress: ProgressFn, stop: threading.Event) -> str:
        while True:  # a long solve: its progress callback raises once it is stopped
            progress(Progress(0.1, 100.0, 90.0, 1))
            await asyncio.to_thread(stop.wait, 30)  # …which the next beat sets

    job = await jobs.start("generate", "Generating the 8h rota", "Lead", 60, work)
    async with ctx.uow() as uow:  # another process's view: no beat for too long
        assert await uow.rota_jobs.end_stale(clock.now() + timedelta(seconds=1)) == 1
        await uow.commit()
    local = jobs.local(job.id)
    assert local is not None and local.task is not None
    await asyncio.wait_for(local.task, timeout=30)  # the next beat stops it
    async with ctx.uow() as uow:
        ended = await uow.rota_jobs.get(job.id)
    assert ended is not None and ended.state is JobState.CANCELLED
    assert ended.error == TAKEN_OVER
    await jobs.close()
