// The encoded-transform worker (a module worker: transform.js starts it). It encrypts our
// outgoing frames and decrypts incoming ones with one FrameCryptor (sframe.js), so that
// every sender and receiver of the page shares one key state — one worker per page: two
// workers holding the same send key would count from 0 twice and reuse nonces.
//
// Frames arrive two ways, each with options {mode: "encrypt"|"decrypt", kind:
// "audio"|"video", from?: sender id (decrypt; when absent every sender's key is tried)}:
//   - the standard RTCRtpScriptTransform: an "rtctransform" event with a transformer;
//   - Chromium's older createEncodedStreams: {type: "streams", readable, writable, options}
//     posted by the page (the streams transferred).
// A frame that cannot be processed is dropped, never handed on: a receiver without the
// key would otherwise play the audio ciphertext as noise.
//
// Messages from the page ({type, id?, ...}; when id is given the worker answers
// {id, ok, ...} once done, in the order the messages came):
//   {type: "send-key", kid, key}          encrypt with this media key from now on (then
//                                          ask each video encoder for a key frame, so that
//                                          receivers can start decoding at once)
//   {type: "receive-key", from, kid, key} add a sender's media key → {added}
//   {type: "forget", from}                drop a sender's keys (left, or rejoined)
//   {type: "receive-clear", from, enabled} hand on that sender's frames that do not
//                                          decrypt as they came (or drop them again)
//   {type: "send-clear", enabled}         send our frames unencrypted (or encrypted again)
//   {type: "passthrough", enabled}        frames pass unchanged (peer-to-peer leg only)
//   {type: "counts"}                      → {counts: FrameCryptor.counts()}

import { FrameCryptor } from "./sframe.js";

const DROP_ALL = async () => null;

/** Serve encoded-transform frames and page messages on `scope` (the worker's global). */
export function installWorker(scope, cryptor = new FrameCryptor()) {
  const encoders = new Set(); // video encrypt transformers: asked for a key frame on a new key
  let queue = Promise.resolve(); // messages are handled one after another, in order

  function pipe(readable, writable, options) {
    const { mode, kind, from = null } = options ?? {};
    const process =
      mode === "encrypt"
        ? (data) => cryptor.encrypt(data, kind)
        : mode === "decrypt"
          ? (data) => cryptor.decrypt(data, kind, from)
          : DROP_ALL; // an unknown mode must not let frames through
    const transform = new TransformStream({
      async transform(frame, controller) {
        const out = await process(new Uint8Array(frame.data)).catch(() => null);
        if (!out) return;
        const whole = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength;
        frame.data = whole ? out.buffer : out.slice().buffer;
        controller.enqueue(frame);
      },
    });
    // The pipe ends with an error when the track or connection goes away: nothing to do.
    return readable.pipeThrough(transform).pipeTo(writable).catch(() => {});
  }

  scope.onrtctransform = (event) => {
    const transformer = event.transformer;
    const { mode, kind } = transformer.options ?? {};
    if (mode === "encrypt" && kind === "video") encoders.add(transformer);
    pipe(transformer.readable, transformer.writable, transformer.options).finally(() => encoders.delete(transformer));
  };

  async function handle(message) {
    switch (message?.type) {
      case "send-key":
        await cryptor.setSendKey({ kid: message.kid, key: message.key });
        for (const encoder of encoders) encoder.generateKeyFrame?.().catch(() => {});
        return {};
      case "receive-key":
        return { added: await cryptor.setReceiveKey(message.from, { kid: message.kid, key: message.key }) };
      case "forget":
        cryptor.forget(message.from);
        return {};
      case "receive-clear":
        cryptor.receiveClear(message.from, message.enabled === true);
        return {};
      case "send-clear":
        cryptor.sendClear(message.enabled === true);
        return {};
      case "passthrough":
        cryptor.passthrough = message.enabled === true;
        return {};
      case "counts":
        return { counts: cryptor.counts() };
      case "streams":
        pipe(message.readable, message.writable, message.options);
        return {};
      default:
        throw new TypeError(`unknown message ${message?.type}`);
    }
  }

  scope.onmessage = (event) => {
    const message = event.data;
    queue = queue.then(async () => {
      let reply;
      try {
        reply = { ok: true, ...(await handle(message)) };
      } catch (error) {
        reply = { ok: false, error: String(error?.message ?? error) };
      }
      if (message?.id !== undefined) scope.postMessage({ id: message.id, ...reply });
    });
  };
  return { cryptor };
}

// Loaded as a worker: serve. Imported elsewhere (node --test): only export.
if (typeof WorkerGlobalScope !== "undefined" && globalThis instanceof WorkerGlobalScope) installWorker(globalThis);
