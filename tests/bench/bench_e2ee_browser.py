"""End-to-end encryption cost in Chromium: frames per second through telehub's SFrame
code (web/static/js/e2ee/sframe.js: the same functions the call's worker runs on every
frame), for frames the size a 640×480 VP8 call at about 500 kbit/s and 30 fps sends
(a key frame of 24 kB, delta frames of 2 kB) and 20 ms Opus frames (120 B).

Baseline, in the same page and run: one bare WebCrypto AES-GCM encryption of the same
bytes per frame (the floor any AES-GCM frame encryption pays), so the ratio shows what
SFrame's header, nonce and framing add.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from tests.browser.server import CHROMIUM, start_server, stop_server

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


def measure(seconds: float) -> list[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="telehub-bench-e2ee-"))
    server = start_server(tmp)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
            page = browser.new_page()
            page.goto(f"{server.url}/login")  # any page: a secure context with WebCrypto
            result: list[dict[str, Any]] = page.evaluate(MEASURE, [seconds])
            browser.close()
            return result
    finally:
        stop_server(server)


def main(quick: bool = False) -> None:
    began = time.perf_counter()
    rows = measure(1.0 if quick else 4.0)
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
    print(f"(took {time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
