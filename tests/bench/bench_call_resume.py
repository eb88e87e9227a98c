"""Video back after a tablet reload (issue 10, item 11): from ``reload()`` on the tablet
to the first decoded remote video frame on the reloaded tablet, p50 and p95 over
10 reloads of one live call (3 with ``--quick``).

The baseline, measured in the same run, is the first call set-up of the same pair of
pages: the tablet's call object created → its first decoded frame (what a reload has to
repeat at the least, with the camera already allowed). Real telehub, real headless
Chromium with the fake camera, peer to peer on 127.0.0.1; frames are polled every
20 ms, which bounds the resolution of each sample.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.bench.livehub import percentile
from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server
from tests.browser.test_calls import enrol, login, place_call

POLL_MS = 20
FRAMES = "async () => window.telehubCall ? (await window.telehubCall.stats()).framesDecoded : 0"


def first_frame(page: Any, t0: float, limit_s: float = 30) -> float:
    while True:
        if page.evaluate(FRAMES) > 0:
            return time.perf_counter() - t0
        if time.perf_counter() - t0 > limit_s:
            raise RuntimeError(f"no frame within {limit_s} s of the reload")
        page.wait_for_timeout(POLL_MS)


def reload_to_first_frame(tablet: Any) -> float:
    t0 = time.perf_counter()
    tablet.reload()
    return first_frame(tablet, t0)


def measure(runs: int) -> tuple[float, list[float]]:
    from playwright.sync_api import sync_playwright

    server = start_server(Path(tempfile.mkdtemp(prefix="telehub-bench-resume-")))
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            console = browser.new_context().new_page()
            tablet = browser.new_context().new_page()
            login(console, server, "cleo")
            enrol(tablet, server)
            call_id = place_call(tablet, server, "Edna Smith")
            console.locator(f"tr[data-call-id='{call_id}'] [data-testid=answer]").click()
            first_frame(tablet, time.perf_counter())
            setup = tablet.evaluate("() => window.telehubCall.timings.firstFrame") / 1000
            samples = [reload_to_first_frame(tablet) for _ in range(runs)]
            console.click("#end")
            tablet.wait_for_selector("text=The call has ended")
            browser.close()
    finally:
        stop_server(server)
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
