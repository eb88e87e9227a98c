"""Flood fairness (issue 13, "message floods"): another client's round-trip time while
one client floods, against its round-trip time when the hub is idle, in the same run.

A real telehub process (tests/bench/livehub.py, default rate limits: 20 messages/s,
bursts of 60, closed with 1008 after 200 refusals in a row). The victim, a tablet in this
process, pings at its own pace (10 a second, within its limit) and times each pong; the
attacker, another tablet, floods from a process of its own:

- ``polite``: an aiohttp client sending pings as fast as it can; when closed with 1008
  it reconnects and starts again (a sustained attack within the socket caps);
- ``deaf``: a raw socket that keeps sending after the server's close frame, never
  answering it, and connects again at once when cut;
- ``paced``: bursts of 150 pings every 50 ms (3,000 a second), connecting again when
  closed.

After a 1008 the server cuts the connection (it reads no more of the flood) and refuses
that tablet's new sockets for ``signalling.flood_cool_down_s`` (HTTP 429): the attackers
keep trying all the same, so each phase is a sustained attack on upgrades too.

Printed: the victim's median and p90 round trip idle and under each flood, the ratio of
medians (the issue's aim: at most 2), and how many messages the attacker sent.
"""

from __future__ import annotations

import asyncio
import base64
import multiprocessing
import os
import socket
import statistics
import subprocess
import time
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from tests.bench.livehub import LiveHub, now, percentile, start

PING = b'{"type":"ping"}'


def _frame(payload: bytes) -> bytes:
    """One masked client text frame (clients must mask; a fixed mask will do)."""
    mask = b"\x01\x02\x03\x04"
    return (
        bytes([0x81, 0x80 | len(payload)])
        + mask
        + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    )


def _raw_socket(url: str, cookie: str) -> socket.socket:
    parts = urlsplit(url)
    assert parts.hostname and parts.port
    sock = socket.create_connection((parts.hostname, parts.port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Cookie: th_device={cookie}\r\nOrigin: {url}\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(4096)
    if not head.startswith(b"HTTP/1.1 101"):  # 429: cooling down after a flood
        sock.close()
        raise ConnectionRefusedError(head[:40])
    return sock


def _deaf(url: str, cookie: str, seconds: float, sent: Any) -> None:
    end = time.monotonic() + seconds
    blob = _frame(PING) * 500
    while time.monotonic() < end:
        try:
            sock = _raw_socket(url, cookie)
            while time.monotonic() < end:
                sock.sendall(blob)
                sent.value += 500
        except OSError:
            continue  # closed by the server at last, or refused: connect again at once


def _paced(url: str, cookie: str, seconds: float, sent: Any) -> None:
    end = time.monotonic() + seconds
    burst = _frame(PING) * 150
    while time.monotonic() < end:
        try:
            sock = _raw_socket(url, cookie)
            while time.monotonic() < end:
                sock.sendall(burst)
                sent.value += 150
                time.sleep(0.05)
            sock.close()
        except OSError:
            time.sleep(0.05)  # closed for flooding, or refused while cooling down


def _polite(url: str, cookie: str, seconds: float, sent: Any) -> None:
    async def run() -> None:
        end = time.monotonic() + seconds
        async with aiohttp.ClientSession(cookies={"th_device": cookie}) as s:
            while time.monotonic() < end:
                try:
                    ws = await s.ws_connect(url + "/ws", origin=url)
                except aiohttp.WSServerHandshakeError:
                    await asyncio.sleep(0.01)  # over the socket cap for a moment
                    continue
                reader = asyncio.create_task(_drain(ws))
                try:
                    while not ws.closed and time.monotonic() < end:
                        for _ in range(100):
                            await ws.send_bytes(PING)
                        sent.value += 100
                        await asyncio.sleep(0)
                except (aiohttp.ClientConnectionResetError, ConnectionResetError):
                    pass  # cut by the server after its 1008: connect again
                reader.cancel()
                await ws.close()

    asyncio.run(run())


async def _drain(ws: aiohttp.ClientWebSocketResponse) -> None:
    async for _ in ws:
        pass


FLOODERS = {"polite": _polite, "deaf": _deaf, "paced": _paced}


async def round_trips(hub: LiveHub, n: int) -> list[float]:
    """The victim's ping round trips, 10 a second (within its own rate limit)."""
    async with aiohttp.ClientSession(cookies=hub.tablets[0]) as s:
        ws = await s.ws_connect(hub.ws_url(), origin=hub.url)
        await ws.send_str('{"type":"hello","v":1}')
        out = []
        for _ in range(n):
            t0 = now()
            await ws.send_str('{"type":"ping"}')
            while (await ws.receive(timeout=60)).data != '{"type":"pong"}':
                pass
            out.append(now() - t0)
            await asyncio.sleep(0.1)
        await ws.close()
        return out


async def run(quick: bool) -> None:
    samples = 30 if quick else 100
    hub = await start(tablets=2, clinicians=0)
    try:
        idle = await round_trips(hub, samples)
        print(
            f"victim's ping round trip, idle: median {statistics.median(idle) * 1000:.2f} ms, "
            f"p90 {percentile(idle, 90) * 1000:.2f} ms ({samples} pings)",
            flush=True,
        )
        for name, flooder in FLOODERS.items():
            sent = multiprocessing.get_context("spawn").Value("q", 0)
            seconds = samples * 0.1 + 3
            proc = multiprocessing.get_context("spawn").Process(
                target=flooder, args=(hub.url, hub.tablets[1]["th_device"], seconds, sent)
            )
            proc.start()
            await asyncio.sleep(1)  # the flood under way
            busy = await round_trips(hub, samples)
            proc.join(timeout=seconds + 30)
            if proc.is_alive():
                proc.kill()
            ratio = statistics.median(busy) / statistics.median(idle)
            p50, p90 = statistics.median(busy) * 1000, percentile(busy, 90) * 1000
            print(
                f"under a {name} flood ({sent.value:,} messages sent): median {p50:.2f} ms, "
                f"p90 {p90:.2f} ms, max {max(busy) * 1000:.0f} ms; ratio of medians {ratio:.1f} "
                f"({'within' if ratio <= 2 else 'over'} the aim of 2)",
                flush=True,
            )
            idle = await round_trips(hub, samples)  # the baseline again, after each flood
    finally:
        try:
            hub.stop()
        except subprocess.TimeoutExpired:  # still reading a deaf flooder's last bytes
            hub.proc.kill()
            hub.proc.wait()


def main(quick: bool = False) -> None:
    asyncio.run(run(quick))


if __name__ == "__main__":
    main()
