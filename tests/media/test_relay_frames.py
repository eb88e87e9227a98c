"""The relay's packet handling without a network: which packet begins a key frame, the
keyframe throttle, a late subscriber starting at a key frame, and a slow subscriber
whose packets are dropped without holding back the others."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtp import RtpPacket

from hub.clock import FixedClock
from media.relay.fanout import Publication, RelayCounters
from media.relay.frames import KeyframeThrottle, begins_keyframe, is_keyframe

# VP8 frames as the browsers send them under SFrame: the VP8 header in clear in front.
KEY = b"\x10\x02\x00\x9d\x01\x2a" + b"\x00" * 20  # VP8: bit 0 of the first byte is 0
DELTA = b"\x31\x02\x00" + b"\x00" * 20
# RTP payload descriptors (RFC 7741 §4.2): start of partition 0; with X, I and a 15-bit
# picture id (M), as Chromium sends; a packet that continues a frame.
START = b"\x10"
START_WITH_PICTURE_ID = b"\x90\x80\x81\x23"
CONTINUES = b"\x00"


def test_a_vp8_key_frame_is_told_from_a_delta_frame_by_its_first_byte() -> None:
    assert is_keyframe("video", KEY)
    assert not is_keyframe("video", DELTA)
    assert not is_keyframe("video", b"")
    assert is_keyframe("audio", b"\xfc")


@pytest.mark.parametrize(
    ("payload", "begins"),
    [
        (START + KEY, True),
        (START_WITH_PICTURE_ID + KEY, True),
        (b"\x90\x80\x23" + KEY, True),  # a 7-bit picture id
        (b"\x90\xe0\x81\x23\x05\x40" + KEY, True),  # picture id, TL0PICIDX, TID
        (START + DELTA, False),
        (START_WITH_PICTURE_ID + DELTA, False),
        (CONTINUES + KEY, False),  # the middle of a key frame: cannot start there
        (b"\x11" + KEY, False),  # partition 1
        (START_WITH_PICTURE_ID, False),  # a descriptor and nothing after it
        (b"", False),
    ],
)
def test_the_packet_that_begins_a_key_frame_is_told_by_its_descriptor(
    payload: bytes, begins: bool
) -> None:
    assert begins_keyframe("video", payload) is begins
    assert begins_keyframe("audio", payload)  # every Opus packet stands alone


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
    """aiortc's track of a publisher's stream: it carries nothing, and ends."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self.ended = asyncio.Event()

    async def recv(self) -> None:  # type: ignore[override]
        await self.ended.wait()
        raise MediaStreamError


class _Outlet:
    """A subscriber's sender: what it was given, and whether its buffer is full."""

    def __init__(self) -> None:
        self.ready = True
        self.full = False
        self.sent: list[bytes] = []

    def send(self, packet: RtpPacket) -> bool:
        if self.full:
            return False
        self.sent.append(packet.payload)
        return True


def _frame(first: int, key: bool, packets: int = 3) -> list[RtpPacket]:
    """One VP8 frame's RTP packets: the first begins it, the last has the marker."""
    body = KEY if key else DELTA
    return [
        RtpPacket(
            payload_type=96,
            sequence_number=first + i,
            timestamp=first * 90,
            marker=i == packets - 1,
            payload=(START if i == 0 else CONTINUES) + body,
        )
        for i in range(packets)
    ]


async def _publication(clock: FixedClock) -> tuple[_Source, Publication, list[int], list[int]]:
    source = _Source()
    asked: list[int] = []
    ended: list[int] = []

    async def ask() -> None:
        asked.append(1)

    publication = Publication(
        source, ask, KeyframeThrottle(clock, 1.0), RelayCounters(), on_end=lambda: ended.append(1)
    )
    return source, publication, asked, ended


def _subscriber(publication: Publication) -> _Outlet:
    outlet = _Outlet()
    publication.subscribe().outlet = outlet
    return outlet


async def test_a_late_subscriber_starts_at_a_key_frame_and_asks_for_one() -> None:
    clock = FixedClock()
    _, publication, asked, _ = await _publication(clock)
    early = _subscriber(publication)
    for packet in _frame(0, key=True):
        publication.forward(packet)
    late = _subscriber(publication)
    for packet in _frame(3, key=False):
        publication.forward(packet)
    assert len(early.sent) == 6
    assert late.sent == []  # a delta frame is useless without the frames before it
    await asyncio.sleep(0)
    assert asked  # and the publisher was asked for a key frame
    for packet in _frame(6, key=True):
        publication.forward(packet)
    assert late.sent[0] == START + KEY and len(late.sent) == 3
    assert publication.counters.frames_in == 3
    await publication.close()


async def test_a_subscriber_not_yet_connected_gets_nothing_then_starts_at_a_key_frame() -> None:
    _, publication, _, _ = await _publication(FixedClock())
    outlet = _subscriber(publication)
    outlet.ready = False
    for packet in _frame(0, key=True):
        publication.forward(packet)
    outlet.ready = True
    for packet in _frame(3, key=False):
        publication.forward(packet)
    assert outlet.sent == []
    for packet in _frame(6, key=True):
        publication.forward(packet)
    assert len(outlet.sent) == 3
    await publication.close()


async def test_a_slow_subscriber_loses_packets_not_memory_and_restarts_at_a_key() -> None:
    clock = FixedClock()
    _, publication, asked, _ = await _publication(clock)
    slow, fast = _subscriber(publication), _subscriber(publication)
    for packet in _frame(0, key=True):
        publication.forward(packet)
    slow.full = True  # its socket's send buffer is full: a tablet on bad Wi-Fi
    for f in range(1, 100):
        for packet in _frame(f * 3, key=False):
            publication.forward(packet)
        clock.advance(timedelta(milliseconds=50))
    slow.full = False
    for packet in _frame(300, key=False):
        publication.forward(packet)
    assert len(fast.sent) == 303  # the fast one lost nothing to the slow one
    assert len(slow.sent) == 3  # what it had before; nothing since, nothing held
    counters = publication.counters
    assert counters.packets_dropped_slow_subscriber == 1  # then it waited for a key frame
    for packet in _frame(303, key=True):
        publication.forward(packet)
    assert slow.sent[3] == START + KEY  # after skipping ahead it begins at a key frame
    # It asked for key frames while it waited, but at most once a second: 5 s of frames.
    await asyncio.sleep(0)
    assert 1 <= counters.keyframes_requested <= 6
    assert len(asked) == counters.keyframes_requested
    await publication.close()


async def test_the_publication_ends_when_the_publishers_stream_does() -> None:
    source, publication, _, ended = await _publication(FixedClock())
    outlet = _subscriber(publication)
    source.ended.set()
    for _ in range(10):
        await asyncio.sleep(0)
    assert ended == [1] and publication.ended
    for packet in _frame(0, key=True):
        publication.forward(packet)
    assert outlet.sent == []
    await publication.close()
