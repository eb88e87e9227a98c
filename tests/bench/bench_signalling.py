"""Signalling figures (issue 3): ring latency under load, and relay throughput against a
bare aiohttp WebSocket echo server measured in the same run.

- Ring latency: 200 tablets and 20 clinicians connected; a tablet requests a call
  (``POST /api/calls``) and the clock stops when a clinician console receives the
  queue snapshot that contains it. p50 and p99 over the rings.
- Throughput: 20 live calls; each tablet sends ``rtc.ice`` messages that telehub relays
  to its clinician (parse, check the sender takes part in the call, route through the
  bus). Baseline: the same clients and messages against an echo server (one message in,
  one out). The ratio is relayed messages/s ÷ echoed messages/s. Per-connection rate
  limits (and the per-address socket cap: every client here is 127.0.0.1) are raised for
  this run (they exist to stop floods, not to be measured).
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
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


async def relay_throughput(hub: LiveHub, pairs: int, per_pair: int) -> float:
    tablets = [aiohttp.ClientSession(cookies=c) for c in hub.tablets[:pairs]]
    nurses = [aiohttp.ClientSession(cookies=c) for c in hub.clinicians[:pairs]]
    try:
        tablet_ws = await asyncio.gather(*(connect(s, hub) for s in tablets))
        nurse_ws = await asyncio.gather(*(connect(s, hub) for s in nurses))
        tokens = await asyncio.gather(*(csrf(s, hub) for s in tablets))
        calls = []
        for i in range(pairs):
            async with tablets[i].post(
                f"{hub.url}/api/calls",
                headers={"X-CSRF-Token": tokens[i]},
                json={"resident_id": hub.residents[i], "reason": "fall"},
            ) as resp:
                calls.append((await resp.json())["call_id"])
            await nurse_ws[i].send_str(json.dumps({"type": "call.claim", "call_id": calls[i]}))
            assert (await next_of(nurse_ws[i], "call.claimed"))["ok"]

        async def pair(i: int) -> None:
            text = json.dumps({**MESSAGE, "call_id": calls[i]})
            for _ in range(per_pair // BATCH):
                for _ in range(BATCH):
                    await tablet_ws[i].send_str(text)
                got = 0
                while got < BATCH:
                    if (
                        json.loads((await nurse_ws[i].receive(timeout=30)).data)["type"]
                        == "rtc.ice"
                    ):
                        got += 1

        t0 = now()
        await asyncio.gather(*(pair(i) for i in range(pairs)))
        return pairs * (per_pair // BATCH) * BATCH / (now() - t0)
    finally:
        for s in [*tablets, *nurses]:
            await s.close()


async def echo_throughput(pairs: int, per_pair: int) -> float:
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
            text = json.dumps({**MESSAGE, "call_id": 1})

            async def one(ws: aiohttp.ClientWebSocketResponse) -> None:
                for _ in range(per_pair // BATCH):
                    for _ in range(BATCH):
                        await ws.send_str(text)
                    for _ in range(BATCH):  # parsed, as the relay clients parse theirs
                        json.loads((await ws.receive(timeout=30)).data)

            t0 = now()
            await asyncio.gather(*(one(ws) for ws in sockets))
            return pairs * (per_pair // BATCH) * BATCH / (now() - t0)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def run(quick: bool) -> None:
    tablets, clinicians = (50, 10) if quick else (200, 20)
    rings = 50 if quick else 200
    per_pair = 1000 if quick else 5000
    # Every client here comes from 127.0.0.1: lift the per-address socket cap too.
    hub = await start(
        tablets,
        clinicians,
        "[signalling]\nrate_per_s = 1000000\nburst = 1000000\nmax_sockets_per_address = 0\n",
    )
    try:
        lat = await ring_latency(hub, rings)
        print(
            f"ring latency, {tablets} tablets + {clinicians} clinicians connected, "
            f"{rings} rings: p50 {percentile(lat, 50) * 1000:.1f} ms, "
            f"p99 {percentile(lat, 99) * 1000:.1f} ms, max {max(lat) * 1000:.1f} ms"
        )
        relay = await relay_throughput(hub, clinicians, per_pair)
    finally:
        hub.stop()
    echo = await echo_throughput(clinicians, per_pair)
    print(
        f"relay throughput, {clinicians} live calls: {relay:,.0f} messages/s relayed by "
        f"telehub; bare aiohttp echo: {echo:,.0f} messages/s; ratio {relay / echo:.2f} "
        f"(aim >= 0.7)"
    )


def main(quick: bool = False) -> None:
    asyncio.run(run(quick))


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
