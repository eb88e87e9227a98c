"""Call set-up in Chromium on loopback (issue 3): from the clinician pressing Answer to
the first decoded remote video frame on the clinician's side, p50 over 10 calls.

Real telehub, real headless Chromium with the fake camera, peer to peer on 127.0.0.1.
Frames are polled every 20 ms, which bounds the resolution of each sample.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from tests.bench.livehub import percentile
from tests.browser.calls_fixtures import record_outcome
from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server
from tests.browser.test_calls import enrol, login, place_call

POLL_MS = 20


def first_frame_after_answer(console, tablet, server) -> float:  # type: ignore[no-untyped-def]
    call_id = place_call(tablet, server, "Edna Smith")
    button = console.locator(f"tr[data-call-id='{call_id}'] [data-testid=answer]")
    button.wait_for()
    t0 = time.perf_counter()
    button.click()
    console.wait_for_timeout(1)
    while True:
        n = console.evaluate(
            "async () => window.telehubCall ? (await window.telehubCall.stats()).framesDecoded : 0"
        )
        if n > 0:
            elapsed = time.perf_counter() - t0
            break
        if time.perf_counter() - t0 > 30:
            raise RuntimeError("no frame within 30 s")
        console.wait_for_timeout(POLL_MS)
    console.click("#end")
    tablet.wait_for_selector("text=The call has ended")
    console.locator("#in-call").wait_for(state="hidden")
    record_outcome(console, call_id)  # or the next answer is refused until it is
    return elapsed


def main(quick: bool = False) -> None:
    from playwright.sync_api import sync_playwright

    runs = 3 if quick else 10
    server = start_server(Path(tempfile.mkdtemp(prefix="telehub-bench-call-")))
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            console = browser.new_context().new_page()
            tablet = browser.new_context().new_page()
            login(console, server, "cleo")
            enrol(tablet, server)
            samples = [first_frame_after_answer(console, tablet, server) for _ in range(runs)]
            browser.close()
    finally:
        stop_server(server)
    print(
        f"call set-up, answer -> first decoded remote frame (clinician side), {runs} calls: "
        f"p50 {percentile(samples, 50) * 1000:.0f} ms, min {min(samples) * 1000:.0f} ms, "
        f"max {max(samples) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
