"""Separate media processes (``telehub media``) over the real Redis bus.

Two real ``telehub media`` processes announce themselves; a hub-side ``RemoteUnit``
places each new relayed call on the less loaded one, and real aiortc peers (encoding
VP8 and Opus as browsers do) see and hear each other through the process their call is
on. A process killed with SIGKILL stops announcing: its calls' participants are counted
lost and new calls go to the survivor; one stopped with SIGTERM says so and is dropped
at once; with none left, joining is refused in plain words. Garbage on the bus does not
stop a media process serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from hub.clock import FixedClock, SystemClock
from hub.errors import Unavailable
from media.relay import wire
from media.relay.directory import MediaDirectory
from media.relay.remote import RemoteUnit
from media.relay.room import Offer
from signalling.bus import Envelope, RedisBus
from signalling.media_link import publisher
from signalling.presence import scope_of
from tests.media.media_processes import ANNOUNCE_S, REDIS, MediaProcesses, write_config
from tests.media.relay_clients import Client, Peers

# -- the directory and the wire, on their own -------------------------------------------


def test_a_new_call_goes_to_the_least_loaded_live_process() -> None:
    clock = FixedClock()
    directory = MediaDirectory(clock, timedelta(seconds=3))
    assert directory.pick() is None
    directory.heard(wire.Announce("m1", calls=2, participants=6))
    directory.heard(wire.Announce("m2", calls=1, participants=3))
    assert directory.pick() == "m2"
    # What we placed counts until the next announcement: a burst is spread.
    directory.placed("m2", participants=3)
    assert directory.pick() == "m1"
    directory.heard(wire.Announce("m2", calls=0, participants=0))
    assert directory.pick() == "m2"
    # Silent for too long: no longer picked; stopping: dropped at once.
    clock.advance(timedelta(seconds=2))
    directory.heard(wire.Announce("m1", calls=0, participants=0))
    clock.advance(timedelta(seconds=2))
    assert directory.alive().keys() == {"m1"}
    directory.heard(wire.Announce("m1", calls=0, participants=0, stopping=True))
    assert directory.pick() is None


REQUEST = {"id": "r", "media": "m", "reply_to": "h", "call_id": 1, "participant": "a"}


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (REQUEST | {"op": "dance"}, "unknown op"),
        (REQUEST | {"op": "join", "participant": ""}, "participant"),
        (REQUEST | {"op": "join", "participant": 7}, "participant"),
        (REQUEST | {"op": "join", "call_id": -1}, "call_id"),
        (REQUEST | {"op": "join", "id": "x" * 65}, "id"),
        (REQUEST | {"op": "join", "reply_to": None}, "reply_to"),
        (REQUEST | {"op": "answer"}, "sdp"),
        (REQUEST | {"op": "answer", "sdp": "v" * (wire.MAX_SDP + 1)}, "sdp"),
        (REQUEST | {"op": "end", "call_id": True}, "call_id"),
    ],
)
def test_a_malformed_request_is_refused_with_its_reason(body: dict[str, object], why: str) -> None:
    with pytest.raises(wire.MalformedBody, match=why):
        wire.Request.parse(body)


async def test_a_forged_offer_or_loss_for_someone_not_placed_is_ignored() -> None:
    offers: list[Offer] = []
    lost: list[tuple[int, str]] = []

    async def send_offer(offer: Offer) -> None:
        offers.append(offer)

    async def publish(kind: str, body: dict[str, object]) -> None:
        pass

    unit = RemoteUnit(
        publish,
        "scope",
        MediaDirectory(SystemClock(), timedelta(seconds=3)),
        send_offer,
        lambda call_id, who: lost.append((call_id, who)),
        timeout_s=1,
    )
    offer = wire.Renegotiate(
        unit.node, Offer(call_id=1, participant="staff:1", sdp="v=0", slots=())
    )
    unit.heard(wire.OFFER, offer.body("scope"))
    unit.heard(wire.LOST, wire.Lost(unit.node, 1, "staff:1").body("scope"))
    unit.heard(wire.OFFER, {"scope": "scope", "to": unit.node, "offer": {"slots": "x"}})
    await asyncio.sleep(0)
    assert offers == [] and lost == []
    with pytest.raises(Unavailable, match="no media relay is running"):
        await unit.join(1, "staff:1")


# -- two real media processes ---------------------------------------------------------


DATABASE = "sqlite+aiosqlite:///{}/scope.db"


@pytest.fixture
def media_processes(tmp_path: Path) -> Iterator[MediaProcesses]:
    processes = MediaProcesses(
        write_config(tmp_path / "telehub.toml", tmp_path, DATABASE.format(tmp_path))
    )
    yield processes
    processes.stop_all()


@dataclass
class Hub:
    """A hub process's side: the bus, the remote unit and what it was told."""

    unit: RemoteUnit
    peers: Peers
    lost: list[tuple[int, str]]
    bus: RedisBus
    scope: str


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    from tests.signalling.conftest import redis_up

    if not await redis_up():
        pytest.skip("no Redis on 127.0.0.1:6379")
    scope = scope_of(DATABASE.format(tmp_path))
    bus = RedisBus(REDIS)
    peers = Peers()
    lost: list[tuple[int, str]] = []
    unit = RemoteUnit(
        publisher(bus),
        scope,
        MediaDirectory(SystemClock(), timedelta(seconds=3 * ANNOUNCE_S)),
        peers.send_offer,
        lambda call_id, who: lost.append((call_id, who)),
        timeout_s=10,
    )
    peers.unit = unit

    async def consume() -> None:
        async for envelope in bus.subscribe():
            unit.heard(envelope.kind, envelope.body)

    consuming = asyncio.create_task(consume())
    try:
        yield Hub(unit, peers, lost, bus, scope)
    finally:
        await peers.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(unit.close(), 15)
        await bus.close()
        consuming.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await consuming


async def until(check: Callable[[], bool], what: Callable[[], object], timeout: float = 20) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, f"timed out; {what()}"
        await asyncio.sleep(0.05)


def sees(client: Client, others: list[str], frames: int = 5) -> bool:
    return all(client.decoded[(o, k)] >= frames for o in others for k in ("audio", "video"))


def decoded(hub: Hub) -> dict[str, dict[tuple[str, str], int]]:
    return {n: dict(c.decoded) for n, c in hub.peers.clients.items()}


async def test_two_media_processes_share_the_calls_and_survive_each_others_end(
    hub: Hub, media_processes: MediaProcesses
) -> None:
    # Started in threads: reading a process's start-up lines must not stall this loop.
    first = await asyncio.to_thread(media_processes.start)
    second = await asyncio.to_thread(media_processes.start)
    directory = hub.unit.directory
    await until(lambda: directory.alive().keys() == {first.id, second.id}, directory.alive)

    # A three-party call on one process: everyone sees and hears everyone.
    a = await hub.peers.join(1, "a")
    b = await hub.peers.join(1, "b")
    c = await hub.peers.join(1, "c")
    await hub.peers.settle()
    await until(
        lambda: sees(a, ["b", "c"]) and sees(b, ["a", "c"]) and sees(c, ["a", "b"]),
        lambda: decoded(hub),
    )
    one = hub.unit.placed_on(1)
    # The next call goes to the other, less loaded process, and works there too.
    d = await hub.peers.join(2, "d")
    e = await hub.peers.join(2, "e")
    await hub.peers.settle()
    await until(lambda: sees(d, ["e"]) and sees(e, ["d"]), lambda: decoded(hub))
    other = hub.unit.placed_on(2)
    assert {one, other} == {first.id, second.id}, (one, other)

    # Garbage on the bus addressed to a media process does not stop it serving.
    for body in (
        {"scope": hub.scope, "media": other, "op": "join"},
        {"scope": hub.scope, "media": other, "op": "answer", "id": "x", "call_id": 2},
        {"scope": hub.scope, "media": other, "op": "end", "id": "y" * 500, "call_id": 2},
        {"scope": hub.scope, "media": other},
    ):
        await hub.bus.publish(Envelope(wire.REQUEST, body))
    await asyncio.sleep(0.3)
    before = d.decoded[("e", "video")]
    await until(lambda: d.decoded[("e", "video")] > before + 10, lambda: decoded(hub))

    # The first call's process is killed outright: it stops announcing, its three
    # participants are counted lost, and a new call goes to the survivor.
    dead = first if one == first.id else second
    survivor = second if dead is first else first
    dead.proc.send_signal(signal.SIGKILL)
    await until(lambda: not directory.is_alive(dead.id), directory.alive)
    await until(lambda: sorted(hub.lost) == [(1, "a"), (1, "b"), (1, "c")], lambda: hub.lost)
    f = await hub.peers.join(3, "f")
    assert hub.unit.placed_on(3) == survivor.id
    g = await hub.peers.join(3, "g")
    await hub.peers.settle()
    await until(lambda: sees(f, ["g"]) and sees(g, ["f"]), lambda: decoded(hub))

    # The survivor is stopped politely: it says so, and is dropped at once (well within
    # the expiry of its announcements); with no process left, joining says why.
    survivor.proc.send_signal(signal.SIGTERM)
    assert survivor.proc.wait(timeout=15) == 0, "".join(survivor.lines)
    await until(lambda: not directory.alive(), directory.alive, timeout=3 * ANNOUNCE_S)
    with pytest.raises(Unavailable, match="no media relay is running"):
        await hub.peers.join(4, "h")
