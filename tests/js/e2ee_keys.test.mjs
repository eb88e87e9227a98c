// node --test tests/js/: per-call identities, media keys and key envelopes (issue 12).
import assert from "node:assert/strict";
import { test } from "node:test";

import { fromBase64Url, toBase64Url } from "../../web/static/js/e2ee/bytes.js";
import {
  ReceivedKeys,
  createIdentity,
  createMediaKey,
  importPublicKey,
  nextMediaKey,
  openDecision,
  openEnvelope,
  sealDecision,
  sealEnvelope,
  wellFormed,
} from "../../web/static/js/e2ee/keys.js";

const CALL = "call-42";

async function party() {
  const [alice, bob, carol] = await Promise.all([createIdentity(), createIdentity(), createIdentity()]);
  const roster = new Map([
    ["alice", alice.publicKeyB64],
    ["bob", bob.publicKeyB64],
    ["carol", carol.publicKeyB64],
  ]);
  return { alice, bob, carol, roster };
}

async function aliceToBob(p, mediaKey = createMediaKey(1)) {
  const envelope = await sealEnvelope({
    identity: p.alice,
    callId: CALL,
    from: "alice",
    to: "bob",
    recipientKey: p.bob.publicKeyB64,
    mediaKey,
  });
  return { envelope, mediaKey };
}

const openAsBob = (p, envelope, overrides = {}) =>
  openEnvelope(envelope, { identity: p.bob, callId: CALL, me: "bob", roster: p.roster, ...overrides });

test("an identity keeps its private key in the browser and shares a raw P-256 public key", async () => {
  const me = await createIdentity();
  assert.equal(me.privateKey.extractable, false);
  await assert.rejects(crypto.subtle.exportKey("pkcs8", me.privateKey));
  assert.equal(fromBase64Url(me.publicKeyB64).length, 65);
  assert.match(me.publicKeyB64, /^[A-Za-z0-9_-]{87}$/);
  assert.ok(await importPublicKey(me.publicKeyB64));
  const raw = fromBase64Url(me.publicKeyB64);
  const offCurve = raw.slice();
  offCurve[64] ^= 1;
  for (const bad of [toBase64Url(offCurve), toBase64Url(raw.subarray(0, 33)), me.publicKeyB64 + "A", "!!", null, 7]) {
    assert.equal(await importPublicKey(bad), null, String(bad));
  }
});

test("media keys are 16 random bytes with a key id that moves on at each rotation", () => {
  const first = createMediaKey();
  const second = nextMediaKey(first);
  assert.equal(first.kid, 1);
  assert.equal(second.kid, 2);
  assert.equal(second.key.length, 16);
  assert.notDeepEqual(first.key, second.key);
  assert.throws(() => createMediaKey(-1), RangeError);
});

test("an envelope opens for its recipient only, and carries the media key and its id", async () => {
  const p = await party();
  const { envelope, mediaKey } = await aliceToBob(p, createMediaKey(7));
  assert.deepEqual(Object.keys(envelope).sort(), ["call", "ct", "from", "iv", "kid", "to", "v"]);
  assert.deepEqual(JSON.parse(JSON.stringify(envelope)), envelope);
  const opened = await openAsBob(p, JSON.parse(JSON.stringify(envelope)));
  assert.deepEqual(opened, { from: "alice", kid: 7, key: mediaKey.key, senderKey: p.alice.publicKeyB64 });
  // Carol, or the server, cannot open it, even claiming to be bob.
  assert.equal(await openEnvelope(envelope, { identity: p.carol, callId: CALL, me: "bob", roster: p.roster }), null);
  assert.equal(await openEnvelope(envelope, { identity: p.carol, callId: CALL, me: "carol", roster: p.roster }), null);
});

test("an envelope for another call, another person, or from outside the roster is refused", async () => {
  const p = await party();
  const { envelope } = await aliceToBob(p);
  assert.equal(await openAsBob(p, envelope, { callId: "call-43" }), null);
  assert.equal(await openAsBob(p, envelope, { me: "carol" }), null);
  assert.equal(await openAsBob(p, envelope, { roster: new Map([["bob", p.bob.publicKeyB64]]) }), null);
  // The server swapped alice's key in bob's roster: the envelope does not open.
  const swapped = new Map(p.roster).set("alice", p.carol.publicKeyB64);
  assert.equal(await openAsBob(p, envelope, { roster: swapped }), null);
  assert.ok(await openAsBob(p, envelope, { roster: Object.fromEntries(p.roster) })); // a plain object works too
});

test("changing any field of an envelope makes it fail", async () => {
  const p = await party();
  const { envelope } = await aliceToBob(p, createMediaKey(5));
  const flip = (b64) => {
    const bytes = fromBase64Url(b64);
    bytes[0] ^= 1;
    return toBase64Url(bytes);
  };
  const changes = {
    kid: 6,
    iv: flip(envelope.iv),
    ct: flip(envelope.ct),
    from: "carol", // carol is in the roster: only the binding stops it
    call: "call-43",
  };
  for (const [field, value] of Object.entries(changes)) {
    const forged = { ...envelope, [field]: value };
    assert.equal(await openAsBob(p, forged, field === "call" ? { callId: "call-43" } : {}), null, field);
  }
  // Carol seals her own key but labels it as alice's: it does not open as alice's.
  const { envelope: fromCarol } = await aliceToBob({ ...p, alice: p.carol });
  assert.equal(await openAsBob(p, fromCarol), null);
});

test("malformed and oversized envelopes are refused before any crypto", async () => {
  const p = await party();
  const { envelope } = await aliceToBob(p);
  const long = "x".repeat(129);
  const bad = [
    null,
    "envelope",
    [envelope],
    { ...envelope, v: 2 },
    { ...envelope, epk: envelope.iv }, // unknown field
    { ...envelope, extra: "x".repeat(1_000_000) },
    { ...envelope, from: long },
    { ...envelope, to: long },
    { ...envelope, call: long },
    { ...envelope, from: "" },
    { ...envelope, from: "al ice" },
    { ...envelope, kid: -1 },
    { ...envelope, kid: 1.5 },
    { ...envelope, kid: "1" },
    { ...envelope, kid: 2 ** 52 },
    { ...envelope, iv: envelope.iv + "AA" },
    { ...envelope, ct: envelope.ct + "AAAA" },
    { ...envelope, ct: "A".repeat(100_000) },
    { ...envelope, iv: envelope.iv.slice(0, -1) + "=" },
  ];
  const missing = { ...envelope };
  delete missing.iv;
  bad.push(missing);
  for (const value of bad) {
    assert.equal(wellFormed(value), false, JSON.stringify(value)?.slice(0, 80));
    assert.equal(await openAsBob(p, value), null);
  }
  assert.equal(wellFormed(envelope), true);
  // An envelope from me to me is never taken (the server echoing ours back).
  const toSelf = { ...envelope, to: "alice" };
  assert.equal(await openEnvelope(toSelf, { identity: p.alice, callId: CALL, me: "alice", roster: p.roster }), null);
});

test("sealing refuses our own mistakes loudly", async () => {
  const p = await party();
  const args = { identity: p.alice, callId: CALL, from: "alice", to: "bob", recipientKey: p.bob.publicKeyB64 };
  await assert.rejects(sealEnvelope({ ...args, mediaKey: { kid: 1, key: new Uint8Array(8) } }), TypeError);
  await assert.rejects(sealEnvelope({ ...args, mediaKey: { kid: -1, key: new Uint8Array(16) } }), RangeError);
  await assert.rejects(sealEnvelope({ ...args, recipientKey: "AAAA", mediaKey: createMediaKey() }), TypeError);
  await assert.rejects(sealEnvelope({ ...args, to: "x".repeat(200), mediaKey: createMediaKey() }), TypeError);
});

test("a replayed or older envelope is refused; a rejoined sender starts afresh", async () => {
  const p = await party();
  const held = new ReceivedKeys();
  const first = createMediaKey(1);
  const second = nextMediaKey(first);
  const { envelope: one } = await aliceToBob(p, first);
  const { envelope: two } = await aliceToBob(p, second);
  assert.equal(held.accept(await openAsBob(p, one)), true);
  assert.equal(held.accept(await openAsBob(p, two)), true);
  assert.equal(held.accept(await openAsBob(p, two)), false); // replayed
  assert.equal(held.accept(await openAsBob(p, one)), false); // older: would wind alice back
  assert.deepEqual(held.latest("alice"), { kid: 2, key: second.key });
  assert.equal(held.accept(null), false);
  // Alice reloads: a new identity, key ids from 1 again.
  const again = { ...p, alice: await createIdentity() };
  again.roster = new Map(p.roster).set("alice", again.alice.publicKeyB64);
  const { envelope: fresh } = await aliceToBob(again, createMediaKey(1));
  assert.equal(held.accept(await openAsBob(again, fresh)), true);
  held.forget("alice");
  assert.equal(held.latest("alice"), null);
});

test("a clinician's decision opens for its recipient only, and cannot be flipped or passed off as a key", async () => {
  const p = await party();
  const decide = (clear, n = 1765000000000, to = "bob", recipientKey = p.bob.publicKeyB64) =>
    sealDecision({ identity: p.alice, callId: CALL, from: "alice", to, recipientKey, n, clear });
  const asBob = { identity: p.bob, callId: CALL, me: "bob", roster: p.roster };
  const sealed = await decide(true);
  assert.ok(wellFormed(sealed)); // the shape of any envelope: the server checks only that
  assert.deepEqual(await openDecision(sealed, asBob), { from: "alice", n: 1765000000000, clear: true });
  assert.deepEqual((await openDecision(await decide(false), asBob)).clear, false);
  // Not a media key, and a media key is not a decision (labels of their own).
  assert.equal(await openEnvelope(sealed, asBob), null);
  const media = await sealEnvelope({
    identity: p.alice,
    callId: CALL,
    from: "alice",
    to: "bob",
    recipientKey: p.bob.publicKeyB64,
    mediaKey: createMediaKey(7),
  });
  assert.equal(await openDecision(media, asBob), null);
  // Flipped, renumbered, readdressed or claimed by another: nothing opens.
  const ct = fromBase64Url(sealed.ct);
  ct[0] ^= 1;
  assert.equal(await openDecision({ ...sealed, ct: toBase64Url(ct) }, asBob), null);
  assert.equal(await openDecision({ ...sealed, kid: sealed.kid + 1 }, asBob), null);
  assert.equal(await openDecision({ ...sealed, from: "carol" }, asBob), null);
  const forCarol = await decide(true, 1765000000000, "carol", p.carol.publicKeyB64);
  assert.equal(await openDecision(forCarol, asBob), null);
  assert.equal(await openDecision({ ...forCarol, to: "bob" }, asBob), null);
  // The server, holding no private key, cannot seal one in Alice's name.
  const server = await createIdentity();
  const forged = await sealDecision({
    identity: server,
    callId: CALL,
    from: "alice",
    to: "bob",
    recipientKey: p.bob.publicKeyB64,
    n: 1765000000001,
    clear: true,
  });
  assert.equal(await openDecision(forged, asBob), null);
});
