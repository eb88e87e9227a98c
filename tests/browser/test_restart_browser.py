"""A hub process killed outright (``kill -9``) in the middle of a video call, then
restarted by its supervisor on the same port: in real Chromium, neither the clinician
nor the care-home tablet reloads anything. Their signalling reconnects by itself, the
call is still theirs on both screens, and video keeps being decoded (peer-to-peer media
never went through the dead process; the pages renegotiate over the new socket)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.browser.calls_fixtures import (  # noqa: F401  (fixtures)
    LiveServer,
    end_call,
    hub,
    no_page_errors,
    page_errors,
    poll,
    record_outcome,
    record_timing,
    video_call,
    wait_for_frames,
)
from tests.browser.server import kill_and_restart

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_page_errors")]

OPEN = "() => window.telehubSignalling && window.telehubSignalling.state === 'open'"


def test_a_killed_server_is_restarted_and_the_call_carries_on_without_a_reload(
    hub: tuple[Any, Any],  # noqa: F811
    live_server: LiveServer,
) -> None:
    console, tablet = hub
    call_id = video_call(console, tablet, live_server, "Edna Smith")
    pages = {"console": console, "tablet": tablet}
    urls = {name: page.url for name, page in pages.items()}
    before = {name: wait_for_frames(page) for name, page in pages.items()}

    killed = time.monotonic()
    kill_and_restart(live_server)  # returns once the new process listens
    serving = time.monotonic() - killed

    seconds = {"new process listening": round(serving, 1)}
    for name, page in pages.items():
        poll(page, OPEN, timeout_s=30)  # reconnected by itself (back-off ≤ 10 s)
        seconds[f"{name} signalling open"] = round(time.monotonic() - killed, 1)
    record_timing("kill -9 -> (s)", seconds)
    for name, page in pages.items():
        # Still in the call, and decoding more video than before the kill.
        wait_for_frames(page, above=before[name] + 30, timeout_s=30)
        assert page.url == urls[name], f"the {name} page navigated"
    console.locator("#in-call").wait_for()
    assert not tablet.locator("text=The call has ended").is_visible()
    end_call(console, tablet)
    record_outcome(console, call_id)
