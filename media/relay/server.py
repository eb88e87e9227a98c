"""A media process's side of the bus: serve hub processes' requests with a forwarding unit.

``telehub media`` (web/cli/media.py) runs one of these with this process's own
``ForwardingUnit``; signalling/media_link.py carries the envelopes. Requests for one
call are handled in the order they come; requests for different calls at once (a join
gathers ICE candidates: it must not hold up everyone else's).

The server trusts a request as far as the unit does: the hub already checked that the
participant belongs to the call. It only ever answers requests addressed to it, in its
own scope, and replies to the hub process that asked; the relay's own offers and lost
connections go to the hub process that last asked about that call.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from hub.clock import Clock
from media.relay import wire
from media.relay.room import Offer
from media.relay.unit import ForwardingUnit

__all__ = ["MediaServer", "Publish"]

log = logging.getLogger(__name__)

#: Puts one envelope (kind, body) on the bus.
Publish = Callable[[str, dict[str, Any]], Awaitable[None]]


class MediaServer:
    def __init__(
        self, clock: Clock, publish: Publish, scope: str, keyframe_interval_s: float = 1.0
    ) -> None:
        self.id = uuid.uuid4().hex
        self._publish = publish
        self._scope = scope
        self.unit = ForwardingUnit(clock, self._offer, keyframe_interval_s, on_lost=self._lost)
        self._owners: dict[int, str] = {}  # call → the hub process that placed it
        self._per_call: dict[int, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def announcement(self, *, stopping: bool = False) -> wire.Announce:
        load = self.unit.load()
        return wire.Announce(self.id, load.calls, load.participants, stopping=stopping)

    async def announce(self, *, stopping: bool = False) -> None:
        await self._publish(wire.ANNOUNCE, self.announcement(stopping=stopping).body(self._scope))

    def heard(self, kind: str, body: dict[str, Any]) -> None:
        """An envelope from the bus: a request for this process is served in a task."""
        if kind != wire.REQUEST or body.get("scope") != self._scope or body.get("media") != self.id:
            return
        try:
            request = wire.Request.parse(body)
        except wire.MalformedBody as err:
            log.warning("media request dropped: %s", err)  # the reason, never the body
            return
        self._in_background(self._serve(request))

    async def _serve(self, request: wire.Request) -> None:
        lock = self._per_call.setdefault(request.call_id, asyncio.Lock())
        async with lock:
            before = self.unit.load()
            reply = await self._do(request)
            await self._publish(wire.REPLY, reply.body(self._scope))
            if self.unit.load() != before:
                await self.announce()  # hubs learn the new load at once, not next tick
        if request.call_id not in self._owners and not lock.locked():
            self._per_call.pop(request.call_id, None)

    async def _do(self, request: wire.Request) -> wire.Reply:
        unit, call_id, who = self.unit, request.call_id, request.participant
        try:
            offer: Offer | None = None
            match request.op:
                case "join":
                    self._owners[call_id] = request.reply_to
                    offer = await unit.join(call_id, who)
                case "answer":
                    await unit.answer(call_id, who, request.sdp)
                case "leave":
                    await unit.leave(call_id, who)
                    if unit.room(call_id) is None:
                        self._owners.pop(call_id, None)
                case "end":
                    self._owners.pop(call_id, None)
                    await unit.end(call_id)
        except (ValueError, KeyError, LookupError) as err:
            # The unit refused (no such call here, no offer waiting…): say why.
            return wire.Reply(request.id, request.reply_to, ok=False, error=str(err))
        return wire.Reply(request.id, request.reply_to, ok=True, offer=offer)

    async def _offer(self, offer: Offer) -> None:
        owner = self._owners.get(offer.call_id)
        if owner is not None:
            await self._publish(wire.OFFER, wire.Renegotiate(owner, offer).body(self._scope))

    def _lost(self, call_id: int, participant: str) -> None:
        owner = self._owners.get(call_id)
        if owner is not None:
            self._in_background(self._tell_lost(wire.Lost(owner, call_id, participant)))

    async def _tell_lost(self, lost: wire.Lost) -> None:
        await self._publish(wire.LOST, lost.body(self._scope))

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Say we are stopping (hubs pick another process at once), end every call."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            await self.announce(stopping=True)
        finally:
            await self.unit.close()
