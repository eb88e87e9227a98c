// SFrame (RFC 9605) for telehub's encoded frames: the header, the key derivation, AES-GCM
// per frame, the clear codec bytes the relay needs, replay refusal, and FrameCryptor, the
// per-worker state (our sending key, every other sender's keys, counts). Pure functions
// over bytes + WebCrypto, so all of it runs under `node --test`; worker.js only wires
// encoded-transform streams to a FrameCryptor. docs/media.md, "Frame format and keys".
//
// A frame on the wire: [clear codec header][SFrame header][ciphertext + 16-byte tag]
//   - clear codec header: the bytes the relay and the receiving depacketiser read
//     (VP8 key frame 10 bytes: frame tag + start code + size; VP8 delta 3: frame tag;
//     Opus 1: TOC byte). They are authenticated: they are the SFrame "metadata" (AAD).
//   - SFrame header: config byte + big-endian KID and CTR (§4.3).
//   - AES_128_GCM_SHA256_128 (cipher suite 0x0004): key and salt from the base key with
//     HKDF-SHA256 (§4.4.2), nonce = salt XOR CTR, AAD = SFrame header + clear bytes.
//
// KIDs and counters are JavaScript numbers, so this code reads and writes values up to
// 2^53 - 1 and refuses larger ones (a counter at 50 frames/s reaches that in millions of
// years). Headers must be minimal, as §4.3 requires of senders: one (KID, CTR) has one
// spelling, so a replay cannot hide behind a second one.
//
// KIDs: a media key (keys.js) has a key id per rotation; each frame's KID is
// keyId * 2 + (audio ? 1 : 0). Audio and video from one sender thus never share a
// (key, nonce): each kind has its own KID, hence its own derived key, salt and counter,
// and its own replay window (audio and video reach the receiver on separate paths).

import { bigEndian, concat, utf8 } from "./bytes.js";

export const CIPHER_SUITE = 0x0004; // AES_128_GCM_SHA256_128
export const KEY_BYTES = 16; // AEAD.Nk
export const NONCE_BYTES = 12; // AEAD.Nn
export const TAG_BYTES = 16; // AEAD.Nt
export const MAX_VALUE = Number.MAX_SAFE_INTEGER; // largest KID or CTR read or written here
export const MAX_KEY_ID = Math.floor(MAX_VALUE / 2); // so that every frame KID stays exact
export const REPLAY_WINDOW = 128; // frames: 2.5 s of audio, 4 s of video at 30 fps
const KINDS = new Set(["audio", "video"]);
const SAFE_HIGH_BYTE = 0x1f; // a 7-byte value above 0x1fffffffffffff is not a safe integer

/** Whether x is an integer KID or CTR this code can carry exactly. */
function isValue(x) {
  return Number.isSafeInteger(x) && x >= 0;
}

/** The value in as few big-endian bytes as hold it (at least one). */
function minimalBytes(value) {
  let length = 1;
  while (length < 7 && value >= 2 ** (8 * length)) length++;
  return bigEndian(value, length);
}

/** The SFrame header for (KID, CTR): values 0-7 live in the config byte, larger ones
 *  follow it in the fewest bytes, KID first. RangeError for values it cannot carry. */
export function encodeHeader(kid, ctr) {
  if (!isValue(kid) || !isValue(ctr)) throw new RangeError(`KID and CTR must be integers in 0..2^53-1`);
  const kidBytes = kid < 8 ? null : minimalBytes(kid);
  const ctrBytes = ctr < 8 ? null : minimalBytes(ctr);
  const k = kidBytes ? 0x80 | ((kidBytes.length - 1) << 4) : kid << 4;
  const c = ctrBytes ? 0x08 | (ctrBytes.length - 1) : ctr;
  return concat(Uint8Array.of(k | c), kidBytes ?? new Uint8Array(0), ctrBytes ?? new Uint8Array(0));
}

/** {kid, ctr, length} of the SFrame header at bytes[offset]; null when it is truncated,
 *  not minimal, or carries a value above 2^53 - 1. */
export function decodeHeader(bytes, offset = 0) {
  if (offset >= bytes.length) return null;
  const config = bytes[offset];
  let at = offset + 1;
  const field = (extended, bits) => {
    if (!extended) return bits;
    const length = bits + 1;
    if (at + length > bytes.length) return null;
    const first = bytes[at];
    // A leading zero byte is not minimal; 8 bytes (or 7 with a high first byte) overflow.
    if (first === 0 || length > 7 || (length === 7 && first > SAFE_HIGH_BYTE)) return null;
    let value = 0;
    for (let i = 0; i < length; i++) value = value * 256 + bytes[at + i];
    at += length;
    return value < 8 ? null : value; // 0-7 belong in the config byte
  };
  const kid = field(config & 0x80, (config >> 4) & 0x07);
  if (kid === null) return null;
  const ctr = field(config & 0x08, config & 0x07);
  if (ctr === null) return null;
  return { kid, ctr, length: at - offset };
}

/** sframe_key and sframe_salt (raw bytes) for a base key and KID (§4.4.2):
 *  HKDF-SHA256 with an empty salt, labels "SFrame 1.0 Secret key|salt " + KID (8 bytes)
 *  + cipher suite (2 bytes). */
export async function deriveKeySalt(baseKey, kid, subtle = globalThis.crypto.subtle) {
  if (!isValue(kid)) throw new RangeError("KID must be an integer in 0..2^53-1");
  const secret = await subtle.importKey("raw", baseKey, "HKDF", false, ["deriveBits"]);
  const expand = async (name, bytes) => {
    const info = concat(utf8(`SFrame 1.0 Secret ${name} `), bigEndian(kid, 8), bigEndian(CIPHER_SUITE, 2));
    const params = { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info };
    return new Uint8Array(await subtle.deriveBits(params, secret, bytes * 8));
  };
  return { key: await expand("key", KEY_BYTES), salt: await expand("salt", NONCE_BYTES) };
}

/** The state for one KID: a non-extractable AES-GCM key, the salt, the next counter to
 *  send with (senders) and a replay window (receivers). */
export async function createKeyContext(baseKey, kid, subtle = globalThis.crypto.subtle) {
  const { key, salt } = await deriveKeySalt(baseKey, kid, subtle);
  const aesKey = await subtle.importKey("raw", key, "AES-GCM", false, ["encrypt", "decrypt"]);
  key.fill(0);
  return { kid, key: aesKey, salt, next: 0, window: new ReplayWindow() };
}

/** The nonce for a counter: the salt XOR the counter as a 12-byte big-endian integer. */
export function nonceFor(salt, ctr) {
  const ctrBytes = bigEndian(ctr, NONCE_BYTES);
  return salt.map((b, i) => b ^ ctrBytes[i]);
}

function gcm(ctx, ctr, aad) {
  return { name: "AES-GCM", iv: nonceFor(ctx.salt, ctr), additionalData: aad, tagLength: TAG_BYTES * 8 };
}

/** RFC 9605 encrypt: SFrame header + AEAD(key, nonce, header + metadata, plaintext). */
export async function sframeEncrypt(ctx, ctr, metadata, plaintext, subtle = globalThis.crypto.subtle) {
  const header = encodeHeader(ctx.kid, ctr);
  const sealed = await subtle.encrypt(gcm(ctx, ctr, concat(header, metadata)), ctx.key, plaintext);
  return concat(header, new Uint8Array(sealed));
}

/** RFC 9605 decrypt with one key context: the plaintext, or null when the header is bad,
 *  names another KID, or the ciphertext does not authenticate. Never throws. */
export async function sframeDecrypt(ctx, metadata, sframeCiphertext, subtle = globalThis.crypto.subtle) {
  const parsed = decodeHeader(sframeCiphertext);
  if (!parsed || parsed.kid !== ctx.kid) return null;
  const header = sframeCiphertext.subarray(0, parsed.length);
  return aeadOpen(ctx, parsed.ctr, concat(header, metadata), sframeCiphertext.subarray(parsed.length), subtle);
}

async function aeadOpen(ctx, ctr, aad, ciphertext, subtle) {
  if (ciphertext.length < TAG_BYTES) return null;
  try {
    return new Uint8Array(await subtle.decrypt(gcm(ctx, ctr, aad), ctx.key, ciphertext));
  } catch {
    return null; // OperationError: wrong key, or something was changed on the way
  }
}

/** How many leading bytes of a frame stay in clear: Opus 1 (TOC byte); VP8 10 for a key
 *  frame (bit 0 of the first byte is 0: frame tag, start code, width and height), else 3. */
export function clearLength(kind, data) {
  if (kind === "audio") return 1;
  return data.length > 0 && (data[0] & 0x01) === 0 ? 10 : 3;
}

/** The frame KID for a media key id and kind (audio and video never share a KID). */
export function frameKid(keyId, kind) {
  return keyId * 2 + (kind === "audio" ? 1 : 0);
}

/** [clear codec header][SFrame header][ciphertext + tag]; null for a frame too short to
 *  hold its codec header (no valid VP8 or Opus frame is, so nothing real is lost). */
export async function encryptFrame(ctx, ctr, kind, data, subtle = globalThis.crypto.subtle) {
  const clear = clearLength(kind, data);
  if (data.length < clear) return null;
  const head = data.subarray(0, clear);
  return concat(head, await sframeEncrypt(ctx, ctr, head, data.subarray(clear), subtle));
}

/** A received frame split into its parts ({clear, header, kid, ctr, ciphertext}), or
 *  null when it cannot be an encrypted frame of this kind. */
export function parseFrame(kind, data) {
  const clear = clearLength(kind, data);
  const parsed = decodeHeader(data, clear);
  if (!parsed || data.length < clear + parsed.length + TAG_BYTES) return null;
  const end = clear + parsed.length;
  return {
    clear: data.subarray(0, clear),
    header: data.subarray(clear, end),
    kid: parsed.kid,
    ctr: parsed.ctr,
    ciphertext: data.subarray(end),
  };
}

/** The decrypted frame ([clear codec header][plaintext]) of a parsed frame, or null. */
export async function openFrame(ctx, parsed, subtle = globalThis.crypto.subtle) {
  const aad = concat(parsed.header, parsed.clear);
  const plaintext = await aeadOpen(ctx, parsed.ctr, aad, parsed.ciphertext, subtle);
  return plaintext && concat(parsed.clear, plaintext);
}

/** Counters already accepted for one KID (after RFC 3711 §3.3.2): a counter is fresh if
 *  above the highest seen, or within `size` below it and not seen yet. Check with fresh()
 *  before decrypting; commit() only after the frame authenticated, so a forged counter
 *  cannot move the window. */
export class ReplayWindow {
  constructor(size = REPLAY_WINDOW) {
    this.size = size;
    this.highest = -1;
    this._seen = new Set();
  }

  fresh(ctr) {
    if (ctr > this.highest) return true;
    return ctr > this.highest - this.size && !this._seen.has(ctr);
  }

  /** Records an authenticated counter; false if it was taken meanwhile (a duplicate). */
  commit(ctr) {
    if (!this.fresh(ctr)) return false;
    this._seen.add(ctr);
    if (ctr > this.highest) this.highest = ctr;
    if (this._seen.size > 2 * this.size) {
      for (const seen of this._seen) if (seen <= this.highest - this.size) this._seen.delete(seen);
    }
    return true;
  }
}

function emptyCounts() {
  return { encrypted: 0, decrypted: 0, dropped: 0, clear: 0, sentClear: 0 };
}

/** One worker's frame encryption state: our sending key, the keys of each other sender,
 *  and what happened to the frames. encrypt() and decrypt() return the new frame bytes or
 *  null (drop the frame): they never throw and never hand on a frame they could not
 *  process. Keys are the media keys of keys.js: {kid, key} with kid the key id. */
export class FrameCryptor {
  constructor({ subtle = globalThis.crypto.subtle, keepKeys = 3 } = {}) {
    this._subtle = subtle;
    this._keepKeys = keepKeys; // per sender: frames already in flight under an older key
    this._send = null; // {keyId, audio: context, video: context}
    this._senders = new Map(); // sender id -> Map(key id -> {audio, video})
    this._counts = { audio: emptyCounts(), video: emptyCounts() };
    this._reasons = {}; // why frames were dropped: reason -> count
    // True only for a leg that DTLS-SRTP already protects end to end (peer-to-peer with
    // Chromium's createEncodedStreams, whose transform cannot be removed): frames pass as
    // they are, both ways.
    this.passthrough = false;
    // Senders whose frames arrive unencrypted and are handed on as they are (receiveClear).
    this._clearFrom = new Set();
    // Our frames go out unencrypted (sendClear): a relayed call whose clinician chose to
    // go on without end-to-end encryption for a browser that cannot do it.
    this._sendClear = false;
  }

  async _contexts(mediaKey) {
    const base = mediaKey.key;
    const audio = await createKeyContext(base, frameKid(mediaKey.kid, "audio"), this._subtle);
    const video = await createKeyContext(base, frameKid(mediaKey.kid, "video"), this._subtle);
    return { keyId: mediaKey.kid, audio, video };
  }

  /** Encrypt from now on with this media key. Its key id must be above the current one:
   *  counters restart at 0 with a new key, so a key set twice would reuse nonces. */
  async setSendKey(mediaKey) {
    checkMediaKey(mediaKey);
    if (this._send && mediaKey.kid <= this._send.keyId) {
      throw new RangeError(`send key id ${mediaKey.kid} is not above ${this._send.keyId}`);
    }
    const contexts = await this._contexts(mediaKey);
    if (this._send && contexts.keyId <= this._send.keyId) throw new RangeError("send key raced");
    this._send = contexts;
  }

  /** Decrypt `from`'s frames with this media key too (its older keys are kept for frames
   *  still in flight, up to keepKeys). False, and nothing changes, when the key id is
   *  already known: re-adding it would reopen its replay windows. */
  async setReceiveKey(from, mediaKey) {
    checkMediaKey(mediaKey);
    const known = this._senders.get(from);
    if (known?.has(mediaKey.kid)) return false;
    const contexts = await this._contexts(mediaKey);
    const keys = this._senders.get(from) ?? new Map();
    if (keys.has(mediaKey.kid)) return false;
    keys.set(mediaKey.kid, contexts);
    while (keys.size > this._keepKeys) keys.delete(Math.min(...keys.keys()));
    this._senders.set(from, keys);
    return true;
  }

  /** Forget every key of a sender (they left: nothing more of theirs is accepted). */
  forget(from) {
    this._senders.delete(from);
    this._clearFrom.delete(from);
  }

  /** Hand on `from`'s frames that do not decrypt as they arrive (`enabled`), or drop them
   *  again. Only frames of a receiver piped with that sender's id: a frame whose sender
   *  is not known is never let through unencrypted. Whoever turns this on accepts that
   *  the relay could read, and forge, that sender's frames. */
  receiveClear(from, enabled) {
    if (typeof from !== "string" || !from) throw new TypeError("a sender id is needed");
    if (enabled) this._clearFrom.add(from);
    else this._clearFrom.delete(from);
  }

  /** Send our frames unencrypted (`enabled`), or encrypted again with the send key. */
  sendClear(enabled) {
    this._sendClear = enabled === true;
  }

  _drop(kind, reason) {
    if (this._counts[kind]) this._counts[kind].dropped++;
    this._reasons[reason] = (this._reasons[reason] ?? 0) + 1;
    return null;
  }

  /** Our frame, encrypted; null (drop) without a send key or for an unusable frame. */
  async encrypt(data, kind) {
    if (!KINDS.has(kind)) return this._drop(kind, "bad-kind");
    if (this.passthrough) return data;
    if (this._sendClear) {
      this._counts[kind].sentClear++;
      return data;
    }
    const ctx = this._send?.[kind];
    if (!ctx) return this._drop(kind, "no-send-key");
    if (ctx.next > MAX_VALUE) return this._drop(kind, "counter-exhausted");
    const ctr = ctx.next++; // taken before any await: two frames never share a counter
    try {
      const out = await encryptFrame(ctx, ctr, kind, data, this._subtle);
      if (!out) return this._drop(kind, "short-frame");
      this._counts[kind].encrypted++;
      return out;
    } catch {
      return this._drop(kind, "encrypt-failed");
    }
  }

  /** A received frame, decrypted with the key its KID names (from sender `from`, or from
   *  any sender when the caller does not know whose stream this is); null (drop) when
   *  there is no such key, it does not authenticate, or its counter was seen already. */
  async decrypt(data, kind, from = null) {
    if (!KINDS.has(kind)) return this._drop(kind, "bad-kind");
    if (this.passthrough) return data;
    const { frame, reason } = await this._open(data, kind, from);
    if (frame) {
      this._counts[kind].decrypted++;
      return frame;
    }
    // A sender received in clear: what does not decrypt under its keys is taken as it
    // came. Decrypting first keeps a switch seamless both ways: frames it encrypted
    // before (or after) going unencrypted still arrive as pictures, never as noise.
    if (from !== null && this._clearFrom.has(from)) {
      this._counts[kind].clear++;
      return data;
    }
    return this._drop(kind, reason);
  }

  /** {frame} decrypted, or {reason} it was not. */
  async _open(data, kind, from) {
    const parsed = parseFrame(kind, data);
    if (!parsed) return { reason: "not-sframe" };
    if (parsed.kid % 2 !== (kind === "audio" ? 1 : 0)) return { reason: "wrong-kind" };
    const keyId = Math.floor(parsed.kid / 2);
    const senders = from === null ? [...this._senders.values()] : [this._senders.get(from)];
    const candidates = senders.map((keys) => keys?.get(keyId)?.[kind]).filter(Boolean);
    if (candidates.length === 0) return { reason: "no-key" };
    let replayed = false;
    for (const ctx of candidates) {
      if (!ctx.window.fresh(parsed.ctr)) {
        replayed = true;
        continue;
      }
      const frame = await openFrame(ctx, parsed, this._subtle);
      if (!frame) continue;
      if (!ctx.window.commit(parsed.ctr)) return { reason: "replay" };
      return { frame };
    }
    return { reason: replayed ? "replay" : "auth-failed" };
  }

  /** What happened so far: totals, per kind, and drop reasons; the key ids in use (ours,
   *  and those held for each sender, oldest first: ids, never keys). `clear`: frames
   *  received and handed on unencrypted (receiveClear); `sentClear`: sent so (sendClear). */
  counts() {
    const { audio, video } = this._counts;
    const total = (name) => audio[name] + video[name];
    const receiveKeyIds = {};
    for (const [from, keys] of this._senders) receiveKeyIds[from] = [...keys.keys()].sort((a, b) => a - b);
    return {
      encrypted: total("encrypted"),
      decrypted: total("decrypted"),
      dropped: total("dropped") + (this._reasons["bad-kind"] ?? 0),
      clear: total("clear"),
      sentClear: total("sentClear"),
      audio: { ...audio },
      video: { ...video },
      reasons: { ...this._reasons },
      sendKeyId: this._send?.keyId ?? null,
      receiveKeyIds,
      clearFrom: [...this._clearFrom].sort(),
      sendingClear: this._sendClear,
    };
  }
}

function checkMediaKey(mediaKey) {
  if (!Number.isSafeInteger(mediaKey?.kid) || mediaKey.kid < 0 || mediaKey.kid > MAX_KEY_ID) {
    throw new RangeError("media key id must be an integer in 0..2^52-1");
  }
  if (!(mediaKey.key instanceof Uint8Array) || mediaKey.key.length !== KEY_BYTES) {
    throw new TypeError(`media key must be ${KEY_BYTES} bytes`);
  }
}
