// Test hooks: objects the browser tests and benchmarks drive and read (the page's
// signalling client, the live call, answer timings). Exposed on window only when the
// page says so: the server renders <meta name="telehub-test-hooks" content="on"> when
// its setting server.test_hooks is on (test and benchmark servers). Production pages
// have no such meta, so nothing is exposed.

/** Whether this page is a test build (false outside a browser, e.g. under node --test). */
export function testHooksOn(doc = globalThis.document) {
  return doc?.querySelector?.('meta[name="telehub-test-hooks"]')?.getAttribute("content") === "on";
}

/** window[name] = value on a test page; nothing otherwise. */
export function expose(name, value, { on = testHooksOn(), target = globalThis } = {}) {
  if (on) target[name] = value;
}

/** A behaviour the browser tests ask of a page (window.telehubTestFlags[name], set by a
 *  Playwright init script), honoured on a test page only: false in production whatever
 *  the window holds. E.g. "keyless": a guest that receives the relay's media but holds
 *  no keys (tests/browser/test_relay_e2ee_browser.py). */
export function testFlag(name, { on = testHooksOn(), target = globalThis } = {}) {
  return on && target.telehubTestFlags?.[name] === true;
}
