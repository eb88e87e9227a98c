// Byte helpers shared by the end-to-end encryption modules (no DOM, no state): base64url
// without padding (how public keys and envelopes travel in JSON), concatenation,
// length-prefixed fields (so that "ab"+"c" and "a"+"bc" never hash or bind the same) and
// big-endian integers up to 2^53 - 1 (JavaScript numbers are exact up to there).

const B64URL = /^[A-Za-z0-9_-]*$/;
const encoder = new TextEncoder();

/** Bytes as base64url without padding. */
export function toBase64Url(bytes) {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** base64url (no padding) back to bytes; null unless the text is canonical base64url, so
 *  one value has exactly one spelling (no padding, no stray bits, no other alphabet). */
export function fromBase64Url(text) {
  if (typeof text !== "string" || !B64URL.test(text) || text.length % 4 === 1) return null;
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return toBase64Url(bytes) === text ? bytes : null;
}

/** Any BufferSource (ArrayBuffer, typed array, DataView) as a Uint8Array view. */
export function asBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** The parts, one after another, in a new array. */
export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** UTF-8 bytes of a string. */
export function utf8(text) {
  return encoder.encode(text);
}

/** Each field (string or bytes) as a 4-byte big-endian length then its bytes. */
export function lengthPrefixed(...fields) {
  const parts = [];
  for (const field of fields) {
    const bytes = typeof field === "string" ? utf8(field) : field;
    parts.push(bigEndian(bytes.length, 4), bytes);
  }
  return concat(...parts);
}

/** A non-negative safe integer as `length` big-endian bytes (high bytes zero). */
export function bigEndian(value, length) {
  const out = new Uint8Array(length);
  let rest = value;
  for (let i = length - 1; i >= 0 && rest > 0; i--) {
    out[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  return out;
}

/** Whether two byte arrays hold the same bytes. */
export function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
