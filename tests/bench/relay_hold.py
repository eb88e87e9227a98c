"""Hold the relay at a steady load, to profile it or compare two trees' CPU.

    python -m tests.bench.relay_hold CALLS SECONDS

Starts the relay and the simulated participants as the relay benchmark does
(tests/bench/bench_relay.py: each pinned to a core of its own), sets up CALLS calls of
three, lets them settle for 4 s, then prints the relay's process id and, after SECONDS,
the share of a core the relay used over that window. While it holds, profile the relay,
for example with perf's call stacks (py-spy attaches too slowly here to catch a short
window):

    perf record -p PID -F 1500 --call-graph dwarf,16384 -o relay.data -- sleep 6

Alternating two trees' runs of this, back to back, compares their CPU at the same load
more steadily than the stepped benchmark (docs/benchmarks.md, "The per-packet path in C").
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.bench_relay import CALL_SIZE, ask, cores, process, read_line

SETTLE_S = 4.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv: list[str]) -> None:
    calls, hold_s = int(argv[0]), float(argv[1])
    relay_core, peers_core = cores()
    with tempfile.TemporaryDirectory(prefix="telehub-relay-hold-") as tmp:
        sock = Path(tmp) / "relay.sock"
        with process("-m", "tests.bench.relay_unit", str(relay_core), str(sock)) as relay:
            assert read_line(relay).strip() == "ready"
            with process("-m", "tests.bench.relay_peers", str(peers_core), str(sock)) as peers:
                ask(peers, op="calls", calls=list(range(1, calls + 1)), size=CALL_SIZE)
                time.sleep(SETTLE_S)
                print(f"relay pid {relay.pid}: {calls} calls of {CALL_SIZE} held", flush=True)
                cpu0, t0 = cpu_seconds(relay.pid), time.monotonic()
                time.sleep(hold_s)
                busy = (cpu_seconds(relay.pid) - cpu0) / (time.monotonic() - t0)
                print(f"relay CPU {busy:.1%} of a core over {hold_s:.0f} s", flush=True)
                ask(peers, op="quit")
                peers.wait(timeout=60)


if __name__ == "__main__":
    main(sys.argv[1:])
