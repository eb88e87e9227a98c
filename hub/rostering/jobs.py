"""Background rota jobs (generating a rota, re-solving one after sickness) as every
telehub process sees them.

A job runs on the process that started it (``web/rota/jobs.py`` owns the solver thread),
but its record lives in the database so that any process behind the load balancer can
show its progress and refuse a second job while it runs. The owner writes the latest
progress and a heartbeat every ``BEAT_EVERY_S``; a running job whose heartbeat is older
than ``STALE_AFTER`` belonged to a process that stopped (crashed, killed, restarted
mid-solve) and is shown as interrupted: the rota lead starts it again, nothing waits
for it forever. The record is written and read through ``hub/rostering/job_records.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

BEAT_EVERY_S = 1.0
STALE_AFTER = timedelta(seconds=30)  # many missed heartbeats: the owner is gone
INTERRUPTED = (
    "the server running this job stopped before it finished (restarted or crashed); "
    "nothing was saved: start it again"
)
SHUTTING_DOWN = "the job was cancelled (the server is shutting down)"
TAKEN_OVER = (
    "the server running this job lost touch with the database for too long, so the job "
    "was taken for interrupted and stopped; nothing was saved: start it again"
)
KEEP = 50  # job records kept: the latest runs, for their pages and for whoever asks


class JobState(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class JobRecord:
    id: str
    kind: str  # "generate" | "sickness"
    title: str
    started_by: str
    started_at: datetime
    time_limit_s: float
    beat_at: datetime
    rota_id: int | None = None  # the rota a sickness job repairs
    state: JobState = JobState.RUNNING
    elapsed_s: float = 0.0
    objective: float | None = None
    best_bound: float | None = None
    solutions: int = 0
    redirect: str | None = None  # the page to show when done
    error: str | None = None

    def stale(self, now: datetime) -> bool:
        return self.state is JobState.RUNNING and now - self.beat_at > STALE_AFTER

    def as_seen(self, now: datetime) -> JobRecord:
        """The record as people should see it: a running job nobody beats for is over."""
        if self.stale(now):
            return replace(self, state=JobState.FAILED, error=INTERRUPTED)
        return self

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "state": self.state.value,
            "elapsed_s": round(self.elapsed_s, 1),
            "time_limit_s": self.time_limit_s,
            "objective": None if self.objective is None else round(self.objective),
            "best_bound": None if self.best_bound is None else round(self.best_bound),
            "solutions": self.solutions,
            "redirect": self.redirect,
            "error": self.error,
        }
