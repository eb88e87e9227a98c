// node --test tests/js/: the console's resident panel, without a DOM
// (web/static/js/console_record.js, issue 11).
import assert from "node:assert/strict";
import { test } from "node:test";

import { age, callFacts, historyLines, nhsNumberText, residentFacts } from "../../web/static/js/console_record.js";

const LABELS = { "reason:fall": "Fall", fall: "Fall", breathing: "Breathing", "consciousness:A": "alert", confused: "More confused", "state:ended": "ended", no_onward_care: "No onward care" };
const label = (key) => LABELS[key] ?? key;

test("age in whole years, the day before and on the birthday", () => {
  assert.equal(age("1931-04-02", new Date(2026, 3, 1)), "94 years");
  assert.equal(age("1931-04-02", new Date(2026, 3, 2)), "95 years");
  assert.equal(nhsNumberText("9434765919"), "943 476 5919");
});

test("the resident's facts, 'None recorded' rather than blank", () => {
  const r = { date_of_birth: "1931-04-02", nhs_number: "9434765919", allergies: "", alerts: "Hard of hearing" };
  assert.deepEqual(residentFacts(r, new Date(2026, 5, 1)), [
    ["Born", "1931-04-02 (95 years)"],
    ["NHS number", "943 476 5919"],
    ["Allergies", "None recorded"],
    ["Alerts", "Hard of hearing"],
  ]);
});

test("why the home called, in words", () => {
  const c = { reason: "fall", soft_signs: ["confused"], news2_score: 1, news2_band: "low", observations: { pulse: 96, consciousness: "A" } };
  const facts = Object.fromEntries(callFacts(c, label));
  assert.equal(facts.Reason, "Fall");
  assert.equal(facts["Soft signs"], "More confused");
  assert.match(facts.NEWS2, /^at least 1: incomplete, missing breathing rate, SpO₂/);
  assert.equal(facts.Observations, "pulse 96/min, ACVPU alert");
  const none = Object.fromEntries(callFacts({ reason: "fall", soft_signs: [], news2_score: null, observations: {} }, label));
  assert.deepEqual([none["Soft signs"], none.NEWS2, none.Observations], ["none ticked", "not taken", "none taken"]);
});

test("history: the calls before this one, in UK dates", () => {
  const r = { consultations: [
    { id: 9, requested_at: "2026-07-01T23:30:00+00:00", reason: "breathing", news2_score: null, outcome: null, state: "ended" },
    { id: 4, requested_at: "2026-01-15T09:05:00Z", reason: "fall", news2_score: 2, outcome: "no_onward_care", state: "closed" },
  ] };
  assert.deepEqual(historyLines(r, 9, label), ["15 Jan 2026 · Fall · NEWS2 2 · No onward care"]);
  assert.deepEqual(historyLines(r, 4, label), ["02 Jul 2026 · Breathing · NEWS2 not taken · ended"]);
  assert.deepEqual(historyLines({ consultations: [] }, 1, label), ["None before this call."]);
});
