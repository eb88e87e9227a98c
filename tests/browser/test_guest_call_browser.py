"""A guest in a real call, in real Chromium: the guest's page (web/static/js/guest_call.js)
and the tablet (web/static/js/tablet_call.js) while a guest is there.

The clinician invites a family member; the guest opens the link in its own browser, types
a name, passes the camera check and waits; the tablet lists the guest with its role
before the guest is let in. Once the clinician lets the guest in, the call moves onto
telehub's relay: the guest and the tablet each show a tile per other participant with
name and role, the same verification code, and the security level in words; the guest
decodes video. When the clinician removes the guest, its page says so and stops.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.calls_fixtures import (  # noqa: F401  (fixtures)
    CLINICIAN_FETCH,
    LiveServer,
    end_call,
    frames,
    guest_joins,
    hub,
    invite,
    no_page_errors,
    page_errors,
    poll,
    record_outcome,
    relay_state,
    screenshot,
    until_text,
    video_call,
    wait_for_frames,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_page_errors")]

GUEST_FRAMES = """async () => {
    if (!window.telehubRelay?.pc) return 0;
    let n = 0;
    (await window.telehubRelay.pc.getStats()).forEach((r) => {
        if (r.type === "inbound-rtp" && r.kind === "video") n += r.framesDecoded ?? 0;
    });
    return n;
}"""


ROUTE_FRAMES = GUEST_FRAMES.replace("window.telehubRelay", "window.telehubRoute?.relay")


E2EE_WORDS = "Through telehub relay, end-to-end encrypted"
TILE_CAPTIONS = """() => [...document.querySelectorAll('#tiles .call-tile figcaption')]
    .map((c) => c.textContent).sort().join(' | ')"""


def test_a_guest_waits_is_let_in_sees_everyone_on_the_relay_and_is_removed(
    browser: Any,
    hub: tuple[Any, Any],  # noqa: F811
    live_server: LiveServer,
    page_errors: Any,  # noqa: F811
) -> None:
    console, tablet = hub
    call_id = video_call(console, tablet, live_server, "Edna Smith")
    direct_before = {"tablet": frames(tablet), "console": frames(console)}
    invited = invite(console, call_id, "family")
    guest_ctx, guest = guest_joins(browser, page_errors, invited["link"], "Sam Guest")
    try:
        assert "Waiting for the clinician to let you in" in guest.inner_text("#lobby-title")
        until_text(guest, "device-status", "t === 'Camera and microphone working'")
        # The tablet knows who is coming, and as what, before they see anyone.
        until_text(tablet, "guest-list", "t.includes('Sam Guest (Family member) — waiting')")
        assert tablet.is_visible("[data-testid=guests]")

        listed = console.evaluate(CLINICIAN_FETCH, ["GET", f"/api/calls/{call_id}/guests", None])
        (entry,) = listed["guests"]
        console.evaluate(CLINICIAN_FETCH, ["POST", f"/api/guests/{entry['id']}/admit", None])

        until_text(tablet, "guest-list", "t.includes('Sam Guest (Family member) — in the call')")
        poll(tablet, "() => window.telehubRoute && window.telehubRoute.route === 'relay'")
        poll(guest, "() => window.telehubRelay !== undefined")
        assert guest.is_visible("#live") and not guest.is_visible("#lobby")
        # The guest decodes the others' video through the relay.
        poll(guest, f"async () => (await ({GUEST_FRAMES})()) > 20", timeout_s=30)
        # Tiles: each other participant, by name and role.
        poll(
            guest,
            f"() => /Care home/.test(({TILE_CAPTIONS})()) && /Clinician/.test(({TILE_CAPTIONS})())",
        )
        poll(tablet, f"() => ({TILE_CAPTIONS})().includes('Sam Guest · Family member')")
        # Everyone's keys: the same four words on the guest's screen and the tablet's.
        code = until_text(guest, "verification", "t.startsWith('Read these words out: ')")
        assert len(code.removeprefix("Read these words out: ").split()) == 4
        until_text(tablet, "verification", f"t === {code!r}")
        words = code.removeprefix("Read these words out: ")
        until_text(console, "relay-code", f"t.includes({words!r})")
        # The clinician and the tablet decode video through the relay too (the guest's
        # and each other's), every frame end-to-end encrypted.
        for page in (console, tablet):
            try:
                poll(page, f"async () => (await ({ROUTE_FRAMES})()) > 20", timeout_s=30)
            except pytest.fail.Exception:
                held = {
                    "console": relay_state(console, "window.telehubRoute?.relay"),
                    "tablet": relay_state(tablet, "window.telehubRoute?.relay"),
                    "guest": relay_state(guest, "window.telehubRelay"),
                }
                pytest.fail(f"no video decoded through the relay on {page.url}: {held}")
            counts = page.evaluate("() => window.telehubRoute.relay.counts()")
            assert counts["video"]["decrypted"] > 20, counts
        assert guest.inner_text("#security") == E2EE_WORDS
        until_text(tablet, "security", f"t === {E2EE_WORDS!r}")
        body = guest.inner_text("body")
        assert "Edna" not in body and "Smith" not in body  # nothing about the resident

        # The relay says it lost the guest's media connection (relay.lost: what it sends
        # when ICE consent runs out, ~30 s into a network gone away —
        # tests/signalling/test_relay_ws.py shows the server side; here the message is
        # handed to the page's signalling client as if it had come): the guest's browser
        # joins again by itself. Same keys, same words; video decodes on the new connection.
        guest.evaluate(
            "(id) => window.telehubSignalling._receive("
            "JSON.stringify({ type: 'relay.lost', call_id: id, seat: window.telehubRelay.seat }))",
            call_id,
        )
        poll(guest, "() => window.telehubRelay.rejoins === 1 && window.telehubRelay.seat !== null")
        poll(guest, f"async () => (await ({GUEST_FRAMES})()) > 20", timeout_s=30)
        until_text(guest, "verification", f"t === {code!r}")
        # The tablet's socket drops and comes back: its seat on the relay went with the
        # old socket, so its browser joins again on the new one.
        tablet.evaluate("() => window.telehubSignalling._ws.close()")
        poll(tablet, "() => window.telehubRoute.relay.rejoins === 1", timeout_s=30)
        poll(tablet, f"async () => (await ({ROUTE_FRAMES})()) > 20", timeout_s=30)
        poll(guest, f"async () => (await ({GUEST_FRAMES})()) > 20", timeout_s=30)
        until_text(tablet, "verification", f"t === {code!r}")
        screenshot(guest, "guest-in-call.png")
        screenshot(tablet, "tablet-with-guest.png")

        # Removed: the guest's page says so and stops; the tablet goes back to direct.
        console.evaluate(CLINICIAN_FETCH, ["POST", f"/api/guests/{entry['id']}/remove", None])
        poll(guest, "() => !document.getElementById('over').hidden")
        assert "removed you" in guest.inner_text("[data-testid=guest-over]")
        poll(guest, "() => window.telehubRelay.closed")
        poll(tablet, "() => window.telehubRoute.route === 'direct'")
        poll(tablet, "() => document.getElementById('guests').hidden")
        # Peer to peer → relay → peer to peer kept the tablet–clinician video going: the
        # direct leg decodes again on both sides, beyond what it had before the guest.
        for label, page in (("tablet", tablet), ("console", console)):
            poll(page, "() => window.telehubRoute.route === 'direct'")
            back = frames(page)
            assert back >= direct_before[label]
            wait_for_frames(page, above=back + 20)
    finally:
        guest_ctx.close()
    end_call(console, tablet)
    record_outcome(console, call_id)


NO_CAMERA = """(() => {
    const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = (c) => c.video
        ? Promise.reject(new DOMException("Permission denied", "NotAllowedError")) : real(c);
})()"""


def test_a_guest_without_a_camera_is_told_plainly_and_joins_with_sound_only(
    browser: Any,
    hub: tuple[Any, Any],  # noqa: F811
    live_server: LiveServer,
    page_errors: Any,  # noqa: F811
) -> None:
    console, tablet = hub
    call_id = video_call(console, tablet, live_server, "Edna Smith")
    invited = invite(console, call_id, "gp")
    guest_ctx, guest = guest_joins(
        browser, page_errors, invited["link"], "Dr Audio", init_script=NO_CAMERA
    )
    try:
        until_text(guest, "device-status", "t.includes('You can join with sound only')")
        assert guest.inner_text("#sound-only") == "Join with sound only"
        guest.click("#sound-only")
        until_text(guest, "device-status", "t === 'You will join with sound only.'")
        (entry,) = console.evaluate(CLINICIAN_FETCH, ["GET", f"/api/calls/{call_id}/guests", None])[
            "guests"
        ]
        console.evaluate(CLINICIAN_FETCH, ["POST", f"/api/guests/{entry['id']}/admit", None])
        poll(
            guest,
            "() => window.telehubRelay !== undefined && !document.getElementById('live').hidden",
        )
        assert not guest.is_visible("#camera")  # nothing to turn off
        poll(guest, f"() => ({TILE_CAPTIONS})().includes('Care home')")
        poll(tablet, f"() => ({TILE_CAPTIONS})().includes('Dr Audio · GP')")
        # The guest leaves: the server's page, and the tablet goes back to direct.
        guest.click("#leave button")
        guest.wait_for_selector("[data-testid=guest-left]")
        poll(tablet, "() => window.telehubRoute.route === 'direct'")
    finally:
        guest_ctx.close()
    end_call(console, tablet)
    record_outcome(console, call_id)
