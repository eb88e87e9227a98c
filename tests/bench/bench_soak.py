"""Soak: many WebSocket clients placing, answering and ending calls for a long time.

Tablets call about their resident at random intervals and wait; clinicians watch the
queue and, after a moment's reaction, answer one of the first five waiting calls
(losing races to colleagues is normal: counted, not an error; a loser looks at the next
queue snapshot before trying again, as a person would), talk for a few seconds, end it
and record its outcome. A watcher console times every ring (request → the call on its
queue). The server's RSS and open file descriptors are sampled from /proc throughout,
and the load's own CPU (near 100 %: the load, not the hub, set the pace).

Figures: RSS and fds first / last / max (flat is the aim), errors (zero is the aim),
p99 ring latency per window; the baseline is the same server's ring latency before the
load starts, measured in the same run.

Full run (``make bench``): 1,000 clients (900 tablets, 100 clinicians) for 30 minutes,
sampled every minute, windows of 5 minutes. ``--quick``: 200 clients for 90 s.

Memory is also given per 1,000 calls placed, in the first and the second half of the
run: what a hub keeps per call it ever had shows as the same growth in both halves,
caches that fill and stop as growth that falls away. ``bench_churn`` runs the same load
at many more calls a second (fewer clients, short pauses) to see that sooner.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from tests.bench.livehub import LiveHub, now, percentile, start


@dataclass(frozen=True)
class Plan:
    tablets: int
    clinicians: int
    seconds: float
    sample_s: float
    window_s: float
    think_s: tuple[float, float]  # a tablet's pause between calls
    talk_s: tuple[float, float]  # a clinician's time in a call


CALL_ID = re.compile(r'"call_id":(\d+)')
REACTION_S = (0.3, 1.5)  # a clinician's time from seeing the queue to pressing Answer
# 900 tablets each calling every 2 to 6 minutes offer about 3.8 calls a second (13,500
# an hour, a hundred times a busy real hub's rate) to 100 clinicians who can answer
# about 15 a second; with every 20 to 120 s (13 a second) this 2-core machine, running
# both the hub and the thousand clients, could not keep up and the queue only grew.
FULL = Plan(900, 100, 30 * 60, 60, 5 * 60, (120, 360), (2, 8))
QUICK = Plan(170, 30, 90, 10, 30, (5, 30), (1, 3))


@dataclass(frozen=True)
class Sample:
    elapsed: float
    rss_mb: float
    fds: int
    calls: int  # placed so far
    database_mb: float


@dataclass
class Tally:
    errors: Counter[str] = field(default_factory=Counter)
    lost_races: int = 0
    calls_placed: int = 0
    calls_ended: int = 0
    placed_at: dict[int, float] = field(default_factory=dict)  # call → just before the POST
    first_seen: dict[int, float] = field(default_factory=dict)  # call → on the watcher's queue
    rang: asyncio.Event = field(default_factory=asyncio.Event)  # a call was first seen

    def rings(self) -> list[tuple[float, float]]:
        """(when seen, request → seen) for every call both placed and seen."""
        return [
            (seen, seen - self.placed_at[c])
            for c, seen in self.first_seen.items()
            if c in self.placed_at
        ]


def server_usage(pid: int) -> tuple[float, int]:
    """The server's resident memory (MB) and open file descriptors, from /proc."""
    with open(f"/proc/{pid}/status") as f:
        rss_kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return rss_kb / 1024, len(os.listdir(f"/proc/{pid}/fd"))


async def connect(session: aiohttp.ClientSession, hub: LiveHub) -> aiohttp.ClientWebSocketResponse:
    """Open the client's socket, trying again (bounded) while the hub sheds the
    thousand-client connect storm with 503s, as the browsers' signalling does."""
    for _ in range(30):
        try:
            ws = await session.ws_connect(hub.ws_url(), origin=hub.url, heartbeat=None)
        except aiohttp.WSServerHandshakeError as err:
            if err.status != 503:
                raise
            retry = float(err.headers.get("Retry-After", "1")) if err.headers else 1.0
            await asyncio.sleep(retry * random.random())
            continue
        await ws.send_str('{"type":"hello","v":1}')
        return ws
    raise RuntimeError("the hub refused this socket 30 times running")


async def csrf(session: aiohttp.ClientSession, hub: LiveHub, page: str) -> str:
    """The CSRF token of this client's own page (``/tablet`` or ``/console``), as its
    browser would load it. While a thousand clients connect at once the hub sheds load
    (503 with Retry-After: its database pool is busy); like a person reloading, try
    again after the time it asks for (bounded)."""
    for _ in range(30):
        async with session.get(f"{hub.url}{page}") as resp:
            text = await resp.text()
            if resp.status == 503:
                await asyncio.sleep(float(resp.headers.get("Retry-After", "1")) * random.random())
                continue
            assert resp.status == 200 and resp.url.path == page, (resp.status, resp.url.path)
        found = re.search(r'name="csrf-token" content="([0-9a-f]+)"', text)
        assert found
        return found.group(1)
    raise RuntimeError(f"{page} was unavailable 30 times running")


async def tablet(
    hub: LiveHub, i: int, plan: Plan, tally: Tally, stop: asyncio.Event, ready: asyncio.Event
) -> None:
    async with aiohttp.ClientSession(cookies=hub.tablets[i]) as session:
        ws = await connect(session, hub)
        token = await csrf(session, hub, "/tablet")
        states: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        async def read() -> None:
            async for msg in ws:
                data = json.loads(msg.data)
                if data["type"] == "call.state":
                    states.put_nowait(data)
                elif data["type"] == "error":
                    tally.errors[f"tablet error {data.get('code')}"] += 1
            if not stop.is_set():
                tally.errors["tablet socket closed"] += 1

        reader = asyncio.create_task(read())
        await ready.wait()
        try:
            while not stop.is_set():
                await _pause(stop, random.uniform(*plan.think_s))
                if stop.is_set():
                    break
                t0 = now()
                async with session.post(
                    f"{hub.url}/api/calls",
                    headers={"X-CSRF-Token": token},
                    json={"resident_id": hub.residents[i], "reason": "fall", "intention": "ae"},
                ) as resp:
                    if resp.status != 201:
                        tally.errors[f"place call HTTP {resp.status} {await _code(resp)}"] += 1
                        continue
                    call_id = (await resp.json())["call_id"]
                tally.placed_at[call_id] = t0
                tally.calls_placed += 1
                while not stop.is_set():  # until it ends (or we stop)
                    try:
                        state = await asyncio.wait_for(states.get(), 1)
                    except TimeoutError:
                        continue
                    if state.get("call_id") == call_id and state["state"] in ("ended", "cancelled"):
                        break
                else:
                    await ws.send_str(json.dumps({"type": "call.cancel", "call_id": call_id}))
        finally:
            await ws.close()
            reader.cancel()


async def clinician(
    hub: LiveHub, i: int, plan: Plan, tally: Tally, stop: asyncio.Event, ready: asyncio.Event
) -> None:
    async with aiohttp.ClientSession(cookies=hub.clinicians[i]) as session:
        ws = await connect(session, hub)
        token = await csrf(session, hub, "/console")
        await ws.send_str('{"type":"queue.subscribe"}')
        snapshot = [""]  # the newest queue snapshot, read only when choosing a call
        claimed: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        ended: asyncio.Queue[int] = asyncio.Queue()  # calls this console saw end
        fresh = asyncio.Event()  # a queue snapshot came since it was cleared

        async def read() -> None:
            async for msg in ws:
                if '"queue.snapshot"' in msg.data[:40]:
                    # A hundred consoles parsing every snapshot of a long queue would
                    # make this one process (the load) the bottleneck, not the hub.
                    snapshot[0] = msg.data
                    fresh.set()
                    continue
                data = json.loads(msg.data)
                if data["type"] == "call.claimed":
                    claimed.put_nowait(data)
                elif data["type"] == "call.state" and data.get("state") == "ended":
                    ended.put_nowait(data["call_id"])
                elif data["type"] == "error" and data.get("code") != "conflict":
                    tally.errors[f"clinician error {data.get('code')}"] += 1
            if not stop.is_set():
                tally.errors["clinician socket closed"] += 1

        reader = asyncio.create_task(read())
        await ready.wait()
        try:
            while not stop.is_set():
                # A person looks at the queue and takes a moment to pick one of the
                # first few waiting calls: colleagues doing the same make races.
                await _pause(stop, random.uniform(*REACTION_S))
                items = json.loads(snapshot[0])["items"] if snapshot[0] else []
                waiting = [x["call_id"] for x in items if x["state"] == "waiting"]
                if not waiting:
                    fresh.clear()
                    await _pause_until(fresh, stop, 1)
                    continue
                call_id = random.choice(waiting[:5])
                await ws.send_str(json.dumps({"type": "call.claim", "call_id": call_id}))
                try:
                    answer = await asyncio.wait_for(claimed.get(), 10)
                except TimeoutError:
                    tally.errors["claim not answered"] += 1
                    continue
                if not answer["ok"]:
                    # Someone else answered it: like a clinician, look at the queue as it
                    # is now before trying again (not the same stale list at once).
                    tally.lost_races += 1
                    fresh.clear()
                    await _pause_until(fresh, stop, 5)
                    continue
                await _pause(stop, random.uniform(*plan.talk_s))
                await ws.send_str(json.dumps({"type": "call.end", "call_id": call_id}))
                confirmed = await _ended(ended, call_id)
                status = await _record_outcome(session, hub, token, call_id)
                if status == 200:
                    tally.calls_ended += 1
                else:
                    why = "" if confirmed else " (its end not heard within 10 s)"
                    tally.errors[f"outcome HTTP {status}{why}"] += 1
        finally:
            await ws.close()
            reader.cancel()


async def _code(resp: aiohttp.ClientResponse) -> str:
    """An error answer's code (telehub's JSON errors), for the tally."""
    try:
        body = await resp.json()
        return str(body.get("error", {}).get("code"))
    except (aiohttp.ContentTypeError, ValueError):
        return (await resp.text())[:60]


async def _record_outcome(
    session: aiohttp.ClientSession, hub: LiveHub, token: str, call_id: int
) -> int | str:
    """Record the call's outcome, as a clinician would: a 409 (the call not ended yet on
    the server) is tried again a few times, a second apart. The last status."""
    for _ in range(5):
        async with session.post(
            f"{hub.url}/api/calls/{call_id}/outcome",
            headers={"X-CSRF-Token": token},
            json={
                "outcome": "managed_advice",
                "follow_up": "home_to_call_if_worse",
                "admission_judgement": "no",
            },
        ) as resp:
            if resp.status != 409:
                return resp.status if resp.status < 400 else f"{resp.status} {await _code(resp)}"
        await asyncio.sleep(1)
    return 409


async def _ended(ended: asyncio.Queue[int], call_id: int, timeout_s: float = 10) -> bool:
    """Wait (bounded) until this console hears that ``call_id`` ended: only then can its
    outcome be recorded (the server refuses an outcome for a call still live)."""
    try:
        async with asyncio.timeout(timeout_s):
            while await ended.get() != call_id:
                pass
    except TimeoutError:
        return False
    return True


async def watcher(hub: LiveHub, tally: Tally, stop: asyncio.Event) -> None:
    """A console that never answers: times every ring."""
    async with aiohttp.ClientSession(cookies=hub.clinicians[-1]) as session:
        ws = await connect(session, hub)
        await ws.send_str('{"type":"queue.subscribe"}')
        async for msg in ws:
            if stop.is_set():
                break
            if '"queue.snapshot"' not in msg.data[:40]:
                continue
            t = now()
            # The call ids only: parsing every snapshot of a long queue would make this
            # one console's process the slowest part of what is measured.
            for found in CALL_ID.finditer(msg.data):
                call_id = int(found.group(1))
                if call_id not in tally.first_seen:
                    tally.first_seen[call_id] = t
                    tally.rang.set()
        await ws.close()


async def _pause_until(event: asyncio.Event, stop: asyncio.Event, seconds: float) -> None:
    """Wait (bounded) until ``event`` is set or the soak stops."""
    waits = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(stop.wait())]
    await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    for w in waits:
        w.cancel()


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass


async def idle_rings(hub: LiveHub, rings: int) -> list[float]:
    """The baseline: ring latency with nothing else going on."""
    tally, stop, ready = Tally(), asyncio.Event(), asyncio.Event()
    watching = asyncio.create_task(watcher(hub, tally, stop))
    await asyncio.sleep(0.5)
    async with aiohttp.ClientSession(cookies=hub.tablets[0]) as session:
        ws = await connect(session, hub)
        token = await csrf(session, hub, "/tablet")
        for _ in range(rings):
            t0 = now()
            async with session.post(
                f"{hub.url}/api/calls",
                headers={"X-CSRF-Token": token},
                json={"resident_id": hub.residents[0], "reason": "fall", "intention": "ae"},
            ) as resp:
                call_id = (await resp.json())["call_id"]
            tally.placed_at[call_id] = t0
            while call_id not in tally.first_seen:
                tally.rang.clear()
                await asyncio.wait_for(tally.rang.wait(), 30)
            await ws.send_str(json.dumps({"type": "call.cancel", "call_id": call_id}))
            await asyncio.sleep(0.05)
        await ws.close()
    stop.set()
    ready.set()
    watching.cancel()
    return [latency for _, latency in tally.rings()]


async def run(plan: Plan, database_toml: str = "") -> None:
    """``database_toml``: more keys of the hub's ``[database]`` configuration."""
    print(f"setting up {plan.tablets} tablets and {plan.clinicians} clinicians…", flush=True)
    hub = await start(
        plan.tablets,
        plan.clinicians + 1,  # and the watcher
        "[signalling]\nmax_sockets_per_address = 0\nrate_per_s = 50\nburst = 200\n",
        database_toml,
    )
    try:
        baseline = await idle_rings(hub, 20)
        print(
            f"baseline (idle) ring latency: p50 {percentile(baseline, 50) * 1000:.1f} ms, "
            f"p99 {percentile(baseline, 99) * 1000:.1f} ms",
            flush=True,
        )
        tally, stop, ready = Tally(), asyncio.Event(), asyncio.Event()
        clients = [
            *(tablet(hub, i, plan, tally, stop, ready) for i in range(plan.tablets)),
            *(clinician(hub, i, plan, tally, stop, ready) for i in range(plan.clinicians)),
        ]
        tasks = [asyncio.create_task(c) for c in clients]
        watching = asyncio.create_task(watcher(hub, tally, stop))
        await asyncio.sleep(2)  # everyone connected
        ready.set()
        started = now()
        samples: list[Sample] = []
        cpu = (now(), time.process_time())
        while (elapsed := now() - started) < plan.seconds:
            rss, fds = server_usage(hub.proc.pid)
            samples.append(Sample(elapsed, rss, fds, tally.calls_placed, hub.database_mb()))
            # The load's own CPU: near 100 % means it, not the hub, set the pace.
            load = (time.process_time() - cpu[1]) / max(1e-9, now() - cpu[0]) * 100
            cpu = (now(), time.process_time())
            print(
                f"  {elapsed / 60:5.1f} min  RSS {rss:6.1f} MB  fds {fds:5d}  "
                f"load CPU {load:3.0f} %  "
                f"calls {tally.calls_placed} placed, {tally.calls_ended} ended  "
                f"errors {sum(tally.errors.values())} {dict(tally.errors.most_common(3))}",
                flush=True,
            )
            await asyncio.sleep(min(plan.sample_s, plan.seconds - elapsed))
        rss, fds = server_usage(hub.proc.pid)
        samples.append(Sample(now() - started, rss, fds, tally.calls_placed, hub.database_mb()))
        stop.set()
        await asyncio.wait(tasks, timeout=30)
        watching.cancel()
        report(plan, tally, samples, started, len(clients))
    finally:
        hub.stop()


def growth_per_1000_calls(samples: list[Sample], mb: Callable[[Sample], float]) -> str:
    """Growth of ``mb`` (kB per 1,000 calls placed) over the first and the second half
    of the samples after the first (taken while the clients are still connecting)."""
    steady = samples[1:]
    mid = len(steady) // 2

    def per_1000(a: Sample, b: Sample) -> float:
        return (mb(b) - mb(a)) * 1024 / max(1, b.calls - a.calls) * 1000

    early, late = per_1000(steady[0], steady[mid]), per_1000(steady[mid], steady[-1])
    return f"first half {early:+.0f} kB, second half {late:+.0f} kB"


def report(plan: Plan, tally: Tally, samples: list[Sample], started: float, n: int) -> None:
    rss = [s.rss_mb for s in samples]
    fds = [s.fds for s in samples]
    print(f"\nsoak: {n} clients for {plan.seconds / 60:.1f} min")
    print(f"  RSS MB   first {rss[0]:.1f}  last {rss[-1]:.1f}  max {max(rss):.1f}")
    if len(samples) >= 4:
        rss_growth = growth_per_1000_calls(samples, lambda s: s.rss_mb)
        db_growth = growth_per_1000_calls(samples, lambda s: s.database_mb)
        print(f"  per 1,000 calls placed: RSS {rss_growth}; database file {db_growth}")
    print(f"  fds      first {fds[0]}  last {fds[-1]}  max {max(fds)}")
    print(
        f"  calls    {tally.calls_placed} placed, {tally.calls_ended} answered, ended and "
        f"recorded; {tally.lost_races} answer races lost to a colleague (expected)"
    )
    print(f"  errors   {sum(tally.errors.values())} {dict(tally.errors) or ''}")
    print("  ring latency per window (p50 / p99 ms, rings):")
    rings = tally.rings()
    w = 0
    while w * plan.window_s < plan.seconds:
        lo, hi = started + w * plan.window_s, started + (w + 1) * plan.window_s
        window = [lat for t, lat in rings if lo <= t < hi]
        if window:
            print(
                f"    {w * plan.window_s / 60:5.1f}–{(w + 1) * plan.window_s / 60:5.1f} min  "
                f"{percentile(window, 50) * 1000:7.1f} / {percentile(window, 99) * 1000:7.1f}"
                f"  ({len(window)})"
            )
        w += 1


def main(quick: bool = False) -> None:
    random.seed(7)
    began = time.perf_counter()
    asyncio.run(run(QUICK if quick else FULL))
    print(f"(soak wall time {time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
