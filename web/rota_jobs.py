"""Background rota jobs: generating a rota and repairing one after sickness.

The solver runs for up to its time limit, far longer than a request should wait, so a
POST starts a job and returns at once; the page polls ``/rota/jobs/{id}`` for the latest
``rota.solver.Progress`` and moves on to the rota when the job is done.

The jobs live in one ``RotaJobs`` registry per application (``app[ROTA_JOBS]``, set up
and torn down by ``jobs_ctx`` in ``cleanup_ctx``): no module-level state. One job runs
at a time per hub: a second start while one runs is a ``Conflict``. On shutdown the
running job is cancelled and its ``stop`` event set: the solver notices within a fraction
of a second (``rota.solver``'s stop watcher) instead of running on to its time limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from aiohttp import web

from hub.errors import Conflict, DomainError, NotFound
from rota.solver import Progress

log = logging.getLogger(__name__)

KEEP_FINISHED = 20  # finished jobs remembered for their pages to read the outcome
ProgressFn = Callable[[Progress], None]
#: A job's work: given a progress callback, do it and return the page to show after.
Work = Callable[[ProgressFn, threading.Event], Awaitable[str]]


class JobState(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class JobCancelled(Exception):
    """Raised from the solver's progress callback to stop a cancelled job's thread."""


@dataclass
class RotaJob:
    """One background solve. ``progress`` is written by the solver's thread (a single
    reference assignment of a frozen value) and read by request handlers."""

    id: str
    kind: str  # "generate" | "sickness"
    title: str
    started_by: str
    started_at: datetime
    time_limit_s: float
    started_mono: float
    rota_id: int | None = None  # the rota a sickness job repairs
    state: JobState = JobState.RUNNING
    progress: Progress | None = None
    redirect: str | None = None
    error: str | None = None
    finished_mono: float | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    task: asyncio.Task[None] | None = None

    def report(self, progress: Progress) -> None:
        """The solver's progress callback (called from its worker thread)."""
        if self.stop.is_set():
            raise JobCancelled(self.id)
        self.progress = progress

    def elapsed(self, now: float) -> float:
        return (self.finished_mono or now) - self.started_mono

    def as_json(self, now: float) -> dict[str, Any]:
        p = self.progress
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "state": self.state.value,
            "elapsed_s": round(self.elapsed(now), 1),
            "time_limit_s": self.time_limit_s,
            "objective": None if p is None or p.objective is None else round(p.objective),
            "best_bound": None if p is None or p.best_bound is None else round(p.best_bound),
            "solutions": 0 if p is None else p.solutions,
            "redirect": self.redirect,
            "error": self.error,
        }


class RotaJobs:
    """The application's rota jobs: at most one running, the last few remembered."""

    def __init__(self) -> None:
        self._jobs: dict[str, RotaJob] = {}

    def running(self) -> RotaJob | None:
        return next((j for j in self._jobs.values() if j.state is JobState.RUNNING), None)

    def get(self, job_id: str) -> RotaJob:
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(
                f"no rota job {job_id[:40]!r} "
                "(jobs are forgotten after a while, and when the server restarts)"
            )
        return job

    def start(
        self,
        kind: str,
        title: str,
        started_by: str,
        started_at: datetime,
        time_limit_s: float,
        work: Work,
        *,
        rota_id: int | None = None,
    ) -> RotaJob:
        busy = self.running()
        if busy is not None:
            raise Conflict(
                f"{busy.title} is already running (started by {busy.started_by}); "
                "one rota job runs at a time: wait for it to finish, then try again"
            )
        loop = asyncio.get_running_loop()
        job = RotaJob(
            uuid.uuid4().hex, kind, title, started_by, started_at, time_limit_s, loop.time()
        )
        job.rota_id = rota_id
        self._jobs[job.id] = job
        job.task = asyncio.create_task(self._run(job, work), name=f"rota-job-{job.id}")
        self._forget_old()
        return job

    async def _run(self, job: RotaJob, work: Work) -> None:
        loop = asyncio.get_running_loop()
        try:
            job.redirect = await work(job.report, job.stop)
            job.state = JobState.DONE
        except asyncio.CancelledError:
            job.stop.set()
            job.state = JobState.CANCELLED
            job.error = "the job was cancelled (the server is shutting down)"
            raise
        except DomainError as err:
            job.state = JobState.FAILED
            job.error = err.message
        except JobCancelled:
            job.state = JobState.CANCELLED
            job.error = "the job was cancelled"
        except Exception:
            log.exception("rota job %s (%s) failed", job.id, job.kind)
            job.state = JobState.FAILED
            job.error = "something went wrong on our side; it has been logged"
        finally:
            job.finished_mono = loop.time()

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.state is not JobState.RUNNING]
        for job in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[job.id]

    async def close(self) -> None:
        """Cancel whatever runs (and stop its solver thread at its next report)."""
        tasks = []
        for job in self._jobs.values():
            job.stop.set()
            if job.task is not None and not job.task.done():
                job.task.cancel()
                tasks.append(job.task)
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for job in self._jobs.values():
            if job.state is JobState.RUNNING:  # cancelled before it ever ran
                job.state = JobState.CANCELLED
                job.error = "the job was cancelled (the server is shutting down)"


ROTA_JOBS = web.AppKey("rota_jobs", RotaJobs)


async def jobs_ctx(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx`` entry: the registry for the app's lifetime; jobs cancelled at the end."""
    jobs = RotaJobs()
    app[ROTA_JOBS] = jobs
    try:
        yield
    finally:
        await jobs.close()
