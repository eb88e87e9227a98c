"""What is happening now, for operators: open calls by state and the longest wait.

Read for the metrics endpoint (web/http/metrics.py) on every scrape, so it is two small
indexed queries and carries nothing about residents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hub.calls.consultation import State
from hub.context import HubContext

__all__ = ["Census", "census"]

OPEN = (State.REQUESTED, State.WAITING, State.ANSWERED, State.IN_CALL)


@dataclass(frozen=True)
class Census:
    by_state: dict[State, int]  # every open state, zero included
    oldest_wait_s: float  # the longest-waiting unanswered call; 0 when none waits

    @property
    def waiting(self) -> int:
        return self.by_state[State.REQUESTED] + self.by_state[State.WAITING]


async def census(ctx: HubContext) -> Census:
    async with ctx.uow() as uow:
        counts, oldest = await uow.consultations.census()
    return Census(
        by_state={s: counts.get(s, 0) for s in OPEN},
        oldest_wait_s=_since(oldest, ctx.clock.now()),
    )


def _since(at: datetime | None, now: datetime) -> float:
    return max(0.0, (now - at).total_seconds()) if at is not None else 0.0
