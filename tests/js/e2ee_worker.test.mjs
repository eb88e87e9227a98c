// node --test tests/js/: the encoded-transform worker and the page's attach helpers, with
// in-memory streams standing in for the browser's encoded frames (issue 12).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  E2EEWorker,
  decryptReceiver,
  e2eeApi,
  encryptSender,
  peerConnectionConfig,
  supportsE2EE,
} from "../../web/static/js/e2ee/transform.js";
import { installWorker } from "../../web/static/js/e2ee/worker.js";

/** A worker global scope in memory, wired to a page-side E2EEWorker. */
function fakeWorker() {
  const pageListeners = [];
  const errorListeners = [];
  const scope = {
    postMessage: (data) => queueMicrotask(() => pageListeners.forEach((fn) => fn({ data }))),
  };
  const worker = {
    addEventListener: (type, fn) => (type === "error" ? errorListeners : pageListeners).push(fn),
    fail: (message) => errorListeners.forEach((fn) => fn({ message, preventDefault() {} })),
    postMessage: (data) => queueMicrotask(() => scope.onmessage({ data })),
    terminate: () => {},
  };
  installWorker(scope);
  return { scope, page: new E2EEWorker(worker), worker };
}

/** An encoded-frame transformer: frames in, the frames the worker writes out. */
function transformer(options, frames) {
  const written = [];
  const readable = new ReadableStream({
    start(controller) {
      for (const data of frames) controller.enqueue({ data: Uint8Array.from(data).buffer });
      controller.close();
    },
  });
  let done;
  const closed = new Promise((resolve) => (done = resolve));
  const writable = new WritableStream({
    write: (frame) => written.push(new Uint8Array(frame.data)),
    close: () => done(),
  });
  return { options, readable, writable, written, closed };
}

const VP8_KEY = [0x10, ...Array.from({ length: 40 }, (_, i) => i)];
const VP8_DELTA = [0x11, ...Array.from({ length: 20 }, (_, i) => 100 + i)];
const OPUS = [0x78, 1, 2, 3, 4, 5];
const mediaKey = (kid, fill) => ({ kid, key: new Uint8Array(16).fill(fill) });
const streamsMessage = (t) => ({
  data: { type: "streams", options: t.options, readable: t.readable, writable: t.writable },
});

test("frames through RTCRtpScriptTransform: encrypted by one worker, decrypted by another", async () => {
  const alice = fakeWorker();
  const bob = fakeWorker();
  await alice.page.setSendKey(mediaKey(1, 9));
  assert.deepEqual(await bob.page.setReceiveKey("alice", mediaKey(1, 9)), { added: true });

  const out = transformer({ mode: "encrypt", kind: "video" }, [VP8_KEY, VP8_DELTA]);
  alice.scope.onrtctransform({ transformer: out });
  await out.closed;
  assert.equal(out.written.length, 2);
  assert.notDeepEqual(Array.from(out.written[0]), VP8_KEY);
  assert.deepEqual(Array.from(out.written[0].subarray(0, 10)), VP8_KEY.slice(0, 10));

  const garbage = Uint8Array.from(VP8_DELTA); // not an SFrame: must not reach the decoder
  const into = transformer({ mode: "decrypt", kind: "video", from: "alice" }, [...out.written, garbage]);
  bob.scope.onrtctransform({ transformer: into });
  await into.closed;
  assert.deepEqual(into.written.map((f) => Array.from(f)), [VP8_KEY, VP8_DELTA]);

  const counts = await bob.page.counts();
  assert.equal(counts.decrypted, 2);
  assert.equal(counts.dropped, 1);
  assert.equal((await alice.page.counts()).video.encrypted, 2);
});

test("frames through createEncodedStreams (streams posted to the worker)", async () => {
  const alice = fakeWorker();
  const bob = fakeWorker();
  await alice.page.setSendKey(mediaKey(3, 1));
  const out = transformer({ mode: "encrypt", kind: "audio" }, [OPUS, OPUS]);
  alice.scope.onmessage(streamsMessage(out));
  await out.closed;
  assert.equal(out.written.length, 2);
  const into = transformer({ mode: "decrypt", kind: "audio" }, out.written);
  bob.scope.onmessage(streamsMessage(into));
  await into.closed;
  assert.deepEqual(into.written, []); // bob has no key yet: dropped, not played as noise
  await bob.page.setReceiveKey("alice", mediaKey(3, 1));
  const again = transformer({ mode: "decrypt", kind: "audio" }, out.written);
  bob.scope.onmessage(streamsMessage(again));
  await again.closed;
  assert.deepEqual(again.written.map((f) => Array.from(f)), [OPUS, OPUS]);
});

test("a new send key asks each video encoder for a key frame; an old one is refused", async () => {
  const alice = fakeWorker();
  await alice.page.setSendKey(mediaKey(1, 1));
  let keyFrames = 0;
  let endStream;
  const open = new ReadableStream({ start: (c) => (endStream = () => c.close()) });
  alice.scope.onrtctransform({
    transformer: {
      options: { mode: "encrypt", kind: "video" },
      readable: open,
      writable: new WritableStream(),
      generateKeyFrame: async () => keyFrames++,
    },
  });
  await alice.page.setSendKey(mediaKey(2, 2));
  assert.equal(keyFrames, 1);
  await assert.rejects(alice.page.setSendKey(mediaKey(2, 2)), /not above/);
  assert.equal((await alice.page.counts()).sendKeyId, 2);
  endStream();
});

test("an unknown mode passes nothing; passthrough passes everything; forget drops a sender", async () => {
  const bob = fakeWorker();
  const unknown = transformer({ mode: "sideways", kind: "audio" }, [OPUS]);
  bob.scope.onrtctransform({ transformer: unknown });
  await unknown.closed;
  assert.deepEqual(unknown.written, []);

  await bob.page.setPassthrough(true);
  const plain = transformer({ mode: "decrypt", kind: "audio" }, [OPUS]);
  bob.scope.onrtctransform({ transformer: plain });
  await plain.closed;
  assert.deepEqual(plain.written.map((f) => Array.from(f)), [OPUS]);
  await bob.page.setPassthrough(false);

  const alice = fakeWorker();
  await alice.page.setSendKey(mediaKey(1, 5));
  await bob.page.setReceiveKey("alice", mediaKey(1, 5));
  await bob.page.forget("alice");
  const out = transformer({ mode: "encrypt", kind: "audio" }, [OPUS]);
  alice.scope.onrtctransform({ transformer: out });
  await out.closed;
  const into = transformer({ mode: "decrypt", kind: "audio" }, out.written);
  bob.scope.onrtctransform({ transformer: into });
  await into.closed;
  assert.deepEqual(into.written, []);
  await assert.rejects(bob.page._call({ type: "nonsense" }), /unknown message/);
});

test("receive-clear hands one named sender's frames on as they are", async () => {
  const bob = fakeWorker();
  await bob.page.receiveClear("carol", true);
  const fromCarol = transformer({ mode: "decrypt", kind: "video", from: "carol" }, [VP8_DELTA]);
  bob.scope.onrtctransform({ transformer: fromCarol });
  await fromCarol.closed;
  assert.deepEqual(fromCarol.written.map((f) => Array.from(f)), [VP8_DELTA]);
  const unnamed = transformer({ mode: "decrypt", kind: "video" }, [VP8_DELTA]);
  bob.scope.onrtctransform({ transformer: unnamed });
  await unnamed.closed;
  assert.deepEqual(unnamed.written, []); // whose frame it is unknown: never in clear
  const counts = await bob.page.counts();
  assert.deepEqual([counts.clear, counts.clearFrom], [1, ["carol"]]);
  await assert.rejects(bob.page.receiveClear("", true), /sender id/);
});

test("a terminated worker refuses calls at once instead of leaving them unanswered", async () => {
  const { page } = fakeWorker();
  const pending = page._call({ type: "nonsense" }).catch((err) => err.message);
  page.terminate();
  assert.equal(await pending, "worker terminated");
  await assert.rejects(page.counts(), /worker terminated/);
});

test("send-clear sends our frames as they are, until turned off", async () => {
  const alice = fakeWorker();
  await alice.page.setSendKey(mediaKey(1, 4));
  await alice.page.sendClear(true);
  const plain = transformer({ mode: "encrypt", kind: "video" }, [VP8_DELTA]);
  alice.scope.onrtctransform({ transformer: plain });
  await plain.closed;
  assert.deepEqual(plain.written.map((f) => Array.from(f)), [VP8_DELTA]);
  await alice.page.sendClear(false);
  const sealed = transformer({ mode: "encrypt", kind: "video" }, [VP8_DELTA]);
  alice.scope.onrtctransform({ transformer: sealed });
  await sealed.closed;
  assert.notDeepEqual(Array.from(sealed.written[0]), VP8_DELTA);
  const counts = await alice.page.counts();
  assert.deepEqual([counts.sentClear, counts.encrypted, counts.sendingClear], [1, 1, false]);
});

test("the page picks the API the browser has", () => {
  class RTCRtpScriptTransform {
    constructor(worker, options) {
      Object.assign(this, { worker, options });
    }
  }
  const modern = { RTCRtpScriptTransform, RTCRtpSender: { prototype: { createEncodedStreams() {} } } };
  const older = { RTCRtpSender: { prototype: { createEncodedStreams() {} } } };
  const none = { RTCRtpSender: { prototype: {} } };
  assert.equal(e2eeApi(modern), "script-transform");
  assert.equal(e2eeApi(older), "encoded-streams");
  assert.equal(e2eeApi(none), null);
  assert.equal(supportsE2EE(none), false);
  assert.equal(supportsE2EE(older), true);
  assert.deepEqual(peerConnectionConfig({ iceServers: [] }, older), { iceServers: [], encodedInsertableStreams: true });
  assert.deepEqual(peerConnectionConfig({ iceServers: [] }, modern), { iceServers: [] });

  const worker = { posted: [], postMessage(message, transfer) { this.posted.push({ message, transfer }); } };
  const sender = {};
  assert.equal(encryptSender(sender, worker, "video", { g: modern }), "script-transform");
  assert.deepEqual(sender.transform.options, { mode: "encrypt", kind: "video" });
  assert.equal(sender.transform.worker, worker);

  const streams = { readable: {}, writable: {} };
  const receiver = { createEncodedStreams: () => streams };
  assert.equal(decryptReceiver(receiver, worker, "audio", { from: "bob", g: older }), "encoded-streams");
  const [{ message, transfer }] = worker.posted;
  assert.deepEqual(message.options, { mode: "decrypt", kind: "audio", from: "bob" });
  assert.equal(message.type, "streams");
  assert.deepEqual(transfer, [streams.readable, streams.writable]);
  assert.throws(() => encryptSender({}, worker, "audio", { g: none }), /cannot encrypt/);
});

test("a worker that failed to start refuses calls instead of leaving them unanswered", async () => {
  const { page, worker } = fakeWorker();
  worker.postMessage = () => {}; // its script never ran: nothing answers
  const pending = page.setSendKey({ kid: 1, key: new Uint8Array(16) }).catch((err) => err.message);
  worker.fail("Failed to fetch a dynamically imported module");
  assert.match(await pending, /encryption worker failed: Failed to fetch/);
  await assert.rejects(page.counts(), /encryption worker failed/);
  page.terminate(); // still safe, and the first reason stays
  await assert.rejects(page.counts(), /encryption worker failed/);
});
