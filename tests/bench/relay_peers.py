"""Simulated participants for the relay benchmark: aiortc peers that publish encoded
media without encoding anything, and count what they receive without decoding it.

    python -m tests.bench.relay_peers CPU SOCKET_PATH|-

Pins itself to core CPU, connects to the relay process (tests/bench/relay_unit.py) over
SOCKET_PATH (unless it is ``-``) and takes commands from the bench on stdin, one JSON
object a line, answering each on stdout:

- ``{"op": "calls", "calls": [c, …], "size": 3}``: join that many participants to each
  call (one peer connection each, negotiated with the relay as a browser would);
- ``{"op": "direct"}``: one publisher and one viewer connected to each other with no
  relay, the floor for latency;
- ``{"op": "window", "t0": a, "t1": b}``: shortly after ``b``, what was sent, and what
  arrived, of the frames sent between ``a`` and ``b`` (CLOCK_MONOTONIC: one clock for
  every process here), and this process's CPU time over the window;
- ``{"op": "quit"}``.

Sending: what a participant sends is what the relay gets from a browser that encrypts
its frames (docs/media.md): the codec's header bytes in clear — 10 of a VP8 key frame,
3 of a delta frame, 1 of Opus — then bytes the relay cannot read. Here those bytes
begin with a probe (publisher, sequence number, send time, RTP packets in the frame)
and are random after it. The track hands aiortc's sender an ``av.Packet``, so the
sender packetises it as it is (the path ``MediaPlayer(decode=False)`` takes) and no
encoder runs. VP8 at about 500 kbit/s (30 frames/s, a key frame every 3 s and whenever
a keyframe request reaches the sender), Opus at 32 kbit/s (80 bytes every 20 ms).

Receiving: the peers must cost much less than the relay they load, or they would
saturate first; aiortc's receive path costs more per packet than its send path. So
each participant reads its RTP packets where they reach its socket: SRTP is removed
with the session aiortc negotiated, the probe is read from the first packet of each
frame, the packets of each frame (one RTP timestamp) are counted, and the packet goes
no further. STUN, DTLS and RTCP go on to aiortc as usual (ICE consent, and keyframe
requests and NACKs for the participant's own media, still work). A frame's latency is
from its send time to the arrival of its last packet.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import random
import re
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import av
import pylibsrtp
from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
    clock,
)
from aiortc.codecs.vpx import PACKET_MAX, Vp8Encoder
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RTP_HISTORY_SIZE, RtpPacket
from aiortc.utils import random16, random32

from media.relay.passthrough import read_buffer
from tests.bench.relay_udp import claim_core, cpu_seconds, waited_seconds
from tests.bench.relay_unit import offer_from_json

VIDEO_FPS = 30
VIDEO_BITRATE = 500_000
KEY_EVERY = 3 * VIDEO_FPS
KEY_RATIO = 5  # a key frame is about five delta frames
AUDIO_FRAME_S = 0.020
AUDIO_BYTES = 80
# VP8 frame tags (RFC 6386 §9.1): bit 0 clear on a key frame, which also carries the
# start code and a 640×480 size.
KEY_HEADER = b"\x10\x02\x00\x9d\x01\x2a\x80\x02\xe0\x01"
DELTA_HEADER = b"\x31\x02\x00"
OPUS_HEADER = b"\xfc"
PROBE = struct.Struct("!4sIIdH")  # magic, publisher, sequence, send time, RTP packets
MAGIC = b"THB2"
VP8_DESCRIPTOR = 4  # aiortc's VP8 payload descriptor: always with a 15-bit picture id
GRACE_S = 0.5  # after a window closes, frames sent in it may still be on their way


def monotonic() -> float:
    return time.clock_gettime(time.CLOCK_MONOTONIC)  # one clock for every process


def rtp_packets(kind: str, size: int) -> int:
    """How many RTP packets aiortc's sender makes of a frame of ``size`` bytes."""
    if kind == "audio":
        return 1
    return math.ceil(size / (PACKET_MAX - VP8_DESCRIPTOR))


@dataclass
class Log:
    """Frames sent and received by this process, until the bench asks for a window."""

    # (send time, RTP packets, subscribers it should reach)
    sent: list[tuple[float, int, int]] = field(default_factory=list)
    # (kind, send time, arrival of its last packet or None, RTP packets that arrived)
    received: list[tuple[str, float, float | None, int]] = field(default_factory=list)


class EncodedSource(MediaStreamTrack):
    """A camera or microphone whose frames come out already encoded (and encrypted)."""

    def __init__(self, kind: str, publisher: int, log: Log, subscribers: int) -> None:
        super().__init__()
        self.kind = kind
        self._publisher = publisher
        self._log = log
        self._subscribers = subscribers
        self._rng = random.Random(publisher * 2 + (kind == "video"))
        self._filler = self._rng.randbytes(16384)
        self._interval = 1 / VIDEO_FPS if kind == "video" else AUDIO_FRAME_S
        # Publishers start at random phases, as real ones do, not all on one tick.
        self._start = monotonic() + self._rng.random() * self._interval
        self._seq = 0
        self._key_wanted = True
        self._time_base = Fraction(1, 90000 if kind == "video" else 48000)
        self._ticks = 90000 // VIDEO_FPS if kind == "video" else 960

    def want_key(self) -> None:
        self._key_wanted = True

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        due = self._start + self._seq * self._interval
        wait = due - monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        sent = monotonic()
        if self.kind == "audio":
            header, size = OPUS_HEADER, AUDIO_BYTES
        else:
            key = self._key_wanted or self._seq % KEY_EVERY == 0
            self._key_wanted = False
            delta = VIDEO_BITRATE / 8 / VIDEO_FPS * KEY_EVERY / (KEY_EVERY - 1 + KEY_RATIO)
            size = int(delta * (KEY_RATIO if key else 1) * self._rng.uniform(0.8, 1.2))
            header = KEY_HEADER if key else DELTA_HEADER
        packets = rtp_packets(self.kind, size)
        body = header + PROBE.pack(MAGIC, self._publisher, self._seq, sent, packets)
        offset = self._rng.randrange(len(self._filler) // 2)
        packet = av.Packet(body + self._filler[offset : offset + size - len(body)])
        packet.pts = self._seq * self._ticks
        packet.time_base = self._time_base
        self._seq += 1
        self._log.sent.append((sent, packets, self._subscribers))
        return packet


def _peer_connection() -> RTCPeerConnection:
    # No ICE servers: aiortc would otherwise try a public STUN server (FIELD-NOTES).
    return RTCPeerConnection(
        RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
    )


class _Stream:
    """The frame being received on one RTP stream (SSRC)."""

    __slots__ = ("kind", "last", "packets", "sent", "timestamp")

    def __init__(self) -> None:
        self.timestamp = -1
        self.kind = ""
        self.sent: float | None = None  # the probe's send time, once its packet came
        self.packets = 0
        self.last: float | None = None  # arrival of the frame's last (marker) packet


class Counter:
    """Reads RTP at one participant's sockets: counts and times frames, then drops them."""

    def __init__(self, pc: RTCPeerConnection, log: Log) -> None:
        self._pc = pc
        self._log = log
        self._streams: dict[int, _Stream] = {}
        self._opus: set[int] = set()  # payload types: anything else is VP8

    def install(self) -> None:
        """Call after ``setLocalDescription``: aiortc has gathered its sockets by then."""
        sdp = self._pc.localDescription.sdp
        self._opus = {int(pt) for pt in re.findall(r"a=rtpmap:(\d+) opus/", sdp)}
        for transceiver in self._pc.getTransceivers():
            dtls: Any = transceiver.receiver.transport
            connection: Any = dtls.transport.iceGatherer._connection
            for protocol in connection._protocols:
                read_buffer(protocol.transport)
                if not getattr(protocol, "_bench_counting", False):
                    protocol.datagram_received = self._wrap(protocol.datagram_received, dtls)
                    protocol._bench_counting = True

    def _wrap(
        self, receive: Callable[[bytes, tuple[Any, ...]], None], dtls: Any
    ) -> Callable[[bytes, tuple[Any, ...]], None]:
        def datagram_received(data: bytes, addr: tuple[Any, ...]) -> None:
            # RTP: version 2 (first byte 128–191), not an RTCP packet type (RFC 5761).
            session = dtls._rx_srtp
            if (
                session is None
                or not (len(data) > 12 and 128 <= data[0] < 192)
                or (192 <= data[1] <= 223)
            ):
                receive(data, addr)
                return
            try:
                self._rtp(session.unprotect(data), monotonic())
            except pylibsrtp.Error:
                pass

        return datagram_received

    def _rtp(self, packet: bytes, now: float) -> None:
        first, second = packet[0], packet[1]
        timestamp, ssrc = struct.unpack_from("!II", packet, 4)
        stream = self._streams.get(ssrc)
        if stream is None:
            stream = self._streams[ssrc] = _Stream()
        if timestamp != stream.timestamp:
            self._finish(stream)
            stream.timestamp, stream.sent, stream.packets, stream.last = timestamp, None, 0, None
        stream.packets += 1
        offset = 12 + 4 * (first & 0x0F)
        if first & 0x10:  # header extensions (aiortc sends abs-send-time and mid)
            offset += 4 + 4 * struct.unpack_from("!H", packet, offset + 2)[0]
        start = True
        if second & 0x7F not in self._opus:
            # The VP8 payload descriptor (RFC 7741 §4.2), then the frame's bytes.
            descriptor = packet[offset]
            start = bool(descriptor & 0x10) and descriptor & 0x07 == 0
            stream.kind = "video"
            skip = 1
            if descriptor & 0x80:
                extension = packet[offset + 1]
                skip += 1
                if extension & 0x80:
                    skip += 2 if packet[offset + skip] & 0x80 else 1
                skip += (1 if extension & 0x40 else 0) + (1 if extension & 0x30 else 0)
            offset += skip
            clear = 10 if packet[offset] & 0x01 == 0 else 3
        else:
            stream.kind = "audio"
            clear = 1
        if start and len(packet) >= offset + clear + PROBE.size:
            magic, _, _, sent, _ = PROBE.unpack_from(packet, offset + clear)
            if magic == MAGIC:
                stream.sent = sent
        if second & 0x80 or stream.kind == "audio":  # the marker: the frame's last packet
            stream.last = now
            self._finish(stream)
            stream.sent, stream.packets = None, 0

    def _finish(self, stream: _Stream) -> None:
        if stream.sent is not None and stream.packets:
            self._log.received.append((stream.kind, stream.sent, stream.last, stream.packets))


def _publish(transceivers: list[RTCRtpTransceiver], sources: dict[str, EncodedSource]) -> None:
    """Put a participant's camera and microphone on the transceivers meant for them,
    sent by a lean sender. Call before the transceivers start sending."""
    for transceiver in transceivers:
        source = sources[transceiver.kind]
        transceiver.sender.replaceTrack(source)
        _LeanSender(transceiver.sender, source).install()


class _LeanSender:
    """aiortc's sender with its per-packet work cut down, for the peers only.

    aiortc's ``RTCRtpSender`` builds, stamps and serialises an ``RtpPacket`` object for
    every packet; at a few hundred packets/s per call that made the peers cost nearly
    as much CPU as the relay they are meant to load. This sends exactly what aiortc
    would put on the wire — the same VP8 packetiser and payload descriptor, the same
    header extensions (mid, abs-send-time: the relay's bandwidth estimator reads it),
    SRTP by the same transport — but serialises one header per frame and patches the
    marker bit and sequence number into it for each packet. Keyframe requests make the
    source's next frame a key frame (aiortc would set a flag for an encoder that this
    path never runs); NACKed packets are sent again from a short history.
    aiortc's RTCP sender reports still go out (with zero counts).
    """

    def __init__(self, sender: RTCRtpSender, source: EncodedSource) -> None:
        self._sender = sender
        self._source = source
        self._history: dict[int, bytes] = {}

    def install(self) -> None:
        sender: Any = self._sender
        sender._run_rtp = self._run
        sender._retransmit = self._retransmit
        sender._send_keyframe = self._source.want_key

    async def _run(self, codec: RTCRtpCodecParameters) -> None:
        sender: Any = self._sender
        sender._RTCRtpSender__rtp_started.set()
        extensions = sender._RTCRtpSender__rtp_header_extensions_map
        mid = sender._RTCRtpSender__mid
        transport = sender.transport
        video = self._source.kind == "video"
        payload_type = codec.payloadType
        assert payload_type is not None
        sequence = random16() % 32768  # aiortc avoids a wrap early on, and so do we
        origin = random32()
        picture_id = random.randrange(1 << 15)
        try:
            while True:
                frame = await self._source.recv()
                data = bytes(frame)
                assert frame.pts is not None
                if video:
                    payloads = Vp8Encoder._packetize(data, picture_id)
                    picture_id = (picture_id + 1) % (1 << 15)
                else:
                    payloads = [data]
                header = RtpPacket(
                    payload_type=payload_type,
                    timestamp=(origin + frame.pts) & 0xFFFFFFFF,
                    ssrc=sender._ssrc,
                )
                header.extensions.abs_send_time = (clock.current_ntp_time() >> 14) & 0xFFFFFF
                header.extensions.mid = mid
                template = bytearray(header.serialize(extensions))
                last = len(payloads) - 1
                for i, payload in enumerate(payloads):
                    template[1] = (0x80 if i == last else 0) | payload_type
                    template[2:4] = sequence.to_bytes(2, "big")
                    packet = bytes(template) + payload
                    self._history[sequence % RTP_HISTORY_SIZE] = packet
                    await transport._send_rtp(packet)
                    sequence = (sequence + 1) & 0xFFFF
        except (asyncio.CancelledError, ConnectionError, MediaStreamError):
            pass
        finally:
            sender._RTCRtpSender__rtp_exited.set()

    async def _retransmit(self, sequence: int) -> None:
        packet = self._history.get(sequence % RTP_HISTORY_SIZE)
        if packet is not None and struct.unpack_from("!H", packet, 2)[0] == sequence:
            with contextlib.suppress(ConnectionError):
                await self._sender.transport._send_rtp(packet)


@dataclass
class Participant:
    call: int
    name: str
    pc: RTCPeerConnection
    sources: dict[str, EncodedSource]


class Peers:
    def __init__(self, path: str) -> None:
        self._path = path
        self.log = Log()
        self._people: dict[str, Participant] = {}
        self._direct: list[RTCPeerConnection] = []
        self._next_id = 0
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._answers: set[asyncio.Task[None]] = set()  # to the relay's renegotiations
        self._listener: asyncio.Task[None] | None = None
        self._publishers = 0
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self._reader, self._writer = await asyncio.open_unix_connection(self._path)
        self._listener = asyncio.create_task(self._listen())

    async def _request(self, **request: Any) -> dict[str, Any]:
        assert self._writer is not None
        self._next_id += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[self._next_id] = future
        self._writer.write(json.dumps({"id": self._next_id, **request}).encode() + b"\n")
        reply = await future
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply

    async def _listen(self) -> None:
        assert self._reader is not None
        while line := await self._reader.readline():
            message = json.loads(line)
            if "id" in message:
                self._waiting.pop(message["id"]).set_result(message)
            else:  # the relay renegotiates: someone else joined
                task = asyncio.create_task(self._answer(message["offer"]))
                self._answers.add(task)
                task.add_done_callback(self._answers.discard)

    async def _answer(self, data: dict[str, Any]) -> None:
        offer = offer_from_json(data)
        person = self._people[offer.participant]
        await person.pc.setRemoteDescription(RTCSessionDescription(offer.sdp, "offer"))
        await person.pc.setLocalDescription(await person.pc.createAnswer())
        await self._request(
            op="answer",
            call=offer.call_id,
            who=offer.participant,
            sdp=person.pc.localDescription.sdp,
        )

    def _sources(self, subscribers: int) -> dict[str, EncodedSource]:
        self._publishers += 1
        publisher = self._publishers * 1000 + os.getpid() % 1000
        return {k: EncodedSource(k, publisher, self.log, subscribers) for k in ("audio", "video")}

    async def join(self, call: int, name: str, subscribers: int) -> None:
        pc = _peer_connection()
        sources = self._sources(subscribers)
        self._people[name] = Participant(call, name, pc, sources)
        offer = offer_from_json((await self._request(op="join", call=call, who=name))["offer"])
        await pc.setRemoteDescription(RTCSessionDescription(offer.sdp, "offer"))
        # The relay's first offer: two transceivers for this participant's own media,
        # the rest bring others' (named in the slots).
        slots = {s.mid for s in offer.slots}
        own = [t for t in pc.getTransceivers() if t.mid not in slots]
        for transceiver in own:
            transceiver.direction = "sendonly"
        _publish(own, sources)
        await pc.setLocalDescription(await pc.createAnswer())
        Counter(pc, self.log).install()
        await self._request(op="answer", call=call, who=name, sdp=pc.localDescription.sdp)

    async def calls(self, calls: list[int], size: int) -> None:
        for call in calls:
            for i in range(size):
                await self.join(call, f"call{call}-{i}", size - 1)
                await self._settle()
        await self._connected()

    async def direct(self) -> None:
        """A publisher and a viewer with nothing between them: the latency baseline."""
        sender, viewer = _peer_connection(), _peer_connection()
        self._direct += [sender, viewer]
        sources = self._sources(subscribers=1)
        for kind in ("audio", "video"):
            sender.addTransceiver(kind, direction="sendonly")
        _publish(sender.getTransceivers(), sources)
        await sender.setLocalDescription(await sender.createOffer())
        await viewer.setRemoteDescription(sender.localDescription)
        await viewer.setLocalDescription(await viewer.createAnswer())
        Counter(viewer, self.log).install()
        await sender.setRemoteDescription(viewer.localDescription)
        await self._connected()

    async def _settle(self) -> None:
        while self._answers:
            await asyncio.gather(*list(self._answers))

    async def _connected(self, timeout: float = 60) -> None:
        deadline = monotonic() + timeout
        pcs = [p.pc for p in self._people.values()] + self._direct
        while any(pc.connectionState != "connected" for pc in pcs):
            if monotonic() > deadline:
                states = [pc.connectionState for pc in pcs]
                raise TimeoutError(f"peer connections not connected: {states}")
            await asyncio.sleep(0.05)

    async def window(self, t0: float, t1: float) -> dict[str, Any]:
        await asyncio.sleep(max(0.0, t0 - monotonic()))
        cpu0, waited0 = cpu_seconds(), waited_seconds()
        await asyncio.sleep(max(0.0, t1 - monotonic()))
        cpu1, waited1 = cpu_seconds(), waited_seconds()
        await asyncio.sleep(GRACE_S)
        sent = [s for s in self.log.sent if t0 <= s[0] < t1]
        received = [r for r in self.log.received if t0 <= r[1] < t1]
        # In place: the sources and counters hold these lists.
        self.log.sent[:] = [s for s in self.log.sent if s[0] >= t1]
        self.log.received[:] = [r for r in self.log.received if r[1] >= t1]
        return {
            "frames_sent": len(sent),
            "packets_sent": sum(s[1] for s in sent),
            "packets_expected": sum(s[1] * s[2] for s in sent),
            "packets_received": sum(r[3] for r in received),
            "latency": {
                kind: [r[2] - r[1] for r in received if r[0] == kind and r[2] is not None]
                for kind in ("audio", "video")
            },
            "cpu_s": cpu1 - cpu0,
            "waited_s": waited1 - waited0,
        }

    async def close(self) -> None:
        for task in [*self._answers, *filter(None, [self._listener])]:
            task.cancel()
        for pc in [p.pc for p in self._people.values()] + self._direct:
            await pc.close()
        if self._writer is not None:
            self._writer.close()


async def run(path: str) -> None:
    peers = Peers(path)
    if path != "-":  # "-": direct pairs only, no relay
        await peers.connect()
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    try:
        while line := await stdin.readline():
            command = json.loads(line)
            op = command["op"]
            reply: dict[str, Any] = {"op": op}
            started = monotonic()
            if op == "calls":
                await peers.calls(command["calls"], command["size"])
            elif op == "direct":
                await peers.direct()
            elif op == "window":
                reply.update(await peers.window(command["t0"], command["t1"]))
            elif op == "quit":
                print(json.dumps(reply), flush=True)
                break
            reply["took_s"] = monotonic() - started
            print(json.dumps(reply), flush=True)
    finally:
        await peers.close()


def main(argv: list[str]) -> None:
    claim_core(int(argv[0]))
    try:
        # The peers are the measuring instrument, not what is measured: uvloop's event
        # loop makes them about a third cheaper, so the relay saturates first.
        import uvloop
    except ImportError:
        asyncio.run(run(argv[1]))
    else:
        uvloop.run(run(argv[1]))


if __name__ == "__main__":
    main(sys.argv[1:])
