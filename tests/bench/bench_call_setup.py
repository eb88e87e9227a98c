"""Call set-up in Chromium on loopback (issue 3): from the clinician pressing Answer to
the first decoded remote video frame on the clinician's side, p50 over 10 calls.

Real telehub, real headless Chromium with the fake camera, peer to peer on 127.0.0.1
(``tests.bench.call_pages``). Frames are polled every 20 ms, which bounds the
resolution of each sample.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from tests.bench.call_pages import console_and_tablet, seconds_to_first_frame
from tests.bench.livehub import percentile
from tests.browser.calls_fixtures import end_call, place_call, record_outcome
from tests.browser.server import LiveServer


def first_frame_after_answer(console: Any, tablet: Any, server: LiveServer) -> float:
    call_id = place_call(tablet, server, "Edna Smith")
    button = console.locator(f"tr[data-call-id='{call_id}'] [data-testid=answer]")
    button.wait_for()
    t0 = time.perf_counter()
    button.click()
    elapsed = seconds_to_first_frame(console, t0)
    end_call(console, tablet)
    record_outcome(console, call_id)  # or the next answer is refused until it is
    return elapsed


def main(quick: bool = False) -> None:
    runs = 3 if quick else 10
    with console_and_tablet("call") as (server, console, tablet):
        samples = [first_frame_after_answer(console, tablet, server) for _ in range(runs)]
    print(
        f"call set-up, answer -> first decoded remote frame (clinician side), {runs} calls: "
        f"p50 {percentile(samples, 50) * 1000:.0f} ms, min {min(samples) * 1000:.0f} ms, "
        f"max {max(samples) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
