"""What the domain announces after a change is committed, and the port it uses.

The signalling layer turns these into queue snapshots and call-state messages for
whoever is connected, on this node or (through the Redis bus) another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class CallChanged:
    call_id: int
    state: str
    home_id: int
    device_id: int | None
    answered_by: int | None
    previous_clinician: int | None = None


class EventPublisher(Protocol):
    async def publish(self, event: CallChanged) -> None: ...


class NullPublisher:
    """For contexts with nobody listening (CLI commands, imports)."""

    async def publish(self, event: CallChanged) -> None:
        return None
