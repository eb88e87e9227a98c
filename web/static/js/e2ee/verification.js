// The verification code of an end-to-end encrypted call: four words derived from every
// participant's public key (keys.js), shown on every screen so people can read them out.
// If the server swapped anyone's key in transit, the screens show different words.
//
// code = the first 4 bytes of SHA-256(label || number of keys || each key, length-prefixed,
// in byte order), each byte a word from WORDS. Sorting makes the code independent of the
// order in which a browser learnt the keys; length prefixes and the count make every set
// of keys hash differently from every other (no two sets share one byte string).
//
// What it does not stop: with 32 bits, a server that grinds key pairs on both sides of a
// split call can look for two views with equal codes (a birthday search, about 2^16 key
// pairs each side) — people comparing codes is a check against a swapped key, not proof.
// docs/media.md, "Frame format and keys".

import { bigEndian, concat, fromBase64Url, lengthPrefixed, utf8 } from "./bytes.js";

export const CODE_WORDS = 4;
const LABEL = "telehub verification code v1";

// 256 short, everyday, easily told apart English words (one per byte value), in
// alphabetical order. Never reorder or edit: every browser in a call must hold the same list.
export const WORDS = Object.freeze([
  "acorn", "actor", "adult", "agent", "album", "alley", "amber", "angle", "ankle", "apple",
  "apron", "arena", "arrow", "atlas", "attic", "award", "bacon", "badge", "bagel", "baker",
  "banjo", "barn", "basin", "basket", "beach", "beard", "bench", "berry", "bicycle", "bison",
  "blanket", "blossom", "boat", "bonus", "book", "border", "bottle", "bowl", "bracket",
  "branch", "bread", "brick", "bridge", "broom", "brother", "bucket", "buffalo", "button",
  "cabin", "cactus", "camel", "camera", "canal", "candle", "canoe", "canvas", "captain",
  "carpet", "carrot", "castle", "cedar", "cello", "chair", "chalk", "cherry", "chess",
  "chimney", "circle", "citrus", "cloud", "clover", "coconut", "comet", "compass", "copper",
  "cotton", "cousin", "cowboy", "crayon", "cricket", "crystal", "cup", "curtain", "daisy",
  "dancer", "desert", "diamond", "dinner", "dolphin", "domino", "donkey", "door", "dragon",
  "drum", "eagle", "easel", "elbow", "elephant", "engine", "envelope", "falcon", "farmer",
  "feather", "fence", "ferry", "fiddle", "field", "finch", "flag", "flute", "forest",
  "fountain", "fox", "garden", "garlic", "giant", "ginger", "giraffe", "glacier", "globe",
  "goose", "grape", "gravel", "guitar", "hammer", "harbor", "harp", "hazel", "helmet", "heron",
  "hill", "honey", "hotel", "island", "ivory", "jacket", "jelly", "jigsaw", "jungle", "kayak",
  "kettle", "kitten", "kiwi", "ladder", "lagoon", "lamp", "lantern", "lemon", "letter",
  "lighthouse", "lily", "lion", "lobster", "magnet", "mango", "maple", "marble", "meadow",
  "melon", "mirror", "mitten", "monkey", "moon", "mountain", "muffin", "museum", "needle",
  "nest", "noodle", "ocean", "olive", "onion", "orange", "orchard", "otter", "owl", "paddle",
  "palace", "panda", "paper", "parrot", "peach", "peanut", "pebble", "pelican", "pencil",
  "penguin", "pepper", "piano", "pickle", "pillow", "pilot", "pine", "planet", "plum", "pocket",
  "pony", "potato", "pumpkin", "puzzle", "quilt", "rabbit", "radio", "rainbow", "raven",
  "ribbon", "river", "robin", "rocket", "saddle", "sailor", "salmon", "sandal", "scarf",
  "school", "shell", "shovel", "silver", "sketch", "sled", "snail", "socks", "spider", "spoon",
  "squirrel", "stamp", "star", "stone", "sugar", "summit", "sunset", "swan", "table", "teapot",
  "tiger", "toast", "tomato", "tower", "tractor", "train", "tulip", "turtle", "umbrella",
  "valley", "velvet", "violin", "wagon", "walnut", "walrus", "whistle", "window", "winter",
  "wizard", "yacht", "zebra", "zipper"
]);

function compareBytes(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** The words for a call whose participants' public keys (base64url, any order) are
 *  `publicKeys`; null when one of them is not base64url. */
export async function verificationCode(publicKeys, { words = CODE_WORDS, subtle = globalThis.crypto.subtle } = {}) {
  if (!Array.isArray(publicKeys) || publicKeys.length === 0 || words < 1 || words > 32) return null;
  const keys = publicKeys.map(fromBase64Url);
  if (keys.some((key) => key === null)) return null;
  keys.sort(compareBytes);
  const input = concat(utf8(LABEL), bigEndian(keys.length, 4), lengthPrefixed(...keys));
  const digest = new Uint8Array(await subtle.digest("SHA-256", input));
  return Array.from(digest.subarray(0, words), (b) => WORDS[b]);
}
