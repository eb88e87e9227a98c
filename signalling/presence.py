"""Who is online: hub staff with a live console WebSocket on any telehub process.

Each process knows its own connections (the switchboard's). With one process (the
in-memory bus) that is everyone. With several (the Redis bus) each process publishes the
staff ids connected to it — at once when that set changes, and every ``HEARTBEAT_S`` —
and keeps what each other process last published until it is ``EXPIRE_AFTER_S`` old, so
a process that dies stops counting. A process that starts asks the others to publish at
once. Envelopes carry a ``scope`` (from the database URL) so that processes of another
telehub sharing the Redis server are not counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from hub.clock import Clock
from signalling.bus import Bus, Envelope

KIND = "presence"
HEARTBEAT_S = 10.0
EXPIRE_AFTER_S = 3 * HEARTBEAT_S


def scope_of(database_url: str) -> str:
    """Processes of one telehub share a database: its URL, hashed, names the group."""
    return hashlib.sha256(database_url.encode()).hexdigest()[:16]


class Presence:
    def __init__(
        self,
        bus: Bus,
        clock: Clock,
        scope: str,
        staff_here: Callable[[], Iterable[int]],
        heartbeat_s: float = HEARTBEAT_S,
    ) -> None:
        self.node = uuid.uuid4().hex
        self._bus = bus
        self._clock = clock
        self._scope = scope
        self._staff_here = staff_here
        self._heartbeat_s = heartbeat_s
        self._expire = timedelta(seconds=3 * heartbeat_s)
        self._remote: dict[str, tuple[frozenset[int], datetime]] = {}
        self._published: frozenset[int] | None = None
        self._wake = asyncio.Event()

    def online(self) -> frozenset[int]:
        """Staff ids with a live console socket on this process or another."""
        now = self._clock.now()
        ids = set(self._staff_here())
        for node, (staff, seen) in list(self._remote.items()):
            if now - seen > self._expire:
                del self._remote[node]
            else:
                ids |= staff
        return frozenset(ids)

    def changed(self) -> None:
        """A staff socket opened or closed here: tell the other processes soon."""
        if not self._bus.local_only and frozenset(self._staff_here()) != self._published:
            self._wake.set()

    async def heard(self, body: dict[str, Any]) -> None:
        """A presence envelope from the bus (our own come back too: ignored)."""
        if body.get("scope") != self._scope or body.get("node") == self.node:
            return
        staff = frozenset(int(i) for i in body.get("staff", ()))
        self._remote[str(body["node"])] = (staff, self._clock.now())
        if body.get("ask"):  # a process just started: it wants to hear from us now
            self._published = None
            self._wake.set()

    async def run(self) -> None:
        """Publish this process's staff on every change and every heartbeat."""
        if self._bus.local_only:
            return
        ask = True
        while True:
            self._wake.clear()
            staff = frozenset(self._staff_here())
            self._published = staff
            body = {"scope": self._scope, "node": self.node, "staff": sorted(staff), "ask": ask}
            await self._bus.publish(Envelope(KIND, body))
            ask = False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._heartbeat_s)
