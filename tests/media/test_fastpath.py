"""The relay's per-packet path in C (media/relay/_fastpath.c), against aiortc's own code
for the same steps: real SRTP sessions (pylibsrtp, as aiortc makes them), real UDP
sockets on loopback, aiortc's StreamStatistics and NackGenerator.

The relay's end-to-end tests (test_relay.py, the browser E2EE test) run this path with
real peers; these pin what each step must produce byte for byte, and what makes the C
path hand a packet back to Python."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pylibsrtp
import pytest
from aiortc.rtcdtlstransport import State
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtcrtpreceiver import NackGenerator, StreamStatistics
from aiortc.rtp import HeaderExtensionsMap, RtpPacket
from hypothesis import given, settings
from hypothesis import strategies as st

from media.relay import srtp
from media.relay._fastpath import Inlet, Outlet, Reader, Route, build_header
from media.relay.fanout import RelayCounters

MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"
ABS_URI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
PROFILE = pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_128_GCM
KEY = bytes(range(28))  # AES-128-GCM: 16 bytes of key, 12 of salt


def _extensions(mid_id: int, abs_id: int) -> HeaderExtensionsMap:
    extensions = HeaderExtensionsMap()
    extensions.configure(
        RTCRtpParameters(
            headerExtensions=[
                RTCRtpHeaderExtensionParameters(id=mid_id, uri=MID_URI),
                RTCRtpHeaderExtensionParameters(id=abs_id, uri=ABS_URI),
            ]
        )
    )
    return extensions


def _session(direction: int) -> pylibsrtp.Session:
    policy = pylibsrtp.Policy(key=KEY, ssrc_type=direction, srtp_profile=PROFILE)
    return pylibsrtp.Session(policy=policy)


@pytest.mark.parametrize("mid", [b"0", b"17", b"abcdefghijklmnop"])
@pytest.mark.parametrize(("mid_id", "abs_id"), [(1, 3), (4, 14), (9, 15), (15, 2)])
def test_the_header_is_the_one_aiortc_would_write(mid: bytes, mid_id: int, abs_id: int) -> None:
    packet = RtpPacket(payload_type=96, timestamp=0xDEADBEEF, ssrc=0x01020304)
    packet.extensions.mid = mid.decode()
    packet.extensions.abs_send_time = 0xABCDEF
    expected = packet.serialize(_extensions(mid_id, abs_id))
    got = build_header(0x01020304, 96, 0xDEADBEEF, mid, mid_id, abs_id, 0xABCDEF)
    assert got == expected


@dataclass
class _Transport:
    """What the C path reads and counts on an aiortc RTCDtlsTransport."""

    _state: Any = State.CONNECTED
    _RTCDtlsTransport__rx_bytes: int = 0
    _RTCDtlsTransport__rx_packets: int = 0
    _RTCDtlsTransport__tx_bytes: int = 0
    _RTCDtlsTransport__tx_packets: int = 0


@dataclass
class _Sender:
    """What the C path reads and counts on an aiortc RTCRtpSender."""

    _enabled: bool = True
    _RTCRtpSender__packet_count: int = 0
    _RTCRtpSender__octet_count: int = 0
    _RTCRtpSender__ntp_timestamp: int = 0
    _RTCRtpSender__rtp_timestamp: int = 0


@dataclass
class _Receiver:
    _enabled: bool = True


@dataclass
class _Subscriber:
    outlet: Outlet
    sender: _Sender
    transport: _Transport
    socket: socket.socket
    session: pylibsrtp.Session  # the subscriber's own inbound session

    def received(self) -> list[RtpPacket]:
        packets = []
        while True:
            try:
                data = self.socket.recv(65_535)
            except BlockingIOError:
                return packets
            packets.append(RtpPacket.parse(self.session.unprotect(data), _extensions(1, 3)))


@dataclass
class _Rig:
    """One publisher's stream through an Inlet and a Route to subscribers' Outlets."""

    inlet: Inlet
    route: Route
    publisher: pylibsrtp.Session  # the publisher's outbound session
    transport: _Transport
    stats: StreamStatistics
    nacks: NackGenerator
    receiver: _Receiver
    counters: RelayCounters
    relay_socket: socket.socket
    subscribers: list[_Subscriber] = field(default_factory=list)
    frames: list[tuple[int, int, int]] = field(default_factory=list)
    ticks: list[int] = field(default_factory=list)
    keyframe_asks: list[int] = field(default_factory=list)

    def subscribe(self, *, fd: bool = True) -> _Subscriber:
        outlet = Outlet(video=True, seq_base=1000, ts_offset=5000)
        sender, transport = _Sender(), _Transport()
        sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sink.bind(("127.0.0.1", 0))
        sink.setblocking(False)
        outbound = _session(pylibsrtp.Policy.SSRC_ANY_OUTBOUND)
        host, port = sink.getsockname()
        outlet.configure(
            sender=sender,
            dtls=transport,
            session=outbound,
            ctx=srtp.context(outbound),
            protect=srtp.PROTECT,
            ssrc=0xAAAA0000 + len(self.subscribers),
            payload_type=97,
            mid=b"1",
            mid_id=1,
            abs_id=3,
            fd=self.relay_socket.fileno() if fd else -1,
            host=host,
            port=port,
            fallback=lambda plain: True,
        )
        outlet.need_key = 0
        subscriber = _Subscriber(
            outlet, sender, transport, sink, _session(pylibsrtp.Policy.SSRC_ANY_INBOUND)
        )
        self.subscribers.append(subscriber)
        self.route.outlets.append(outlet)
        return subscriber

    def packet(self, seq: int, *, marker: bool = False, payload: bytes = b"\x10\x00\x9d") -> bytes:
        packet = RtpPacket(
            payload_type=96, marker=int(marker), sequence_number=seq, timestamp=seq // 3 * 3000
        )
        packet.ssrc = 0x1234
        packet.extensions.abs_send_time = seq * 100
        packet.payload = payload + os.urandom(40)
        plain = packet.serialize(_extensions(2, 3))
        protected: bytes = self.publisher.protect(plain)
        return protected

    def bind(self, first_seq: int) -> None:
        """As the receiver does when Python's path took the stream's first packet."""
        first = RtpPacket(sequence_number=first_seq, timestamp=first_seq // 3 * 3000, ssrc=0x1234)
        self.stats.add(first)
        self.nacks.add(first)
        self.route.bind(
            ssrc=0x1234,
            payload_type=96,
            clockrate=90_000,
            abs_id=3,
            receiver=self.receiver,
            stats=self.stats,
            nacks=self.nacks,
            on_frame=lambda a, t, n: self.frames.append((a, t, n)),
            tick=lambda ssrc, t: self.ticks.append(t),
        )
        self.inlet.add(0x1234, self.route)


def _make_rig() -> _Rig:
    transport = _Transport()
    inbound = _session(pylibsrtp.Policy.SSRC_ANY_INBOUND)
    counters = RelayCounters()
    asks: list[int] = []
    route = Route(video=True, counters=counters, want_keyframe=lambda: asks.append(1))
    relay_socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    relay_socket.bind(("127.0.0.1", 0))
    relay_socket.setblocking(False)
    rig = _Rig(
        inlet=Inlet(
            transport=transport,
            connected=State.CONNECTED,
            session=inbound,
            ctx=srtp.context(inbound),
            unprotect=srtp.UNPROTECT,
        ),
        route=route,
        publisher=_session(pylibsrtp.Policy.SSRC_ANY_OUTBOUND),
        transport=transport,
        stats=StreamStatistics(90_000),
        nacks=NackGenerator(),
        receiver=_Receiver(),
        counters=counters,
        relay_socket=relay_socket,
        keyframe_asks=asks,
    )
    return rig


def _close(rig: _Rig) -> None:
    rig.relay_socket.close()
    for s in rig.subscribers:
        s.socket.close()


@pytest.fixture
def rig() -> Iterator[_Rig]:
    made = _make_rig()
    yield made
    _close(made)


def test_a_steady_stream_is_forwarded_in_c_as_each_subscribers_own(rig: _Rig) -> None:
    a, b = rig.subscribe(), rig.subscribe()
    first = rig.packet(100)
    assert isinstance(rig.inlet.take(first), bytes)  # not bound yet: Python's
    rig.bind(100)
    reference = StreamStatistics(90_000)
    reference.add(RtpPacket(sequence_number=100, timestamp=33 * 3000, ssrc=0x1234))
    sent = [rig.packet(seq, marker=seq % 3 == 2) for seq in range(101, 131)]
    for data in sent:
        assert rig.inlet.take(data) is True
    for seq in range(101, 131):
        reference.add(RtpPacket(sequence_number=seq, timestamp=seq // 3 * 3000, ssrc=0x1234))
    assert rig.inlet.taken == 30
    assert rig.route.packets == 30
    # aiortc's statistics and NACK state, as aiortc's own code would have left them
    assert rig.stats.packets_received == reference.packets_received == 31
    assert rig.stats.max_seq == reference.max_seq == 130
    assert rig.stats.cycles == reference.cycles
    assert rig.nacks.max_seq == 130 and not rig.nacks.missing
    assert rig.transport._RTCDtlsTransport__rx_packets == 31
    for subscriber in (a, b):
        got = subscriber.received()
        assert [p.sequence_number for p in got] == list(range(1000, 1030))
        assert len({p.ssrc for p in got}) == 1 and got[0].ssrc >= 0xAAAA0000
        assert all(p.payload_type == 97 and p.extensions.mid == "1" for p in got)
        assert [p.timestamp - 5000 for p in got] == [s // 3 * 3000 for s in range(101, 131)]
        assert [p.marker for p in got] == [int(s % 3 == 2) for s in range(101, 131)]
        assert subscriber.sender._RTCRtpSender__packet_count == 30
        assert subscriber.outlet.forwarded == 10  # frames: the packets with the marker
        assert subscriber.outlet.history(1029) is not None
    assert rig.counters.packets_forwarded == 60
    assert rig.counters.frames_in == 10
    assert len(rig.frames) == 10  # the bandwidth estimate, fed once a frame


def test_a_gap_reordering_or_a_subscriber_waiting_for_a_key_goes_to_python(rig: _Rig) -> None:
    subscriber = rig.subscribe()
    rig.bind(100)
    assert rig.inlet.take(rig.packet(101)) is True
    gap = rig.inlet.take(rig.packet(103))  # 102 lost: NACK bookkeeping is Python's
    assert isinstance(gap, bytes) and RtpPacket.parse(gap).sequence_number == 103
    rig.stats.add(RtpPacket.parse(gap))
    rig.nacks.add(RtpPacket.parse(gap))
    late = rig.inlet.take(rig.packet(102))  # reordered
    assert isinstance(late, bytes)
    rig.stats.add(RtpPacket.parse(late))
    rig.nacks.add(RtpPacket.parse(late))
    assert rig.inlet.take(rig.packet(104)) is True  # in order again, nothing missing
    for seq, why in ((105, "a subscriber waits for a key frame"), (106, "receiver disabled")):
        subscriber.outlet.need_key = int(seq == 105)
        rig.receiver._enabled = seq != 106
        back = rig.inlet.take(rig.packet(seq))
        assert isinstance(back, bytes), why
        rig.stats.add(RtpPacket.parse(back))  # what Python's path then does
        rig.nacks.add(RtpPacket.parse(back))
    rig.receiver._enabled = True
    assert rig.inlet.take(rig.packet(107)) is True


def test_what_is_not_srtp_for_this_path_is_left_to_aiortc(rig: _Rig) -> None:
    rig.bind(100)
    assert rig.inlet.take(b"") is None
    assert rig.inlet.take(b"\x16\xfe\xfd" + bytes(40)) is None  # DTLS
    assert rig.inlet.take(b"\x80\xc8" + bytes(40)) is None  # RTCP (sender report)
    rig.transport._state = State.CLOSED
    assert rig.inlet.take(rig.packet(101)) is None


def test_a_packet_that_does_not_authenticate_is_dropped(rig: _Rig) -> None:
    subscriber = rig.subscribe()
    rig.bind(100)
    forged = bytearray(rig.packet(101))
    forged[-1] ^= 0xFF
    assert rig.inlet.take(bytes(forged)) is True
    assert subscriber.received() == []
    assert rig.stats.packets_received == 1


@given(start=st.integers(0, 0xFFFF), count=st.integers(1, 40))
def test_the_statistics_kept_in_c_match_aiortcs(start: int, count: int) -> None:
    """In-order packets from any sequence number, across the 16-bit wrap too: the C
    path leaves StreamStatistics and NackGenerator as aiortc's own code would."""
    rig = _make_rig()
    try:
        rig.subscribe()
        rig.bind(start)
        reference = StreamStatistics(90_000)
        reference_nacks = NackGenerator()
        for n in range(count + 1):
            seq = (start + n) & 0xFFFF
            packet = RtpPacket(sequence_number=seq, timestamp=seq // 3 * 3000, ssrc=0x1234)
            reference.add(packet)
            reference_nacks.add(packet)
            if n:
                assert rig.inlet.take(rig.packet(seq)) is True
        got = rig.stats
        assert (got.packets_received, got.base_seq, got.max_seq, got.cycles) == (
            reference.packets_received,
            reference.base_seq,
            reference.max_seq,
            reference.cycles,
        )
        assert got.packets_expected == reference.packets_expected
        assert (rig.nacks.max_seq, rig.nacks.missing) == (reference_nacks.max_seq, set())
        assert rig.subscribers[0].sender._RTCRtpSender__packet_count == count
    finally:
        _close(rig)


def test_the_reader_takes_the_peers_media_and_hands_everything_else_over(rig: _Rig) -> None:
    """The nominated pair's socket read in C: media from the nominated peer goes
    through the Inlet; STUN, an empty datagram and anything from another address reach
    the socket's protocol as asyncio would have delivered them (the guard decides)."""
    subscriber = rig.subscribe()
    rig.bind(100)
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    stranger.bind(("127.0.0.1", 0))
    delivered: list[tuple[bytes, tuple[Any, ...]]] = []
    plain: list[bytes] = []
    reader = Reader(
        inlet=rig.inlet,
        fd=rig.relay_socket.fileno(),
        host="127.0.0.1",
        port=peer.getsockname()[1],
        on_datagram=lambda data, addr: delivered.append((data, addr)),
        on_plain=plain.append,
        on_error=lambda number: None,
    )
    relay = rig.relay_socket.getsockname()
    ports = peer.getsockname()[1], stranger.getsockname()[1]
    stun = b"\x00\x01\x00\x00\x21\x12\xa4\x42" + bytes(12)
    try:
        peer.sendto(rig.packet(101), relay)  # steady media: forwarded in C
        peer.sendto(rig.packet(103), relay)  # a gap: back to Python, decrypted
        peer.sendto(stun, relay)
        peer.sendto(b"", relay)
        stranger.sendto(rig.packet(104), relay)
        reader.read_ready()
    finally:
        peer.close()
        stranger.close()
    assert reader.datagrams == 5 and rig.inlet.taken == 1
    assert [p.sequence_number for p in subscriber.received()] == [1000]
    assert [RtpPacket.parse(p).sequence_number for p in plain] == [103]
    assert [d for d, _ in delivered][:2] == [stun, b""]
    # the stranger's media is the guard's to refuse, never decrypted here
    assert [addr for _, addr in delivered] == [
        ("127.0.0.1", ports[0]),
        ("127.0.0.1", ports[0]),
        ("127.0.0.1", ports[1]),
    ]


def test_without_a_plain_socket_the_outlet_hands_python_the_plain_packet(rig: _Rig) -> None:
    """Before the connection is up, or through a TURN allocation, the outlet writes the
    packet as the subscriber's stream and hands it to Python's send path, which says
    whether it went (a full send buffer drops it, and it is not kept for NACKs)."""
    subscriber = rig.subscribe(fd=False)
    handed: list[bytes] = []
    answers = iter([True, False])
    outbound = _session(pylibsrtp.Policy.SSRC_ANY_OUTBOUND)
    subscriber.outlet.configure(
        sender=subscriber.sender,
        dtls=subscriber.transport,
        session=outbound,
        ctx=srtp.context(outbound),
        protect=srtp.PROTECT,
        ssrc=0xBEEF,
        payload_type=97,
        mid=b"1",
        mid_id=1,
        abs_id=3,
        fd=-1,
        host=None,
        port=0,
        fallback=lambda plain: handed.append(plain) or next(answers),
    )
    assert subscriber.outlet.send(b"\x10\x00\x9d" + bytes(20), 500, 9000, 1) is True
    assert subscriber.outlet.send(b"\x10\x00\x9d" + bytes(20), 501, 12000, 1) is False
    first, second = (RtpPacket.parse(p, _extensions(1, 3)) for p in handed)
    assert (first.ssrc, first.payload_type, first.extensions.mid) == (0xBEEF, 97, "1")
    assert second.sequence_number == (first.sequence_number + 1) & 0xFFFF
    assert subscriber.outlet.history(first.sequence_number) == handed[0]
    assert subscriber.outlet.history(second.sequence_number) is None
    assert subscriber.sender._RTCRtpSender__packet_count == 1


@settings(max_examples=300, deadline=None)
@given(
    first=st.integers(0x80, 0xBF),
    # the route's payload type (96), with and without the marker, or anything else
    second=st.one_of(
        st.sampled_from([96, 0x80 | 96]), st.integers(0, 0xFF).filter(lambda b: not 192 <= b <= 208)
    ),
    body=st.binary(min_size=10, max_size=300),
)
def test_whatever_a_participant_sends_the_c_path_survives(
    first: int, second: int, body: bytes
) -> None:
    """A participant's client can put anything in the RTP header of a packet it
    protects with its own key (CSRC counts, extension lengths, padding): the C path
    forwards it, hands it back to Python or drops it, and never reads past it."""
    rig = _make_rig()
    try:
        subscriber = rig.subscribe()
        rig.bind(0x3412)  # the fuzzed packet's sequence number: bytes 2-3 of the header
        plain = bytes([first, second, 0x34, 0x13]) + body[:4] + bytes([0, 0, 0x12, 0x34]) + body[4:]
        try:
            data = rig.publisher.protect(plain)
        except pylibsrtp.Error:
            return  # libsrtp would not protect it, so no participant can send it either
        taken = rig.inlet.take(data)
        assert (
            taken is True
            or taken == plain
            or (isinstance(taken, bytes) and len(taken) == len(plain))
        )
        for packet in subscriber.received():
            assert packet.ssrc >= 0xAAAA0000
    finally:
        _close(rig)
