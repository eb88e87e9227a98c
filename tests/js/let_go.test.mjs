// node --test tests/js/: tearing a call down step by step (web/static/js/let_go.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { letGo } from "../../web/static/js/let_go.js";

test("every step runs even when one before it throws, and the failures are returned", (t) => {
  const logged = [];
  t.mock.method(console, "error", (...args) => logged.push(args));
  const ran = [];
  const failed = letGo(
    () => ran.push("route"),
    () => { throw new Error("connection already closed"); },
    () => ran.push("preview"),
    () => ran.push("socket"),
  );
  assert.deepEqual(ran, ["route", "preview", "socket"]);
  assert.equal(failed.length, 1);
  assert.match(failed[0].message, /already closed/);
  assert.equal(logged.length, 1);
});

test("with nothing failing it returns no failures", () => {
  assert.deepEqual(letGo(() => {}, () => 1), []);
});
