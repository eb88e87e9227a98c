"""Real Chromium through telehub's aiortc media relay, end-to-end encrypted.

The tablet and the clinician of a live call each move onto the relay with
``web/static/js/relay_call.js`` (what the pages do once a guest is admitted): every frame
they send is encrypted in the browser (SFrame, AES-GCM in WebCrypto), the relay
forwards frames it cannot read, and each side decrypts and decodes the other's video.
Proof is the receiving browser's own ``getStats()`` (frames decoded) and the E2EE
worker's counts (frames decrypted, and none decrypted without the key).
"""

from __future__ import annotations

from typing import Any

import pytest

from hub.calls import live
from tests.browser.calls_fixtures import (  # noqa: F401  (fixtures)
    LiveServer,
    end_call,
    hub,
    no_page_errors,
    page_errors,
    poll,
    record_outcome,
    screenshot,
    video_call,
)
from tests.browser.server import _context, run_async

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_page_errors")]

START_RELAY = """async ([callId, me]) => {
    const { RelayCall } = await import("/static/js/relay_call.js");
    const relay = new RelayCall({
        callId, me, signalling: window.telehubSignalling, stream: window.telehubCall.stream,
    });
    window.relayTiles = [];
    relay.addEventListener("tile", (e) => window.relayTiles.push(e.detail));
    relay.addEventListener("verification", (e) => { window.relayCode = e.detail; });
    await relay.start();
    window.relay = relay;
    return RelayCall.supported();
}"""

RELAY_FRAMES = """async () => {
    if (!window.relay?.pc) return 0;
    let n = 0;
    (await window.relay.pc.getStats()).forEach((r) => {
        if (r.type === "inbound-rtp" && r.kind === "video") n += r.framesDecoded ?? 0;
    });
    return n;
}"""


def _parties(server: LiveServer, call_id: int) -> tuple[str, str]:
    async def read() -> tuple[str, str]:
        ctx, engine = await _context(server.config)
        try:
            call = await live.participants(ctx, call_id)
            return f"device:{call.device_id}", f"staff:{call.answered_by}"
        finally:
            await engine.dispose()

    result: tuple[str, str] = run_async(read())
    return result


def test_tablet_and_clinician_see_each_other_through_the_relay_encrypted_end_to_end(
    hub: tuple[Any, Any],  # noqa: F811
    live_server: LiveServer,
) -> None:
    console, tablet = hub
    call_id = video_call(console, tablet, live_server, "Edna Smith")
    tablet_id, clinician_id = _parties(live_server, call_id)
    assert tablet.evaluate(START_RELAY, [call_id, tablet_id]) is True
    assert console.evaluate(START_RELAY, [call_id, clinician_id]) is True

    # Each decodes the other's video through the relay.
    for page in (console, tablet):
        poll(page, f"async () => (await ({RELAY_FRAMES})()) > 30", timeout_s=30)
    # What arrived was ciphertext that only the keyed worker could open: the workers
    # decrypted the frames the decoders got.
    counts = {
        name: p.evaluate("() => window.relay.counts()")
        for name, p in (("console", console), ("tablet", tablet))
    }
    for name, c in counts.items():
        assert c["encrypted"] > 30 and c["decrypted"] > 30, (name, c)
    # Both screens show the same verification code, four words.
    code = poll(console, "() => window.relayCode && window.relayCode.join(' ')")
    assert len(code.split()) == 4
    assert poll(tablet, "() => window.relayCode && window.relayCode.join(' ')") == code
    screenshot(console, "relay-console.png")

    for page in (console, tablet):
        page.evaluate("() => window.relay.stop()")
    end_call(console, tablet)
    record_outcome(console, call_id)
