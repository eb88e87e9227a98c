"""One publisher's track, forwarded to every subscriber in the same call.

A ``Publication`` reads the publisher's encoded frames from the moment it publishes —
not from when the first subscriber asks, or frames would queue and arrive later as a
burst — and offers each one to every subscriber's ``ForwardedTrack``. aiortc's sender
for that subscriber pulls from the track and packetises without re-encoding.

Each subscriber has a bounded queue, so a slow subscriber (a tablet on bad Wi-Fi)
costs a fixed amount of memory, not a growing one: when its queue is full, its video
skips ahead to the next key frame (asked for, throttled), and its audio drops the
oldest frame. Other subscribers are not held back by it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.packet import Packet
from av.stream import Stream

from media.relay.frames import KeyframeThrottle, is_keyframe

__all__ = ["EncodedFrame", "ForwardedTrack", "Publication", "RelayCounters"]

# An encoded (and end-to-end encrypted) frame as aiortc hands it on: bytes + timestamp.
if TYPE_CHECKING:
    EncodedFrame = Packet[Stream]
else:  # PyAV's Packet is generic only in its stubs
    EncodedFrame = Packet

# Frames held per subscriber and track: about 1.5 s of 20 fps video, 0.6 s of Opus.
VIDEO_QUEUE = 30
AUDIO_QUEUE = 30


@dataclass
class RelayCounters:
    """What the relay has done, for its metrics and for tests (shared by its calls)."""

    frames_in: int = 0
    frames_forwarded: int = 0
    frames_dropped_slow_subscriber: int = 0
    frames_waiting_for_keyframe: int = 0  # a delta frame a subscriber could not start on
    keyframes_requested: int = 0
    keyframe_requests_throttled: int = 0
    datagrams_refused: int = 0  # empty, or neither STUN nor from a checked peer


class ForwardedTrack(MediaStreamTrack):
    """One subscriber's copy of one publisher's track."""

    def __init__(self, publication: Publication, capacity: int) -> None:
        super().__init__()
        self.kind = publication.kind
        self.publication = publication
        self._capacity = capacity
        self._frames: deque[EncodedFrame] = deque()
        self._arrived = asyncio.Event()
        # Video starts at a key frame: a delta frame before one cannot be decoded.
        self._need_key = publication.kind == "video"
        self.forwarded = 0
        self.dropped = 0

    def offer(self, packet: EncodedFrame, key: bool) -> None:
        counters = self.publication.counters
        if self._need_key and not key:
            # Keep asking (throttled): the first request may have gone out before the
            # publisher's stream had started, or been lost.
            self.dropped += 1
            counters.frames_waiting_for_keyframe += 1
            self.publication.want_keyframe()
            return
        self._need_key = False
        if len(self._frames) >= self._capacity:
            if self.kind == "video":
                # Behind by a whole queue: old frames are worthless, and a delta frame
                # needs the one before it. Drop them all and wait for a key frame.
                dropped = len(self._frames)
                self._frames.clear()
                self.dropped += dropped
                counters.frames_dropped_slow_subscriber += dropped
                if not key:
                    self._need_key = True
                    self.offer(packet, key)
                    return
            else:
                self._frames.popleft()
                self.dropped += 1
                counters.frames_dropped_slow_subscriber += 1
        self._frames.append(packet)
        self._arrived.set()

    async def recv(self) -> EncodedFrame:
        while not self._frames:
            if self.readyState != "live" or self.publication.ended:
                raise MediaStreamError
            self._arrived.clear()
            await self._arrived.wait()
        self.forwarded += 1
        self.publication.counters.frames_forwarded += 1
        return self._frames.popleft()

    def stop(self) -> None:
        super().stop()
        self._arrived.set()
        self.publication.unsubscribe(self)


class Publication:
    """A publisher's audio or video track in one call, fanned out to its subscribers."""

    def __init__(
        self,
        source: MediaStreamTrack,
        ask_keyframe: Callable[[], Coroutine[Any, Any, None]],
        throttle: KeyframeThrottle,
        counters: RelayCounters,
        on_end: Callable[[], None] = lambda: None,
    ) -> None:
        self.kind = source.kind
        self._on_end = on_end  # the publisher's stream stopped by itself
        self.counters = counters
        self.ended = False
        self._source = source
        self._ask_keyframe = ask_keyframe
        self._throttle = throttle
        self._subscribers: list[ForwardedTrack] = []
        self._asks: set[asyncio.Task[None]] = set()
        self._reader = asyncio.create_task(self._drain(), name=f"publication-{source.id}")

    @property
    def subscribers(self) -> tuple[ForwardedTrack, ...]:
        return tuple(self._subscribers)

    def subscribe(self) -> ForwardedTrack:
        track = ForwardedTrack(self, VIDEO_QUEUE if self.kind == "video" else AUDIO_QUEUE)
        self._subscribers.append(track)
        if self.kind == "video":
            self.want_keyframe()  # a late joiner decodes nothing until the next one
        return track

    def unsubscribe(self, track: ForwardedTrack) -> None:
        if track in self._subscribers:
            self._subscribers.remove(track)

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
        self.ended = True
        self._reader.cancel()
        for task in (self._reader, *self._asks):
            try:
                await task
            except (asyncio.CancelledError, MediaStreamError, ConnectionError):
                pass
        for track in list(self._subscribers):
            track.stop()

    async def _drain(self) -> None:
        try:
            while True:
                packet = await self._source.recv()
                assert isinstance(packet, Packet), "the passthrough was not installed"
                self.counters.frames_in += 1
                key = is_keyframe(self.kind, bytes(memoryview(packet)[:1]))
                for track in self._subscribers:
                    track.offer(packet, key)
        except MediaStreamError:
            self._on_end()  # the publisher stopped sending: its peer connection closed
        finally:
            self.ended = True
            for track in self._subscribers:
                track._arrived.set()
