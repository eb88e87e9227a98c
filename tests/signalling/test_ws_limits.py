"""One tablet or one login cannot stall the hub.

Sockets are capped per tablet, per staff member and per client address (refused
with HTTP 429 before the upgrade); WebSocket messages' database work is bounded per
process; a request that cannot get a database connection in time is a clear 503.
The victim test floods from one home's tablet and checks that another home's
tablet is served meanwhile.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import timedelta

import aiohttp
import pytest

from hub.people.access import SYSTEM
from hub.people.admin import create_staff
from hub.people.staff import NewStaff
from tests.conftest import PASSWORD
from tests.signalling.conftest import Peer, staff_token
from web.http.keys import CTX, SWITCHBOARD

CAP_DEVICE, CAP_USER, CAP_ADDRESS = 2, 2, 5


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    return settings.replace(
        "signalling",
        max_sockets_per_device=CAP_DEVICE,
        max_sockets_per_user=CAP_USER,
        max_sockets_per_address=CAP_ADDRESS,
        # The flood below stays within the per-socket rate limit (the test clock does
        # not move, so the bucket never refills: its size alone must cover the flood).
        rate_per_s=1000,
        burst=10**9,
    )


async def refusal(peer: Peer) -> tuple[int, dict[str, object]]:
    """What a connection one over the cap gets: status and JSON body, before upgrading."""
    resp = await peer.session.get(
        peer.client.make_url("/ws"), headers={"Origin": peer.origin, "Accept": "application/json"}
    )
    return resp.status, await resp.json()


async def test_sockets_are_capped_per_tablet(client, home, tablet) -> None:  # type: ignore[no-untyped-def]
    first = await tablet(home)
    second = Peer(client, first.cookies)
    try:
        await second.connect()
        with pytest.raises(aiohttp.WSServerHandshakeError) as err:
            await Peer(client, first.cookies).session.ws_connect(
                client.make_url("/ws"), origin=first.origin
            )
        assert err.value.status == 429
        assert await refusal(first) == (
            429,
            {
                "error": {
                    "code": "too_many_connections",
                    "message": "this tablet already has 2 live connections: close one first",
                }
            },
        )
        # The sockets it has keep working.
        await second.send("ping")
        await second.expect("pong")
    finally:
        await second.close()


async def test_sockets_are_capped_per_staff_member(client, ctx, clock, peers) -> None:  # type: ignore[no-untyped-def]
    user = await create_staff(
        ctx, SYSTEM, NewStaff.parse("nurse", "Nurse", "clinician", ["clinician"]), PASSWORD
    )
    for _ in range(CAP_USER):  # two logins (two browsers) of the same person
        peer = Peer(client, {"th_session": await staff_token(ctx, clock, user)})
        clock.advance(timedelta(seconds=31))
        peers.append(peer)
        await peer.connect()
    third = Peer(client, {"th_session": await staff_token(ctx, clock, user)})
    peers.append(third)
    assert await refusal(third) == (
        429,
        {
            "error": {
                "code": "too_many_connections",
                "message": "you already have 2 live connections: close one first",
            }
        },
    )


async def test_sockets_are_capped_per_address(client, home, other_home, tablet) -> None:  # type: ignore[no-untyped-def]
    tablets = [await tablet(home), await tablet(home), await tablet(other_home)]
    extra = [Peer(client, tablets[0].cookies), Peer(client, tablets[1].cookies)]
    try:
        for peer in extra:  # 3 + 2 = 5 sockets from 127.0.0.1
            await peer.connect()
        assert await refusal(tablets[2]) == (
            429,
            {
                "error": {
                    "code": "too_many_connections",
                    "message": "too many live connections from this address (5): close some first",
                }
            },
        )
    finally:
        for peer in extra:
            await peer.close()


@pytest.mark.parametrize("pool", [(1, 0, 0.2)])
async def test_a_saturated_database_pool_is_a_503_not_a_500(
    aiohttp_client, settings, engine, clock, home, tablet, pool
) -> None:  # type: ignore[no-untyped-def]
    from hub.people import enrolment
    from web.app import create_app

    size, overflow, timeout_s = pool
    small = settings.replace(
        "database", pool_size=size, pool_overflow=overflow, pool_timeout_s=timeout_s
    )
    client = await aiohttp_client(create_app(small, clock=clock))
    app_ctx = client.server.app[CTX]
    issued = await enrolment.issue_code(app_ctx, SYSTEM, home.id, "Trolley")
    token = (await enrolment.enrol(app_ctx, issued.code)).token
    async with aiohttp.ClientSession(cookies={"th_device": token}) as s:
        async with app_ctx.uow():  # the only connection is busy
            resp = await s.get(client.make_url("/api/ice-servers"))
            assert resp.status == 503
            assert resp.headers["Retry-After"] == "5"
            assert await resp.json() == {
                "error": {
                    "code": "unavailable",
                    "message": "the hub is very busy right now: try again in a moment",
                }
            }
        resp = await s.get(client.make_url("/api/ice-servers"))
        assert resp.status == 200


async def test_one_tablets_flood_does_not_stall_another_home(
    client, ctx, clock, home, other_home, other_resident, tablet
) -> None:  # type: ignore[no-untyped-def]
    """Home A's tablet opens sockets as fast as it can and says hello on each without
    pause (within the rate limit); home B's tablet keeps using the hub meanwhile."""
    attacker = await tablet(home)
    victim = await tablet(other_home)
    await attacker.close()  # its sockets are opened below
    attacker = Peer(client, attacker.cookies)

    async def victim_round() -> tuple[int, float]:
        started = time.perf_counter()
        resp = await victim.session.get(client.make_url(f"/api/homes/{other_home.id}/residents"))
        await resp.read()
        return resp.status, time.perf_counter() - started

    idle = [await victim_round() for _ in range(10)]
    assert {status for status, _ in idle} == {200}

    stop, settled = asyncio.Event(), asyncio.Event()
    opened = refused = hellos = 0
    attempts = 200

    async def flood_socket() -> None:
        nonlocal opened, refused, hellos
        try:
            ws = await attacker.session.ws_connect(client.make_url("/ws"), origin=attacker.origin)
        except aiohttp.WSServerHandshakeError as err:
            assert err.status == 429
            refused += 1
            if opened + refused == attempts:
                settled.set()
            return
        opened += 1
        if opened + refused == attempts:
            settled.set()
        try:
            while not stop.is_set():
                await ws.send_str('{"type": "hello", "v": 1}')
                while True:  # wait for the welcome (and whatever comes with it)
                    msg = await ws.receive(timeout=30)
                    assert msg.type is aiohttp.WSMsgType.TEXT, msg
                    if '"welcome"' in msg.data:
                        hellos += 1
                        break
        finally:
            await ws.close()

    flood = [asyncio.create_task(flood_socket()) for _ in range(attempts)]
    try:
        await asyncio.wait_for(settled.wait(), 60)  # every socket opened or refused
        before = hellos
        busy = [await victim_round() for _ in range(10)]
        during = hellos - before
        still_flooding = [t for t in flood if not t.done()]
    finally:
        stop.set()
        await asyncio.gather(*flood)
    assert (opened, refused) == (CAP_DEVICE, attempts - CAP_DEVICE)
    assert [status for status, _ in busy] == [200] * 10
    # The victim was served while the flood went on: hellos were answered meanwhile
    # and the flooding sockets were still at it when the victim had finished.
    assert during > 0 and len(still_flooding) == CAP_DEVICE
    # Generous: served within fifty times its own idle time (plus half a second).
    idle_median = statistics.median(t for _, t in idle)
    assert statistics.median(t for _, t in busy) < 50 * idle_median + 0.5


async def test_pages_are_served_while_websocket_database_work_is_saturated(
    client, home, other_home, tablet
) -> None:  # type: ignore[no-untyped-def]
    """Every slot of WebSocket database work taken (signalling.max_db_work): a socket's
    hello waits its turn, while another home's page request is served meanwhile."""
    board = client.server.app[SWITCHBOARD]
    waiting = await tablet(home)
    victim = await tablet(other_home)
    slots = board.settings.max_db_work
    for _ in range(slots):
        await board.db_work.acquire()
    try:
        await waiting.send("hello", v=1, ref="h")
        resp = await victim.session.get(client.make_url(f"/api/homes/{other_home.id}/residents"))
        assert resp.status == 200
    finally:
        for _ in range(slots):
            board.db_work.release()
    assert (await waiting.expect("welcome"))["device_id"] is not None
