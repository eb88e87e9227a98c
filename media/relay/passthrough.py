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

Per packet, aiortc's generic path was most of the relay's CPU time (issue 12's
benchmark, docs/benchmarks.md). So the passthrough also takes the shortest way through
the same steps, for the relay's own connections only:

* ``_FastPath``, once per DTLS transport: an SRTP packet is handled where aioice hands
  it over, not queued for aiortc's receive task (a queue, a task wake-up and five
  coroutines per packet); an outgoing packet is protected and sent on the nominated
  ICE pair directly, not through four nested coroutines; and its sockets read into a
  64 KiB buffer, not asyncio's default 256 KiB, which costs ~20 µs to allocate for
  every datagram (measured here: 23 µs against 3 µs per ``recvfrom``). STUN, DTLS and
  SRTCP take aiortc's path as before;
* ``_Receive``, per receiver: aiortc's ``_handle_rtp_packet`` step for step — bandwidth
  estimate (REMB), statistics, RTX, NACKs, depacketising, the jitter buffer, keyframe
  requests — without a clock read as a ``datetime`` for every packet, and run without
  a coroutine; the rare RTCP it sends goes out from a task;
* ``install_sender``, per sender of forwarded media: aiortc's ``_run_rtp`` for an
  encoded frame — the same VP8 packetiser, header extensions, sequence numbers,
  statistics for its RTCP sender reports, and NACK/RTX history — with one header
  serialised per frame and patched (marker, sequence number) for each of its packets,
  where aiortc builds, stamps and serialises an ``RtpPacket`` object per packet and
  reads the clock as a ``datetime`` twice per packet.

This reaches into aiortc's private attributes. ``pyproject.toml`` pins the aiortc
version it was written against (``AIORTC_VERSION``); ``check_internals`` fails loudly at
start-up — and ``tests/media/test_passthrough.py`` in CI — if an upgrade moved them.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections.abc import Coroutine
from fractions import Fraction
from typing import Any

import aioice
import aiortc
import av
import pylibsrtp
from aiortc import clock
from aiortc.codecs import depayload, is_rtx
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.mediastreams import MediaStreamError, convert_timebase
from aiortc.rate import RemoteBitrateEstimator
from aiortc.rtcdtlstransport import RTCDtlsTransport, State
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtpreceiver import RemoteStreamTrack, RTCRtpReceiver, StreamStatistics
from aiortc.rtcrtpsender import RTCRtpSender, random_sequence_number
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTP_HISTORY_SIZE,
    RtcpPsfbPacket,
    RtpPacket,
    is_rtcp,
    pack_remb_fci,
    unwrap_rtx,
    wrap_rtx,
)
from aiortc.utils import random32

__all__ = [
    "AIORTC_VERSION",
    "Passthrough",
    "PassthroughBroken",
    "check_internals",
    "install",
    "install_sender",
    "read_buffer",
    "request_keyframe",
]

AIORTC_VERSION = "1.16.0"

# The private names this module replaces or calls, as Python mangles them.
_QUEUE = "_RTCRtpReceiver__decoder_queue"
_JITTER = "_RTCRtpReceiver__jitter_buffer"
_STARTED = "_RTCRtpReceiver__started"
_KIND = "_RTCRtpReceiver__kind"
_MAPPER = "_RTCRtpReceiver__timestamp_mapper"
_RECEIVER_STATE = (
    "_RTCRtpReceiver__active_ssrc",
    "_RTCRtpReceiver__codecs",
    "_RTCRtpReceiver__decoder_thread",
    "_RTCRtpReceiver__nack_generator",
    "_RTCRtpReceiver__remote_bitrate_estimator",
    "_RTCRtpReceiver__remote_streams",
    "_RTCRtpReceiver__rtcp_ssrc",
    "_RTCRtpReceiver__rtx_ssrc",
)
_SENDER_STATE = (
    "_RTCRtpSender__mid",
    "_RTCRtpSender__ntp_timestamp",
    "_RTCRtpSender__octet_count",
    "_RTCRtpSender__packet_count",
    "_RTCRtpSender__rtp_exited",
    "_RTCRtpSender__rtp_header_extensions_map",
    "_RTCRtpSender__rtp_started",
    "_RTCRtpSender__rtp_timestamp",
    "_RTCRtpSender__rtx_payload_type",
    "_RTCRtpSender__rtx_sequence_number",
    "_RTCRtpSender__track",
)
_TRANSPORT_STATE = (
    "_rx_srtp",
    "_tx_srtp",
    "_rtp_router",
    "_rtp_header_extensions_map",
    "_state",
    "_RTCDtlsTransport__rx_bytes",
    "_RTCDtlsTransport__rx_packets",
    "_RTCDtlsTransport__tx_bytes",
    "_RTCDtlsTransport__tx_packets",
)
# aiortc stamps arrival in milliseconds since the NTP epoch (1900), from a datetime.
_NTP_OFFSET_MS = 2_208_988_800_000


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
        for name in (_QUEUE, _JITTER, _STARTED, _KIND, _MAPPER, *_RECEIVER_STATE)
        if name not in init_names and not hasattr(probe, name)
    ]
    methods = ("_send_rtcp_pli", "_send_rtcp_nack", "_send_rtcp", "getSynchronizationSources")
    for method in methods:
        if not callable(getattr(RTCRtpReceiver, method, None)):
            missing.append(method)
    missing += [n for n in _TRANSPORT_STATE if n not in _names_used(RTCDtlsTransport)]
    missing += [n for n in _SENDER_STATE if n not in _names_used(RTCRtpSender)]
    for method in ("_run_rtp", "_retransmit"):
        if not callable(getattr(RTCRtpSender, method, None)):
            missing.append(f"RTCRtpSender.{method}")
    if not callable(getattr(aioice.Connection, "data_received", None)):
        missing.append("aioice.Connection.data_received")
    missing += [
        f"aioice.Connection.{n}"
        for n in ("_nominated", "_protocols")
        if n not in _names_used(aioice.Connection)
    ]
    if missing:
        raise PassthroughBroken(
            f"aiortc's RTCRtpReceiver, RTCRtpSender or transports lost {', '.join(missing)}"
        )


def _names_used(cls: type) -> set[str]:
    """The attribute names a class's own methods use (private ones included, mangled)."""
    return {
        name
        for member in vars(cls).values()
        if hasattr(member, "__code__")
        for name in member.__code__.co_names
    }


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
        self._time_base = Fraction(1, 1)  # made once: a Fraction per frame showed up
        self.frames = 0

    def put(self, item: tuple[Any, JitterFrame] | None) -> None:
        if item is None:
            self._stopped.set()
            return
        codec, frame = item
        if self._time_base.denominator != codec.clockRate:
            self._time_base = Fraction(1, codec.clockRate)
        packet = av.Packet(frame.data)
        packet.pts = frame.timestamp
        packet.time_base = self._time_base
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
    _Receive(receiver, passthrough)
    _FastPath.install(receiver.transport)
    return passthrough


class _Tasks:
    """Coroutines started from synchronous code, kept referenced until they finish."""

    def __init__(self) -> None:
        self._running: set[asyncio.Task[None]] = set()

    def start(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._running.add(task)
        task.add_done_callback(self._running.discard)


class _Receive:
    """aiortc 1.16.0's ``RTCRtpReceiver._handle_rtp_packet``, step for step, as a plain
    method: no coroutine per packet, no ``datetime`` per packet. The receiver's own
    method is replaced by it too, for any packet that still comes aiortc's way."""

    def __init__(self, receiver: RTCRtpReceiver, passthrough: Passthrough) -> None:
        self._receiver = receiver
        self._passthrough = passthrough
        self._tasks = _Tasks()
        state: Any = receiver
        self._codecs = state._RTCRtpReceiver__codecs
        self._streams = state._RTCRtpReceiver__remote_streams
        self._rtx_ssrc = state._RTCRtpReceiver__rtx_ssrc
        self._active = state._RTCRtpReceiver__active_ssrc
        self._nacks = state._RTCRtpReceiver__nack_generator
        self._estimator: RemoteBitrateEstimator | None = (
            state._RTCRtpReceiver__remote_bitrate_estimator
        )
        self._jitter = getattr(receiver, _JITTER)
        self._mapper = getattr(receiver, _MAPPER)
        # getSynchronizationSources (which the keyframe request uses) looks 10 s back:
        # a source's last-seen time refreshed once a second is as good.
        self._seen: dict[int, int] = {}
        receiver._telehub_receive = self  # type: ignore[attr-defined]
        receiver._handle_rtp_packet = self._handle_async  # type: ignore[method-assign]

    async def _handle_async(self, packet: RtpPacket, arrival_time_ms: int) -> None:
        self.handle(packet, arrival_time_ms)

    def handle(self, packet: RtpPacket, arrival_time_ms: int) -> None:
        receiver: Any = self._receiver
        if not receiver._enabled:
            return
        estimator = self._estimator
        if estimator is not None and packet.extensions.abs_send_time is not None:
            remb = estimator.add(
                abs_send_time=packet.extensions.abs_send_time,
                arrival_time_ms=arrival_time_ms,
                payload_size=len(packet.payload) + packet.padding_size,
                ssrc=packet.ssrc,
            )
            rtcp_ssrc = receiver._RTCRtpReceiver__rtcp_ssrc
            if rtcp_ssrc is not None and remb is not None:
                feedback = RtcpPsfbPacket(
                    fmt=RTCP_PSFB_APP, ssrc=rtcp_ssrc, media_ssrc=0, fci=pack_remb_fci(*remb)
                )
                self._tasks.start(receiver._send_rtcp(feedback))
        ssrc = packet.ssrc
        if arrival_time_ms - self._seen.get(ssrc, -1000) >= 1000:
            self._seen[ssrc] = arrival_time_ms
            self._active[ssrc] = clock.current_datetime()
        codec = self._codecs.get(packet.payload_type)
        if codec is None:
            return
        stream = self._streams.get(ssrc)
        if stream is None:
            stream = self._streams[ssrc] = StreamStatistics(codec.clockRate)
        stream.add(packet)
        if is_rtx(codec):
            original_ssrc = self._rtx_ssrc.get(ssrc)
            apt = codec.parameters.get("apt")
            if (
                original_ssrc is None
                or len(packet.payload) < 2
                or not isinstance(apt, int)
                or apt not in self._codecs
            ):
                return
            packet = unwrap_rtx(packet, payload_type=apt, ssrc=original_ssrc)
            codec = self._codecs[apt]
        if self._nacks is not None and self._nacks.add(packet):
            missing = sorted(self._nacks.missing)
            self._tasks.start(receiver._send_rtcp_nack(packet.ssrc, missing))
        try:
            packet._data = depayload(codec, packet.payload) if packet.payload else b""  # type: ignore[attr-defined]
        except ValueError:
            return
        pli, frame = self._jitter.add(packet)
        if pli:
            self._tasks.start(receiver._send_rtcp_pli(packet.ssrc))
        if frame is not None and receiver._RTCRtpReceiver__decoder_thread:
            frame.timestamp = self._mapper.map(frame.timestamp)
            self._passthrough.put((codec, frame))


class _FastPath:
    """The shortest way for SRTP through one of the relay's DTLS transports.

    In: aioice hands every datagram that is not STUN to ``Connection.data_received``,
    which queues it for aiortc's receive task; this takes SRTP packets (not SRTCP)
    there instead and does what that task would: unprotect, parse, route, and hand the
    packet to the receiver. Out: ``_send_rtp`` protects and sends on the nominated
    pair, as aiortc's four nested coroutines end up doing."""

    @classmethod
    def install(cls, transport: RTCDtlsTransport) -> None:
        if cls.of(transport) is None:
            cls(transport)

    @staticmethod
    def of(transport: RTCDtlsTransport) -> _FastPath | None:
        fast: _FastPath | None = getattr(transport, "_telehub_fast", None)
        return fast

    def __init__(self, transport: RTCDtlsTransport) -> None:
        connection: Any = transport.transport._connection
        self._transport: Any = transport
        self._connection = connection
        self._queue_datagram = connection.data_received
        self._tasks = _Tasks()
        self.packets_in = 0  # SRTP packets taken the short way (for tests)
        connection.data_received = self.data_received
        transport._send_rtp = self.send_rtp  # type: ignore[method-assign]
        transport._telehub_fast = self  # type: ignore[attr-defined]
        for protocol in connection._protocols:
            read_buffer(protocol.transport)

    def data_received(self, data: bytes, component: int) -> None:
        transport = self._transport
        session = transport._rx_srtp
        if (
            session is None
            or transport._state is not State.CONNECTED
            or len(data) < 12
            or not 127 < data[0] < 192
            or is_rtcp(data)
        ):
            self._queue_datagram(data, component)  # aiortc's way: DTLS, SRTCP, early SRTP
            return
        transport._RTCDtlsTransport__rx_bytes += len(data)
        transport._RTCDtlsTransport__rx_packets += 1
        self.packets_in += 1
        arrival_time_ms = int(time.time() * 1000) + _NTP_OFFSET_MS
        try:
            packet = RtpPacket.parse(session.unprotect(data), transport._rtp_header_extensions_map)
        except (pylibsrtp.Error, ValueError):
            return
        receiver = transport._rtp_router.route_rtp(packet)
        if receiver is None:
            return
        fast: _Receive | None = getattr(receiver, "_telehub_receive", None)
        if fast is not None:
            fast.handle(packet, arrival_time_ms)
        else:
            self._tasks.start(receiver._handle_rtp_packet(packet, arrival_time_ms=arrival_time_ms))

    async def send_rtp(self, data: bytes) -> None:
        transport = self._transport
        if transport._state is not State.CONNECTED:
            raise ConnectionError("Cannot send encrypted RTP, not connected")
        if is_rtcp(data):
            data = transport._tx_srtp.protect_rtcp(data)
        else:
            data = transport._tx_srtp.protect(data)
        pair = self._connection._nominated.get(1)
        if pair is None:
            raise ConnectionError("Cannot send data, not connected")
        await pair.protocol.send_data(data, pair.remote_addr)
        transport._RTCDtlsTransport__tx_bytes += len(data)
        transport._RTCDtlsTransport__tx_packets += 1


log = logging.getLogger(__name__)


def install_sender(sender: RTCRtpSender) -> None:
    """Make ``sender`` (a subscriber's copy of forwarded media) send with
    ``_LeanSender``. Call before it starts: when its transceiver is added."""
    _LeanSender(sender)


class _LeanSender:
    """aiortc 1.16.0's ``RTCRtpSender._run_rtp`` for encoded frames, with one header
    serialised per frame instead of an ``RtpPacket`` per packet (see the module's
    docstring). What goes on the wire is what aiortc would send; the one difference
    is that the abs-send-time extension is read once per frame, not once per packet
    (a frame's packets leave back to back, within microseconds)."""

    def __init__(self, sender: RTCRtpSender) -> None:
        self._sender: Any = sender
        self._history: dict[int, bytes] = {}  # plain RTP, for NACKs: seq % RTP_HISTORY_SIZE
        sender._run_rtp = self._run  # type: ignore[method-assign]
        sender._retransmit = self._retransmit  # type: ignore[method-assign]

    async def _run(self, codec: RTCRtpCodecParameters) -> None:
        sender = self._sender
        sender._RTCRtpSender__rtp_started.set()
        payload_type = codec.payloadType
        assert payload_type is not None
        time_base = Fraction(1, codec.clockRate)
        video = codec.name == "VP8"
        extensions = sender._RTCRtpSender__rtp_header_extensions_map
        mid = sender._RTCRtpSender__mid
        sequence = random_sequence_number()
        origin = random32()
        picture_id = random.randint(0, (1 << 15) - 1)  # as aiortc's Vp8Encoder starts
        checked_time_base: Fraction | None = None
        try:
            while True:
                track = sender._RTCRtpSender__track
                if track is None:
                    await asyncio.sleep(0.02)
                    continue
                frame = await track.recv()
                if not sender._enabled:
                    continue  # read and dropped, as aiortc does, so nothing piles up
                data = bytes(frame)
                pts = frame.pts
                if checked_time_base is None:
                    # PyAV makes a new Fraction at every read of ``time_base``: read it
                    # once. Frames from ``Passthrough`` count in the codec's clock.
                    checked_time_base = frame.time_base
                if checked_time_base != time_base:
                    pts = convert_timebase(pts, frame.time_base, time_base)
                timestamp = (origin + pts) & 0xFFFFFFFF
                if video:
                    payloads = Vp8Encoder._packetize(data, picture_id)
                    picture_id = (picture_id + 1) % (1 << 15)
                else:
                    payloads = [data]
                header = RtpPacket(
                    payload_type=payload_type, timestamp=timestamp, ssrc=sender._ssrc
                )
                now = clock.current_ntp_time()
                header.extensions.abs_send_time = (now >> 14) & 0x00FFFFFF
                header.extensions.mid = mid
                template = bytearray(header.serialize(extensions))
                last = len(payloads) - 1
                send = sender.transport._send_rtp
                for i, payload in enumerate(payloads):
                    template[1] = (0x80 if i == last else 0) | payload_type
                    template[2] = sequence >> 8
                    template[3] = sequence & 0xFF
                    packet = bytes(template) + payload
                    self._history[sequence % RTP_HISTORY_SIZE] = packet
                    await send(packet)
                    sender._RTCRtpSender__octet_count += len(payload)
                    sender._RTCRtpSender__packet_count += 1
                    sequence = (sequence + 1) & 0xFFFF
                sender._RTCRtpSender__ntp_timestamp = now
                sender._RTCRtpSender__rtp_timestamp = timestamp
        except (asyncio.CancelledError, ConnectionError, MediaStreamError):
            pass
        except Exception:
            # aiortc's sender must reach the end (``stop`` waits for it): log, as it does.
            log.exception("relay: sending forwarded media failed")
        track = sender._RTCRtpSender__track
        if track is not None:
            track.stop()
            sender._RTCRtpSender__track = None
        sender._RTCRtpSender__rtp_exited.set()

    async def _retransmit(self, sequence_number: int) -> None:
        """aiortc's ``_retransmit``: the packet again, wrapped in RTX if negotiated."""
        sender = self._sender
        plain = self._history.get(sequence_number % RTP_HISTORY_SIZE)
        if plain is None or int.from_bytes(plain[2:4], "big") != sequence_number:
            return
        rtx_payload_type = sender._RTCRtpSender__rtx_payload_type
        if rtx_payload_type is not None:
            extensions = sender._RTCRtpSender__rtp_header_extensions_map
            rtx = wrap_rtx(
                RtpPacket.parse(plain, extensions),
                payload_type=rtx_payload_type,
                sequence_number=sender._RTCRtpSender__rtx_sequence_number,
                ssrc=sender._rtx_ssrc,
            )
            sender._RTCRtpSender__rtx_sequence_number = (rtx.sequence_number + 1) & 0xFFFF
            plain = rtx.serialize(extensions)
        await sender.transport._send_rtp(plain)


# The largest UDP payload there is: nothing a peer can send is cut short.
UDP_MAX = 65_535


def read_buffer(transport: Any) -> None:
    """Make an asyncio datagram transport read into a buffer the size of the largest
    datagram instead of 256 KiB (``max_size``, read for every datagram). uvloop's
    transports have no such attribute and need none."""
    if isinstance(getattr(transport, "max_size", None), int):
        transport.max_size = UDP_MAX


async def request_keyframe(receiver: RTCRtpReceiver) -> None:
    """Ask the publisher for a keyframe (an RTCP PLI for each stream it sends)."""
    for source in receiver.getSynchronizationSources():
        await receiver._send_rtcp_pli(source.source)
