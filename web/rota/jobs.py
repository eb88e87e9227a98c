"""Background rota jobs: generating a rota and repairing one after sickness.

The solver runs for up to its time limit, far longer than a request should wait, so a
POST starts a job and returns at once; the page polls ``/rota/jobs/{id}`` for the latest
progress and moves on to the rota when the job is done.

The solver runs here, on the process that started the job, in a thread; the job's
record lives in the database (written and read through ``hub/rostering/job_records.py``),
so every process can show it and one job runs at a time hub-wide (a second start while
one runs is a ``Conflict``). The solver's thread leaves its latest progress in memory and
a beat task writes it, with a heartbeat, every ``BEAT_EVERY_S``: the solver never waits
on the database.

One ``RotaJobs`` per application (``app[ROTA_JOBS]``, set up and torn down by
``jobs_ctx`` in ``cleanup_ctx``): no module-level state. On shutdown the running job is
cancelled and its ``stop`` event set: the solver notices within a fraction of a second
(``rota.solver``'s stop watcher) instead of running on to its time limit; its record
says it was cancelled. A process that dies without that leaves a record nobody beats
for, which every process then shows as interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from hub.context import HubContext
from hub.errors import DomainError
from hub.people.access import Actor
from hub.rostering import job_records
from hub.rostering.jobs import BEAT_EVERY_S, SHUTTING_DOWN, TAKEN_OVER, JobRecord, JobState
from web.http.keys import CTX

if TYPE_CHECKING:
    from rota.solver import Progress  # the solver itself is loaded by the first job

log = logging.getLogger(__name__)

CLOSE_WAIT_S = 5.0  # on shutdown, how long a stopped job may take to wind down
ProgressFn = Callable[["Progress"], None]
#: A job's work: given a progress callback, do it and return the page to show after.
Work = Callable[[ProgressFn, threading.Event], Awaitable[str]]


class JobCancelled(Exception):
    """Raised from the solver's progress callback to stop a cancelled job's thread."""


@dataclass
class LocalJob:
    """The part of a job only its own process has: the solver's stop event, the task,
    and the latest progress (written by the solver's thread as one reference
    assignment of a frozen value, read by the beat task)."""

    id: str
    started_mono: float
    stop: threading.Event = field(default_factory=threading.Event)
    progress: Progress | None = None
    task: asyncio.Task[None] | None = None
    stopped_because: str = SHUTTING_DOWN  # why ``stop`` was set, for the record

    def stop_because(self, why: str) -> None:
        self.stopped_because = why
        self.stop.set()

    def report(self, progress: Progress) -> None:
        """The solver's progress callback (called from its worker thread)."""
        if self.stop.is_set():
            raise JobCancelled(self.id)
        self.progress = progress

    def figures(self, now_mono: float) -> dict[str, Any]:
        p = self.progress
        return {
            "elapsed_s": now_mono - self.started_mono,
            "objective": None if p is None else p.objective,
            "best_bound": None if p is None else p.best_bound,
            "solutions": 0 if p is None else p.solutions,
        }


class RotaJobs:
    """The rota jobs this process runs, and every job as the database knows it."""

    def __init__(self, ctx: HubContext) -> None:
        self._ctx = ctx
        self._local: dict[str, LocalJob] = {}

    async def get(self, actor: Actor, job_id: str) -> JobRecord:
        return await job_records.get(self._ctx, actor, job_id)

    async def running(self, actor: Actor) -> JobRecord | None:
        return await job_records.running(self._ctx, actor)

    def local(self, job_id: str) -> LocalJob | None:
        """This process's side of a job it runs (None for another process's job)."""
        return self._local.get(job_id)

    async def start(
        self,
        kind: str,
        title: str,
        started_by: str,
        time_limit_s: float,
        work: Work,
        *,
        rota_id: int | None = None,
    ) -> JobRecord:
        now = self._ctx.clock.now()
        job = JobRecord(
            uuid.uuid4().hex, kind, title, started_by, now, time_limit_s, now, rota_id=rota_id
        )
        await job_records.start(self._ctx, job)  # Conflict while another job runs
        loop = asyncio.get_running_loop()
        local = LocalJob(job.id, loop.time())
        self._local[job.id] = local
        local.task = asyncio.create_task(self._run(local, work), name=f"rota-job-{job.id}")
        return job

    async def _run(self, local: LocalJob, work: Work) -> None:
        # The beat task is told to end, never cancelled: a cancel landing inside its
        # database write could leave a transaction open (on SQLite, the write lock).
        ended = asyncio.Event()
        beating = asyncio.create_task(self._beat(local, ended), name=f"rota-job-beat-{local.id}")
        end: dict[str, Any] = {"state": JobState.CANCELLED, "error": SHUTTING_DOWN}
        try:
            end = {"state": JobState.DONE, "redirect": await work(local.report, local.stop)}
        except asyncio.CancelledError:
            local.stop.set()
            raise
        except (DomainError, JobCancelled) as err:
            # Stopped (shutdown, or taken over), the solver ends with an error of its
            # own: say why it was stopped instead.
            if local.stop.is_set():
                end = {"state": JobState.CANCELLED, "error": local.stopped_because}
            else:
                message = err.message if isinstance(err, DomainError) else ""
                end = {"state": JobState.FAILED, "error": message}
        except Exception:
            log.exception("rota job %s failed", local.id)
            end = {"state": JobState.FAILED, "error": "something went wrong on our side; logged"}
        finally:
            ended.set()
            await beating
            await self._finish(local, **end)
            self._local.pop(local.id, None)

    async def _beat(self, local: LocalJob, ended: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ended.wait(), BEAT_EVERY_S)
            if ended.is_set():
                return
            try:
                alive = await job_records.beat(self._ctx, local.id, **local.figures(loop.time()))
            except Exception:  # a missed beat is retried; too many make the job stale
                log.exception("rota job %s: could not record progress", local.id)
                continue
            if not alive:
                # Another process saw no beat for STALE_AFTER and took the job for
                # interrupted; a new job may already be running. Stop rather than
                # store a second rota beside it.
                log.warning("rota job %s: taken for interrupted elsewhere; stopping", local.id)
                local.stop_because(TAKEN_OVER)
                return

    async def _finish(self, local: LocalJob, state: JobState, **values: Any) -> None:
        figures = local.figures(asyncio.get_running_loop().time())
        try:
            await job_records.finish(self._ctx, local.id, state, **figures, **values)
        except Exception:  # the record goes stale and reads as interrupted
            log.exception("rota job %s: could not record its end (%s)", local.id, state)

    async def close(self) -> None:
        """Stop what this process runs: the solver thread notices its stop event within
        a fraction of a second and the job ends by itself, recorded as cancelled. A job
        that does not end within ``CLOSE_WAIT_S`` (stuck on the database, say) is
        cancelled outright."""
        tasks = [j.task for j in self._local.values() if j.task is not None and not j.task.done()]
        for local in self._local.values():
            local.stop.set()
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=CLOSE_WAIT_S)
            for task in late:
                task.cancel()
            for task in late:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for local in list(self._local.values()):  # cancelled before it ever ran
            await job_records.finish(
                self._ctx, local.id, JobState.CANCELLED, only_running=True, error=SHUTTING_DOWN
            )
        self._local.clear()


ROTA_JOBS = web.AppKey("rota_jobs", RotaJobs)


async def jobs_ctx(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx`` entry: the registry for the app's lifetime; jobs cancelled at the end."""
    jobs = RotaJobs(app[CTX])
    app[ROTA_JOBS] = jobs
    try:
        yield
    finally:
        await jobs.close()
