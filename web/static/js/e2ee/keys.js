// Keys for end-to-end encrypted calls (no DOM, no state outside the objects returned):
//   - an identity: one ECDH P-256 key pair per participant per call, made in the browser;
//     the private key is not extractable, the public key travels as base64url (raw, 65 bytes)
//     and is what the verification code covers (verification.js);
//   - media keys: each sender's own 16 random bytes with a key id, replaced by a new key
//     with the next key id whenever anyone joins or leaves;
//   - envelopes: a media key encrypted to one recipient, which the server relays but
//     cannot open. docs/media.md, "Frame format and keys".
//
// An envelope is {v: 1, call, from, to, kid, iv, ct} (JSON, strings base64url):
//   ikm = ECDH(sender's private key, recipient's public key) — the same on both sides;
//   key = HKDF-SHA256(ikm, salt "", info = label + call + from + to + both public keys,
//         each length-prefixed) → AES-128-GCM; iv random (12 bytes);
//   ct  = AES-GCM(key, iv, aad = label + call + from + to + kid, media key).
// Both parties' static keys go into the key, so an envelope also proves who sealed it:
// the server, holding neither private key, can neither read one nor forge one that
// opens (an ephemeral-key envelope — the "epk" some designs carry — would let anyone
// who knows the recipient's public key hand them a media key in another's name).
// Binding call, sender, recipient and the key id means an envelope cannot be replayed
// into another call, redirected to someone else, or relabelled with a newer key id.

import { bigEndian, concat, fromBase64Url, lengthPrefixed, toBase64Url, utf8 } from "./bytes.js";
import { KEY_BYTES, MAX_KEY_ID } from "./sframe.js";

export const ENVELOPE_VERSION = 1;
export const PUBLIC_KEY_BYTES = 65; // uncompressed P-256 point: 0x04 || X || Y
export const MAX_ID_LENGTH = 128; // call and participant ids, in characters
const IV_BYTES = 12;
const SEALED_BYTES = KEY_BYTES + 16; // media key + GCM tag
const ENVELOPE_FIELDS = ["v", "call", "from", "to", "kid", "iv", "ct"];
const KEY_LABEL = "telehub e2ee envelope key v1";
const AAD_LABEL = "telehub e2ee envelope v1";
// A clinician's decision to go on without end-to-end encryption travels in an envelope
// of the same shape under labels of its own, so neither can pass for the other.
const DECISION = { key: "telehub e2ee decision key v1", aad: "telehub e2ee decision v1" };
const MEDIA = { key: KEY_LABEL, aad: AAD_LABEL };
const ECDH = { name: "ECDH", namedCurve: "P-256" };

/** This participant's key pair for one call: {privateKey, publicKey, publicKeyB64}. */
export async function createIdentity(subtle = globalThis.crypto.subtle) {
  const pair = await subtle.generateKey(ECDH, false, ["deriveBits"]);
  const raw = new Uint8Array(await subtle.exportKey("raw", pair.publicKey));
  return { privateKey: pair.privateKey, publicKey: pair.publicKey, publicKeyB64: toBase64Url(raw) };
}

/** A public key from its base64url text, or null if it is not a P-256 point. */
export async function importPublicKey(b64, subtle = globalThis.crypto.subtle) {
  const raw = fromBase64Url(b64);
  if (!raw || raw.length !== PUBLIC_KEY_BYTES || raw[0] !== 0x04) return null;
  try {
    return await subtle.importKey("raw", raw, ECDH, true, []);
  } catch {
    return null; // not on the curve
  }
}

/** A fresh media key: {kid, key} with 16 random bytes. */
export function createMediaKey(kid = 1, crypto = globalThis.crypto) {
  if (!Number.isSafeInteger(kid) || kid < 0 || kid > MAX_KEY_ID) throw new RangeError("bad key id");
  return { kid, key: crypto.getRandomValues(new Uint8Array(KEY_BYTES)) };
}

/** The media key that replaces `current` (someone joined or left): new bytes, next id. */
export function nextMediaKey(current, crypto = globalThis.crypto) {
  return createMediaKey(current.kid + 1, crypto);
}

function validId(id) {
  // Printable ASCII only: ids are opaque tokens, and a bound on what is hashed and echoed.
  return typeof id === "string" && id.length > 0 && id.length <= MAX_ID_LENGTH && /^[\x21-\x7e]+$/.test(id);
}

async function envelopeKey(subtle, privateKey, peerPublic, { call, from, to, senderB64, recipientB64 }, labels = MEDIA) {
  const shared = await subtle.deriveBits({ name: "ECDH", public: peerPublic }, privateKey, 256);
  const ikm = await subtle.importKey("raw", shared, "HKDF", false, ["deriveKey"]);
  const pubs = [fromBase64Url(senderB64), fromBase64Url(recipientB64)];
  const info = concat(utf8(labels.key), lengthPrefixed(call, from, to, ...pubs));
  const params = { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info };
  return subtle.deriveKey(params, ikm, { name: "AES-GCM", length: 128 }, false, ["encrypt", "decrypt"]);
}

function envelopeAad({ call, from, to, kid }, labels = MEDIA) {
  return concat(utf8(labels.aad), lengthPrefixed(call, from, to), bigEndian(kid, 8));
}

/** `mediaKey` ({kid, key}) sealed for `to`, whose public key (base64url) is `recipientKey`.
 *  `identity` is the sender's (createIdentity). Throws on bad arguments: it is our own
 *  data, so a mistake here is a bug, not an attack. */
export async function sealEnvelope(
  { identity, callId, from, to, recipientKey, mediaKey },
  { subtle = globalThis.crypto.subtle, crypto = globalThis.crypto, labels = MEDIA } = {},
) {
  if (![callId, from, to].every(validId)) throw new TypeError("call, from and to must be ids");
  if (!Number.isSafeInteger(mediaKey?.kid) || mediaKey.kid < 0 || mediaKey.kid > MAX_KEY_ID) {
    throw new RangeError("bad key id");
  }
  if (!(mediaKey.key instanceof Uint8Array) || mediaKey.key.length !== KEY_BYTES) throw new TypeError("bad media key");
  const peer = await importPublicKey(recipientKey, subtle);
  if (!peer) throw new TypeError("recipient key is not a P-256 public key");
  const binding = { call: callId, from, to, senderB64: identity.publicKeyB64, recipientB64: recipientKey };
  const key = await envelopeKey(subtle, identity.privateKey, peer, binding, labels);
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const aad = envelopeAad({ call: callId, from, to, kid: mediaKey.kid }, labels);
  const ct = new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad }, key, mediaKey.key));
  return { v: ENVELOPE_VERSION, call: callId, from, to, kid: mediaKey.kid, iv: toBase64Url(iv), ct: toBase64Url(ct) };
}

/** Whether a received value has exactly the shape and sizes of an envelope: refuses any
 *  other field, oversized ids and anything whose length is not the one sealEnvelope makes. */
export function wellFormed(envelope) {
  if (typeof envelope !== "object" || envelope === null || Array.isArray(envelope)) return false;
  const fields = Object.keys(envelope);
  if (fields.length !== ENVELOPE_FIELDS.length || !ENVELOPE_FIELDS.every((f) => Object.hasOwn(envelope, f))) {
    return false;
  }
  const { v, call, from, to, kid, iv, ct } = envelope;
  if (v !== ENVELOPE_VERSION || ![call, from, to].every(validId)) return false;
  if (!Number.isSafeInteger(kid) || kid < 0 || kid > MAX_KEY_ID) return false;
  return fromBase64Url(iv)?.length === IV_BYTES && fromBase64Url(ct)?.length === SEALED_BYTES;
}

/** The media key in an envelope sent to `me` in call `callId`: {from, kid, key,
 *  senderKey}, or null when it is malformed, oversized, for another call or person, from
 *  someone not in `roster` (participant id -> public key base64url), or does not open
 *  (forged, altered, or sealed with another key). Never throws. */
export async function openEnvelope(
  envelope,
  { identity, callId, me, roster },
  subtle = globalThis.crypto.subtle,
  labels = MEDIA,
) {
  try {
    if (!wellFormed(envelope) || envelope.call !== callId || envelope.to !== me || envelope.from === me) return null;
    const senderKey = roster instanceof Map ? roster.get(envelope.from) : roster?.[envelope.from];
    const peer = typeof senderKey === "string" ? await importPublicKey(senderKey, subtle) : null;
    if (!peer) return null;
    const binding = { ...envelope, senderB64: senderKey, recipientB64: identity.publicKeyB64 };
    const key = await envelopeKey(subtle, identity.privateKey, peer, binding, labels);
    const params = { name: "AES-GCM", iv: fromBase64Url(envelope.iv), additionalData: envelopeAad(envelope, labels) };
    const media = new Uint8Array(await subtle.decrypt(params, key, fromBase64Url(envelope.ct)));
    return { from: envelope.from, kid: envelope.kid, key: media, senderKey };
  } catch {
    return null;
  }
}

/** The clinician's decision `clear` (go on without end-to-end encryption, or not), made
 *  as decision number `n` (above every earlier one: the time in ms), sealed for `to`. It
 *  is an envelope (the number as its key id, the decision in its first sealed byte), so
 *  the server can relay it but neither forge one in the clinician's name nor flip it. */
export async function sealDecision({ identity, callId, from, to, recipientKey, n, clear }, options = {}) {
  const body = new Uint8Array(KEY_BYTES);
  body[0] = clear ? 1 : 0;
  return sealEnvelope(
    { identity, callId, from, to, recipientKey, mediaKey: { kid: n, key: body } },
    { ...options, labels: DECISION },
  );
}

/** A decision sealed for `me`: {from, n, clear}, or null when it is malformed, for
 *  another call or person, from someone not in `roster`, or does not open. Never throws. */
export async function openDecision(envelope, { identity, callId, me, roster }, subtle = globalThis.crypto.subtle) {
  const opened = await openEnvelope(envelope, { identity, callId, me, roster }, subtle, DECISION);
  if (!opened || opened.key.slice(1).some((b) => b !== 0) || opened.key[0] > 1) return null;
  return { from: opened.from, n: opened.kid, clear: opened.key[0] === 1 };
}

/** The newest media key held from each sender. accept() takes an opened envelope only if
 *  its key id is above the one held: an old envelope replayed by the server (or delayed)
 *  cannot wind a sender back to a key a removed participant knows. A sender with a new
 *  public key (they rejoined) starts afresh. */
export class ReceivedKeys {
  constructor() {
    this._held = new Map(); // sender id -> {kid, key, senderKey}
  }

  accept(opened) {
    if (!opened) return false;
    const held = this._held.get(opened.from);
    if (held && held.senderKey === opened.senderKey && opened.kid <= held.kid) return false;
    this._held.set(opened.from, { kid: opened.kid, key: opened.key, senderKey: opened.senderKey });
    return true;
  }

  /** The newest {kid, key} held from a sender, or null. */
  latest(from) {
    const held = this._held.get(from);
    return held ? { kid: held.kid, key: held.key } : null;
  }

  /** Drop a sender who left. */
  forget(from) {
    this._held.delete(from);
  }
}
