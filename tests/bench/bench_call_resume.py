"""Video back after a tablet reload (issue 10, item 11): from ``reload()`` on the tablet
to the first decoded remote video frame on the reloaded tablet, p50 and p95 over
10 reloads of one live call (3 with ``--quick``).

The baseline, measured in the same run, is the first call set-up of the same pair of
pages: the tablet's call object created → its first decoded frame (what a reload has to
repeat at the least, with the camera already allowed). Real telehub, real headless
Chromium with the fake camera, peer to peer on 127.0.0.1 (``tests.bench.call_pages``);
frames are polled every 20 ms, which bounds the resolution of each sample.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from tests.bench.call_pages import console_and_tablet, seconds_to_first_frame
from tests.bench.livehub import percentile
from tests.browser.calls_fixtures import answer, end_call, place_call


def reload_to_first_frame(tablet: Any) -> float:
    t0 = time.perf_counter()
    tablet.reload()
    return seconds_to_first_frame(tablet, t0)


def measure(runs: int) -> tuple[float, list[float]]:
    with console_and_tablet("resume") as (server, console, tablet):
        call_id = place_call(tablet, server, "Edna Smith")
        answer(console, call_id)
        seconds_to_first_frame(tablet, time.perf_counter())
        setup = tablet.evaluate("() => window.telehubCall.timings.firstFrame") / 1000
        samples = [reload_to_first_frame(tablet) for _ in range(runs)]
        end_call(console, tablet)
    return setup, samples


def main(quick: bool = False) -> None:
    runs = 3 if quick else 10
    setup, samples = measure(runs)
    print(
        f"resume after a tablet reload, reload() -> first decoded remote frame (tablet), "
        f"{runs} reloads: p50 {percentile(samples, 50) * 1000:.0f} ms, "
        f"p95 {percentile(samples, 95) * 1000:.0f} ms, min {min(samples) * 1000:.0f} ms, "
        f"max {max(samples) * 1000:.0f} ms"
    )
    print(
        f"  baseline, same run: first call set-up on the tablet (call object -> first frame) "
        f"{setup * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
