"""The hub queue's ordering policy and wait estimate (pure functions).

Calls are ordered by clinical priority, then by how long they have waited. Priority
is the NEWS2 band; a call whose observations are incomplete or absent is never
treated as "low" (missing is not normal): it ranks at least as "low-medium", so it
sits above calls with a complete low score and below any medium or high call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from hub.calls.consultation import Reason, State
from hub.calls.news2 import Band

UNKNOWN_FLOOR = Band.LOW_MEDIUM


@dataclass(frozen=True)
class QueueEntry:
    call_id: int
    home_id: int
    home_name: str
    resident_id: int
    resident_name: str
    reason: Reason
    news2_score: int | None
    news2_band: Band | None
    news2_missing: tuple[str, ...]
    state: State
    requested_at: datetime
    claimed_by: str | None = None
    device_id: int | None = None
    answered_by: int | None = None
    state_seq: int = 0  # goes up with every change of state


def priority(entry: QueueEntry) -> int:
    """Higher is more urgent: 3 high, 2 medium, 1 low-medium, 0 low."""
    band = entry.news2_band
    rank = band.rank if band is not None else 0
    if band is None or entry.news2_missing:
        rank = max(rank, UNKNOWN_FLOOR.rank)
    return rank


def order(entries: Sequence[QueueEntry]) -> list[QueueEntry]:
    return sorted(entries, key=lambda e: (-priority(e), e.requested_at, e.call_id))


def position(entries: Sequence[QueueEntry], call_id: int) -> int | None:
    """1-based place among the calls still waiting, in queue order."""
    waiting = [e for e in order(entries) if e.state is State.WAITING]
    for index, entry in enumerate(waiting, start=1):
        if entry.call_id == call_id:
            return index
    return None


def places(entries: Sequence[QueueEntry]) -> dict[int, int]:
    """Every waiting call's ``position`` at once (one sort however many are waiting)."""
    waiting = (e for e in order(entries) if e.state is State.WAITING)
    return {entry.call_id: index for index, entry in enumerate(waiting, start=1)}


def estimated_wait_s(place: int, clinicians_free: int, handle_s: float) -> int:
    """A plain estimate a carer can read: calls ahead, shared among free clinicians.

    ``place`` 1 means next; with a clinician free it is answered within a minute or so.
    """
    servers = max(1, clinicians_free)
    rounds = (place - 1) // servers
    return int(60 + rounds * handle_s)
