"""Receive media without decoding it: aiortc's receiver, with its decode step replaced.

aiortc's ``RTCRtpReceiver`` reassembles RTP packets into encoded frames in a jitter
buffer and hands each frame to a decoder thread; there is no public option to skip the
decoder. The relay must not decode — the frames are end-to-end encrypted, so it could
not, and decoding would cost a core per few calls — so for every receiver it owns it:

* swaps the queue that feeds the decoder thread for ``Passthrough``, which turns each
  reassembled frame into an ``av.Packet`` (the encoded bytes, with a timestamp) and puts
  it on the receiver's track at once. The decoder thread still starts (aiortc starts it
  in ``receive()``) but only waits for the stop signal: no decoder is ever created;
* swaps the jitter buffer for one that releases a video frame as soon as its last
  packet (RTP marker bit) is in, and an audio frame as soon as it arrives. aiortc's
  stock buffer holds a video frame until the next frame's first packet (+1 frame
  interval, ≈ 50 ms) and four Opus frames (≈ 80 ms); the subscribers' browsers have
  their own jitter buffers, so the relay's only job is to reassemble.

aiortc's sender already packetises an ``av.Packet`` without re-encoding (the path
``MediaPlayer(decode=False)`` uses), so the forwarded bytes leave as they came.

This reaches into aiortc's private attributes. ``pyproject.toml`` pins the aiortc
version it was written against (``AIORTC_VERSION``); ``check_internals`` fails loudly at
start-up — and ``tests/media/test_passthrough.py`` in CI — if an upgrade moved them.
"""

from __future__ import annotations

import threading
from fractions import Fraction
from typing import Any

import aiortc
import av
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtcrtpreceiver import RemoteStreamTrack, RTCRtpReceiver
from aiortc.rtp import RtpPacket

__all__ = [
    "AIORTC_VERSION",
    "Passthrough",
    "PassthroughBroken",
    "check_internals",
    "install",
    "request_keyframe",
]

AIORTC_VERSION = "1.16.0"

# The private names this module replaces or calls, as Python mangles them.
_QUEUE = "_RTCRtpReceiver__decoder_queue"
_JITTER = "_RTCRtpReceiver__jitter_buffer"
_STARTED = "_RTCRtpReceiver__started"
_KIND = "_RTCRtpReceiver__kind"
_MAPPER = "_RTCRtpReceiver__timestamp_mapper"


class PassthroughBroken(RuntimeError):
    """aiortc's receiver no longer looks the way the passthrough relies on."""


def check_internals() -> None:
    """Fail loudly (at start-up, not mid-call) if aiortc moved what the relay replaces."""
    if aiortc.__version__ != AIORTC_VERSION:
        raise PassthroughBroken(
            f"the media relay was written against aiortc {AIORTC_VERSION}, found "
            f"{aiortc.__version__}: check media/relay/passthrough.py against its receiver "
            "and update AIORTC_VERSION and the pin in pyproject.toml together"
        )
    probe = RTCRtpReceiver.__new__(RTCRtpReceiver)
    init_names = RTCRtpReceiver.__init__.__code__.co_names
    missing = [
        name
        for name in (_QUEUE, _JITTER, _STARTED, _KIND, _MAPPER)
        if name not in init_names and not hasattr(probe, name)
    ]
    for method in ("_send_rtcp_pli", "getSynchronizationSources"):
        if not callable(getattr(RTCRtpReceiver, method, None)):
            missing.append(method)
    if missing:
        raise PassthroughBroken(f"aiortc's RTCRtpReceiver lost {', '.join(missing)}")


class Passthrough:
    """Stands in for the receiver's decoder queue (a ``queue.Queue``).

    ``put`` is called on the event loop by the receiver with ``(codec, JitterFrame)`` for
    each reassembled frame, and with ``None`` when the receiver stops. ``get`` is called
    by the (now idle) decoder thread: it blocks until the stop, then returns ``None`` so
    that the thread ends the track as it always does.
    """

    def __init__(self, track: RemoteStreamTrack) -> None:
        self._track = track
        self._stopped = threading.Event()
        self.frames = 0

    def put(self, item: tuple[Any, JitterFrame] | None) -> None:
        if item is None:
            self._stopped.set()
            return
        codec, frame = item
        packet = av.Packet(frame.data)
        packet.pts = frame.timestamp
        packet.time_base = Fraction(1, codec.clockRate)
        self.frames += 1
        self._track._queue.put_nowait(packet)

    def get(self) -> None:
        self._stopped.wait()
        return None


class _PromptJitterBuffer(JitterBuffer):
    """Releases a frame as soon as it is whole, instead of when the next one starts.

    Video: the packets from the buffer's origin up to one carrying the RTP marker bit,
    with no gap and one timestamp, are a whole frame. Audio: every Opus packet is one
    frame. Loss and reordering are handled as in aiortc's buffer: a gap holds the frame
    back (the receiver's NACKs ask for the missing packet), and overflow drops whole
    frames and asks for a keyframe.
    """

    def _remove_frame(self, sequence_number: int) -> JitterFrame | None:
        origin = self._origin
        assert origin is not None
        packets: list[RtpPacket] = []
        timestamp: int | None = None
        for count in range(self.capacity):
            packet = self._packets[(origin + count) % self.capacity]
            if packet is None:
                return None
            if timestamp is not None and packet.timestamp != timestamp:
                # The first frame ended without a marker (lost marker packet, or a
                # sender that does not set it): whole now that the next one began.
                self.remove(count)
                return _frame(packets, timestamp)
            timestamp = packet.timestamp
            packets.append(packet)
            if packet.marker or not self._is_video:
                self.remove(count + 1)
                return _frame(packets, timestamp)
        return None


def _frame(packets: list[RtpPacket], timestamp: int) -> JitterFrame:
    return JitterFrame(data=b"".join(p._data for p in packets), timestamp=timestamp)  # type: ignore[attr-defined]


def install(receiver: RTCRtpReceiver) -> Passthrough:
    """Make ``receiver`` hand on encoded frames. Call before it starts receiving (in the
    peer connection's ``track`` event, which fires during ``setRemoteDescription``)."""
    if getattr(receiver, _STARTED):
        raise PassthroughBroken("the passthrough must be installed before the receiver starts")
    track = receiver.track
    assert isinstance(track, RemoteStreamTrack)
    passthrough = Passthrough(track)
    setattr(receiver, _QUEUE, passthrough)
    video = getattr(receiver, _KIND) == "video"
    setattr(receiver, _JITTER, _PromptJitterBuffer(capacity=512 if video else 16, is_video=video))
    return passthrough


async def request_keyframe(receiver: RTCRtpReceiver) -> None:
    """Ask the publisher for a keyframe (an RTCP PLI for each stream it sends)."""
    for source in receiver.getSynchronizationSources():
        await receiver._send_rtcp_pli(source.source)
