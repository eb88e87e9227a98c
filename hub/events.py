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


@dataclass(frozen=True)
class AccessEnded:
    """A login or a tablet lost its right to be connected (logout, expiry, revocation,
    deactivation, two-factor or password reset): every process closes its sockets at
    once. ``kind`` says what ``key`` names: ``session`` (the session token's digest),
    ``user`` (every session of a staff id) or ``device`` (a tablet id)."""

    kind: str
    key: str


@dataclass(frozen=True)
class GuestsChanged:
    """A call's guests changed: one waits in the lobby, was let in, left or was removed
    (hub/calls/guest_services.py). Listeners read who is there now."""

    call_id: int


HubEvent = CallChanged | AccessEnded | GuestsChanged


class EventPublisher(Protocol):
    async def publish(self, event: HubEvent) -> None: ...


class NullPublisher:
    """For contexts with nobody listening (CLI commands, imports)."""

    async def publish(self, event: HubEvent) -> None:
        return None
