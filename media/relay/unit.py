"""The forwarding unit: every relayed call this process carries, and its counters.

It runs inside the telehub process by default (an aiohttp cleanup context owns it) or
as its own process (``telehub media``). The hub gives it a call and participant ids it
has already checked; the unit itself trusts only that a participant it is told about
belongs to that call, and forwards nothing across calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Protocol

from hub.clock import Clock
from media.relay import passthrough
from media.relay.fanout import RelayCounters
from media.relay.room import SILENCE_S, Offer, OfferSink, Room

__all__ = ["ForwardingUnit", "RelayLoad", "RelayUnit"]


@dataclass(frozen=True)
class RelayLoad:
    """What a media process announces about itself, so the hub can pick one per call."""

    calls: int
    participants: int


class RelayUnit(Protocol):
    """What signalling asks of the relay, wherever it runs: this process's own
    ``ForwardingUnit``, or a ``RemoteUnit`` (media/relay/remote.py) that asks a separate
    media process over the bus."""

    async def join(self, call_id: int, participant_id: str) -> Offer: ...
    async def answer(self, call_id: int, participant_id: str, sdp: str) -> None: ...
    async def leave(self, call_id: int, participant_id: str) -> None: ...
    async def end(self, call_id: int) -> None: ...
    async def close(self) -> None: ...
    def load(self) -> RelayLoad: ...


class ForwardingUnit:
    def __init__(
        self,
        clock: Clock,
        send_offer: OfferSink,
        keyframe_interval_s: float = 1.0,
        on_lost: Callable[[int, str], None] = lambda call_id, participant_id: None,
        silence_s: float = SILENCE_S,
    ):
        passthrough.check_internals()  # at start-up, not in the middle of a call
        self.counters = RelayCounters()
        self._clock = clock
        self._send_offer = send_offer
        self._keyframe_interval_s = keyframe_interval_s
        self._on_lost = on_lost  # (call id, participant): a connection died, no leave
        self._silence_s = silence_s  # no media from someone this long: lost
        self._rooms: dict[int, Room] = {}

    def room(self, call_id: int) -> Room | None:
        return self._rooms.get(call_id)

    async def join(self, call_id: int, participant_id: str) -> Offer:
        room = self._rooms.get(call_id)
        if room is None:
            room = Room(
                call_id,
                self._clock,
                self.counters,
                self._send_offer,
                self._keyframe_interval_s,
                on_lost=lambda participant_id: self._on_lost(call_id, participant_id),
                silence_s=self._silence_s,
            )
            self._rooms[call_id] = room
        return await room.join(participant_id)

    async def answer(self, call_id: int, participant_id: str, sdp: str) -> None:
        await self._require(call_id).answer(participant_id, sdp)

    async def leave(self, call_id: int, participant_id: str) -> None:
        room = self._rooms.get(call_id)
        if room is None:
            return
        await room.leave(participant_id)
        if not room.participants:
            del self._rooms[call_id]

    async def end(self, call_id: int) -> None:
        room = self._rooms.pop(call_id, None)
        if room is not None:
            await room.close()

    async def close(self) -> None:
        for call_id in list(self._rooms):
            await self.end(call_id)

    def load(self) -> RelayLoad:
        return RelayLoad(
            calls=len(self._rooms),
            participants=sum(len(r.participants) for r in self._rooms.values()),
        )

    def figures(self) -> dict[str, int]:
        """Counters and load. ``frames_received``: frames that came from publishers
        (forwarded packet by packet; no receiver of the relay has a decoder)."""
        received = self.counters.frames_in
        return {**asdict(self.counters), **asdict(self.load()), "frames_received": received}

    def _require(self, call_id: int) -> Room:
        room = self._rooms.get(call_id)
        if room is None:
            raise KeyError(f"no relayed call {call_id}")
        return room
