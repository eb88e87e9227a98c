"""What the relay carries is ciphertext, in real Chromium (issue 12): one call with the
tablet, the clinician and, in turn, four guests — each guest there to show one thing.

- **Kim, keyless** (a test-build hook, web/static/js/test_hooks.js ``testFlag``): her
  page drops every key sent to her and hands what she receives to her decoders as it
  arrives. The relay forwards her every packet, yet she decodes (almost) no video while
  the keyed browsers decode it all: what crosses the relay is ciphertext. (A VP8 decoder
  accepts an occasional garbage frame, so counts are compared, not required to be 0.)
- **Sam, keyed, then removed**: everyone shows the same verification code; when the
  clinician removes Sam, everyone else changes key, and the key ids now in use are
  none that Sam held; Sam's connection is closed.
- **Sid, whose key the server swaps** (a test-server hook in signalling/relay_handling.py,
  ``KEY_SWAP_MARK`` in the name): the roster everyone gets carries a key nobody holds in
  place of Sid's. Sid's code differs from everyone else's, and the media keys sealed to
  the swapped key never open in Sid's browser: Sid decrypts nothing.
- **Una, whose browser cannot encrypt** (an init script deletes ``createEncodedStreams``
  and ``RTCRtpScriptTransform``): she is told plainly, and the clinician is asked whether
  to go on without end-to-end encryption or remove her. Continuing, every screen says
  the call is NOT end-to-end encrypted, the call page lists the change, everyone sends
  unencrypted frames and decodes Una's — and keyless Kim now decodes the others too:
  the relay could see the call. When Una is removed, everyone encrypts again with new
  keys, and Kim decodes (almost) nothing again.

Then the last guest goes and the call ends as usual.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from signalling.relay_handling import KEY_SWAP_MARK
from tests.browser.calls_fixtures import (  # noqa: F401  (fixtures)
    admit,
    end_call,
    guest_joins,
    hub,
    invite,
    no_page_errors,
    page_errors,
    poll,
    record_outcome,
    relay_state,
    remove_guest,
    until_text,
    video_call,
)
from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_page_errors")]
FAKE_CAMERA = "--use-fake-device-for-media-stream"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium as in every browser test, its fake camera at 10 frames a second instead of
    20: here four browsers encode and decode each other's video at once, on a machine
    shared with other work, and what is counted is frames, not time."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make system-deps installs it)")
    from playwright.sync_api import sync_playwright

    args = [f"{FAKE_CAMERA}=fps=10" if a == FAKE_CAMERA else a for a in CHROMIUM_ARGS]
    assert args != CHROMIUM_ARGS
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        yield b
        b.close()


KEYLESS = "window.telehubTestFlags = { keyless: true };"  # honoured on test builds only
# A browser without encoded transforms (neither Chromium's nor the standard API).
NO_TRANSFORMS = """delete RTCRtpSender.prototype.createEncodedStreams;
delete RTCRtpReceiver.prototype.createEncodedStreams;
delete window.RTCRtpScriptTransform;"""
E2EE = "Through telehub relay, end-to-end encrypted"
NOT_E2EE = "Through telehub relay, NOT end-to-end encrypted (this browser cannot)"
ASKED = (
    "Una Plain's browser cannot encrypt end to end. "
    "Continue without end-to-end encryption, or remove Una Plain?"
)

# Video that arrived on a page's relay connection, summed over its senders.
VIDEO = """async () => {{
    const relay = {relay}, out = {{ decoded: 0, packets: 0 }};
    if (!relay?.pc || relay.closed) return out;
    (await relay.pc.getStats()).forEach((r) => {{
        if (r.type === "inbound-rtp" && r.kind === "video") {{
            out.decoded += r.framesDecoded ?? 0;
            out.packets += r.packetsReceived ?? 0;
        }}
    }});
    return out;
}}"""

# Video frames decoded on a page's relay connection, per sender.
DECODED_FROM = """async () => {{
    const relay = {relay}, out = {{}};
    (await relay.pc.getStats()).forEach((r) => {{
        const who = r.type === "inbound-rtp" && r.kind === "video" && relay.slots.get(r.mid);
        if (who) out[who.participant] = (out[who.participant] ?? 0) + (r.framesDecoded ?? 0);
    }});
    return out;
}}"""

# The verification code once this page knows everyone's key (and is told of ``n`` people).
CODE = """() => {{
    const relay = {relay};
    const ready = relay?.code && relay.roster.length === {n}
        && relay.roster.every((p) => p.publicKey);
    return ready ? relay.code.join(" ") : null;
}}"""


class OnRelay:
    """One browser in the relayed call: its page and where the page keeps its RelayCall."""

    def __init__(self, name: str, page: Any, relay: str) -> None:
        self.name, self.page, self.relay = name, page, relay

    def __repr__(self) -> str:
        return self.name

    def video(self) -> dict[str, int]:
        found: dict[str, int] = self.page.evaluate(VIDEO.format(relay=self.relay))
        return found

    def decoded_above(self, n: int, timeout_s: float = 30) -> None:
        script = f"async () => (await ({VIDEO.format(relay=self.relay)})()).decoded > {n}"
        try:
            poll(self.page, script, timeout_s)
        except pytest.fail.Exception:
            pytest.fail(
                f"{self} decoded no more than {n} video frames: per sender "
                f"{self.decoded_from()}, frames {self.counts()}"
            )

    def decoded_from(self) -> dict[str, int]:
        found: dict[str, int] = self.page.evaluate(DECODED_FROM.format(relay=self.relay))
        return found

    def decodes_each(self, senders: list[str], n: int = 10, timeout_s: float = 30) -> None:
        """Wait until this page decoded more than ``n`` video frames from each sender."""
        each = f"async () => {{ const d = await ({DECODED_FROM.format(relay=self.relay)})();"
        each += f" return {senders!r}.every((p) => d[p] > {n}); }}"
        try:
            poll(self.page, each, timeout_s)
        except pytest.fail.Exception:
            pytest.fail(f"{self} decoded {self.decoded_from()} of {senders}: {self.counts()}")

    def counts(self) -> dict[str, Any]:
        found: dict[str, Any] = self.page.evaluate(f"() => {self.relay}.counts()")
        return found

    def state(self) -> Any:
        """What this browser holds, for a failure message (calls_fixtures.relay_state)."""
        return relay_state(self.page, self.relay)

    def me(self) -> str:
        found: str = self.page.evaluate(f"() => {self.relay}.me")
        return found

    def code(self, people: int) -> str:
        try:
            found: str = poll(self.page, CODE.format(relay=self.relay, n=people), timeout_s=30)
        except pytest.fail.Exception:
            state = self.page.evaluate(
                f"() => ({{ roster: {self.relay}.roster, code: {self.relay}.code, "
                f"unsupported: [...{self.relay}.unsupported] }})"
            )
            pytest.fail(f"{self} has no verification code for {people}: {state}")
        return found


def party(name: str, page: Any) -> OnRelay:
    """The tablet or the console (its MediaRoute holds the RelayCall while relayed)."""
    return OnRelay(name, page, "window.telehubRoute.relay")


def let_in(
    browser: Any,
    errors: Any,
    console: Any,
    call_id: int,
    kind: str,
    name: str,
    contexts: list[Any],
    seen: list[OnRelay],
    init_script: str | None = None,
) -> OnRelay:
    """Invite a guest, who joins from a browser of their own; the clinician lets them in."""
    link = invite(console, call_id, kind)["link"]
    # Four browsers decoding each other's video keep a shared machine busy: more time.
    ctx, page = guest_joins(browser, errors, link, name, init_script, timeout_ms=60_000)
    contexts.append(ctx)
    until_text(page, "device-status", "t === 'Camera and microphone working'", timeout_s=30)
    admit(console, call_id, name)
    poll(page, "() => window.telehubRelay !== undefined", timeout_s=30)
    seen.append(OnRelay(name, page, "window.telehubRelay"))
    return seen[-1]


def test_the_relay_carries_ciphertext_keys_change_when_a_guest_goes_and_a_swapped_key_shows(
    browser: Any,
    hub: tuple[Any, Any],  # noqa: F811
    live_server: LiveServer,
    page_errors: Any,  # noqa: F811
) -> None:
    console, tablet = hub
    call_id = video_call(console, tablet, live_server, "Edna Smith")
    tab, con = party("tablet", tablet), party("console", console)
    contexts: list[Any] = []
    seen: list[OnRelay] = [tab, con]  # every browser on the relay, for a failure message
    try:
        # -- Kim receives everything without keys; Sam with them ------------------------
        sam = let_in(browser, page_errors, console, call_id, "family", "Sam Guest", contexts, seen)
        kim = let_in(
            browser,
            page_errors,
            console,
            call_id,
            "interpreter",
            "Kim Keyless",
            contexts,
            seen,
            KEYLESS,
        )
        keyed = (tab, con, sam)
        refs = {who: who.me() for who in (*keyed, kim)}
        for who in keyed:  # every keyed browser decodes every other sender's video
            who.decodes_each([refs[w] for w in (*keyed, kim) if w is not who])
        # Everyone shows the same four words (Kim's keys are announced like anyone's).
        code = tab.code(4)
        assert [who.code(4) for who in (con, sam, kim)] == [code] * 3
        until_text(tablet, "verification", f"t === 'Read these words out: {code}'")
        until_text(sam.page, "verification", f"t === 'Read these words out: {code}'")
        until_text(console, "relay-code", f"t.endsWith({code!r})")

        before = {who: who.video() for who in (*keyed, kim)}
        for who in keyed:  # about three more seconds of three senders' video
            who.decoded_above(before[who]["decoded"] + 150)
        after = {who: who.video() for who in (*keyed, kim)}
        gained = {who: {k: after[who][k] - before[who][k] for k in after[who]} for who in after}
        print("video frames decoded / packets received meanwhile:", gained)
        # The relay forwards Kim every packet it forwards the others ...
        assert gained[kim]["packets"] > 100, gained[kim]
        # ... and her decoders, fed those frames as they arrived, make (almost) nothing of
        # them — a VP8 decoder takes the odd garbage frame, most often a key frame: 0-13
        # seen here — while each keyed browser decoded 150 or more.
        assert gained[kim]["decoded"] * 5 < min(gained[w]["decoded"] for w in keyed), gained
        kim_counts = kim.counts()
        assert kim_counts["decrypted"] == 0 and kim_counts["receiveKeyIds"] == {}, kim_counts
        assert kim_counts["video"]["clear"] > 100, kim_counts  # handed on undecrypted
        assert all(who.counts()["video"]["decrypted"] > 150 for who in keyed)

        # -- Sam is removed: everyone else changes key --------------------------------
        sam_ref, tab_ref, con_ref, kim_ref = (refs[w] for w in (sam, tab, con, kim))
        held = sam.counts()["receiveKeyIds"]  # the key ids Sam held, per sender
        sending = {w: w.counts()["sendKeyId"] for w in (tab, con, kim)}
        assert held[tab_ref][-1] == sending[tab] and held[con_ref][-1] == sending[con]
        remove_guest(console, call_id, "Sam Guest")
        poll(sam.page, "() => !document.getElementById('over').hidden")
        assert sam.page.evaluate("() => window.telehubRelay.pc.connectionState") == "closed"
        for who, ref in ((tab, tab_ref), (con, con_ref), (kim, kim_ref)):
            poll(
                who.page,
                f"async () => (await {who.relay}.counts()).sendKeyId > {sending[who]}"
                f" && {who.relay}.roster.length === 3",
            )
            now = who.counts()["sendKeyId"]
            assert now not in held[ref], (ref, now, held)
        # The others hold each other's new keys, and nothing of Sam's.
        tab_now, con_now = tab.counts(), con.counts()
        poll(
            console,
            f"async () => (await {con.relay}.counts()).receiveKeyIds[{tab_ref!r}]"
            f"?.includes({tab_now['sendKeyId']})",
        )
        poll(
            tablet,
            f"async () => (await {tab.relay}.counts()).receiveKeyIds[{con_ref!r}]"
            f"?.includes({con_now['sendKeyId']})",
        )
        assert sam_ref not in tab.counts()["receiveKeyIds"]
        # Their media goes on under the new keys.
        for who in (tab, con):
            who.decoded_above(who.video()["decoded"] + 40)

        # -- Sid's key is swapped by the server ---------------------------------------
        sid_name = f"Sid Swapped {KEY_SWAP_MARK}"
        sid = let_in(browser, page_errors, console, call_id, "gp", sid_name, contexts, seen)
        sid_ref = sid.me()
        swapped = tab.code(4)
        assert swapped != code  # a new roster: new words
        assert [con.code(4), kim.code(4)] == [swapped] * 2
        sid_code = sid.code(4)  # Sid computes it with the key Sid really holds
        assert sid_code != swapped
        until_text(sid.page, "verification", f"t === 'Read these words out: {sid_code}'")
        until_text(tablet, "verification", f"t === 'Read these words out: {swapped}'")
        # Media flows among the others (tablet: the clinician's and Kim's video) while
        # the keys sealed to the swapped key never open in Sid's browser.
        tab.decoded_above(tab.video()["decoded"] + 60)
        sid_counts = sid.counts()
        assert sid_counts["receiveKeyIds"] == {} and sid_counts["decrypted"] == 0, sid_counts
        assert sid_counts["reasons"].get("no-key", 0) > 0, sid_counts  # frames came
        assert sid.video()["decoded"] == 0 and sid.video()["packets"] > 0
        # ... nor do Sid's keys open for the others: they hold none of Sid's.
        assert sid_ref not in tab.counts()["receiveKeyIds"]
        assert sid_ref not in con.counts()["receiveKeyIds"]

        remove_guest(console, call_id, sid_name)

        # -- Una's browser cannot encrypt: the clinician decides ------------------------
        poll(tablet, f"() => {tab.relay}.roster.length === 3")  # Sid gone: tablet, console, Kim
        una = let_in(
            browser,
            page_errors,
            console,
            call_id,
            "other",
            "Una Plain",
            contexts,
            seen,
            NO_TRANSFORMS,
        )
        una_ref = una.me()
        assert una.page.evaluate("() => window.telehubRelay.encrypts") is False
        until_text(una.page, "security", f"t === {NOT_E2EE!r}")
        assert "cannot encrypt the call end to end" in una.page.inner_text("#security-warning")
        until_text(una.page, "nobody", "t.startsWith('Your browser cannot encrypt')")
        question = console.locator("[data-testid=relay-question]")
        question.wait_for(timeout=30_000)
        assert question.locator("p").inner_text() == ASKED
        # Undecided: the others stay end to end, and nothing of Una's goes out.
        assert tablet.inner_text("#security") == E2EE
        assert tab.counts()["clearFrom"] == [] and tab.decoded_from().get(una_ref, 0) == 0
        # What reaches Una is ciphertext: her page shows (and plays) none of it.
        assert una.page.locator("#tiles .call-tile").count() == 0
        # The server alone cannot make a browser stop encrypting: a decision that comes
        # without the clinician's sealed proof (here handed to the tablet's signalling
        # client as if the server had sent it) is ignored.
        tablet.evaluate(
            "(id) => window.telehubSignalling._receive(JSON.stringify("
            "{ type: 'e2ee.clear', call_id: id, clear: true, proof: null }))",
            call_id,
        )
        poll(tablet, f"() => {tab.relay}.decisionsIgnored === 1")
        assert tablet.inner_text("#security") == E2EE
        assert not tab.counts()["sendingClear"] and tab.counts()["clearFrom"] == []
        kim_before = kim.video()["decoded"]
        question.get_by_role("button", name="Continue without end-to-end encryption").click()
        question.wait_for(state="hidden")
        for page, where in (
            (tablet, "security"),
            (console, "relay-security"),
            (una.page, "security"),
            (kim.page, "security"),
        ):
            until_text(page, where, f"t === {NOT_E2EE!r}")
        assert tablet.is_hidden("#verification") and una.page.is_hidden("#verification")
        # Everyone sends unencrypted frames and takes Una's as they come ...
        poll(tablet, f"async () => (await {tab.relay}.counts()).sendingClear")
        poll(
            tablet,
            f"async () => (await ({DECODED_FROM.format(relay=tab.relay)})())[{una_ref!r}] > 20",
            timeout_s=30,
        )
        poll(
            console,
            f"async () => (await ({DECODED_FROM.format(relay=con.relay)})())[{una_ref!r}] > 20",
            timeout_s=30,
        )
        una.decoded_above(40)  # the tablet's and the clinician's video, unencrypted
        assert una_ref in tab.counts()["clearFrom"] and tab.counts()["video"]["clear"] > 20
        # ... so what crosses the relay can be seen: keyless Kim decodes it now.
        kim.decoded_above(kim_before + 40)

        # -- Una is removed: end to end again, with new keys ----------------------------
        sending = {w: w.counts()["sendKeyId"] for w in (tab, con)}
        remove_guest(console, call_id, "Una Plain")
        poll(una.page, "() => !document.getElementById('over').hidden")
        for page, where in (
            (tablet, "security"),
            (console, "relay-security"),
            (kim.page, "security"),
        ):
            until_text(page, where, f"t === {E2EE!r}")
        for who in (tab, con):
            poll(who.page, f"async () => !(await {who.relay}.counts()).sendingClear")
            now = who.counts()
            assert now["sendKeyId"] > sending[who] and now["clearFrom"] == [], now
        until_text(tablet, "verification", "t.startsWith('Read these words out: ')")
        encrypted = tab.counts()["video"]["encrypted"]
        # Kim's decoders still hold the last clear pictures, against which the first
        # encrypted frames still "decode" (as garbage): count from a little later.
        tab.decoded_above(tab.video()["decoded"] + 40)
        before = {who: who.video() for who in (tab, con, kim)}
        for who in (tab, con):
            who.decoded_above(before[who]["decoded"] + 90)
        again = {w: w.video()["decoded"] - before[w]["decoded"] for w in before}
        print("video frames decoded, end to end again:", again)
        assert again[kim] * 5 < min(again[tab], again[con]), again
        assert tab.counts()["video"]["encrypted"] > encrypted

        remove_guest(console, call_id, "Kim Keyless")
        for page in (tablet, console):
            poll(page, "() => window.telehubRoute.route === 'direct'")
    except BaseException:
        for who in seen:
            try:
                print(f"{who} held:", who.state())
            except Exception as err:  # a page already gone
                print(f"{who}: {err}")
        raise
    finally:
        for ctx in contexts:
            ctx.close()
    end_call(console, tablet)
    # The call page lists the clinician's decision and the way back, in words.
    record = console.context.new_page()
    try:
        record.goto(f"{live_server.url}/calls/{call_id}")
        changes = record.locator("[data-testid=security-changes] li").all_inner_texts()
    finally:
        record.close()
    levels = [c for c in changes if "telehub relay" in c]
    waived = next(i for i, c in enumerate(levels) if NOT_E2EE in c)
    assert "(reported by Cleo)" in levels[waived], levels  # the clinician's decision
    assert any(E2EE + " " in c for c in levels[waived + 1 :]), levels
    record_outcome(console, call_id)
