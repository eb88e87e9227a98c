"""A hub process's handle on media processes it does not contain (``telehub media``).

``RemoteUnit`` is the ``RelayUnit`` signalling uses when ``media.relay = "processes"``:
the first participant of a relayed call places the call on the least loaded media
process alive (media/relay/directory.py); every later request for that call goes to the
same process, as a ``media.request`` over the bus, and waits (bounded) for its reply.

If that process dies, its announcements stop: after ``expire_after`` the hub counts
every participant of its calls as lost (the signalling layer takes them off the relay,
and the others' browsers see the roster change), and a participant who joins again
starts the call afresh on a live process. If no media process is alive, joining is
refused with a plain reason (the call stays direct between the first two parties).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from hub.errors import Conflict, Unavailable
from media.relay import wire
from media.relay.directory import MediaDirectory
from media.relay.room import Offer, OfferSink
from media.relay.server import Publish
from media.relay.unit import RelayLoad

__all__ = ["RemoteUnit"]

log = logging.getLogger(__name__)

NO_MEDIA = "no media relay is running: the call stays direct until one is"


class RemoteUnit:
    def __init__(
        self,
        publish: Publish,
        scope: str,
        directory: MediaDirectory,
        send_offer: OfferSink,
        on_lost: Callable[[int, str], None],
        timeout_s: float,
    ) -> None:
        self.node = uuid.uuid4().hex  # where media processes send this process's replies
        self._publish = publish
        self._scope = scope
        self.directory = directory
        self._send_offer = send_offer
        self._on_lost = on_lost
        self._timeout_s = timeout_s
        self._waiting: dict[str, asyncio.Future[wire.Reply]] = {}
        self._placed: dict[int, str] = {}  # call → media process
        self._people: dict[int, set[str]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def placed_on(self, call_id: int) -> str | None:
        return self._placed.get(call_id)

    # -- the RelayUnit interface -----------------------------------------------------

    async def join(self, call_id: int, participant_id: str) -> Offer:
        media = self._placed.get(call_id)
        if media is not None and not self.directory.is_alive(media):
            self._lose(call_id)  # its process died: start the call afresh
            media = None
        if media is None:
            media = self.directory.pick()
            if media is None:
                raise Unavailable(NO_MEDIA)
            self._placed[call_id] = media
        else:
            self.directory.placed(media, participants=1)
        reply = await self._ask(media, "join", call_id, participant_id)
        if reply.offer is None:
            raise Conflict("the media relay sent no offer")
        self._people.setdefault(call_id, set()).add(participant_id)
        return reply.offer

    async def answer(self, call_id: int, participant_id: str, sdp: str) -> None:
        await self._ask(self._media_of(call_id), "answer", call_id, participant_id, sdp)

    async def leave(self, call_id: int, participant_id: str) -> None:
        people = self._people.get(call_id, set())
        people.discard(participant_id)
        media = self._placed.get(call_id)
        if media is not None and self.directory.is_alive(media):
            await self._ask(media, "leave", call_id, participant_id)
        if not people:
            self._forget(call_id)

    async def end(self, call_id: int) -> None:
        media = self._placed.get(call_id)
        self._forget(call_id)
        if media is not None and self.directory.is_alive(media):
            await self._ask(media, "end", call_id)

    async def close(self) -> None:
        """End every call placed from here, at once (shutdown waits one timeout at most)."""
        calls = list(self._placed)
        ended = await asyncio.gather(*(self.end(c) for c in calls), return_exceptions=True)
        for call_id, result in zip(calls, ended, strict=True):
            if isinstance(result, Exception):
                log.warning("media relay did not confirm the end of call %s", call_id)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def load(self) -> RelayLoad:
        return RelayLoad(
            calls=len(self._placed), participants=sum(len(p) for p in self._people.values())
        )

    # -- what media processes say ----------------------------------------------------

    def heard(self, kind: str, body: dict[str, Any]) -> None:
        if kind not in wire.KINDS or body.get("scope") != self._scope:
            return
        try:
            match kind:
                case wire.ANNOUNCE:
                    self._announced(wire.Announce.parse(body))
                case wire.REPLY if body.get("to") == self.node:
                    reply = wire.Reply.parse(body)
                    waiting = self._waiting.get(reply.id)
                    if waiting is not None and not waiting.done():
                        waiting.set_result(reply)
                case wire.OFFER if body.get("to") == self.node:
                    offer = wire.Renegotiate.parse(body).offer
                    if participant_of(self._people, offer.call_id, offer.participant):
                        self._in_background(self._pass_on(offer))
                case wire.LOST if body.get("to") == self.node:
                    lost = wire.Lost.parse(body)
                    if participant_of(self._people, lost.call_id, lost.participant):
                        self._on_lost(lost.call_id, lost.participant)
        except wire.MalformedBody as err:
            log.warning("%s from a media process dropped: %s", kind, err)

    def check_alive(self) -> None:
        """Count the participants of calls on a media process that stopped announcing as
        lost (called on every announcement heard and by the switchboard's sweep)."""
        for call_id, media in list(self._placed.items()):
            if not self.directory.is_alive(media):
                log.warning("media process %s is gone: call %s loses its relay", media, call_id)
                self._lose(call_id)

    def _announced(self, announce: wire.Announce) -> None:
        self.directory.heard(announce)
        self.check_alive()

    # -- helpers ---------------------------------------------------------------------

    async def _ask(
        self, media: str, op: wire.Op, call_id: int, participant: str = "", sdp: str = ""
    ) -> wire.Reply:
        request = wire.Request(uuid.uuid4().hex, media, self.node, op, call_id, participant, sdp)
        waiting: asyncio.Future[wire.Reply] = asyncio.get_running_loop().create_future()
        self._waiting[request.id] = waiting
        try:
            await self._publish(wire.REQUEST, request.body(self._scope))
            reply = await asyncio.wait_for(waiting, self._timeout_s)
        except TimeoutError:
            raise Unavailable(
                f"the media relay did not answer within {self._timeout_s:g} s"
            ) from None
        finally:
            self._waiting.pop(request.id, None)
        if not reply.ok:
            raise Conflict(f"the media relay refused: {reply.error}")
        return reply

    def _media_of(self, call_id: int) -> str:
        media = self._placed.get(call_id)
        if media is None:
            raise Conflict(f"call {call_id} is not on a media relay")
        return media

    def _lose(self, call_id: int) -> None:
        people = self._people.get(call_id, set())
        self._forget(call_id)
        for participant in sorted(people):
            self._on_lost(call_id, participant)

    def _forget(self, call_id: int) -> None:
        self._placed.pop(call_id, None)
        self._people.pop(call_id, None)

    async def _pass_on(self, offer: Offer) -> None:
        await self._send_offer(offer)

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def participant_of(people: dict[int, set[str]], call_id: int, participant: str) -> bool:
    """Only what concerns a participant we placed is acted on (a forged or stale
    envelope naming someone else is ignored)."""
    return participant in people.get(call_id, set())
