// node --test tests/js/: test hooks are exposed only on a page that says it is a test
// build (web/static/js/test_hooks.js, issue 11).
import assert from "node:assert/strict";
import { test } from "node:test";

import { expose, testFlag, testHooksOn } from "../../web/static/js/test_hooks.js";

/** Just enough of a document: the one meta the module looks for, or none. */
const page = (content) => ({
  querySelector: (selector) => (content !== undefined && selector === 'meta[name="telehub-test-hooks"]'
    ? { getAttribute: (name) => (name === "content" ? content : null) } : null),
});

test("only the meta with content 'on' turns the hooks on", () => {
  assert.equal(testHooksOn(page("on")), true);
  assert.equal(testHooksOn(page()), false); // production: no meta
  assert.equal(testHooksOn(page("off")), false);
  assert.equal(testHooksOn(undefined), false); // no document at all (node)
  assert.equal(testHooksOn(), false);
});

test("expose sets the name on a test page and nothing otherwise", () => {
  const win = {};
  expose("telehubCall", 1, { on: false, target: win });
  assert.deepEqual(win, {});
  expose("telehubCall", 2, { on: testHooksOn(page("on")), target: win });
  assert.deepEqual(win, { telehubCall: 2 });
  expose("telehubSignalling", 3); // under node: no document, so no hook
  assert.equal(globalThis.telehubSignalling, undefined);
});

test("a test flag counts only on a test page, and only when set to true", () => {
  const win = { telehubTestFlags: { keyless: true, other: "yes" } };
  assert.equal(testFlag("keyless", { on: true, target: win }), true);
  assert.equal(testFlag("keyless", { on: false, target: win }), false); // production page
  assert.equal(testFlag("other", { on: true, target: win }), false);
  assert.equal(testFlag("keyless", { on: true, target: {} }), false);
  globalThis.telehubTestFlags = { keyless: true };
  try {
    assert.equal(testFlag("keyless"), false); // under node: no document, so no hook
  } finally {
    delete globalThis.telehubTestFlags;
  }
});
