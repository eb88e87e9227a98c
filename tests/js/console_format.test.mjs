// node --test tests/js/: the console's pure formatting helpers (issue 10, item 8).
import assert from "node:assert/strict";
import { test } from "node:test";

import { describeObservations, ukDate, ukTime } from "../../web/static/js/console_format.js";

const ACVPU = { A: "alert", C: "new confusion" };

test("observations read as a clinician writes them, never 'on oxygen false'", () => {
  const text = describeObservations(
    { respiration_rate: 24, spo2: 93, spo2_scale: 1, on_oxygen: false, systolic_bp: 118, pulse: 96, consciousness: "C", temperature: 38.1 },
    (code) => ACVPU[code],
  );
  assert.equal(text, "breathing rate 24/min, SpO₂ 93%, SpO₂ scale 1, on air, BP 118 mmHg, pulse 96/min, ACVPU new confusion, temperature 38.1 °C");
  assert.equal(describeObservations({ on_oxygen: true, pulse: null }), "on oxygen");
  assert.doesNotMatch(text, /true|false|_/);
});

test("times and dates are UK wall-clock time whatever the browser's zone", () => {
  // 23:30 UTC on 1 July is 00:30 on 2 July in London (BST).
  assert.equal(ukTime("2026-07-01T23:30:00+00:00"), "00:30");
  assert.equal(ukDate("2026-07-01T23:30:00+00:00"), "02 Jul 2026");
  assert.equal(ukTime("2026-01-15T09:05:00Z"), "09:05"); // GMT
});
