"""SQL side of background rota jobs (``hub/rostering/jobs.py``): one row per job, written
by the process that runs it and read by every process.

"One job at a time" holds across processes because of the partial unique index on
``state`` for running rows (migration 0008): a second running row cannot exist, so two
processes starting a job at the same instant cannot both succeed.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from hub.rostering.jobs import INTERRUPTED, KEEP, JobRecord, JobState
from hub.store import tables as t
from hub.store.repositories import Repo

c = t.rota_jobs.c


def _job(row: RowMapping) -> JobRecord:
    # The record's fields are the table's columns, one for one.
    return JobRecord(**{**row, "state": JobState(row["state"])})


class SqlRotaJobs(Repo):
    async def get(self, job_id: str) -> JobRecord | None:
        row = await self._one(select(t.rota_jobs).where(c.id == job_id))
        return _job(row) if row else None

    async def running(self) -> JobRecord | None:
        row = await self._one(select(t.rota_jobs).where(c.state == JobState.RUNNING.value))
        return _job(row) if row else None

    async def end_stale(self, beat_before: datetime) -> int:
        """Mark running jobs whose owner stopped beating before ``beat_before`` failed."""
        result = await self.conn.execute(
            update(t.rota_jobs)
            .where(c.state == JobState.RUNNING.value, c.beat_at < beat_before)
            .values(state=JobState.FAILED.value, error=INTERRUPTED)
        )
        return int(result.rowcount)

    async def add(self, job: JobRecord) -> bool:
        """Store a new running job; False if another job is running (the caller's
        transaction is then spoiled on PostgreSQL: give up on it)."""
        try:
            row = {**asdict(job), "state": job.state.value}
            await self.conn.execute(insert(t.rota_jobs).values(row))
        except IntegrityError:
            return False
        return True

    async def beat(self, job_id: str, at: datetime, **progress: Any) -> bool:
        """The owner's heartbeat, with its latest progress (elapsed_s, objective,
        best_bound, solutions). False if the job is no longer running: another process
        took it for interrupted while this one could not beat."""
        result = await self.conn.execute(
            update(t.rota_jobs)
            .where(c.id == job_id, c.state == JobState.RUNNING.value)
            .values(beat_at=at, **progress)
        )
        return bool(result.rowcount)

    async def finish(
        self,
        job_id: str,
        state: JobState,
        at: datetime,
        *,
        only_running: bool = False,
        **values: Any,
    ) -> None:
        """The job's end (redirect or error, final progress). A job another process
        took for interrupted still gets its real end: the rota it made is there."""
        stmt = update(t.rota_jobs).where(c.id == job_id)
        if only_running:
            stmt = stmt.where(c.state == JobState.RUNNING.value)
        await self.conn.execute(stmt.values(state=state.value, beat_at=at, **values))

    async def prune(self) -> None:
        """Forget all but the latest ``KEEP`` jobs that have ended."""
        keep = (
            select(c.id)
            .where(c.state != JobState.RUNNING.value)
            .order_by(c.started_at.desc(), c.id)
            .limit(KEEP)
        )
        await self.conn.execute(
            delete(t.rota_jobs).where(c.state != JobState.RUNNING.value, c.id.not_in(keep))
        )
