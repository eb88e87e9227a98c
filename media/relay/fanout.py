"""One publisher's track, forwarded packet by packet to every subscriber in the same call.

Each RTP packet a publisher sends reaches its ``Publication`` where the relay's receive
path takes it off the wire (media/relay/passthrough.py): SRTP removed, the receiver's
statistics, NACKs and bandwidth estimate kept, nothing depacketised, reassembled or
decoded. The publication offers it at once to every subscriber's ``ForwardedTrack``,
whose outlet (the subscriber's sender) rewrites the header for that subscriber's stream
— its SSRC, sequence numbers, timestamps, payload type, mid — protects it with the
subscriber's SRTP and sends it. The payload goes on byte for byte: the VP8 packetisation
and the end-to-end encryption inside it are the publishing browser's.

A video subscriber starts at a key frame (a delta frame cannot be decoded without the
ones before it): a late joiner, or one whose packets had to be dropped, waits for the
next key frame and asks for one (throttled per publisher). A slow subscriber (a tablet
on bad Wi-Fi) costs a bounded amount of memory: when its socket's send buffer is full
its packets are dropped — the next key frame restarts its video — and the others are
not held back by it.

The steady case — every subscriber connected, none waiting for a key frame, the
publisher's stream in order — is forwarded without Python: the relay's C path
(media/relay/_fastpath.c, ``Inlet.take``) writes each packet through the same
subscriber ``Outlet`` cores and updates the same counters. What this module decides
(who waits for a key frame, when to ask for one) it decides for every other packet,
and the C path hands a packet back to it whenever the case is not steady.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcrtpsender import random_sequence_number
from aiortc.rtp import RtpPacket
from aiortc.utils import random32

from media.relay._fastpath import Outlet as OutletCore
from media.relay._fastpath import Route
from media.relay.frames import KeyframeThrottle, begins_keyframe

__all__ = ["ForwardedTrack", "Outlet", "Publication", "RelayCounters"]


class Outlet(Protocol):
    """Where a subscriber's copy of a track leaves the relay (its RTP sender)."""

    @property
    def ready(self) -> bool:
        """Negotiated and connected: packets offered now are sent."""
        ...

    def send(self, packet: RtpPacket) -> bool:
        """Send one packet of the publisher's stream as this subscriber's; False if it
        had to be dropped (the subscriber's send buffer is full)."""
        ...


@dataclass
class RelayCounters:
    """What the relay has done, for its metrics and for tests (shared by its calls)."""

    frames_in: int = 0  # from publishers (a video frame counts at its last packet)
    frames_forwarded: int = 0  # to subscribers
    packets_forwarded: int = 0
    packets_dropped_slow_subscriber: int = 0  # its send buffer was full
    frames_waiting_for_keyframe: int = 0  # a delta frame a subscriber could not start on
    keyframes_requested: int = 0
    keyframe_requests_throttled: int = 0
    datagrams_refused: int = 0  # empty, or neither STUN nor from a checked peer


class ForwardedTrack(MediaStreamTrack):
    """One subscriber's copy of one publisher's track. aiortc's sender for it never
    reads it (the outlet sends what ``offer`` passes); it is the track aiortc's
    transceiver is made with, and its ``stop`` ends the subscription."""

    def __init__(self, publication: Publication) -> None:
        super().__init__()
        self.kind = publication.kind
        self.publication = publication
        self.outlet: Outlet | None = None  # set when its transceiver is made
        # What this subscriber's stream is as it leaves: its rewriting state, and the
        # counts below, shared with the relay's C path. Video starts at a key frame.
        self.core = OutletCore(
            video=self.kind == "video", seq_base=random_sequence_number(), ts_offset=random32()
        )
        self._stopped = asyncio.Event()

    @property
    def forwarded(self) -> int:
        """Frames whose last packet was sent."""
        return int(self.core.forwarded)

    @property
    def dropped(self) -> int:
        """Packets not sent: waiting for a key frame, or the send buffer full."""
        return int(self.core.dropped)

    def offer(self, packet: RtpPacket, key: bool) -> None:
        counters = self.publication.counters
        video = self.kind == "video"
        outlet = self.outlet
        if outlet is None or not outlet.ready:
            self.core.need_key = video  # once it can send, it starts at a key frame
            return
        if self.core.need_key and not key:
            # Keep asking (throttled): the first request may have gone out before this
            # subscriber could send, or been lost.
            self.core.dropped += 1
            if packet.marker:
                counters.frames_waiting_for_keyframe += 1
            self.publication.want_keyframe()
            return
        self.core.need_key = False
        if not outlet.send(packet):
            self.core.dropped += 1
            counters.packets_dropped_slow_subscriber += 1
            if video:  # what follows needs the packet lost: skip to the next key frame
                self.core.need_key = True
                self.publication.want_keyframe()
            return
        counters.packets_forwarded += 1
        if packet.marker or not video:
            self.core.forwarded += 1
            counters.frames_forwarded += 1

    async def recv(self) -> Any:
        await self._stopped.wait()
        raise MediaStreamError

    def stop(self) -> None:
        super().stop()
        self._stopped.set()
        self.publication.unsubscribe(self)


class Publication:
    """A publisher's audio or video track in one call, fanned out to its subscribers.

    ``forward`` is called by the relay's receive path with every RTP packet of the
    track (media/relay/passthrough.py). ``source`` is aiortc's track for it, which
    carries no media here and ends when the publisher's stream stops."""

    def __init__(
        self,
        source: MediaStreamTrack,
        ask_keyframe: Callable[[], Coroutine[Any, Any, None]],
        throttle: KeyframeThrottle,
        counters: RelayCounters,
        on_end: Callable[[], None] = lambda: None,
        heard: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self.kind = source.kind
        self._heard = heard  # the clock a packet's arrival is read from (monotonic s)
        self._last_heard: float | None = None
        self._taken = 0  # the C path's packets of this publication when last looked
        self._on_end = on_end  # the publisher's stream stopped by itself
        self.counters = counters
        self.ended = False
        self._source = source
        self._ask_keyframe = ask_keyframe
        self._throttle = throttle
        self._subscribers: list[ForwardedTrack] = []
        self._asks: set[asyncio.Task[None]] = set()
        self.route = Route(
            video=self.kind == "video", counters=counters, want_keyframe=self.want_keyframe
        )
        self._watch = asyncio.create_task(self._until_end(), name=f"publication-{source.id}")

    @property
    def last_heard(self) -> float | None:
        """When its last packet came (monotonic s). A packet the C path forwarded is
        noticed here, when this is read: up to one reading late."""
        taken = self.route.packets
        if taken != self._taken:
            self._taken = taken
            self._last_heard = self._heard()
        return self._last_heard

    @property
    def subscribers(self) -> tuple[ForwardedTrack, ...]:
        return tuple(self._subscribers)

    def forward(self, packet: RtpPacket) -> None:
        """One packet from the publisher: offered to every subscriber, in the order
        they subscribed, before the next packet is read."""
        if self.ended:
            return
        self._last_heard = self._heard()
        if not packet.payload:  # padding (bandwidth probes) stays here
            return
        if packet.marker or self.kind == "audio":
            self.counters.frames_in += 1
        key = begins_keyframe(self.kind, packet.payload)
        for track in self._subscribers:
            track.offer(packet, key)

    def subscribe(self) -> ForwardedTrack:
        track = ForwardedTrack(self)
        self._subscribers.append(track)
        self.route.outlets.append(track.core)
        return track

    def unsubscribe(self, track: ForwardedTrack) -> None:
        if track in self._subscribers:
            self._subscribers.remove(track)
            self.route.outlets.remove(track.core)

    def want_keyframe(self) -> None:
        """Ask the publisher for a key frame, at most once per throttle interval."""
        if self.kind != "video" or self.ended:
            return
        if not self._throttle.allow():
            self.counters.keyframe_requests_throttled += 1
            return
        self.counters.keyframes_requested += 1
        task: asyncio.Task[None] = asyncio.create_task(self._ask_keyframe())
        self._asks.add(task)
        task.add_done_callback(self._asks.discard)

    async def close(self) -> None:
        self._end()
        self._watch.cancel()
        for task in (self._watch, *self._asks):
            try:
                await task
            except (asyncio.CancelledError, MediaStreamError, ConnectionError):
                pass
        for track in list(self._subscribers):
            track.stop()

    async def _until_end(self) -> None:
        try:
            while True:
                await self._source.recv()  # nothing comes; it raises when the stream ends
        except MediaStreamError:
            self._on_end()  # the publisher stopped sending: its peer connection closed
        finally:
            self._end()

    def _end(self) -> None:
        self.ended = True
        self.route.ended = True
