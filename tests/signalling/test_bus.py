"""The event bus: in memory, and over a real Redis between two telehub processes."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from signalling.bus import Envelope, MemoryBus, RedisBus, make_bus
from tests.signalling.conftest import Peer, place_call

REDIS = "redis://127.0.0.1:6379/0"


async def redis_up() -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", 6379), 1)
    except OSError:
        return False
    writer.close()
    return True


async def first(bus, timeout: float = 5) -> Envelope:  # type: ignore[no-untyped-def]
    stream = bus.subscribe()
    return await asyncio.wait_for(anext(stream), timeout)


async def test_memory_bus_fans_out_to_every_subscriber() -> None:
    bus = MemoryBus()
    a, b = bus.subscribe(), bus.subscribe()
    got_a = asyncio.ensure_future(anext(a))
    got_b = asyncio.ensure_future(anext(b))
    await asyncio.sleep(0)
    await bus.publish(Envelope("deliver", {"type": "pong"}, "device:1"))
    assert (await got_a).to == (await got_b).to == "device:1"
    await bus.close()


def test_bus_urls() -> None:
    assert isinstance(make_bus("memory://"), MemoryBus)
    with pytest.raises(ValueError, match="unknown bus URL 'kafka://x'"):
        make_bus("kafka://x")


async def test_redis_bus_between_two_processes() -> None:
    if not await redis_up():
        pytest.skip("no Redis on 127.0.0.1:6379")
    a, b = RedisBus(REDIS), RedisBus(REDIS)
    try:
        stream = b.subscribe()
        pending = asyncio.ensure_future(anext(stream))
        marker = uuid.uuid4().hex
        # Pub/sub keeps nothing for a subscriber that is not there yet: publish until the
        # subscription (on its way to Redis) hears one, within 5 s on a loaded machine.
        for _ in range(50):
            await a.publish(Envelope("event", {"marker": marker}))
            done, _ = await asyncio.wait({pending}, timeout=0.1)
            if done:
                break
        assert (await asyncio.wait_for(pending, 1)).body == {"marker": marker}
    finally:
        await a.close()
        await b.close()


async def test_tablet_and_clinician_on_different_nodes(
    aiohttp_client, settings, engine, clock, home, resident, tablet, clinician
) -> None:
    """Two telehub processes sharing the database and a Redis bus: a tablet on one and a
    clinician on the other still ring, answer and exchange SDP."""
    if not await redis_up():
        pytest.skip("no Redis on 127.0.0.1:6379")
    from web.app import create_app

    clustered = settings.replace("signalling", bus_url=REDIS)
    node_a = await aiohttp_client(create_app(clustered, clock=clock))
    node_b = await aiohttp_client(create_app(clustered, clock=clock))
    tab_local = await tablet(home)  # only for its cookie
    nurse_local, _ = await clinician("cleo")
    tab = await Peer(node_a, tab_local.cookies).connect()
    nurse = await Peer(node_b, nurse_local.cookies).connect()
    try:
        await nurse.send("queue.subscribe")
        await nurse.expect("queue.snapshot")
        call_id = await place_call(tab, resident.id)
        snap = await nurse.expect("queue.snapshot", timeout=10)
        assert [i["call_id"] for i in snap["items"]] == [call_id]
        await nurse.send("call.claim", call_id=call_id)
        await nurse.expect("call.claimed")
        await tab.expect("call.state", state="answered", timeout=10)
        await nurse.send("rtc.offer", call_id=call_id, sdp="v=0 across", restart=False)
        assert (await tab.expect("rtc.offer", timeout=10))["sdp"] == "v=0 across"
    finally:
        await tab.close()
        await nurse.close()
