"""The stored records of background rota jobs (``hub.rostering.jobs``): starting one, one
at a time hub-wide; its heartbeat and its end, written by the process that runs it
(``web/rota/jobs.py``); and reading them back, for the rota leads who watch them."""

from __future__ import annotations

from typing import Any

from hub.context import HubContext
from hub.errors import Conflict, NotFound
from hub.people.access import Actor
from hub.rostering.inputs import require_lead
from hub.rostering.jobs import STALE_AFTER, JobRecord, JobState


async def get(ctx: HubContext, actor: Actor, job_id: str) -> JobRecord:
    """A job as people should see it (a running job nobody beats for is interrupted)."""
    require_lead(actor)
    async with ctx.uow() as uow:
        job = await uow.rota_jobs.get(job_id)
    if job is None:
        raise NotFound(f"no rota job {job_id[:40]!r} (only the latest jobs are kept)")
    return job.as_seen(ctx.clock.now())


async def running(ctx: HubContext, actor: Actor) -> JobRecord | None:
    """The job running now on any process, if its owner still beats for it."""
    require_lead(actor)
    async with ctx.uow() as uow:
        job = await uow.rota_jobs.running()
    if job is None or job.stale(ctx.clock.now()):
        return None
    return job


async def start(ctx: HubContext, job: JobRecord) -> None:
    """Record a new running job, or refuse (``Conflict``) while another one runs. Jobs
    whose owner stopped beating end first (as interrupted), and old records go."""
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        await uow.rota_jobs.end_stale(now - STALE_AFTER)
        await uow.rota_jobs.prune()
        busy = await uow.rota_jobs.running()
        # The database allows one running job: two processes racing past the check
        # above still cannot both add theirs.
        added = busy is None and await uow.rota_jobs.add(job)
        if added:
            await uow.commit()
    if not added:
        what = f"{busy.title} (started by {busy.started_by})" if busy else "another rota job"
        raise Conflict(
            f"{what} is already running; one rota job runs at a time: "
            "wait for it to finish, then try again"
        )


async def beat(ctx: HubContext, job_id: str, **progress: Any) -> bool:
    """The owner's heartbeat with the latest progress; False when the job is no longer
    running (another process took it for interrupted)."""
    async with ctx.uow() as uow:
        alive = await uow.rota_jobs.beat(job_id, ctx.clock.now(), **progress)
        await uow.commit()
    return alive


async def finish(
    ctx: HubContext, job_id: str, state: JobState, *, only_running: bool = False, **values: Any
) -> None:
    """Record how a job ended (``only_running``: unless it has ended already)."""
    async with ctx.uow() as uow:
        await uow.rota_jobs.finish(
            job_id, state, ctx.clock.now(), only_running=only_running, **values
        )
        await uow.commit()
