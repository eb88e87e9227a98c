"""The baseline the media relay is compared with: a minimal asyncio UDP forwarder.

One socket in; every datagram that arrives is sent on to two sinks from the same
socket (one publisher fanned out to two subscribers, with nothing else done to it). It
runs in its own process pinned to one core, like the relay; a load generator in
another process, pinned to the other core, sends at a fixed rate and counts what the
sinks get back.

    python -m tests.bench.relay_udp forward CPU          (prints the port it listens on)
    python -m tests.bench.relay_udp load CPU PORT SECONDS RATE [RATE ...]
        (makes two sinks and tells the forwarder their ports, then prints one JSON line
        per rate: packets sent, packets the sinks received, forwarder CPU seconds)
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import select
import socket
import sys
import time
from contextlib import suppress
from typing import Any, cast

# A mix of sizes like the relay's traffic: video packets near the packetiser's limit,
# small Opus packets.
SIZES = (1100, 1000, 100, 1100, 100)
SINK_BUFFER = 4 * 1024 * 1024  # the sinks must never be what loses packets


def claim_core(cpu: int) -> None:
    """Pin this process to core ``cpu`` and raise its priority.

    The machine is shared: a benchmark process that waits for its core behind someone
    else's test suite measures the suite, not itself. With the kernel's autogroups (on
    here), a process's nice value only counts inside its session, so the process
    starts a session of its own and raises that (root may; elsewhere the raise is
    refused and the figures are noisier — ``waited_seconds`` shows by how much).
    """
    os.sched_setaffinity(0, {cpu})
    claim_core_priority()


def claim_core_priority() -> None:
    with suppress(OSError):
        os.setsid()  # its own autogroup (fails harmlessly if it already leads one)
    with suppress(OSError), open("/proc/self/autogroup", "w") as f:
        f.write("-20")
    with suppress(OSError):
        os.nice(-20)


def waited_seconds() -> float:
    """How long this process's main thread has waited for a core while ready to run
    (/proc/self/schedstat): the sign that someone else had the core."""
    with open("/proc/self/schedstat") as f:
        return int(f.read().split()[1]) / 1e9


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _Forwarder(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self._sinks: list[tuple[str, int]] = []
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Python 3.11's selector datagram transport does not subclass DatagramTransport.
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        assert self._transport is not None
        if data == b"cpu?":  # the load generator asks for this process's CPU time
            self._transport.sendto(str(cpu_seconds()).encode(), addr)
            return
        if data.startswith(b"sinks "):  # where to forward to, from the load generator
            self._sinks = [("127.0.0.1", int(port)) for port in data.split()[1:]]
            self._transport.sendto(b"ok", addr)
            return
        for sink in self._sinks:
            self._transport.sendto(data, sink)


async def forward() -> None:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(_Forwarder, local_addr=("127.0.0.1", 0))
    # Read into a 64 KiB buffer, not asyncio's 256 KiB, as the relay's sockets do
    # (media/relay/passthrough.py, read_buffer): a like-for-like baseline.
    transport.max_size = 65_535  # type: ignore[attr-defined]
    print(transport.get_extra_info("sockname")[1], flush=True)
    try:
        await asyncio.Event().wait()  # until the bench terminates this process
    finally:
        transport.close()


def _sink() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SINK_BUFFER)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    return sock


def _drain(socks: list[socket.socket], until: float) -> int:
    got = 0
    while True:
        timeout = until - time.monotonic()
        if timeout <= 0:
            return got
        ready, _, _ = select.select(socks, [], [], timeout)
        for sock in ready:
            while True:
                try:
                    sock.recv(2048)
                except BlockingIOError:
                    break
                got += 1


def _forwarder_cpu(out: socket.socket, port: int, sinks: list[socket.socket]) -> float:
    out.sendto(b"cpu?", ("127.0.0.1", port))
    # The answer comes back to ``out``; sinks may still hold stragglers: drain them.
    answer = float(out.recv(64))
    _drain(sinks, time.monotonic() + 0.01)
    return answer


def load(port: int, seconds: float, rates: list[float]) -> None:
    sinks = [_sink(), _sink()]
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    out.bind(("127.0.0.1", 0))
    out.settimeout(5)
    ports = " ".join(str(s.getsockname()[1]) for s in sinks)
    out.sendto(f"sinks {ports}".encode(), ("127.0.0.1", port))
    assert out.recv(16) == b"ok"
    payloads = [os.urandom(size) for size in SIZES]
    target = ("127.0.0.1", port)
    for rate in rates:
        cpu0 = _forwarder_cpu(out, port, sinks)
        sent = received = 0
        start = time.monotonic()
        end = start + seconds
        owed = 0.0
        last = start
        while (now := time.monotonic()) < end:
            # Send what is due (paced in ~1 ms batches), then drain the sinks for ~1 ms.
            # After a stall (this process kept from its core), what was missed is not
            # sent in one burst: that would measure the forwarder's socket buffer.
            owed = min(owed + (now - last) * rate, rate * 0.002)
            last = now
            burst = int(owed)
            owed -= burst
            for _ in range(burst):
                out.sendto(payloads[sent % len(payloads)], target)
                sent += 1
            received += _drain(sinks, min(end, now + 0.001))
        received += _drain(sinks, time.monotonic() + 0.2)  # what was still in flight
        cpu1 = _forwarder_cpu(out, port, sinks)
        print(
            json.dumps(
                {
                    "rate": rate,
                    "seconds": seconds,
                    "sent": sent,
                    "received": received,
                    "forwarder_cpu": cpu1 - cpu0,
                }
            ),
            flush=True,
        )
    out.close()
    for sink in sinks:
        sink.close()


def main(argv: list[str]) -> None:
    role, cpu = argv[0], int(argv[1])
    claim_core(cpu)
    if role == "forward":
        asyncio.run(forward())
    elif role == "load":
        load(int(argv[2]), float(argv[3]), [float(r) for r in argv[4:]])
    else:
        raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
