"""Issue 10 in real Chromium: the other side's camera-off and mute are shown (item 9),
and after a tablet reload the video comes back, on a fresh peer connection (item 11).

Proof that video arrived is getStats(): inbound video ``framesDecoded``.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.calls_fixtures import (  # noqa: F401  (fixtures)
    LiveServer,
    answer,
    end_call,
    hub,
    no_page_errors,
    page_errors,
    place_call,
    poll,
    record_outcome,
    screenshot,
    stats,
    wait_for_frames,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_page_errors")]


def _in_call(console: Any, tablet: Any, server: LiveServer, resident: str) -> int:
    call_id = place_call(tablet, server, resident)
    answer(console, call_id)
    wait_for_frames(console)
    wait_for_frames(tablet)
    return call_id


def test_camera_off_and_mute_are_shown_on_the_other_side(
    hub: tuple[Any, Any],  # noqa: F811
    live_server: LiveServer,
) -> None:
    console, tablet = hub
    call_id = _in_call(console, tablet, live_server, "Edna Smith")
    console_peer = console.locator("[data-testid=peer-state]")
    tablet_peer = tablet.locator("[data-testid=peer-state]")
    assert console_peer.is_hidden() and tablet_peer.is_hidden()

    # The tablet turns its camera off and mutes: the console says so, not a black picture.
    tablet.click("#camera")
    tablet.click("#mute")
    console_peer.filter(has_text="The home: muted · camera off").wait_for()
    console.locator("#stage-note").filter(has_text="The home has turned the camera off").wait_for()
    assert console.locator("#in-call .stage.camera-off").count() == 1
    screenshot(console, "console-peer-camera-off-muted.png")

    # The other way round: the clinician mutes and turns the camera off.
    console.click("#mute")
    tablet_peer.filter(has_text="Cleo: muted").wait_for()
    console.click("#camera")
    tablet_peer.filter(has_text="Cleo: muted · camera off").wait_for()
    tablet.locator("#stage-note").filter(has_text="Cleo has turned the camera off").wait_for()
    screenshot(tablet, "tablet-peer-camera-off-muted.png")

    # Back on: the notes go away on both sides.
    tablet.click("#camera")
    tablet.click("#mute")
    console_peer.wait_for(state="hidden")
    console.locator("#stage-note").wait_for(state="hidden")
    console.click("#mute")
    console.click("#camera")
    tablet_peer.wait_for(state="hidden")
    end_call(console, tablet)
    record_outcome(console, call_id)


def test_after_a_tablet_reload_video_is_decoded_again_on_a_fresh_connection(
    hub: tuple[Any, Any],  # noqa: F811
    live_server: LiveServer,
) -> None:
    console, tablet = hub
    call_id = _in_call(console, tablet, live_server, "Mabel Smith")
    tablet.click("#mute")  # forgotten by the reload: the console must not keep saying it
    console.locator("[data-testid=peer-state]").filter(has_text="muted").wait_for()
    fresh_before = stats(console)["counts"]["fresh"]

    tablet.reload()
    assert tablet.url.endswith(f"/tablet/calls/{call_id}")
    # The reloaded tablet answered the console's ICE restart from a new session (new
    # DTLS certificate): the console started a fresh peer connection instead of waiting.
    poll(console, f"() => window.telehubCall.counts.fresh > {fresh_before}")
    assert wait_for_frames(tablet) > 0  # the reloaded page decodes video
    assert wait_for_frames(console) > 0  # and so does the console, on the new connection
    tablet.wait_for_selector("text=Talking to Cleo")
    console.locator("[data-testid=peer-state]").wait_for(state="hidden")
    assert stats(console)["connectionState"] == "connected"
    end_call(console, tablet)
    record_outcome(console, call_id)
