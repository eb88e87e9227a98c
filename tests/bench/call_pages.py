"""Shared set-up of the call benchmarks in Chromium: a real telehub, headless Chromium
with the fake camera, a clinician console logged in and a tablet enrolled, each in its
own browser context; and the clock that times the first decoded video frame.

The browser tests' helpers (``tests.browser.calls_fixtures``) place, answer and end the
calls; what differs here is that a benchmark times from Python, so it polls the frame
count every ``POLL_MS`` instead of waiting inside the page.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.browser.calls_fixtures import enrol, frames, login
from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, LiveServer, start_server, stop_server

POLL_MS = 20  # bounds the resolution of each sample


@contextmanager
def console_and_tablet(name: str) -> Iterator[tuple[LiveServer, Any, Any]]:
    """(server, console page, tablet page): Cleo logged in, a Rose Court tablet."""
    from playwright.sync_api import sync_playwright

    server = start_server(Path(tempfile.mkdtemp(prefix=f"telehub-bench-{name}-")))
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            console = browser.new_context().new_page()
            tablet = browser.new_context().new_page()
            login(console, server, "cleo")
            enrol(tablet, server)
            yield server, console, tablet
            browser.close()
    finally:
        stop_server(server)


def seconds_to_first_frame(page: Any, t0: float, limit_s: float = 30) -> float:
    """Seconds from ``t0`` (``time.perf_counter()``) to ``page``'s first decoded remote
    video frame."""
    while True:
        if frames(page) > 0:
            return time.perf_counter() - t0
        if time.perf_counter() - t0 > limit_s:
            raise RuntimeError(f"no decoded frame within {limit_s} s on {page.url}")
        page.wait_for_timeout(POLL_MS)
