"""Signalling figures (issue 3): ring latency under load, and relay throughput against a
bare aiohttp WebSocket echo server measured in the same run.

- Ring latency: 200 tablets and 20 clinicians connected; a tablet requests a call
  (``POST /api/calls``) and the clock stops when a clinician console receives the
  queue snapshot that contains it. p50 and p99 over the rings.
- Throughput: 20 live calls; each tablet sends ``rtc.ice`` messages that telehub relays
  to its clinician (parse, check the sender takes part in the call, route through the
  bus). Baseline: the same clients and messages against an echo server (one message in,
  one out). The ratio is relayed messages/s ÷ echoed messages/s, taken in alternated
  rounds (relay, echo, relay, …) against one hub and one echo server; the figure is the
  median round, printed with the spread (one pair alone swung from 0.75 to 0.86 on the
  same code as the machine's neighbours came and went). Per-connection rate
  limits (and the per-address socket cap: every client here is 127.0.0.1) are raised for
  this run (they exist to stop floods, not to be measured).
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from tests.bench.livehub import LiveHub, free_port, now, percentile, start

MESSAGE = {
    "type": "rtc.ice",
    "candidate": "candidate:842163049 1 udp 1677729535 "
    "203.0.113.7 46154 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag sXfE",
    "sdp_mid": "0",
    "sdp_mline_index": 0,
}
BATCH = 100
ROUNDS = 5  # relay and echo, alternated (full run)


async def connect(session: aiohttp.ClientSession, hub: LiveHub) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(hub.ws_url(), origin=hub.url, max_msg_size=0)
    await ws.send_str('{"type":"hello","v":1}')
    return ws


async def next_of(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    while True:
        msg = json.loads((await ws.receive(timeout=30)).data)
        if msg["type"] == kind:
            return msg


async def csrf(session: aiohttp.ClientSession, hub: LiveHub) -> str:
    async with session.get(f"{hub.url}/tablet") as resp:
        found = re.search(r'name="csrf-token" content="([0-9a-f]+)"', await resp.text())
    assert found
    return found.group(1)


async def ring_latency(hub: LiveHub, rings: int) -> list[float]:
    tablets = [aiohttp.ClientSession(cookies=c) for c in hub.tablets]
    nurses = [aiohttp.ClientSession(cookies=c) for c in hub.clinicians]
    try:
        tablet_ws = await asyncio.gather(*(connect(s, hub) for s in tablets))
        nurse_ws = await asyncio.gather(*(connect(s, hub) for s in nurses))
        for ws in nurse_ws:
            await ws.send_str('{"type":"queue.subscribe"}')
            await next_of(ws, "queue.snapshot")
        drains = [asyncio.create_task(_drain(ws)) for ws in [*tablet_ws, *nurse_ws[1:]]]
        tokens = await asyncio.gather(*(csrf(s, hub) for s in tablets))
        watcher = nurse_ws[0]
        latencies = []
        for i in range(rings):
            k = i % len(tablets)
            t0 = now()
            async with tablets[k].post(
                f"{hub.url}/api/calls",
                headers={"X-CSRF-Token": tokens[k]},
                json={"resident_id": hub.residents[k], "reason": "fall", "intention": "ae"},
            ) as resp:
                assert resp.status == 201, await resp.text()
                call_id = (await resp.json())["call_id"]
            while True:
                snap = await next_of(watcher, "queue.snapshot")
                if any(item["call_id"] == call_id for item in snap["items"]):
                    break
            latencies.append(now() - t0)
            await tablet_ws[k].send_str(json.dumps({"type": "call.cancel", "call_id": call_id}))
        for task in drains:
            task.cancel()
        return latencies
    finally:
        for s in [*tablets, *nurses]:
            await s.close()


async def _drain(ws: aiohttp.ClientWebSocketResponse) -> None:
    async for _ in ws:
        pass


async def _pair_traffic(
    senders: list[aiohttp.ClientWebSocketResponse],
    receivers: list[aiohttp.ClientWebSocketResponse],
    texts: list[str],
    per_pair: int,
) -> float:
    """Each sender sends ``per_pair`` messages in batches and waits for its receiver to
    have read (and parsed) each batch; messages/s over all pairs."""

    async def pair(i: int) -> None:
        for _ in range(per_pair // BATCH):
            for _ in range(BATCH):
                await senders[i].send_str(texts[i])
            got = 0
            while got < BATCH:
                if json.loads((await receivers[i].receive(timeout=30)).data)["type"] == "rtc.ice":
                    got += 1

    t0 = now()
    await asyncio.gather(*(pair(i) for i in range(len(senders))))
    return len(senders) * (per_pair // BATCH) * BATCH / (now() - t0)


@asynccontextmanager
async def relayed_calls(
    hub: LiveHub, pairs: int
) -> AsyncIterator[Callable[[int], Awaitable[float]]]:
    """``pairs`` live calls, each tablet's socket and its clinician's; yields a function
    that relays ``per_pair`` ``rtc.ice`` messages per call (tablet → telehub → clinician:
    parsed, the sender checked to take part in the call, routed) and returns messages/s."""
    tablets = [aiohttp.ClientSession(cookies=c) for c in hub.tablets[:pairs]]
    nurses = [aiohttp.ClientSession(cookies=c) for c in hub.clinicians[:pairs]]
    try:
        tablet_ws = await asyncio.gather(*(connect(s, hub) for s in tablets))
        nurse_ws = await asyncio.gather(*(connect(s, hub) for s in nurses))
        tokens = await asyncio.gather(*(csrf(s, hub) for s in tablets))
        texts = []
        for i in range(pairs):
            async with tablets[i].post(
                f"{hub.url}/api/calls",
                headers={"X-CSRF-Token": tokens[i]},
                json={"resident_id": hub.residents[i], "reason": "fall"},
            ) as resp:
                call_id = (await resp.json())["call_id"]
            await nurse_ws[i].send_str(json.dumps({"type": "call.claim", "call_id": call_id}))
            assert (await next_of(nurse_ws[i], "call.claimed"))["ok"]
            texts.append(json.dumps({**MESSAGE, "call_id": call_id}))
        yield lambda per_pair: _pair_traffic(tablet_ws, nurse_ws, texts, per_pair)
    finally:
        for s in [*tablets, *nurses]:
            await s.close()


@asynccontextmanager
async def echoes(pairs: int) -> AsyncIterator[Callable[[int], Awaitable[float]]]:
    """A bare aiohttp echo server in its own process (as telehub is) and ``pairs``
    sockets to it; yields a function that echoes ``per_pair`` of the same messages per
    socket (one in, one out, parsed by the client as the relay's are) → messages/s."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tests.bench.echo_server", str(port)])
    try:
        async with aiohttp.ClientSession() as s:
            for _ in range(100):
                try:
                    ws = await s.ws_connect(f"http://127.0.0.1:{port}/ws")
                    await ws.close()
                    break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.05)
            sockets = [await s.ws_connect(f"http://127.0.0.1:{port}/ws") for _ in range(pairs)]
            texts = [json.dumps({**MESSAGE, "call_id": 1})] * pairs
            yield lambda per_pair: _pair_traffic(sockets, sockets, texts, per_pair)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def run(quick: bool) -> None:
    tablets, clinicians = (50, 10) if quick else (200, 20)
    rings = 50 if quick else 200
    per_pair = 1000 if quick else 5000
    rounds = 1 if quick else ROUNDS
    # Every client here comes from 127.0.0.1: lift the per-address socket cap too.
    hub = await start(
        tablets,
        clinicians,
        "[signalling]\nrate_per_s = 1000000\nburst = 1000000\nmax_sockets_per_address = 0\n",
    )
    ratios: list[float] = []
    try:
        lat = await ring_latency(hub, rings)
        print(
            f"ring latency, {tablets} tablets + {clinicians} clinicians connected, "
            f"{rings} rings: p50 {percentile(lat, 50) * 1000:.1f} ms, "
            f"p99 {percentile(lat, 99) * 1000:.1f} ms, max {max(lat) * 1000:.1f} ms"
        )
        # Relay and echo take turns, round after round: a machine that is busier for a
        # few seconds then weighs on both sides of one ratio, not on one side only.
        async with relayed_calls(hub, clinicians) as relay, echoes(clinicians) as echo:
            for round_ in range(1, rounds + 1):
                relayed, echoed = await relay(per_pair), await echo(per_pair)
                ratios.append(relayed / echoed)
                print(
                    f"  round {round_}: {relayed:,.0f} messages/s relayed by telehub, "
                    f"{echoed:,.0f} echoed by bare aiohttp: ratio {relayed / echoed:.2f}",
                    flush=True,
                )
    finally:
        hub.stop()
    print(
        f"relay throughput, {clinicians} live calls: ratio to a bare aiohttp echo "
        f"{statistics.median(ratios):.2f} (median of {len(ratios)} alternated rounds, "
        f"{min(ratios):.2f}–{max(ratios):.2f}; aim >= 0.8)"
    )


def main(quick: bool = False) -> None:
    asyncio.run(run(quick))


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
