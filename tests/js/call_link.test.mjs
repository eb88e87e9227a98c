// node --test tests/js/: how a call judges its link (web/static/js/call_link.js): when it
// steps down to audio only by itself and back up (AudioOnlySteps), fed level sequences
// like those the quality monitor gave in real Chromium on a capped or lossy link
// (tests/browser/netns.py), and when the link is back after an outage (OutageWatch).
// No DOM, no WebRTC: the Call's part (setAudioOnly) is the few lines of `drive` below.
import assert from "node:assert/strict";
import { test } from "node:test";

import { AudioOnlySteps, OutageWatch } from "../../web/static/js/call_link.js";

const POLICY = { stepDownAfter: 5, stepUpAfter: 10 }; // the Call's defaults (10 s, 20 s)
const LEVEL = { g: "good", f: "fair", p: "poor" };

/** Feed "gfp…" one sample at a time, doing what Call does on each answer; the sample
 *  numbers (from 1) at which it stepped, e.g. ["down@5", "up@15"]. */
function drive(levels, { steps = new AudioOnlySteps(), call = { audioOnly: false, autoAudioOnly: false } } = {}) {
  const seen = [];
  [...levels].forEach((c, i) => {
    const step = steps.next(LEVEL[c], call, POLICY);
    if (!step) return;
    seen.push(`${step}@${i + 1}`);
    call.audioOnly = step === "down"; // setAudioOnly(on, { automatic: true })
    call.autoAudioOnly = step === "down";
    steps.restart({ byPerson: false });
  });
  return seen;
}

test("a 150 kbit/s cap: samples swing between poor and fair, never good: steps down", () => {
  // The clinician's levels under a real cap, after the bandwidth estimate settled near
  // 150 kbit/s: never five poor in a row, so "poor N times in a row" never stepped down.
  assert.deepEqual(drive("fppfpfpfpp"), ["down@5"]);
});

test("10 % loss: mostly poor with a fair one between: steps down within 10 s", () => {
  assert.deepEqual(drive("gpfppp"), ["down@6"]);
});

test("a fair link with a poor moment now and then keeps its video", () => {
  assert.deepEqual(drive("fpffpffpffpfpffpff"), []);
  assert.deepEqual(drive("pppgpppgppp"), []); // a good sample in every window
});

test("steps back up after 20 s of good, and only from its own step down", () => {
  assert.deepEqual(drive(`ppppp${"g".repeat(10)}`), ["down@5", "up@15"]);
  // The person chose audio only: it stays theirs, however good the link.
  assert.deepEqual(drive("g".repeat(30), { call: { audioOnly: true, autoAudioOnly: false } }), []);
});

test("a step up that does not hold waits twice as long before the next try", () => {
  const steps = new AudioOnlySteps();
  const call = { audioOnly: false, autoAudioOnly: false };
  const g = (n) => "g".repeat(n);
  // Down; 20 s of good (audio fits the cap); up; the cap is still there: down again.
  assert.deepEqual(drive(`ppppp${g(10)}ppppp`, { steps, call }), ["down@5", "up@15", "down@20"]);
  assert.equal(steps.backoff, 2);
  assert.deepEqual(drive(g(19), { steps, call }), []); // 40 s now, not 20
  assert.deepEqual(drive("g", { steps, call }), ["up@1"]);
  // Up for good: video holds for twice the step-down window, and the wait is 20 s again.
  assert.deepEqual(drive(g(10), { steps, call }), []);
  assert.equal(steps.backoff, 1);
});

test("the back-off stops at 8 times (a try every 160 s on a link that stays weak)", () => {
  const steps = new AudioOnlySteps();
  const call = { audioOnly: false, autoAudioOnly: false };
  drive("ppppp", { steps, call });
  for (let i = 0; i < 6; i++) {
    drive(`${"g".repeat(10 * steps.backoff)}ppppp`, { steps, call });
  }
  assert.equal(steps.backoff, 8);
  assert.deepEqual(drive("g".repeat(80), { steps, call }), ["up@80"]);
});

test("a person's choice ends the back-off", () => {
  const steps = new AudioOnlySteps();
  const call = { audioOnly: false, autoAudioOnly: false };
  drive(`ppppp${"g".repeat(10)}ppppp`, { steps, call });
  assert.equal(steps.backoff, 2);
  steps.restart({ byPerson: true }); // setAudioOnly(false) from the button
  assert.equal(steps.backoff, 1);
});

/** Feed packet counts, one every 250 ms (as Call does); the times (ms) it said "back". */
function watch(counts, w = new OutageWatch()) {
  return counts.flatMap((n, i) => (w.back(i * 250, n) ? [i * 250] : []));
}

test("back after an outage: packets again after a second or more without any", () => {
  // 50 packets a second, then 3 s of nothing (a Wi-Fi dead spot), then packets again.
  const flowing = (from, k) => Array.from({ length: k }, (_, i) => from + 12 * (i + 1));
  const counts = [...flowing(0, 8), ...Array(12).fill(96), ...flowing(96, 8)];
  assert.deepEqual(watch(counts), [5000]); // once, at the first count that moved
});

test("a gap under a second is no outage, and nothing counts before the first packet", () => {
  assert.deepEqual(watch([0, 0, 0, 0, 0, 0, 0, 12, 24, 24, 24, 24, 36, 48]), []);
  // 24 held for 750 ms (three checks after it stopped): under the second.
  assert.deepEqual(watch([12, 24, 24, 24, 24, 24, 36]), [1500]); // held 1,000 ms: one
});

test("a new peer connection (counts from zero) after an outage is a way back too", () => {
  assert.deepEqual(watch([100, 200, 200, 200, 200, 200, 200, 0, 12]), [1750]);
});
