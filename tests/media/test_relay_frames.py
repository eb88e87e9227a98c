"""The relay's frame handling without a network: key frames, the keyframe throttle, a
slow subscriber's bounded queue, and the prompt jitter buffer."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import av
import pytest
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtp import RtpPacket

from hub.clock import FixedClock
from media.relay.fanout import VIDEO_QUEUE, Publication, RelayCounters
from media.relay.frames import KeyframeThrottle, is_keyframe
from media.relay.passthrough import _PromptJitterBuffer

KEY = b"\x10\x02\x00\x9d\x01\x2a" + b"\x00" * 20  # VP8: bit 0 of the first byte is 0
DELTA = b"\x31\x02\x00" + b"\x00" * 20


def test_a_vp8_key_frame_is_told_from_a_delta_frame_by_its_first_byte() -> None:
    assert is_keyframe("video", KEY)
    assert not is_keyframe("video", DELTA)
    assert not is_keyframe("video", b"")
    assert is_keyframe("audio", b"\xfc")


def test_keyframe_requests_pass_at_most_once_per_interval() -> None:
    clock = FixedClock()
    throttle = KeyframeThrottle(clock, interval_s=1.0)
    asks = []
    for _ in range(10):  # a subscriber that cannot decrypt asks every 200 ms
        asks.append(throttle.allow())
        clock.advance(timedelta(milliseconds=200))
    assert asks == [True, False, False, False, False, True, False, False, False, False]
    assert (throttle.passed, throttle.dropped) == (2, 8)


class _Source(MediaStreamTrack):
    """A publisher's track fed by the test."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self.queue: asyncio.Queue[av.Packet | None] = asyncio.Queue()

    async def recv(self) -> av.Packet:  # type: ignore[override]
        packet = await self.queue.get()
        if packet is None:
            raise MediaStreamError
        return packet


def _packet(data: bytes) -> av.Packet:
    return av.Packet(data)


async def _publication(clock: FixedClock) -> tuple[_Source, Publication, list[int]]:
    source = _Source()
    asked: list[int] = []

    async def ask() -> None:
        asked.append(1)

    publication = Publication(source, ask, KeyframeThrottle(clock, 1.0), RelayCounters())
    return source, publication, asked


async def _flush(source: _Source) -> None:
    """Let the publication's reader take everything queued (it offers synchronously)."""
    for _ in range(100):
        if source.queue.empty():
            break
        await asyncio.sleep(0)
    await asyncio.sleep(0)


async def test_a_subscriber_that_never_reads_holds_a_bounded_queue_restarting_at_a_key() -> None:
    clock = FixedClock()
    source, publication, asked = await _publication(clock)
    slow = publication.subscribe()
    fast = publication.subscribe()
    got_fast = []
    for i in range(1000):
        source.queue.put_nowait(_packet(KEY if i % 100 == 0 else DELTA))
        await _flush(source)
        got_fast.append(bytes(await asyncio.wait_for(fast.recv(), 5)))
        clock.advance(timedelta(milliseconds=50))
    assert len(slow._frames) <= VIDEO_QUEUE  # memory bounded however far behind
    assert len(got_fast) == 1000  # the fast one lost nothing to the slow one
    assert slow.dropped >= 1000 - VIDEO_QUEUE
    source.queue.put_nowait(_packet(KEY))
    await _flush(source)
    # After skipping ahead, what it gets next begins with a key frame.
    assert bytes(await asyncio.wait_for(slow.recv(), 5)) == KEY
    # It asked the publisher for key frames, but at most once a second: 50 s of frames.
    assert 1 <= publication.counters.keyframes_requested <= 51
    await asyncio.sleep(0)
    assert len(asked) == publication.counters.keyframes_requested
    source.queue.put_nowait(None)
    await publication.close()


async def test_a_late_subscriber_waits_for_a_key_frame_and_asks_for_one() -> None:
    clock = FixedClock()
    source, publication, asked = await _publication(clock)
    source.queue.put_nowait(_packet(KEY))
    await _flush(source)
    late = publication.subscribe()
    for _ in range(3):
        source.queue.put_nowait(_packet(DELTA))
    await _flush(source)
    assert late._frames == type(late._frames)()  # deltas before a key frame are useless
    await asyncio.sleep(0)
    assert asked  # and the publisher was asked for a key frame
    source.queue.put_nowait(_packet(KEY))
    await _flush(source)
    assert bytes(await asyncio.wait_for(late.recv(), 5)) == KEY
    await publication.close()


async def test_subscribers_end_when_the_publisher_stops() -> None:
    source, publication, _ = await _publication(FixedClock())
    track = publication.subscribe()
    source.queue.put_nowait(None)
    with pytest.raises(MediaStreamError):
        await asyncio.wait_for(track.recv(), 5)
    await publication.close()


def _rtp(seq: int, ts: int, marker: bool, data: bytes) -> RtpPacket:
    packet = RtpPacket(payload_type=96, sequence_number=seq, timestamp=ts, marker=marker)
    packet._data = data  # type: ignore[attr-defined]
    return packet


def test_the_prompt_buffer_releases_a_video_frame_on_its_marker_packet() -> None:
    buffer = _PromptJitterBuffer(capacity=64, is_video=True)
    assert buffer.add(_rtp(10, 900, False, b"ab"))[1] is None
    frame = buffer.add(_rtp(11, 900, True, b"cd"))[1]
    assert frame is not None and (frame.data, frame.timestamp) == (b"abcd", 900)
    # A gap holds the next frame back until the missing packet comes (NACKed).
    assert buffer.add(_rtp(13, 1800, True, b"gh"))[1] is None
    frame = buffer.add(_rtp(12, 1800, False, b"ef"))[1]
    assert frame is not None and frame.data == b"efgh"


def test_the_prompt_buffer_releases_audio_at_once() -> None:
    buffer = _PromptJitterBuffer(capacity=16, is_video=False)
    frame = buffer.add(_rtp(1, 960, False, b"\xfc\x01"))[1]
    assert frame is not None and frame.data == b"\xfc\x01"
