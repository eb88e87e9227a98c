"""End-to-end encryption in Chromium (issue 12), two figures.

1. **Cost per frame**: frames per second through telehub's SFrame code
   (web/static/js/e2ee/sframe.js: the same functions the call's worker runs on every
   frame), for frames the size a 640×480 VP8 call at about 500 kbit/s and 30 fps sends (a
   key frame of 24 kB, delta frames of 2 kB) and 20 ms Opus frames (120 B). Baseline, in
   the same page and run: one bare WebCrypto AES-GCM encryption of the same bytes per
   frame (the floor any AES-GCM frame encryption pays), so the ratio shows what SFrame's
   header, nonce and framing add.

2. **Call set-up with and without E2EE**: a real telehub and real headless Chromium with
   the fake camera, a clinician console, a care home tablet and (for b) a guest, each in
   its own browser context, all on 127.0.0.1. Each repetition is a new call:

   (a) without E2EE: the two-party call, peer to peer (DTLS-SRTP only): from the clinician
       pressing Answer (window.telehubTimings.answerPressed) to the first decoded remote
       video frame on each side (the Call's timings.firstFrame, a requestVideoFrameCallback
       on the remote video);
   (b) with E2EE: the same call once the clinician admits an invited guest (whose camera
       check is done): from the admit request leaving the console to the first
       *decrypted* video frame from each other participant on the guest's page and on the
       tablet (getStats inbound-rtp framesDecoded per mid, the RelayCall's slots map
       mid → participant; polled every 20 ms in the page, so a figure is late by up to
       that and one getStats), and to the final verification code (everyone's keys) being
       shown on the guest's page, the tablet and the console (a MutationObserver on each
       screen's code element).

   Times on different pages are compared on the wall clock (Date.now()): each page maps
   its performance.now() stamps onto it when they are read.
"""

from __future__ import annotations

import tempfile
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.bench.livehub import percentile
from tests.browser.calls_fixtures import (
    DESKTOP,
    TABLET,
    PageErrors,
    answer,
    end_call,
    enrol,
    guest_id,
    guest_joins,
    invite,
    login,
    place_call,
    poll,
    record_outcome,
    remove_guest,
    until_text,
)
from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, LiveServer, start_server, stop_server

MEASURE = """async ([seconds]) => {
  const sf = await import("/static/js/e2ee/sframe.js");
  const subtle = crypto.subtle;
  const baseKey = crypto.getRandomValues(new Uint8Array(16));
  const frame = (size, first) => {
    const b = crypto.getRandomValues(new Uint8Array(size));
    b[0] = first;  // VP8: bit 0 clear = key frame
    return b;
  };
  const cases = [
    ["video key frame 24 kB", "video", frame(24000, 0x10)],
    ["video delta frame 2 kB", "video", frame(2000, 0x31)],
    ["audio frame 120 B", "audio", frame(120, 0x78)],
  ];
  const aes = await subtle.importKey("raw", baseKey, "AES-GCM", false, ["encrypt"]);
  const out = [];
  for (const [name, kind, data] of cases) {
    const ctx = await sf.createKeyContext(baseKey, sf.frameKid(1, kind));
    let ctr = 0, enc = 0, dec = 0, bare = 0, sealed = null;
    let end = performance.now() + seconds * 1000;
    while (performance.now() < end) {
      sealed = await sf.encryptFrame(ctx, ctr++, kind, data);
      enc++;
    }
    const parsed = sf.parseFrame(kind, sealed);
    end = performance.now() + seconds * 1000;
    while (performance.now() < end) {
      const opened = await sf.openFrame(ctx, parsed);
      if (opened === null) throw new Error("a frame did not open");
      dec++;
    }
    const iv = new Uint8Array(12);
    end = performance.now() + seconds * 1000;
    while (performance.now() < end) {
      await subtle.encrypt({ name: "AES-GCM", iv }, aes, data);
      bare++;
    }
    out.push({ name, encrypt: enc / seconds, decrypt: dec / seconds, bare: bare / seconds });
  }
  return out;
}"""

# -- call set-up -------------------------------------------------------------------------

TIMEOUT_MS = 30_000  # Playwright's default for each step (a loaded 2-core machine)
WAIT_S = 60.0  # the longest any one figure may take before the run is given up
CODE_PREFIX = "Read these words out: "

# (a) On one page: when (wall clock, ms) the call CALL_ID showed its first remote video
# frame, and on the console when Answer was pressed for it; null until both are known.
FIRST_FRAME = """() => {
  const c = window.telehubCall, a = window.telehubTimings;
  if (!c || String(c.callId) !== "CALL_ID" || c.timings.firstFrame === undefined) return null;
  const wall = (t) => Date.now() - (performance.now() - t);
  const out = { frame: wall(c.timings.created + c.timings.firstFrame), answer: null };
  if (a && String(a.callId) === "CALL_ID" && a.answerPressed !== undefined) {
    out.answer = wall(a.answerPressed);
  }
  return WANT_ANSWER && out.answer === null ? null : out;
}"""

# (b) Started on a page before the admit: notes (wall clock, ms) each change of the text of
# the element showing the verification code (while visible), and the first poll at which
# the page's relay connection had decoded a video frame from each other participant.
WATCH = """([where, elId, timeoutMs]) => {
  const old = window.telehubBenchWatch;
  if (old) { old.done = true; old.observer.disconnect(); }
  const relayOf = () => where === "guest" ? window.telehubRelay
    : where === "route" ? window.telehubRoute?.relay : null;
  const el = document.getElementById(elId);
  const w = { frames: {}, codes: [], done: false, error: null, polls: 0 };
  const note = () => {
    const text = el.checkVisibility() ? el.textContent : "";
    const last = w.codes.at(-1);
    if (!last || last.text !== text) w.codes.push({ at: Date.now(), text });
  };
  w.observer = new MutationObserver(note);
  w.observer.observe(el, { childList: true, characterData: true, subtree: true, attributes: true });
  note();
  window.telehubBenchWatch = w;
  const end = performance.now() + timeoutMs;
  (async () => {
    while (!w.done && performance.now() < end) {
      const relay = relayOf();
      if (relay?.pc && !relay.closed) {
        const stats = await relay.pc.getStats();
        const at = Date.now();
        w.polls++;
        stats.forEach((r) => {
          if (r.type !== "inbound-rtp" || r.kind !== "video" || !(r.framesDecoded > 0)) return;
          const who = relay.slots.get(r.mid);
          if (who && !(who.participant in w.frames)) w.frames[who.participant] = at;
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    w.done = true;
    w.observer.disconnect();
  })().catch((err) => { w.error = String(err); });
  return true;
}"""

WATCHED = """() => {
  const w = window.telehubBenchWatch;
  return { frames: w.frames, codes: w.codes, error: w.error, polls: w.polls };
}"""

STOP_WATCH = """() => {
  const w = window.telehubBenchWatch;
  if (w) { w.done = true; w.observer.disconnect(); }
}"""

# (b) Done on a page: its latest code is TEXT and it decoded video from NEED others.
WATCH_DONE = """() => {
  const w = window.telehubBenchWatch;
  if (!w || w.error) return w?.error ? "error: " + w.error : false;
  return w.codes.at(-1)?.text === TEXT && Object.keys(w.frames).length >= NEED;
}"""

# (b) The guest's code once it holds all three participants' keys.
FULL_CODE = """() => {
  const relay = window.telehubRelay;
  const ready = relay?.code && relay.roster.length === 3 && relay.roster.every((p) => p.publicKey);
  return ready ? relay.code.join(" ") : null;
}"""

# (b) The clinician lets guest GID in: the wall clock (ms) just before the request leaves.
ADMIT = """async ([gid]) => {
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const at = Date.now();
  const resp = await fetch(`/api/guests/${gid}/admit`, {
    method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
  });
  if (!resp.ok) throw new Error(`admit: HTTP ${resp.status}`);
  return at;
}"""

# (b) What a page's relay connection did: it encrypts, end to end, through which API.
RELAY_STATE = """async () => {
  const relay = RELAY;
  const counts = await relay.counts();
  return {
    encrypts: relay.encrypts, clear: relay.clear,
    decrypted: counts?.video?.decrypted ?? 0,
    insertable: relay.pc?.getConfiguration().encodedInsertableStreams === true,
    encodedStreams: typeof RTCRtpSender.prototype.createEncodedStreams === "function",
    scriptTransform: typeof RTCRtpScriptTransform === "function",
  };
}"""


@dataclass
class SetUp:
    """Milliseconds per repetition, by figure."""

    samples: dict[str, list[float]] = field(default_factory=dict)
    api: str = ""
    errors: list[str] = field(default_factory=list)

    def add(self, name: str, ms: float) -> None:
        self.samples.setdefault(name, []).append(ms)


def _first_frame(page: Any, call_id: int, want_answer: bool) -> dict[str, float]:
    script = FIRST_FRAME.replace("CALL_ID", str(call_id))
    found: dict[str, float] = poll(
        page, script.replace("WANT_ANSWER", "true" if want_answer else "false"), WAIT_S
    )
    return found


def _peer_to_peer(console: Any, tablet: Any, server: LiveServer, out: SetUp) -> int:
    """(a): a new call, answered; Answer → first decoded video frame on each side."""
    call_id = place_call(tablet, server, "Edna Smith")
    answer(console, call_id)
    on_console = _first_frame(console, call_id, want_answer=True)
    on_tablet = _first_frame(tablet, call_id, want_answer=False)
    poll(console, "() => window.telehubRoute?.route === 'direct'", WAIT_S)
    out.add("a console", on_console["frame"] - on_console["answer"])
    out.add("a tablet", on_tablet["frame"] - on_console["answer"])
    out.add("a both", max(on_console["frame"], on_tablet["frame"]) - on_console["answer"])
    return call_id


def _with_guest(
    browser: Any,
    console: Any,
    tablet: Any,
    call_id: int,
    name: str,
    errors: PageErrors,
    out: SetUp,
) -> None:
    """(b): a guest is let into the call; admit → first decrypted video frame from each
    other participant (guest's page, tablet) and → the code on every screen."""
    invited = invite(console, call_id, "family")
    guest_ctx, guest = guest_joins(browser, errors, invited["link"], name, timeout_ms=TIMEOUT_MS)
    try:
        until_text(guest, "device-status", "t === 'Camera and microphone working'", WAIT_S)
        poll(guest, "() => window.telehubSignalling?.state === 'open'", WAIT_S)
        gid = guest_id(console, call_id, name)
        screens = {"guest": (guest, "guest"), "tablet": (tablet, "route"), "console": (console, "")}
        for page, where in screens.values():
            el_id = "relay-code" if page is console else "verification"
            page.evaluate(WATCH, [where, el_id, int(WAIT_S * 1000)])
        admitted: float = console.evaluate(ADMIT, [gid])

        words: str = poll(guest, FULL_CODE, WAIT_S)
        text = CODE_PREFIX + words
        seen: dict[str, dict[str, Any]] = {}
        for label, (page, where) in screens.items():
            done = WATCH_DONE.replace("TEXT", repr(text)).replace("NEED", "2" if where else "0")
            if poll(page, done, WAIT_S) is not True:
                raise RuntimeError(f"{label}: {page.evaluate(WATCHED)}")
            seen[label] = page.evaluate(WATCHED)
            page.evaluate(STOP_WATCH)

        relays = {"guest": "window.telehubRelay", "tablet": "window.telehubRoute.relay"}
        for label, relay in relays.items():
            state = screens[label][0].evaluate(RELAY_STATE.replace("RELAY", relay))
            if not state["encrypts"] or state["clear"] or state["decrypted"] <= 0:
                raise RuntimeError(f"{label} is not decrypting end to end: {state}")
            out.api = (
                "createEncodedStreams, encodedInsertableStreams"
                if state["insertable"]
                else "createEncodedStreams"
                if state["encodedStreams"]
                else "RTCRtpScriptTransform"
                if state["scriptTransform"]
                else "none"
            )

        def frame_from(label: str, prefix: str) -> float:
            (at,) = [t for who, t in seen[label]["frames"].items() if who.startswith(prefix)]
            return float(at) - admitted

        firsts = {
            "b guest<-tablet": frame_from("guest", "device:"),
            "b guest<-clinician": frame_from("guest", "staff:"),
            "b tablet<-clinician": frame_from("tablet", "staff:"),
            "b tablet<-guest": frame_from("tablet", "guest:"),
        }
        for figure, ms in firsts.items():
            out.add(figure, ms)
        out.add("b all frames", max(firsts.values()))
        codes = {}
        for label, watched in seen.items():
            at = min(c["at"] for c in watched["codes"] if c["text"] == text)
            codes[label] = float(at) - admitted
            out.add(f"b code {label}", codes[label])
        out.add("b code all", max(codes.values()))

        # Back to two: the guest removed, the call peer to peer again.
        remove_guest(console, call_id, name)
        poll(guest, "() => !document.getElementById('over').hidden", WAIT_S)
        poll(tablet, "() => window.telehubRoute?.route === 'direct'", WAIT_S)
        poll(console, "() => window.telehubRoute?.route === 'direct'", WAIT_S)
    finally:
        guest_ctx.close()


def measure_setup(pw: Any, server: LiveServer, runs: int) -> SetUp:
    out = SetUp()
    errors = PageErrors()
    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    try:
        console_ctx = browser.new_context(viewport=DESKTOP)
        tablet_ctx = browser.new_context(viewport=TABLET)
        for ctx in (console_ctx, tablet_ctx):
            ctx.set_default_timeout(TIMEOUT_MS)
        console = errors.watch(console_ctx.new_page(), "console")
        tablet = errors.watch(tablet_ctx.new_page(), "tablet")
        login(console, server, "cleo")
        enrol(tablet, server)
        for i in range(runs):
            call_id = _peer_to_peer(console, tablet, server, out)
            _with_guest(browser, console, tablet, call_id, f"Guest {i + 1}", errors, out)
            end_call(console, tablet)
            record_outcome(console, call_id)  # or the next answer is refused until it is
    finally:
        out.errors = list(errors.errors)
        with suppress(Exception):
            browser.close()
    return out


def measure(pw: Any, server: LiveServer, seconds: float) -> list[dict[str, Any]]:
    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
    try:
        page = browser.new_page()
        page.goto(f"{server.url}/login")  # any page: a secure context with WebCrypto
        result: list[dict[str, Any]] = page.evaluate(MEASURE, [seconds])
        return result
    finally:
        with suppress(Exception):
            browser.close()


SETUP_ROWS = (
    ("(a) without E2EE: two-party call, peer to peer (DTLS-SRTP only)", ""),
    ("Answer pressed -> first decoded video frame, clinician's console", "a console"),
    ("Answer pressed -> first decoded video frame, tablet", "a tablet"),
    ("Answer pressed -> first decoded video frame on both sides", "a both"),
    ("(b) with E2EE: guest admitted, call moves onto the relay, SFrame ({api})", ""),
    ("admit -> first decrypted video frame, guest's page from the tablet", "b guest<-tablet"),
    ("admit -> first decrypted video frame, guest's page from the clinician", "b guest<-clinician"),
    ("admit -> first decrypted video frame, tablet from the clinician", "b tablet<-clinician"),
    ("admit -> first decrypted video frame, tablet from the guest", "b tablet<-guest"),
    ("admit -> all four of those", "b all frames"),
    ("admit -> verification code shown on the guest's page", "b code guest"),
    ("admit -> verification code shown on the tablet", "b code tablet"),
    ("admit -> verification code shown on the console", "b code console"),
    ("admit -> verification code shown on all three screens", "b code all"),
)


def main(quick: bool = False) -> None:
    began = time.perf_counter()
    runs = 3 if quick else 10
    from playwright.sync_api import sync_playwright

    server = start_server(Path(tempfile.mkdtemp(prefix="telehub-bench-e2ee-")))
    try:
        with sync_playwright() as pw:
            rows = measure(pw, server, 1.0 if quick else 4.0)
            setup = measure_setup(pw, server, runs)
    finally:
        stop_server(server)

    print("SFrame in Chromium (one page's main thread; the call runs it in a worker)")
    print(f"  {'frame':26} {'encrypt/s':>10} {'decrypt/s':>10} {'bare AES-GCM/s':>15} {'ratio':>6}")
    for r in rows:
        ratio = r["encrypt"] / r["bare"] if r["bare"] else 0.0
        print(
            f"  {r['name']:26} {r['encrypt']:10.0f} {r['decrypt']:10.0f} "
            f"{r['bare']:15.0f} {ratio:6.2f}"
        )
    need = 30 + 50  # one 640x480 video at 30 fps and Opus at 50 frames/s, each way
    worst = min(min(r["encrypt"], r["decrypt"]) for r in rows if "delta" in r["name"])
    print(f"  a call needs about {need} frames/s each way per sender; delta frames: {worst:.0f}/s")

    print(f"call set-up in Chromium on loopback, {runs} calls (a new call each), ms")
    print(f"  {'':72} {'p50':>6} {'max':>6}")
    for words, key in SETUP_ROWS:
        if not key:
            print(f"  {words.format(api=setup.api)}")
            continue
        ms = setup.samples[key]
        print(f"    {words:70} {percentile(ms, 50):6.0f} {max(ms):6.0f}")
    if setup.errors:
        print("  page errors during the run (figures suspect):")
        for err in setup.errors:
            print(f"    {err}")
    print(f"(took {time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
