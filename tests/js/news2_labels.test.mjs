// node --test tests/js/: NEWS2 in words, written once for the console and the tablet
// (web/static/js/news2_labels.js, issue 11).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  NEWS2_OBSERVATIONS, describeNews2, describeObservations, describeScore, missingNames, missingTitle, observationName,
} from "../../web/static/js/news2_labels.js";

const ACVPU = { A: "alert", C: "new confusion" };
const ALL = { respiration_rate: 24, spo2: 93, spo2_scale: 1, on_oxygen: false, systolic_bp: 118, pulse: 96, consciousness: "C", temperature: 38.1 };

test("the seven NEWS2 observations, each named for clinicians and for carers", () => {
  assert.deepEqual(NEWS2_OBSERVATIONS.map((o) => o.key),
    ["respiration_rate", "spo2", "on_oxygen", "systolic_bp", "pulse", "consciousness", "temperature"]);
  for (const o of NEWS2_OBSERVATIONS) {
    assert.ok(o.clinician && o.carer, o.key);
    assert.doesNotMatch(o.carer, /_|SpO|BP|ACVPU/); // carers read words, not abbreviations
  }
  assert.equal(observationName("spo2"), "SpO₂");
  assert.equal(observationName("spo2", "carer"), "oxygen saturation");
  assert.equal(observationName("systolic_bp", "carer"), "blood pressure");
  assert.equal(observationName("air_or_oxygen"), "air/oxygen"); // the server's name when it is missing
  assert.equal(observationName("air_or_oxygen", "carer"), "air or oxygen");
  assert.equal(observationName("blood_glucose"), "blood glucose"); // not NEWS2: readable anyway
});

test("observations read as a clinician writes them, never 'on oxygen false'", () => {
  const text = describeObservations(ALL, (code) => ACVPU[code]);
  assert.equal(text, "breathing rate 24/min, SpO₂ 93%, SpO₂ scale 1, on air, BP 118 mmHg, pulse 96/min, ACVPU new confusion, temperature 38.1 °C");
  assert.equal(describeObservations({ on_oxygen: true, pulse: null }), "on oxygen");
  assert.equal(describeObservations(null), "");
  assert.doesNotMatch(text, /true|false|_/);
});

test("a stored score: complete with its band, missing never shown as normal", () => {
  assert.equal(describeNews2({ news2_score: null, observations: {} }), "not taken");
  assert.equal(describeNews2({ news2_score: 5, news2_band: "medium", observations: ALL }), "5 (medium risk)");
  assert.equal(
    describeNews2({ news2_score: 3, news2_band: null, observations: { respiration_rate: 24, pulse: 96, on_oxygen: null } }),
    "at least 3: incomplete, missing SpO₂, air/oxygen, BP, ACVPU, temperature",
  );
  assert.equal(missingNames(["spo2", "air_or_oxygen"]), "SpO₂, air/oxygen");
  assert.equal(missingTitle(["systolic_bp"]), "missing: BP");
});

test("the tablet's live score, in carers' words", () => {
  assert.deepEqual(describeScore({ complete: true, aggregate: 3, band: "low-medium", single_parameter_3: true }),
    { cls: "band low-medium", text: "NEWS2 3 · low-medium risk — one observation scored 3" });
  assert.deepEqual(describeScore({ complete: true, aggregate: 7, band: "high", single_parameter_3: true }),
    { cls: "band high", text: "NEWS2 7 · high risk" });
  assert.deepEqual(describeScore({ complete: false, aggregate: 2, band: null, missing: ["spo2", "air_or_oxygen", "systolic_bp"] }),
    { cls: "incomplete", text: "NEWS2 at least 2 — incomplete. Not taken: oxygen saturation, air or oxygen, blood pressure" });
});
