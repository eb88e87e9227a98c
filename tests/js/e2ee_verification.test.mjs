// node --test tests/js/: the verification code of an end-to-end encrypted call (issue 12).
import assert from "node:assert/strict";
import { test } from "node:test";

import { toBase64Url } from "../../web/static/js/e2ee/bytes.js";
import { createIdentity } from "../../web/static/js/e2ee/keys.js";
import { CODE_WORDS, WORDS, verificationCode } from "../../web/static/js/e2ee/verification.js";

// Pinned: if these change, browsers of different versions would disagree mid-call.
const PINNED = ["attic", "pony", "tiger", "valley"]; // computed independently with Python hashlib
const keys = (...fills) => fills.map((f) => toBase64Url(new Uint8Array(65).fill(f)));

test("the word list has 256 distinct plain words", () => {
  assert.equal(WORDS.length, 256);
  assert.equal(new Set(WORDS).size, 256);
  for (const word of WORDS) assert.match(word, /^[a-z]{3,10}$/);
  assert.ok(Object.isFrozen(WORDS));
});

test("every screen shows the same code whatever order it learnt the keys in", async () => {
  const ids = await Promise.all([createIdentity(), createIdentity(), createIdentity()]);
  const b64 = ids.map((id) => id.publicKeyB64);
  const code = await verificationCode(b64);
  assert.equal(code.length, CODE_WORDS);
  for (const word of code) assert.ok(WORDS.includes(word));
  assert.deepEqual(await verificationCode([b64[2], b64[0], b64[1]]), code);
  assert.deepEqual(await verificationCode([b64[1], b64[2], b64[0]]), code);
});

test("the code changes when any key is swapped, added or dropped", async () => {
  const base = await verificationCode(keys(1, 2, 3));
  assert.deepEqual(await verificationCode(keys(3, 1, 2)), base);
  assert.notDeepEqual(await verificationCode(keys(1, 2, 4)), base);
  assert.notDeepEqual(await verificationCode(keys(9, 2, 3)), base);
  assert.notDeepEqual(await verificationCode(keys(1, 2)), base);
  assert.notDeepEqual(await verificationCode(keys(1, 2, 3, 3)), base);
  const swapped = await createIdentity();
  const real = await Promise.all([createIdentity(), createIdentity()]);
  const honest = await verificationCode(real.map((id) => id.publicKeyB64));
  assert.notDeepEqual(await verificationCode([real[0].publicKeyB64, swapped.publicKeyB64]), honest);
});

test("a fixed set of keys always gives the same words (the list and hash never drift)", async () => {
  assert.deepEqual(await verificationCode(keys(1, 2, 3)), await verificationCode(keys(2, 3, 1)));
  assert.deepEqual(await verificationCode(keys(1, 2, 3)), PINNED);
});

test("bad input gives no code", async () => {
  assert.equal(await verificationCode([]), null);
  assert.equal(await verificationCode(["not base64!"]), null);
  assert.equal(await verificationCode("abc"), null);
  assert.equal(await verificationCode(keys(1), { words: 0 }), null);
  assert.equal((await verificationCode(keys(1), { words: 6 })).length, 6);
});
