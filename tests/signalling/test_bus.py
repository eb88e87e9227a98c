"""The event bus: in memory, and over a real Redis between two telehub processes."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from signalling.bus import Envelope, MemoryBus, RedisBus, make_bus
from tests.signalling.conftest import REDIS, claim, place_call, redis_up


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


async def test_a_redis_subscription_hears_everything_published_once_it_says_it_is_live() -> None:
    """``subscribed`` is set once Redis has answered the SUBSCRIBE: one envelope
    published right after it is heard (pub/sub keeps nothing for a subscriber not yet
    there, so a process that started listening a moment too late missed its peers'
    answers to its presence "ask" and the call events of its first moments)."""
    if not await redis_up():
        pytest.skip("no Redis on 127.0.0.1:6379")
    a, b = RedisBus(REDIS), RedisBus(REDIS)
    try:
        await a.ping()  # a's connection is open: its PUBLISH goes out at once
        live = asyncio.Event()
        pending = asyncio.ensure_future(anext(b.subscribe(subscribed=live)))
        await asyncio.wait_for(live.wait(), 5)
        marker = uuid.uuid4().hex
        await a.publish(Envelope("event", {"marker": marker}))  # once, not until heard
        assert (await asyncio.wait_for(pending, 5)).body == {"marker": marker}
    finally:
        await a.close()
        await b.close()


async def test_tablet_and_clinician_on_different_nodes(
    two_nodes, reconnect, home, resident, tablet, clinician
) -> None:
    """Two telehub processes sharing the database and a Redis bus: a tablet on one and a
    clinician on the other still ring, answer and exchange SDP."""
    node_a, node_b = two_nodes
    tab = await reconnect(await tablet(home), node_a)
    nurse = await reconnect((await clinician("cleo"))[0], node_b)
    await nurse.send("queue.subscribe")
    await nurse.expect("queue.snapshot")
    call_id = await place_call(tab, resident.id)  # through node A
    snap = await nurse.expect("queue.snapshot", timeout=10)
    assert [i["call_id"] for i in snap["items"]] == [call_id]
    await claim(nurse, call_id)
    await tab.expect("call.state", state="answered", timeout=10)
    await nurse.send("rtc.offer", call_id=call_id, sdp="v=0 across", restart=False)
    assert (await tab.expect("rtc.offer", timeout=10))["sdp"] == "v=0 across"
