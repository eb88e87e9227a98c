"""Forward media packet by packet, never depacketised or decoded: aiortc's receiver and
sender with their media steps replaced.

aiortc's ``RTCRtpReceiver`` reassembles RTP packets into encoded frames in a jitter
buffer and hands each frame to a decoder thread; its ``RTCRtpSender`` packetises frames
again. The relay must not decode — the frames are end-to-end encrypted, so it could
not — and reassembling and packetising every frame again in Python cost it most of
its time (issue 12's benchmark, docs/benchmarks.md: 7 calls of three per core). So the
relay forwards RTP packets (a selective forwarding unit) and keeps aiortc for what it
does well — ICE, DTLS, SRTP keys, RTCP, NACK and RTX — for its own connections only:

* ``FastPath``, once per DTLS transport: an SRTP packet is handled where aioice hands
  it over, not queued for aiortc's receive task (a queue, a task wake-up and five
  coroutines per packet); an outgoing packet is protected and written to the nominated
  ICE pair's socket at once (``send_now``), or dropped if that socket's send buffer is
  full; its sockets read into a 64 KiB buffer, not asyncio's default 256 KiB, which
  costs ~20 µs to allocate for every datagram. STUN, DTLS and SRTCP take aiortc's path;
* ``_Receive``, per receiver (``install``): aiortc's ``_handle_rtp_packet`` up to the
  jitter buffer — bandwidth estimate (REMB), statistics, RTX, NACKs to the publisher —
  then the packet goes to its publication (media/relay/fanout.py) instead of the
  jitter buffer. The decoder thread aiortc starts never gets anything;
* the sending side, per sender of forwarded media, is media/relay/sending.py.

The steady case runs in C (media/relay/_fastpath.c): once a transport has SRTP keys,
its nominated pair's socket is read by a ``Reader``; a packet from the publisher is
unprotected, counted into the receiver's statistics and written to every
subscriber's socket as its stream there, without Python per packet; the bandwidth
estimate is fed once a frame (media/relay/estimate.py). Everything else — the first
packets of a stream, gaps and reordering (NACKs), RTX, padding, subscribers
connecting or waiting for a key frame, TURN — takes the Python path below, which
sends through the same C ``Outlet`` (one owner of each stream's sequence numbers,
timestamps and history).

This reaches into aiortc's private attributes. ``pyproject.toml`` pins the aiortc
version it was written against (``AIORTC_VERSION``); ``check_internals`` fails loudly at
start-up — and ``tests/media/test_relay.py`` in CI — if an upgrade moved them.
"""

from __future__ import annotations

import asyncio
import os
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
from aiortc.rtcrtpreceiver import RTCRtpReceiver, StreamStatistics
from aiortc.rtcrtpsender import RTCRtpSender
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RtcpPsfbPacket,
    RtpPacket,
    is_rtcp,
    pack_remb_fci,
    unwrap_rtx,
)

from media.relay import estimate, srtp
from media.relay._fastpath import Inlet, Reader, Route

__all__ = [
    "AIORTC_VERSION",
    "FastPath",
    "PassthroughBroken",
    "check_internals",
    "extension_ids",
    "install",
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


def extension_ids(extensions: Any) -> Any:
    """The negotiated header extension ids of an aiortc ``HeaderExtensionsMap``."""
    return extensions._HeaderExtensionsMap__ids


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
    if aiortc.rtp.RTP_HISTORY_SIZE != 128:  # the C path's NACK history (_fastpath.c)
        missing.append("aiortc.rtp.RTP_HISTORY_SIZE == 128")
    if not hasattr(pylibsrtp.Session(), "_srtp"):
        missing.append("pylibsrtp.Session._srtp")
    ids = extension_ids(aiortc.rtp.HeaderExtensionsMap())
    missing += [
        f"HeaderExtensionsMap ids.{n}" for n in ("mid", "abs_send_time") if not hasattr(ids, n)
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


def install(receiver: RTCRtpReceiver, forward: Callable[[RtpPacket], None], route: Route) -> None:
    """Make ``receiver`` hand every RTP packet it takes to ``forward`` (RTX unwrapped),
    and never depacketise or decode; once its stream is known, its steady packets go
    ``route``'s way in C instead. Call before it starts receiving (in the peer
    connection's ``track`` event, which fires during ``setRemoteDescription``)."""
    if getattr(receiver, _STARTED):
        raise PassthroughBroken("the passthrough must be installed before the receiver starts")
    _Receive(receiver, forward, route)
    FastPath.install(receiver.transport)


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
    aiortc's way. (Keyframe requests come from the subscribers that need one.)

    The first packet of its stream binds ``route`` to it, so that the stream's steady
    packets are forwarded in C from then on (``FastPath``); the C path keeps the same
    statistics and NACK state and feeds the bandwidth estimate a frame at a time
    (``_frame``)."""

    def __init__(
        self, receiver: RTCRtpReceiver, forward: Callable[[RtpPacket], None], route: Route
    ) -> None:
        self._receiver = receiver
        self._forward = forward
        self._route = route
        self._bound_ssrc: int | None = None
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
        if self._estimator is not None:
            estimate.faster(self._estimator)
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
        if packet.extensions.abs_send_time is not None:
            self._estimate(
                packet.extensions.abs_send_time,
                arrival_time_ms,
                len(packet.payload) + packet.padding_size,
                packet.ssrc,
            )
        ssrc = packet.ssrc
        if arrival_time_ms - self._seen.get(ssrc, -1000) >= 1000:
            self._tick(ssrc, arrival_time_ms)
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
        elif ssrc != self._bound_ssrc:
            self._bind(packet, codec.clockRate)
        if self._nacks is not None and self._nacks.add(packet):
            missing = sorted(self._nacks.missing)
            self._tasks.start(receiver._send_rtcp_nack(packet.ssrc, missing))
        self._forward(packet)

    def _bind(self, packet: RtpPacket, clockrate: int) -> None:
        """Let the C path forward this stream's steady packets (``Inlet.take``)."""
        fast = FastPath.of(self._receiver.transport)
        inlet = fast.inlet if fast is not None else None
        if inlet is None:  # not connected yet: the next packet binds
            return
        transport: Any = self._receiver.transport
        abs_id = extension_ids(transport._rtp_header_extensions_map).abs_send_time
        self._route.bind(
            ssrc=packet.ssrc,
            payload_type=packet.payload_type,
            clockrate=clockrate,
            abs_id=abs_id or 0,
            receiver=self._receiver,
            stats=self._streams[packet.ssrc],
            nacks=self._nacks,
            on_frame=self._frame if self._estimator is not None else None,
            tick=self._tick,
        )
        inlet.add(packet.ssrc, self._route)
        self._bound_ssrc = packet.ssrc

    def _frame(self, abs_send_time: int, arrival_time_ms: int, size: int) -> None:
        """A frame the C path forwarded, for the bandwidth estimate: its bytes at the
        send and arrival time of its last packet. The estimate groups packets sent
        within 5 ms anyway (aiortc's ``InterArrival``), as a frame's packets are."""
        if self._bound_ssrc is not None:
            self._estimate(abs_send_time, arrival_time_ms, size, self._bound_ssrc)

    def _estimate(self, abs_send_time: int, arrival_time_ms: int, size: int, ssrc: int) -> None:
        estimator = self._estimator
        if estimator is None:
            return
        remb = estimator.add(
            abs_send_time=abs_send_time,
            arrival_time_ms=arrival_time_ms,
            payload_size=size,
            ssrc=ssrc,
        )
        receiver: Any = self._receiver
        rtcp_ssrc = receiver._RTCRtpReceiver__rtcp_ssrc
        if rtcp_ssrc is not None and remb is not None:
            feedback = RtcpPsfbPacket(
                fmt=RTCP_PSFB_APP, ssrc=rtcp_ssrc, media_ssrc=0, fci=pack_remb_fci(*remb)
            )
            self._tasks.start(receiver._send_rtcp(feedback))

    def _tick(self, ssrc: int, arrival_time_ms: int) -> None:
        """Once a second per stream: the source is active (getSynchronizationSources)."""
        self._seen[ssrc] = arrival_time_ms
        self._active[ssrc] = clock.current_datetime()


class FastPath:
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
    def of(transport: RTCDtlsTransport) -> FastPath | None:
        fast: FastPath | None = getattr(transport, "_telehub_fast", None)
        return fast

    def __init__(self, transport: RTCDtlsTransport) -> None:
        connection: Any = transport.transport._connection
        self._transport: Any = transport
        self._connection = connection
        self._queue_datagram = connection.data_received
        self._tasks = _Tasks()
        self._inlet: Inlet | None = None
        self.reader: Reader | None = None  # reads the nominated pair's socket in C
        self.packets_in = 0  # SRTP packets Python's short path handled
        connection.data_received = self.data_received
        transport._send_rtp = self.send_rtp  # type: ignore[method-assign]
        transport._telehub_fast = self  # type: ignore[attr-defined]
        for protocol in connection._protocols:
            read_buffer(protocol.transport)

    @property
    def inlet(self) -> Inlet | None:
        """The C path's receive side, once DTLS has given this transport SRTP keys."""
        if self._inlet is None:
            transport = self._transport
            session = transport._rx_srtp
            if session is not None and transport._state is State.CONNECTED:
                self._inlet = Inlet(
                    transport=transport,
                    connected=State.CONNECTED,
                    session=session,
                    ctx=srtp.context(session),
                    unprotect=srtp.UNPROTECT,
                )
                self._read_nominated(self._inlet)
        return self._inlet

    def _read_nominated(self, inlet: Inlet) -> None:
        """Read the nominated pair's socket in C (``Reader``) instead of through
        asyncio's datagram transport, aioice and the guard: media from the nominated
        peer goes straight to ``inlet``; anything else — STUN, DTLS, SRTCP, other
        sources — is handed to the socket's protocol as asyncio would have handed it
        (the guard first). Not for a TURN allocation, or on a loop without selector
        internals (uvloop): those keep the datagram path."""
        pair = self.nominated
        udp = getattr(pair.protocol, "transport", None) if pair is not None else None
        loop = asyncio.get_running_loop()
        add_reader = getattr(loop, "_add_reader", None)
        if udp is None or add_reader is None or not hasattr(udp, "_read_ready"):
            return
        protocol = pair.protocol
        fd = udp.get_extra_info("socket").fileno()

        def datagram(data: bytes, addr: tuple[Any, ...]) -> None:
            protocol.datagram_received(data, addr)

        def error(number: int) -> None:
            protocol.error_received(OSError(number, os.strerror(number)))

        try:
            reader = Reader(
                inlet=inlet,
                fd=fd,
                host=pair.remote_addr[0],
                port=pair.remote_addr[1],
                on_datagram=datagram,
                on_plain=self._handle_plain,
                on_error=error,
            )
        except ValueError:  # a peer address the reader cannot compare (scoped IPv6)
            return
        add_reader(fd, reader.read_ready)  # replaces the transport's own _read_ready
        self.reader = reader

    def data_received(self, data: bytes, component: int) -> None:
        inlet = self._inlet or self.inlet
        plain = inlet.take(data) if inlet is not None else None
        if plain is None:
            self._queue_datagram(data, component)  # aiortc's way: DTLS, SRTCP, early SRTP
            return
        if plain is True:  # forwarded in C, or it did not authenticate
            return
        self._handle_plain(plain)

    def _handle_plain(self, plain: bytes) -> None:
        """An RTP packet the C path unprotected but left to Python (not steady)."""
        self.packets_in += 1
        arrival_time_ms = int(time.time() * 1000) + _NTP_OFFSET_MS
        transport = self._transport
        try:
            packet = RtpPacket.parse(plain, transport._rtp_header_extensions_map)
        except ValueError:
            return
        receiver = transport._rtp_router.route_rtp(packet)
        if receiver is None:
            return
        fast: _Receive | None = getattr(receiver, "_telehub_receive", None)
        if fast is not None:
            fast.handle(packet, arrival_time_ms)
        else:
            self._tasks.start(receiver._handle_rtp_packet(packet, arrival_time_ms=arrival_time_ms))

    @property
    def transport(self) -> Any:
        return self._transport

    @property
    def nominated(self) -> Any:
        """The nominated ICE pair of component 1, or None before there is one."""
        return self._connection._nominated.get(1)

    def send_now(self, plain: bytes) -> bool:
        """Protect and send one RTP packet at once, on the nominated pair's socket.
        False if it was dropped because that socket's send buffer is full (a subscriber
        that cannot keep up); a packet before the connection is up is let go (True)."""
        transport = self._transport
        pair = self.nominated
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
        pair = self.nominated
        if pair is None:
            raise ConnectionError("Cannot send data, not connected")
        await pair.protocol.send_data(data, pair.remote_addr)
        transport._RTCDtlsTransport__tx_bytes += len(data)
        transport._RTCDtlsTransport__tx_packets += 1


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
