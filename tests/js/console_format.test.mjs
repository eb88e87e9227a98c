// node --test tests/js/: the console's formatting helpers without a DOM (issue 10, item 8;
// NEWS2 words moved to news2_labels.test.mjs in issue 11).
import assert from "node:assert/strict";
import { test } from "node:test";

import { clockText, human, ukDate, ukTime } from "../../web/static/js/console_format.js";

test("times and dates are UK wall-clock time whatever the browser's zone", () => {
  // 23:30 UTC on 1 July is 00:30 on 2 July in London (BST).
  assert.equal(ukTime("2026-07-01T23:30:00+00:00"), "00:30");
  assert.equal(ukDate("2026-07-01T23:30:00+00:00"), "02 Jul 2026");
  assert.equal(ukTime("2026-01-15T09:05:00Z"), "09:05"); // GMT
});

test("the wait clock and codes made readable", () => {
  assert.equal(clockText(0), "0:00");
  assert.equal(clockText(305), "5:05");
  assert.equal(clockText(3600), "60:00");
  assert.equal(human("senior_clinician"), "senior clinician");
  assert.equal(human(null), "");
});
