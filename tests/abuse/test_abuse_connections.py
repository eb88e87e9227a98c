"""Connections that never finish, and a client that floods.

- Thousands of half-open connections: 2,000 TCP connections that connect and then stop
  part-way (nothing sent, a request line without its headers, an upgrade to the
  WebSocket without the blank line that ends it, a body promised and never sent) are
  held open while a tablet asks for its ICE servers and talks on its WebSocket: both
  are served. The connections are bounded (opened in batches, all closed after) and the
  server lets go of every one of them once they close.
- A flood: one client sends messages as fast as it can; the rate limit refuses the
  excess and, past ``signalling.abuse_close_after`` refusals in a row, closes it with
  1008 — while another client's pings are answered throughout. (How much slower the
  other client is answered during a flood is measured in tests/bench/bench_flood.py,
  not asserted: a timing on two shared cores is a figure, not a test.)
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
from collections.abc import Callable

import aiohttp
import pytest

from tests.abuse.world import World
from tests.signalling.conftest import Peer

HALF_OPEN = 2_000
BATCH = 100
# Each way of stopping part-way, as the bytes sent before stopping.
STALLS = [
    b"",
    b"GET /api/ice-servers HTTP/1.1\r\n",
    b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
    b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\n\r\nusername=",
]


async def until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Wait for ``condition`` (checked as the event loop turns); ``timeout`` only ends a
    test that would otherwise hang."""
    async with asyncio.timeout(timeout):
        # The server's own bookkeeping: there is no event to wait on, so look again.
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    assert condition(), what


@pytest.fixture
def enough_file_descriptors() -> None:
    """Both ends of every connection live in this process: twice HALF_OPEN, and more."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 2 * HALF_OPEN + 1_000
    if soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.skip(f"open file limit {hard} < {wanted}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


async def test_thousands_of_half_open_connections_do_not_stop_the_server(
    world: World, enough_file_descriptors: None
) -> None:
    runner = world.client.server.runner
    assert runner is not None and runner.server is not None
    server = runner.server
    held = len(server.connections)
    host, port = world.client.server.host, world.client.server.port
    writers: list[asyncio.StreamWriter] = []

    async def stall(n: int) -> None:
        _, writer = await asyncio.open_connection(host, port)
        writers.append(writer)
        writer.write(STALLS[n % len(STALLS)])
        await writer.drain()

    try:
        for start in range(0, HALF_OPEN, BATCH):  # bounded: a batch at a time
            await asyncio.gather(*(stall(n) for n in range(start, start + BATCH)))
        await until(
            lambda: len(server.connections) >= held + HALF_OPEN,
            "the server holds every half-open connection",
        )
        tablet = world.people["tablet A"]
        resp = await tablet.session.get(world.client.make_url("/api/ice-servers"))
        assert resp.status == 200 and "ice_servers" in await resp.json()
        peer = await Peer(world.client, tablet.cookies).connect()
        try:
            await peer.send("ping")
            await peer.expect("pong")
        finally:
            await peer.close()
    finally:
        for writer in writers:
            writer.close()
        for writer in writers:
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
    await until(
        lambda: len(server.connections) <= held + 1,  # a keep-alive of the tablet's may stay
        f"the server let go of the closed connections ({len(server.connections)} left)",
    )


async def pings_answered_during(peer: Peer, stop: asyncio.Event, most: int) -> int:
    """Ping, wait for the pong, again (at most ``most`` times: the peer's own rate limit),
    until ``stop``: how many pongs came before ``stop`` was set."""
    answered = 0
    for _ in range(most):
        if stop.is_set():
            break
        await peer.send("ping")
        await peer.expect("pong")
        answered += 0 if stop.is_set() else 1
    return answered


async def test_a_flooder_is_closed_with_1008_while_another_client_is_served(
    world: World,
) -> None:
    victim = await Peer(world.client, world.people["tablet A"].cookies).connect()
    flooder = await Peer(world.client, world.people["tablet B"].cookies).connect()
    limits = world.ctx.settings.signalling
    flood = limits.burst + limits.abuse_close_after + 100  # more than enough to be closed
    stop = asyncio.Event()

    async def flood_until_closed() -> tuple[aiohttp.WSMsgType, object]:
        assert flooder.ws is not None
        for _ in range(flood):
            await flooder.ws.send_str('{"type": "ping"}')
        while (msg := await flooder.ws.receive(timeout=10)).type is aiohttp.WSMsgType.TEXT:
            pass  # the pongs of the burst, then one rate_limited error
        stop.set()
        return msg.type, msg.data

    try:
        # The victim's first message does the socket's own database work (the tablet
        # last seen): before the flood, so what is measured is the flood's effect.
        await victim.send("ping")
        await victim.expect("pong")
        during = asyncio.create_task(pings_answered_during(victim, stop, limits.burst // 2))
        closed = await flood_until_closed()
        answered = await during
        await victim.send("ping")  # and afterwards, as before
        await victim.expect("pong")
    finally:
        stop.set()
        await victim.close()
        await flooder.close()
    assert closed == (aiohttp.WSMsgType.CLOSE, 1008)
    assert answered >= 1  # answered while the flooder was still connected
