// Attaching end-to-end encryption to a page's senders and receivers, with the API the
// browser has: the standard RTCRtpScriptTransform (Chromium, Safari, Firefox) or else
// Chromium's older createEncodedStreams. No DOM code; the browser's globals can be passed
// in (`g`) so that node --test can check which path is taken.
//
// One E2EEWorker per page (see worker.js). With RTCRtpScriptTransform each sender and
// receiver opts in, and a receiver's transform must be set right after addTransceiver when
// this side makes the offer (Chromium never feeds a transform set in ontrack then). With
// createEncodedStreams the peer connection must be made with peerConnectionConfig(), and
// every sender and receiver must be piped through the worker or it carries nothing.

/** Which encoded-transform API this browser has: "script-transform", "encoded-streams"
 *  or null (no end-to-end encryption possible: say so to the user). */
export function e2eeApi(g = globalThis) {
  if (typeof g.RTCRtpScriptTransform === "function") return "script-transform";
  if (typeof g.RTCRtpSender?.prototype?.createEncodedStreams === "function") return "encoded-streams";
  return null;
}

/** Whether this browser can encrypt frames end to end. */
export function supportsE2EE(g = globalThis) {
  return e2eeApi(g) !== null;
}

/** An RTCPeerConnection configuration that allows createEncodedStreams when that is the
 *  API this browser has (Chromium refuses it on a connection made without the flag). */
export function peerConnectionConfig(config = {}, g = globalThis) {
  return e2eeApi(g) === "encoded-streams" ? { ...config, encodedInsertableStreams: true } : { ...config };
}

function attach(target, worker, options, g) {
  const api = e2eeApi(g);
  if (api === "script-transform") {
    target.transform = new g.RTCRtpScriptTransform(worker, options);
  } else if (api === "encoded-streams") {
    const { readable, writable } = target.createEncodedStreams();
    worker.postMessage({ type: "streams", options, readable, writable }, [readable, writable]);
  } else {
    throw new Error("this browser cannot encrypt media end to end");
  }
  return api;
}

/** Encrypt everything this RTCRtpSender sends (kind "audio" or "video"). */
export function encryptSender(sender, worker, kind, { g = globalThis } = {}) {
  return attach(sender, worker, { mode: "encrypt", kind }, g);
}

/** Decrypt everything this RTCRtpReceiver receives, dropping frames without a valid key.
 *  `from`, the sending participant, when known, spares trying every sender's key. */
export function decryptReceiver(receiver, worker, kind, { from = null, g = globalThis } = {}) {
  return attach(receiver, worker, { mode: "decrypt", kind, from }, g);
}

/** The page's handle on the worker: keys in, counts out. Each call resolves once the
 *  worker has done it (a rejected promise if the worker refused, e.g. an old send key). */
export class E2EEWorker {
  constructor(worker) {
    this.worker = worker;
    this._nextId = 1;
    this._pending = new Map();
    this._goneBecause = null; // why it will never answer again (a sentence), once it will not
    worker.addEventListener("message", (event) => {
      const { id, ok, error, ...result } = event.data ?? {};
      const pending = this._pending.get(id);
      if (!pending) return;
      this._pending.delete(id);
      if (ok) pending.resolve(result);
      else pending.reject(new Error(error));
    });
    // The worker's module (or one it imports) did not load, or its start failed: it will
    // never answer. Refuse what waits and what comes, or the relay call's messages, which
    // are handled one after another, would wait on it for ever (and decode nothing).
    worker.addEventListener("error", (event) => {
      event.preventDefault?.();
      this._fail(`the encryption worker failed: ${event.message || "it did not start"}`);
    });
  }

  /** Start the worker module next to this file. */
  static start({ url = new URL("./worker.js", import.meta.url), g = globalThis } = {}) {
    return new E2EEWorker(new g.Worker(url, { type: "module", name: "telehub-e2ee" }));
  }

  _call(message) {
    // A terminated or failed worker never answers: refuse at once rather than wait for ever.
    if (this._goneBecause) return Promise.reject(new Error(this._goneBecause));
    const id = this._nextId++;
    return new Promise((resolve, reject) => {
      this._pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id });
    });
  }

  /** Encrypt with this media key ({kid, key}) from now on. */
  setSendKey(mediaKey) {
    return this._call({ type: "send-key", kid: mediaKey.kid, key: mediaKey.key });
  }

  /** Accept `from`'s frames under this media key; resolves {added}. */
  setReceiveKey(from, mediaKey) {
    return this._call({ type: "receive-key", from, kid: mediaKey.kid, key: mediaKey.key });
  }

  /** Forget a participant who left (or rejoined with a new key pair). */
  forget(from) {
    return this._call({ type: "forget", from });
  }

  /** Hand on `from`'s frames that do not decrypt as they came (or drop them again). */
  receiveClear(from, enabled) {
    return this._call({ type: "receive-clear", from, enabled });
  }

  /** Send our frames unencrypted (or encrypted again, with the current send key). */
  sendClear(enabled) {
    return this._call({ type: "send-clear", enabled });
  }

  /** Let frames through unchanged (a peer-to-peer leg on the createEncodedStreams path). */
  setPassthrough(enabled) {
    return this._call({ type: "passthrough", enabled });
  }

  /** {encrypted, decrypted, dropped, clear, sentClear, audio, video, reasons, sendKeyId,
   *  receiveKeyIds, clearFrom, sendingClear} (FrameCryptor.counts). */
  async counts() {
    return (await this._call({ type: "counts" })).counts;
  }

  terminate() {
    this.worker.terminate();
    this._fail("worker terminated");
  }

  _fail(why) {
    this._goneBecause = this._goneBecause || why;
    for (const { reject } of this._pending.values()) reject(new Error(why));
    this._pending.clear();
  }
}
