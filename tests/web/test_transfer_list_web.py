"""The transfer list says who is online (a live console socket on any node) and who is
on shift (the published rota): ``GET /api/routing`` → ``colleagues`` (issue 10, item 10).
Real WebSockets; two nodes sharing a real Redis bus for "any node"."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hub.clock import FixedClock
from hub.context import HubContext
from tests.conftest import PASSWORD
from tests.hub.test_calls_routing import staffed_hub
from tests.signalling.conftest import Peer, staff_token
from tests.signalling.test_bus import REDIS, redis_up
from tests.web.helpers import login


async def _colleagues(client: TestClient) -> dict[int, dict[str, Any]]:
    data = await (await client.get("/api/routing")).json()
    return {c["id"]: c for c in data["colleagues"]}


async def _until(client: TestClient, check: Any, tries: int = 500) -> dict[int, dict[str, Any]]:
    """Ask again until ``check`` holds: a socket's close reaches the server a moment
    after the client closed it (each try is a real request, no fixed sleep)."""
    for _ in range(tries):
        found = await _colleagues(client)
        if check(found):
            return found
        await asyncio.sleep(0)
    pytest.fail(f"the transfer list never matched: {found}")


async def test_transfer_list_says_who_is_online_and_on_shift(
    client: TestClient, ctx: HubContext, clock: FixedClock, home: Any
) -> None:
    hub = await staffed_hub(ctx, clock)
    me, online_on, offline_on = hub.on[0], hub.on[1], None
    online_off = hub.off[0]
    console_a = Peer(client, {"th_session": await staff_token(ctx, clock, online_on)})
    console_b = Peer(client, {"th_session": await staff_token(ctx, clock, online_off)})
    try:
        await console_a.connect()
        await console_b.connect()
        await login(client, ctx, clock, me.username, PASSWORD, me.id)
        found = await _colleagues(client)
        assert me.id not in found  # nobody transfers to themselves
        assert found[online_on.id] == {
            "id": online_on.id,
            "name": online_on.display_name,
            "online": True,
            "on_shift": True,
        }
        assert (found[online_off.id]["online"], found[online_off.id]["on_shift"]) == (True, False)
        offline = [c for c in found.values() if c["id"] not in (online_on.id, online_off.id)]
        assert offline and not any(c["online"] for c in offline)
        offline_on = next((c for c in offline if c["on_shift"]), None)
        # Those who can take the call come first: on shift and online, then on shift.
        order = list(found)
        assert order[0] == online_on.id
        if offline_on is not None:
            assert order.index(offline_on["id"]) < order.index(online_off.id)

        await console_a.close()  # the console closed: no longer online
        found = await _until(client, lambda f: not f[online_on.id]["online"])
        assert found[online_on.id]["on_shift"] is True
        assert found[online_off.id]["online"] is True
    finally:
        await console_a.close()
        await console_b.close()


async def test_online_counts_a_console_on_another_node(
    aiohttp_client: Any, settings: Any, engine: Any, clock: FixedClock, ctx: HubContext
) -> None:
    if not await redis_up():
        pytest.skip("no Redis on 127.0.0.1:6379")
    from web.app import create_app

    hub = await staffed_hub(ctx, clock)
    me, colleague = hub.on[0], hub.on[1]
    clustered = settings.replace("signalling", bus_url=REDIS)
    node_a = await aiohttp_client(create_app(clustered, clock=clock))
    node_b = await aiohttp_client(create_app(clustered, clock=clock))
    console = Peer(node_a, {"th_session": await staff_token(ctx, clock, colleague)})
    try:
        # We ask node B; logging in first, because it moves the test clock on by 31 s
        # (a fresh TOTP step), which would age what B heard from A past its expiry.
        await login(node_b, ctx, clock, me.username, PASSWORD, me.id)
        await console.connect()  # the colleague's console is on node A
        found = await _until(node_b, lambda f: f[colleague.id]["online"], tries=2000)
        assert found[colleague.id]["on_shift"] is True
        await console.close()
        await _until(node_b, lambda f: not f[colleague.id]["online"], tries=2000)
    finally:
        await console.close()
