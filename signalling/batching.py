"""Call events gathered into bursts: one queue read and fan-out for many events.

Every call event changes what the consoles' queue shows and where each waiting tablet
stands, and telling them means reading the whole queue. An event that finds the hub
quiet is told at once (a ring is never held back). Events that arrive while one is
being told, or within as long again after it, are gathered and told together: one
read, one snapshot, however many events. The pause is as long as the telling took, so
telling the queue takes at most about half of a process's time however busy the hub
is (a thousand tablets, a hundred consoles): when the queue grows and each telling
costs more, more events share each one, instead of every event costing a read and a
fan-out and the process falling behind. What each listener gets is the newest state;
each call message carries its state seq, so nothing older overtakes it in a client.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

log = logging.getLogger(__name__)
RETRY_S = 1.0  # after a burst could not be told (database away), try again this often

Changed = Mapping[int, frozenset[int]]
"""Call ids changed in a burst → staff ids to tell besides the call's own parties (a
clinician the call was transferred away from)."""


class CallEventBatcher:
    def __init__(self, tell: Callable[[Changed], Awaitable[None]]) -> None:
        self._tell = tell
        self._pending: dict[int, set[int]] = {}
        # Telling, or within the interval after: new events wait for the trailing task.
        self._busy = False
        self._trailing: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    async def changed(self, call_id: int, also_tell: int | None = None) -> None:
        """A call changed. Told before this returns when the hub is quiet (so the bus
        consumer keeps the order of events); else gathered into the next burst."""
        extra = self._pending.setdefault(call_id, set())
        if also_tell is not None:
            extra.add(also_tell)
        if self._busy:
            return
        self._busy = True
        self._idle.clear()
        try:
            pause = await self._flush()
        except BaseException:  # cancelled (shutdown) while telling
            self._busy = False
            self._idle.set()
            raise
        self._trailing = asyncio.create_task(self._trail(pause), name="call-event-bursts")

    async def idle(self) -> None:
        """Return once every event so far has been told (and the interval is over)."""
        await self._idle.wait()

    async def stop(self) -> None:
        if self._trailing is not None:
            self._trailing.cancel()
            await asyncio.gather(self._trailing, return_exceptions=True)
            self._trailing = None
        self._busy = False
        self._idle.set()

    async def _flush(self) -> float:
        """Tell what is pending and return how long to gather before telling again: as
        long as this took; if it failed (the database is away), keep what was pending
        for the next try, RETRY_S from now."""
        burst = {call_id: frozenset(extra) for call_id, extra in self._pending.items()}
        self._pending.clear()
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            await self._tell(burst)
        except Exception:
            log.exception("could not tell %d changed calls; trying again", len(burst))
            for call_id, extra in burst.items():
                self._pending.setdefault(call_id, set()).update(extra)
            return RETRY_S
        return loop.time() - started

    async def _trail(self, pause: float) -> None:
        try:
            while True:
                await asyncio.sleep(pause)
                if not self._pending:
                    return
                pause = await self._flush()
        finally:
            self._busy = False
            self._idle.set()
