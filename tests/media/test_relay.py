"""The forwarding unit with real aiortc peers over real ICE/DTLS/SRTP on this machine.

The clients encode VP8 and Opus as browsers do and decode what they receive, so a
frame counted on a client is a frame the relay forwarded intact. The relay itself
never decodes: it forwards RTP packets as they come (media/relay/passthrough.py).
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiortc
import aiortc.rtcrtpreceiver
import aiortc.rtcrtpsender
import pylibsrtp
import pytest

from hub.clock import SystemClock
from media.relay import passthrough, sending
from media.relay.room import Participant
from media.relay.unit import ForwardingUnit
from tests.media.relay_clients import Client, Peers


async def until(check: Callable[[], bool], what: Callable[[], object], timeout: float = 20) -> None:
    """Wait for ``check`` (polling: media arrives on its own schedule), bounded."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, f"timed out; {what()}"
        await asyncio.sleep(0.05)


def sees(client: Client, others: list[str], frames: int = 5) -> bool:
    return all(client.decoded[(o, k)] >= frames for o in others for k in ("audio", "video"))


async def two_talking(peers: Peers) -> tuple[Client, Client, list[Participant]]:
    """Two clients in call 1 who each decode the other; and their relay participants."""
    a = await peers.join(1, "a")
    b = await peers.join(1, "b")
    await peers.settle()
    await until(lambda: sees(a, ["b"]) and sees(b, ["a"]), lambda: _report(peers))
    assert peers.unit is not None
    room = peers.unit.room(1)
    assert room is not None
    people = [room.participant(pid) for pid in room.participants]
    assert all(people)
    return a, b, [p for p in people if p is not None]


@pytest.fixture
async def peers() -> AsyncIterator[Peers]:
    peers = Peers()
    peers.unit = ForwardingUnit(SystemClock(), peers.send_offer)
    try:
        yield peers
    finally:
        await peers.close()
        await peers.unit.close()


def _report(peers: Peers) -> dict[str, Any]:
    assert peers.unit is not None
    return {
        "relay": peers.unit.figures(),
        "decoded": {n: dict(c.decoded) for n, c in peers.clients.items()},
    }


async def test_three_people_see_and_hear_each_other_through_the_relay(peers: Peers) -> None:
    a = await peers.join(1, "a")
    b = await peers.join(1, "b")
    await peers.settle()
    c = await peers.join(1, "c")  # the third joins a call already under way
    await peers.settle()
    await until(
        lambda: sees(a, ["b", "c"]) and sees(b, ["a", "c"]) and sees(c, ["a", "b"]),
        lambda: _report(peers),
    )
    assert peers.unit is not None
    figures = peers.unit.figures()
    assert figures["participants"] == 3
    assert figures["frames_received"] > 0 and figures["frames_forwarded"] > 0


async def test_the_relay_creates_no_decoder(peers: Peers, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every receiver that starts decoding asks aiortc for a decoder; the clients'
    receivers do (once per track they are sent), the relay's never do."""
    made: list[str] = []
    real = aiortc.rtcrtpreceiver.get_decoder

    def spy(codec: Any) -> Any:
        made.append(codec.mimeType)
        return real(codec)

    monkeypatch.setattr(aiortc.rtcrtpreceiver, "get_decoder", spy)
    a = await peers.join(1, "a")
    b = await peers.join(1, "b")
    await peers.settle()
    await until(lambda: sees(a, ["b"]) and sees(b, ["a"]), lambda: _report(peers))
    assert peers.unit is not None
    assert peers.unit.figures()["frames_received"] > 20
    assert sorted(made) == sorted(["audio/opus", "video/VP8"] * 2)  # a's two and b's two


async def test_media_never_crosses_from_one_call_to_another(peers: Peers) -> None:
    a = await peers.join(1, "a")
    b = await peers.join(1, "b")
    c = await peers.join(2, "c")
    d = await peers.join(2, "d")
    await peers.settle()
    await until(
        lambda: sees(a, ["b"]) and sees(b, ["a"]) and sees(c, ["d"]) and sees(d, ["c"]),
        lambda: _report(peers),
    )
    assert {p for p, _ in a.decoded} == {"b"} and {p for p, _ in b.decoded} == {"a"}
    assert {p for p, _ in c.decoded} == {"d"} and {p for p, _ in d.decoded} == {"c"}
    assert peers.unit is not None and peers.unit.load().calls == 2


async def test_when_one_leaves_the_others_carry_on_without_them(peers: Peers) -> None:
    a = await peers.join(1, "a")
    b = await peers.join(1, "b")
    await peers.settle()
    await peers.join(1, "c")
    await peers.settle()
    await until(lambda: sees(a, ["b", "c"]) and sees(b, ["a", "c"]), lambda: _report(peers))
    assert peers.unit is not None
    await peers.unit.leave(1, "c")
    await peers.settle()
    room = peers.unit.room(1)
    assert room is not None and room.participants == ("a", "b")
    for person in ("a", "b"):
        assert {s.publisher for s in room.slots(person)} == {"b" if person == "a" else "a"}
    seen = a.decoded[("b", "video")], b.decoded[("a", "video")]
    await until(
        lambda: (
            a.decoded[("b", "video")] > seen[0] + 10 and b.decoded[("a", "video")] > seen[1] + 10
        ),
        lambda: _report(peers),
    )


async def test_garbage_sent_to_the_relays_ports_does_not_stop_the_call(peers: Peers) -> None:
    a, b, people = await two_talking(peers)
    ports = []
    for person in people:
        for transceiver in person.pc.getTransceivers():
            gatherer = transceiver.receiver.transport.transport.iceGatherer
            ports += [(c.ip, c.port) for c in gatherer.getLocalCandidates() if c.type == "host"]
    assert ports
    junk = [
        os.urandom(200),  # random bytes
        b"\x80\x60" + os.urandom(100),  # looks like RTP (version 2), is not SRTP
        b"\x80\xc8" + os.urandom(50),  # looks like RTCP sender report
        b"\x16\xfe\xfd" + os.urandom(60),  # looks like a DTLS record
        b"\x00\x01\x00\x00" + os.urandom(16),  # a STUN binding request header, no body
        b"",
    ]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _ in range(50):
            for host, port in set(ports):
                if ":" in host:
                    continue
                for datagram in junk:
                    sock.sendto(datagram, (host, port))
    seen = a.decoded[("b", "video")], b.decoded[("a", "video")]
    assert peers.unit is not None
    # From an address no check was ever made with: refused before aioice or DTLS.
    await until(lambda: peers.unit.figures()["datagrams_refused"] > 0, lambda: _report(peers))
    await until(
        lambda: (
            a.decoded[("b", "video")] > seen[0] + 10 and b.decoded[("a", "video")] > seen[1] + 10
        ),
        lambda: _report(peers),
    )


def test_the_passthrough_refuses_an_aiortc_it_was_not_written_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    passthrough.check_internals()  # the pinned version: fine
    monkeypatch.setattr(aiortc, "__version__", "1.17.0")
    with pytest.raises(passthrough.PassthroughBroken, match=r"aiortc 1\.16\.0"):
        passthrough.check_internals()


def test_the_passthrough_notices_a_receiver_that_lost_what_it_replaces(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(aiortc.rtcrtpreceiver.RTCRtpReceiver, "_send_rtcp_pli")
    with pytest.raises(passthrough.PassthroughBroken, match="_send_rtcp_pli"):
        passthrough.check_internals()


def test_the_passthrough_notices_a_sender_that_lost_what_it_replaces(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(aiortc.rtcrtpsender.RTCRtpSender, "_retransmit")
    with pytest.raises(passthrough.PassthroughBroken, match="_retransmit"):
        passthrough.check_internals()


def test_the_passthrough_notices_what_the_c_path_relies_on_moving(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The C path keeps 128 packets for NACKs as aiortc does and calls libsrtp on the
    context a pylibsrtp session keeps in ``_srtp`` (media/relay/srtp.py)."""
    with monkeypatch.context() as patch:
        patch.setattr(aiortc.rtp, "RTP_HISTORY_SIZE", 256)
        with pytest.raises(passthrough.PassthroughBroken, match="RTP_HISTORY_SIZE"):
            passthrough.check_internals()
    monkeypatch.setattr(pylibsrtp.Session, "__init__", lambda self, policy=None: None)
    with pytest.raises(passthrough.PassthroughBroken, match="_srtp"):
        passthrough.check_internals()


async def test_forwarded_media_takes_the_relays_short_path(peers: Peers) -> None:
    """The relay's own receive and send paths carry the media, not aiortc's generic
    ones: every relay connection took SRTP packets the short way — once a stream is
    steady, in C (media/relay/_fastpath.c), which then carries most of them — and every
    relay sender forwards packet by packet, writing to its connection's own socket."""
    _, _, people = await two_talking(peers)
    paths = []
    for person in people:
        transceivers = person.pc.getTransceivers()
        fast = passthrough.FastPath.of(transceivers[0].receiver.transport)
        assert fast is not None
        paths.append(fast)
        senders = [t.sender for t in transceivers if t.sender.track is not None]
        assert senders
        assert all(isinstance(s._run_rtp.__self__, sending.PacketSender) for s in senders)

    # Packets keep arriving on their own schedule (a loaded machine may have
    # decoded five frames from fewer than twenty packets): wait, bounded.
    def taken_in_c() -> list[int]:
        return [p.inlet.taken if p.inlet is not None else 0 for p in paths]

    await until(lambda: all(n > 20 for n in taken_in_c()), taken_in_c)
    assert all(p.inlet is not None and p.inlet.taken > p.packets_in for p in paths), [
        (p.packets_in, taken_in_c()) for p in paths
    ]
    # the nominated pair's socket is read in C, not by asyncio's datagram transport
    assert all(p.reader is not None and p.reader.datagrams > 20 for p in paths)
    for person in people:
        for transceiver in person.pc.getTransceivers():
            sender = transceiver.sender._run_rtp.__self__
            if isinstance(sender, sending.PacketSender):
                assert sender.core.fd >= 0  # its own socket, not Python's send path


async def test_a_participant_whose_media_stops_is_lost_in_seconds_not_at_consent_expiry() -> None:
    """A participant's network goes away (here: everything its connection sends is
    dropped, ICE consent answers included): the relay hears no media from it and says
    it is lost once it was silent ``silence_s`` — aioice's consent checks would take
    about 30 s. The other participant, still sending, is not."""
    lost: list[tuple[int, str]] = []
    peers = Peers()
    unit = ForwardingUnit(
        SystemClock(), peers.send_offer, on_lost=lambda c, p: lost.append((c, p)), silence_s=1.0
    )
    peers.unit = unit
    try:
        _, b, _ = await two_talking(peers)
        connection = b.pc.getTransceivers()[0].sender.transport.transport._connection
        for protocol in connection._protocols:
            protocol.transport.sendto = lambda *args, **kwargs: None
        await until(lambda: lost != [], lambda: _report(peers), timeout=10)
        await asyncio.sleep(1.5)  # a while longer: "a" keeps talking and stays
        assert lost == [(1, "b")]
    finally:
        await peers.close()
        await unit.close()
