// node --test tests/js/: the SFrame frame format (RFC 9605) and FrameCryptor (issue 12).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  FrameCryptor,
  ReplayWindow,
  clearLength,
  createKeyContext,
  decodeHeader,
  deriveKeySalt,
  encodeHeader,
  encryptFrame,
  frameKid,
  nonceFor,
  parseFrame,
  sframeDecrypt,
  sframeEncrypt,
} from "../../web/static/js/e2ee/sframe.js";

const hex = (text) => Uint8Array.from(text.match(/../g) ?? [], (h) => parseInt(h, 16));
const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const utf8 = (text) => new TextEncoder().encode(text);
const key = (fill) => new Uint8Array(16).fill(fill);

// RFC 9605 appendix C.1 (header encoding), a selection: [KID, CTR, encoded header].
const HEADER_VECTORS = [
  [0, 0, "00"],
  [0, 1, "01"],
  [0, 255, "08ff"],
  [0, 256, "090100"],
  [0, 16777216, "0b01000000"],
  [0, 281474976710655, "0dffffffffffff"],
  [255, 0, "80ff"],
  [255, 256, "89ff0100"],
  [65536, 255, "a8010000ff"],
  [4294967295, 1, "b1ffffffff"],
  [4294967295, 16777216, "bbffffffff01000000"],
  [281474976710656, 256, "e9010000000000000100"],
  [281474976710656, 281474976710655, "ed01000000000000ffffffffffff"],
];
// Valid RFC 9605 headers whose values pass 2^53 - 1: this code refuses them.
const HEADERS_TOO_BIG = ["0effffffffffffff", "0f0100000000000000", "f1ffffffffffffffff"];

test("RFC 9605 header vectors encode and decode", () => {
  for (const [kid, ctr, encoded] of HEADER_VECTORS) {
    assert.equal(toHex(encodeHeader(kid, ctr)), encoded, `kid ${kid} ctr ${ctr}`);
    assert.deepEqual(decodeHeader(hex(encoded)), { kid, ctr, length: encoded.length / 2 });
  }
  for (const encoded of HEADERS_TOO_BIG) assert.equal(decodeHeader(hex(encoded)), null, encoded);
});

test("header edge values round-trip in the fewest bytes", () => {
  const edges = [0, 1, 7, 8, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 48, 2 ** 53 - 1];
  const bytesFor = (v) => (v < 8 ? 0 : Math.ceil((Math.floor(Math.log2(v)) + 1) / 8));
  for (const kid of edges) {
    for (const ctr of edges) {
      const header = encodeHeader(kid, ctr);
      assert.equal(header.length, 1 + bytesFor(kid) + bytesFor(ctr), `kid ${kid} ctr ${ctr}`);
      assert.deepEqual(decodeHeader(header), { kid, ctr, length: header.length });
    }
  }
  assert.equal(toHex(encodeHeader(7, 7)), "77"); // both in the config byte
  assert.equal(toHex(encodeHeader(8, 8)), "880808"); // both one byte past it
  assert.equal(toHex(encodeHeader(2 ** 53 - 1, 0)), "e01fffffffffffff");
  // A header found at an offset (after the clear codec bytes).
  assert.deepEqual(decodeHeader(hex("aabb" + "89ff0100"), 2), { kid: 255, ctr: 256, length: 4 });
});

test("values the header cannot carry are refused when encoding", () => {
  for (const bad of [-1, 1.5, 2 ** 53, NaN, "1", null]) {
    assert.throws(() => encodeHeader(bad, 0), RangeError);
    assert.throws(() => encodeHeader(0, bad), RangeError);
  }
});

test("truncated or non-minimal headers decode to null", () => {
  assert.equal(decodeHeader(new Uint8Array(0)), null);
  assert.equal(decodeHeader(hex("08")), null); // CTR byte missing
  assert.equal(decodeHeader(hex("9a0100")), null); // KID 2 bytes + CTR 3 bytes announced, 2 present
  assert.equal(decodeHeader(hex("0807")), null); // CTR 7 belongs in the config byte
  assert.equal(decodeHeader(hex("800000")), null); // KID 0 in a byte
  assert.equal(decodeHeader(hex("090010")), null); // leading zero byte
  assert.equal(decodeHeader(hex("00"), 1), null); // offset past the end
});

test("RFC 9605 appendix C.3 vector for AES_128_GCM_SHA256_128", async () => {
  const baseKey = hex("000102030405060708090a0b0c0d0e0f");
  const { key, salt } = await deriveKeySalt(baseKey, 0x123);
  assert.equal(toHex(key), "d34f547f4ca4f9a7447006fe7fcbf768");
  assert.equal(toHex(salt), "75234edefe07819026751816");
  assert.equal(toHex(nonceFor(salt, 0x4567)), "75234edefe07819026755d71");

  const ctx = await createKeyContext(baseKey, 0x123);
  const metadata = utf8("IETF SFrame WG");
  const plaintext = utf8("draft-ietf-sframe-enc");
  const expected =
    "9901234567b7412c2513a1b66dbb48841bbaf17f598751176ad847681a69c6d0b091c07018ce4adb34eb";
  assert.equal(toHex(await sframeEncrypt(ctx, 0x4567, metadata, plaintext)), expected);
  assert.deepEqual(await sframeDecrypt(ctx, metadata, hex(expected)), plaintext);
  assert.equal(await sframeDecrypt(ctx, utf8("IETF SFrame WH"), hex(expected)), null);
});

test("the clear codec header: VP8 key frame 10 bytes, delta 3, Opus 1", () => {
  assert.equal(clearLength("video", Uint8Array.of(0x50, 1, 2)), 10); // bit 0 clear: key frame
  assert.equal(clearLength("video", Uint8Array.of(0x51, 1, 2)), 3);
  assert.equal(clearLength("audio", Uint8Array.of(0x78)), 1);
  assert.equal(frameKid(5, "video"), 10);
  assert.equal(frameKid(5, "audio"), 11);
});

function frame(kind, keyFrame, size) {
  const data = Uint8Array.from({ length: size }, (_, i) => (i * 37 + 11) & 0xff);
  if (kind === "video") data[0] = keyFrame ? 0x10 : 0x11;
  return data;
}

async function pair({ kid = 1 } = {}) {
  const sender = new FrameCryptor();
  const receiver = new FrameCryptor();
  await sender.setSendKey({ kid, key: key(7) });
  await receiver.setReceiveKey("alice", { kid, key: key(7) });
  return { sender, receiver };
}

test("frames round-trip, leaving exactly the codec header in clear before the SFrame header", async () => {
  const { sender, receiver } = await pair({ kid: 3 });
  for (const [kind, keyFrame, clear] of [["video", true, 10], ["video", false, 3], ["audio", false, 1]]) {
    const data = frame(kind, keyFrame, 200);
    const sent = await sender.encrypt(data, kind);
    assert.equal(sent.length, data.length + 1 + 16); // config byte (KID and CTR < 8) + tag
    assert.deepEqual(sent.subarray(0, clear), data.subarray(0, clear));
    assert.notDeepEqual(sent.subarray(clear + 1, clear + 1 + 50), data.subarray(clear, clear + 50));
    const parsed = parseFrame(kind, sent);
    assert.equal(parsed.kid, frameKid(3, kind));
    assert.deepEqual(await receiver.decrypt(sent, kind, "alice"), data);
  }
  const counts = receiver.counts();
  assert.equal(counts.decrypted, 3);
  assert.equal(counts.dropped, 0);
  assert.equal(sender.counts().encrypted, 3);
});

test("counters increase per kind and the header grows with them", async () => {
  const { sender, receiver } = await pair();
  const ctrs = [];
  for (let i = 0; i < 10; i++) {
    const sent = await sender.encrypt(frame("audio", false, 20), "audio");
    ctrs.push(parseFrame("audio", sent).ctr);
    assert.ok(await receiver.decrypt(sent, "audio", "alice"));
  }
  assert.deepEqual(ctrs, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const video = await sender.encrypt(frame("video", false, 20), "video");
  assert.equal(parseFrame("video", video).ctr, 0); // its own KID, its own counter
});

test("the wrong key, an unknown KID or a stranger's frame decrypt to null", async () => {
  const { sender } = await pair({ kid: 2 });
  const sent = await sender.encrypt(frame("video", true, 100), "video");
  const wrongKey = new FrameCryptor();
  await wrongKey.setReceiveKey("alice", { kid: 2, key: key(8) });
  assert.equal(await wrongKey.decrypt(sent, "video", "alice"), null);
  const otherKid = new FrameCryptor();
  await otherKid.setReceiveKey("alice", { kid: 3, key: key(7) });
  assert.equal(await otherKid.decrypt(sent, "video", "alice"), null);
  const noKeys = new FrameCryptor();
  assert.equal(await noKeys.decrypt(sent, "video"), null);
  assert.deepEqual(noKeys.counts().reasons, { "no-key": 1 });
  assert.equal(wrongKey.counts().video.dropped, 1);
});

test("changing any part of a frame makes it fail", async () => {
  const { sender } = await pair();
  const data = frame("video", true, 60);
  const sent = await sender.encrypt(data, "video");
  // Clear codec header (byte 3), SFrame header (10), ciphertext (30), tag (last byte);
  // byte 0 also flips key frame <-> delta, which moves where the header is read.
  for (const at of [0, 3, 10, 30, sent.length - 1]) {
    const receiver = new FrameCryptor();
    await receiver.setReceiveKey("alice", { kid: 1, key: key(7) });
    const forged = sent.slice();
    forged[at] ^= 0x01;
    assert.equal(await receiver.decrypt(forged, "video", "alice"), null, `byte ${at}`);
    assert.deepEqual(await receiver.decrypt(sent, "video", "alice"), data); // the original still passes
  }
  const receiver = new FrameCryptor();
  await receiver.setReceiveKey("alice", { kid: 1, key: key(7) });
  for (const length of [0, 1, 10, 11, 26, sent.length - 1]) {
    assert.equal(await receiver.decrypt(sent.subarray(0, length), "video", "alice"), null, `${length} bytes`);
  }
  assert.equal(await receiver.decrypt(sent, "audio", "alice"), null); // a video frame on an audio track
});

test("a replayed frame is refused; late frames within the window pass once", async () => {
  const { sender, receiver } = await pair();
  const sent = [];
  for (let i = 0; i < 200; i++) sent.push(await sender.encrypt(frame("audio", false, 10), "audio"));
  assert.ok(await receiver.decrypt(sent[5], "audio", "alice"));
  assert.equal(await receiver.decrypt(sent[5], "audio", "alice"), null);
  assert.ok(await receiver.decrypt(sent[199], "audio", "alice"));
  assert.ok(await receiver.decrypt(sent[150], "audio", "alice")); // late, within 128
  assert.equal(await receiver.decrypt(sent[150], "audio", "alice"), null);
  assert.equal(await receiver.decrypt(sent[71], "audio", "alice"), null); // 128 behind: too old
  assert.equal(receiver.counts().reasons.replay, 3);
});

test("the replay window alone: forged counters do not move it", () => {
  const window = new ReplayWindow(4);
  assert.ok(window.fresh(1000)); // never committed: a forged frame leaves no trace
  assert.ok(window.commit(0));
  assert.ok(window.commit(5));
  assert.ok(window.fresh(2));
  assert.equal(window.fresh(1), false); // 5 - 4
  assert.equal(window.commit(5), false);
  for (let i = 6; i < 100; i++) assert.ok(window.commit(i));
  assert.equal(window.fresh(95), false);
  assert.ok(window.fresh(100));
});

test("concurrent decrypts of one frame let only one through", async () => {
  const { sender, receiver } = await pair();
  const sent = await sender.encrypt(frame("video", false, 50), "video");
  const results = await Promise.all([1, 2, 3].map(() => receiver.decrypt(sent, "video", "alice")));
  assert.equal(results.filter(Boolean).length, 1);
});

test("without a send key nothing is sent; a send key must be newer than the last", async () => {
  const sender = new FrameCryptor();
  assert.equal(await sender.encrypt(frame("audio", false, 10), "audio"), null);
  await sender.setSendKey({ kid: 4, key: key(1) });
  assert.equal(await sender.encrypt(Uint8Array.of(0x11, 2), "video"), null); // short: no codec header
  await assert.rejects(sender.setSendKey({ kid: 4, key: key(1) }), RangeError); // counters would restart
  await assert.rejects(sender.setSendKey({ kid: 3, key: key(2) }), RangeError);
  await assert.rejects(sender.setSendKey({ kid: 5, key: new Uint8Array(15) }), TypeError);
  await sender.setSendKey({ kid: 5, key: key(2) });
  assert.equal(sender.counts().sendKeyId, 5);
  assert.equal(await sender.encrypt(frame("audio", false, 10), "mystery"), null);
  assert.deepEqual(sender.counts().reasons, { "no-send-key": 1, "short-frame": 1, "bad-kind": 1 });
  assert.equal(sender.counts().dropped, 3);
});

test("receivers keep a sender's recent keys, refuse re-adding one, and forget leavers", async () => {
  const sender = new FrameCryptor();
  const receiver = new FrameCryptor({ keepKeys: 2 });
  const inFlight = [];
  for (const kid of [1, 2, 3]) {
    await sender.setSendKey({ kid, key: key(kid) });
    assert.equal(await receiver.setReceiveKey("bob", { kid, key: key(kid) }), true);
    inFlight.push(await sender.encrypt(frame("audio", false, 10), "audio"));
  }
  assert.equal(await receiver.setReceiveKey("bob", { kid: 3, key: key(3) }), false);
  assert.equal(await receiver.decrypt(inFlight[0], "audio", "bob"), null); // key 1 evicted
  assert.ok(await receiver.decrypt(inFlight[1], "audio", "bob"));
  assert.ok(await receiver.decrypt(inFlight[2], "audio", "bob"));
  receiver.forget("bob");
  const next = await sender.encrypt(frame("audio", false, 10), "audio");
  assert.equal(await receiver.decrypt(next, "audio", "bob"), null);
});

test("without the sender's id every sender's key with that key id is tried", async () => {
  const alice = new FrameCryptor();
  const bob = new FrameCryptor();
  await alice.setSendKey({ kid: 1, key: key(0xa) });
  await bob.setSendKey({ kid: 1, key: key(0xb) }); // same key id: KIDs are per sender
  const receiver = new FrameCryptor();
  await receiver.setReceiveKey("alice", { kid: 1, key: key(0xa) });
  await receiver.setReceiveKey("bob", { kid: 1, key: key(0xb) });
  const fromBob = await bob.encrypt(frame("video", true, 40), "video");
  assert.ok(await receiver.decrypt(fromBob, "video"));
  assert.equal(await receiver.decrypt(fromBob, "video", "alice"), null); // named: only alice's key
});

test("passthrough leaves frames as they are", async () => {
  const cryptor = new FrameCryptor();
  cryptor.passthrough = true;
  const data = frame("video", false, 30);
  assert.equal(await cryptor.encrypt(data, "video"), data);
  assert.equal(await cryptor.decrypt(data, "video"), data);
});

test("a sender received in clear: its frames pass as they are, named senders only", async () => {
  const alice = new FrameCryptor();
  await alice.setSendKey({ kid: 1, key: key(0xa) });
  const receiver = new FrameCryptor();
  await receiver.setReceiveKey("alice", { kid: 1, key: key(0xa) });
  const plain = frame("video", false, 30);
  assert.equal(await receiver.decrypt(plain, "video", "bob"), null); // not in clear: dropped
  receiver.receiveClear("bob", true);
  assert.equal(await receiver.decrypt(plain, "video", "bob"), plain);
  assert.equal(await receiver.decrypt(plain, "video"), null); // sender unknown: never in clear
  assert.equal(await receiver.decrypt(plain, "video", "alice"), null); // alice still encrypts
  assert.ok(await receiver.decrypt(await alice.encrypt(frame("video", false, 30), "video"), "video", "alice"));
  assert.throws(() => receiver.receiveClear("", true), TypeError);
  let counts = receiver.counts();
  assert.equal(counts.clear, 1);
  assert.equal(counts.video.clear, 1);
  assert.deepEqual(counts.clearFrom, ["bob"]);
  assert.deepEqual(counts.receiveKeyIds, { alice: [1] });
  receiver.receiveClear("bob", false);
  assert.equal(await receiver.decrypt(plain, "video", "bob"), null);
  receiver.receiveClear("bob", true);
  receiver.forget("bob"); // left: nothing more of theirs, in clear or not
  assert.equal(await receiver.decrypt(plain, "video", "bob"), null);
  counts = receiver.counts();
  assert.deepEqual(counts.clearFrom, []);
  assert.equal(counts.clear, 1);
});

test("a switch to clear and back is seamless: encrypted frames still decrypt, clear ones pass", async () => {
  const bob = new FrameCryptor();
  await bob.setSendKey({ kid: 1, key: key(0xb) });
  const receiver = new FrameCryptor();
  await receiver.setReceiveKey("bob", { kid: 1, key: key(0xb) });
  receiver.receiveClear("bob", true);
  const sealed = await bob.encrypt(frame("audio", false, 20), "audio"); // in flight as bob switches
  bob.sendClear(true);
  const plain = frame("audio", false, 20);
  const sent = await bob.encrypt(plain, "audio");
  assert.equal(sent, plain); // unencrypted, as it is
  assert.deepEqual(await receiver.decrypt(sealed, "audio", "bob"), frame("audio", false, 20));
  assert.equal(await receiver.decrypt(sent, "audio", "bob"), plain);
  assert.equal(await receiver.decrypt(sealed, "audio", "bob"), sealed); // a replay: as it came, no longer trusted
  bob.sendClear(false);
  const again = await bob.encrypt(frame("audio", false, 20), "audio");
  assert.notDeepEqual(again, plain);
  assert.deepEqual(await receiver.decrypt(again, "audio", "bob"), frame("audio", false, 20));
  assert.deepEqual([bob.counts().sentClear, bob.counts().encrypted, bob.counts().sendingClear], [1, 2, false]);
  const counts = receiver.counts();
  assert.deepEqual([counts.decrypted, counts.clear, counts.dropped], [2, 2, 0]);
});

test("counts name the key ids held per sender, oldest first, never the keys", async () => {
  const receiver = new FrameCryptor({ keepKeys: 2 });
  for (const kid of [3, 1, 2]) await receiver.setReceiveKey("alice", { kid, key: key(kid) });
  await receiver.setReceiveKey("bob", { kid: 7, key: key(7) });
  assert.deepEqual(receiver.counts().receiveKeyIds, { alice: [2, 3], bob: [7] });
  assert.equal(receiver.counts().sendKeyId, null);
});

test("encryptFrame refuses a frame shorter than its codec header", async () => {
  const ctx = await createKeyContext(key(1), 2);
  assert.equal(await encryptFrame(ctx, 0, "video", Uint8Array.of(0x10, 0, 0)), null); // key frame < 10
  assert.ok(await encryptFrame(ctx, 1, "video", Uint8Array.of(0x11, 0, 0)));
  assert.equal(await encryptFrame(ctx, 2, "audio", new Uint8Array(0)), null);
});
