"""aiortc peers that call the forwarding unit the way a browser does, for relay tests.

Each client publishes a synthetic camera and microphone (aiortc encodes them: VP8 and
Opus, as a browser would) and decodes whatever the relay forwards to it, counting
decoded frames per publisher. The relay makes every offer; a client only answers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from dataclasses import dataclass, field

from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaBlackhole
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, VideoStreamTrack

from media.relay.room import Offer, Slot
from media.relay.unit import RelayUnit


@dataclass
class Client:
    name: str
    pc: RTCPeerConnection = field(
        default_factory=lambda: RTCPeerConnection(
            RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        )
    )
    decoded: Counter[tuple[str, str]] = field(default_factory=Counter)  # (publisher, kind)
    slots: dict[str, Slot] = field(default_factory=dict)
    publish: bool = True
    _readers: set[asyncio.Task[None]] = field(default_factory=set)
    _sinks: list[MediaBlackhole] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.pc.on("track", self._on_track)

    async def answer(self, offer: Offer) -> str:
        self.slots.update({s.mid: s for s in offer.slots})
        await self.pc.setRemoteDescription(RTCSessionDescription(offer.sdp, "offer"))
        if self.publish:
            for transceiver in self.pc.getTransceivers():
                # The relay's offer names the transceivers that bring others' media
                # (slots); the rest are for this client's own camera and microphone.
                if transceiver.mid in self.slots or transceiver.sender.track is not None:
                    continue
                track = VideoStreamTrack() if transceiver.kind == "video" else AudioStreamTrack()
                transceiver.sender.replaceTrack(track)
                transceiver.direction = "sendonly"
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return self.pc.localDescription.sdp

    def _on_track(self, track: object) -> None:
        task = asyncio.create_task(self._count(track))
        self._readers.add(task)

    async def _count(self, track: object) -> None:
        mid = next(t.mid for t in self.pc.getTransceivers() if t.receiver.track is track)
        while True:
            try:
                await track.recv()  # type: ignore[attr-defined]
            except MediaStreamError:
                return
            slot = self.slots.get(str(mid))
            if slot is not None:
                self.decoded[(slot.publisher, slot.kind)] += 1

    async def close(self) -> None:
        await self.pc.close()
        for task in self._readers:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, MediaStreamError):
                await task


class Peers:
    """The clients of one test and the unit they call; routes the relay's offers."""

    def __init__(self) -> None:
        self.clients: dict[str, Client] = {}
        self.unit: RelayUnit | None = None
        self._pending: set[asyncio.Task[None]] = set()

    async def send_offer(self, offer: Offer) -> None:
        # The relay calls this when someone else joined or left: answer as a browser
        # would, after the event that caused it has been handled.
        task = asyncio.create_task(self._answer(offer))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _answer(self, offer: Offer) -> None:
        assert self.unit is not None
        client = self.clients[offer.participant]
        sdp = await client.answer(offer)
        await self.unit.answer(offer.call_id, offer.participant, sdp)

    async def join(self, call_id: int, name: str, *, publish: bool = True) -> Client:
        assert self.unit is not None
        client = Client(name, publish=publish)
        self.clients[name] = client
        offer = await self.unit.join(call_id, name)
        await self.unit.answer(call_id, name, await client.answer(offer))
        return client

    async def settle(self) -> None:
        while self._pending:
            await asyncio.gather(*list(self._pending))

    async def close(self) -> None:
        await self.settle()
        for client in self.clients.values():
            await client.close()
