"""Forward media packet by packet, never depacketised or decoded: aiortc's receiver and
sender with their media steps replaced.

aiortc's ``RTCRtpReceiver`` reassembles RTP packets into encoded frames in a jitter
buffer and hands each frame to a decoder thread; its ``RTCRtpSender`` packetises frames
again. The relay must not decode — the frames are end-to-end encrypted, so it could
not — and reassembling and packetising every frame again in Python cost it most of
its time (issue 12's benchmark, docs/benchmarks.md: 7 calls of three per core). So the
relay forwards RTP packets (a selective forwarding unit) and keeps aiortc for what it
does well — ICE, DTLS, SRTP keys, RTCP, NACK and RTX — for its own connections only:

* ``_FastPath``, once per DTLS transport: an SRTP packet is handled where aioice hands
  it over, not queued for aiortc's receive task (a queue, a task wake-up and five
  coroutines per packet); an outgoing packet is protected and written to the nominated
  ICE pair's socket at once (``send_now``), or dropped if that socket's send buffer is
  full; its sockets read into a 64 KiB buffer, not asyncio's default 256 KiB, which
  costs ~20 µs to allocate for every datagram. STUN, DTLS and SRTCP take aiortc's path;
* ``_Receive``, per receiver (``install``): aiortc's ``_handle_rtp_packet`` up to the
  jitter buffer — bandwidth estimate (REMB), statistics, RTX, NACKs to the publisher —
  then the packet goes to its publication (media/relay/fanout.py) instead of the
  jitter buffer. The decoder thread aiortc starts never gets anything;
* ``PacketSender``, per sender of forwarded media (``install_sender``): writes each
  packet as the subscriber's stream (its SSRC, sequence numbers, timestamps, payload
  type, mid; one header serialised per frame) and keeps what aiortc's RTCP sender
  reports and NACK/RTX answers need.

This reaches into aiortc's private attributes. ``pyproject.toml`` pins the aiortc
version it was written against (``AIORTC_VERSION``); ``check_internals`` fails loudly at
start-up — and ``tests/media/test_passthrough.py`` in CI — if an upgrade moved them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

import aioice
import aiortc
import pylibsrtp
from aiortc import clock
from aiortc.codecs import is_rtx
from aiortc.rate import RemoteBitrateEstimator
from aiortc.rtcdtlstransport import RTCDtlsTransport, State
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtpreceiver import RTCRtpReceiver, StreamStatistics
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
    "PacketSender",
    "PassthroughBroken",
    "check_internals",
    "install",
    "install_sender",
    "read_buffer",
    "request_keyframe",
]

AIORTC_VERSION = "1.16.0"

# The private names this module replaces or calls, as Python mangles them.
_STARTED = "_RTCRtpReceiver__started"
_RECEIVER_STATE = (
    "_RTCRtpReceiver__active_ssrc",
    "_RTCRtpReceiver__codecs",
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
        for name in (_STARTED, *_RECEIVER_STATE)
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


def install(receiver: RTCRtpReceiver, forward: Callable[[RtpPacket], None]) -> None:
    """Make ``receiver`` hand every RTP packet it takes to ``forward`` (RTX unwrapped),
    and never depacketise or decode. Call before it starts receiving (in the peer
    connection's ``track`` event, which fires during ``setRemoteDescription``)."""
    if getattr(receiver, _STARTED):
        raise PassthroughBroken("the passthrough must be installed before the receiver starts")
    _Receive(receiver, forward)
    _FastPath.install(receiver.transport)


class _Tasks:
    """Coroutines started from synchronous code, kept referenced until they finish."""

    def __init__(self) -> None:
        self._running: set[asyncio.Task[None]] = set()

    def start(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._running.add(task)
        task.add_done_callback(self._running.discard)


class _Receive:
    """aiortc 1.16.0's ``RTCRtpReceiver._handle_rtp_packet`` up to the jitter buffer,
    step for step, as a plain method (no coroutine or ``datetime`` per packet): the
    bandwidth estimate (REMB), statistics, RTX, NACKs. Then, instead of depacketising
    into the jitter buffer for the decoder, the packet goes to ``forward``. The
    receiver's own method is replaced by it too, for any packet that still comes
    aiortc's way. (Keyframe requests come from the subscribers that need one.)"""

    def __init__(self, receiver: RTCRtpReceiver, forward: Callable[[RtpPacket], None]) -> None:
        self._receiver = receiver
        self._forward = forward
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
        self._forward(packet)


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

    def send_now(self, plain: bytes) -> bool:
        """Protect and send one RTP packet at once, on the nominated pair's socket.
        False if it was dropped because that socket's send buffer is full (a subscriber
        that cannot keep up); a packet before the connection is up is let go (True)."""
        transport = self._transport
        pair = self._connection._nominated.get(1)
        if transport._state is not State.CONNECTED or pair is None:
            return True
        udp = getattr(pair.protocol, "transport", None)
        if udp is None:  # not a plain socket (a TURN allocation): aiortc's way
            self._tasks.start(self.send_rtp(plain))
            return True
        if udp.get_write_buffer_size() > SEND_BUFFER_MAX:
            return False
        data = transport._tx_srtp.protect(plain)
        udp.sendto(data, pair.remote_addr)
        transport._RTCDtlsTransport__tx_bytes += len(data)
        transport._RTCDtlsTransport__tx_packets += 1
        return True

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


def install_sender(sender: RTCRtpSender, on_ready: Callable[[], None]) -> PacketSender:
    """Make ``sender`` (a subscriber's copy of forwarded media) send the publisher's
    packets as they come (``PacketSender.send``). Call before it starts: when its
    transceiver is added. ``on_ready``: called once it can send (ask for a key frame)."""
    return PacketSender(sender, on_ready)


class PacketSender:
    """A subscriber's RTP stream of one forwarded track, sent packet by packet.

    aiortc's sender still negotiates, sends RTCP sender reports (from the counts kept
    here) and answers NACKs (``_retransmit``, from the history kept here); its own send
    loop (``_run_rtp``) only records the negotiated payload type and waits to be
    stopped. ``send`` writes each packet of the publisher's stream as this stream's:
    the sequence number and timestamp moved by a fixed offset chosen at the first packet
    (so the publisher's losses stay gaps the subscriber can NACK), this sender's SSRC,
    payload type and mid; abs-send-time stamped once per frame (one header serialised
    per frame, patched per packet); the payload as it came."""

    def __init__(self, sender: RTCRtpSender, on_ready: Callable[[], None]) -> None:
        self._sender: Any = sender
        self._on_ready = on_ready
        self._history: dict[int, bytes] = {}  # plain RTP, for NACKs: seq % RTP_HISTORY_SIZE
        self._fast: _FastPath | None = None
        self._payload_type = 0
        self._mid: str | None = None
        self._extensions: Any = None
        self._seq_offset: int | None = None
        self._ts_offset = random32()
        self._header = bytearray()
        self._header_ts: int | None = None
        sender._run_rtp = self._run  # type: ignore[method-assign]
        sender._retransmit = self._retransmit  # type: ignore[method-assign]

    @property
    def ready(self) -> bool:
        return self._fast is not None and self._sender._enabled

    def send(self, packet: RtpPacket) -> bool:
        fast = self._fast
        if fast is None:
            return True
        sender = self._sender
        if self._seq_offset is None:
            self._seq_offset = (random_sequence_number() - packet.sequence_number) & 0xFFFF
        seq = (packet.sequence_number + self._seq_offset) & 0xFFFF
        timestamp = (packet.timestamp + self._ts_offset) & 0xFFFFFFFF
        header = self._header
        if timestamp != self._header_ts:  # a new frame
            fresh = RtpPacket(
                payload_type=self._payload_type, timestamp=timestamp, ssrc=sender._ssrc
            )
            now = clock.current_ntp_time()
            fresh.extensions.abs_send_time = (now >> 14) & 0x00FFFFFF
            fresh.extensions.mid = self._mid
            header = self._header = bytearray(fresh.serialize(self._extensions))
            self._header_ts = timestamp
            sender._RTCRtpSender__ntp_timestamp = now
            sender._RTCRtpSender__rtp_timestamp = timestamp
        header[1] = (0x80 if packet.marker else 0) | self._payload_type
        header[2] = seq >> 8
        header[3] = seq & 0xFF
        plain = bytes(header) + packet.payload
        if not fast.send_now(plain):
            return False
        self._history[seq % RTP_HISTORY_SIZE] = plain
        sender._RTCRtpSender__octet_count += len(packet.payload)
        sender._RTCRtpSender__packet_count += 1
        return True

    async def _run(self, codec: RTCRtpCodecParameters) -> None:
        sender = self._sender
        sender._RTCRtpSender__rtp_started.set()
        assert codec.payloadType is not None
        self._payload_type = codec.payloadType
        self._mid = sender._RTCRtpSender__mid
        self._extensions = sender._RTCRtpSender__rtp_header_extensions_map
        _FastPath.install(sender.transport)
        self._fast = _FastPath.of(sender.transport)
        self._on_ready()
        try:
            await asyncio.Event().wait()  # until aiortc stops the sender (cancels this)
        except asyncio.CancelledError:
            pass
        finally:
            self._fast = None
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


# Bytes a participant's socket may hold unsent before its packets are dropped: asyncio
# keeps what the kernel would not take, without limit. About 0.1 s of a call's video.
SEND_BUFFER_MAX = 64 * 1024

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
