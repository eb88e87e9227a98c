// What the guest's page says, decided without the DOM (tests/js/guest_words.test.mjs):
// where this guest stands from the server's messages, the camera check's result, the
// security level and the verification code in plain words. guest_call.js shows them.

import { SECURITY_WORDS } from "./media_route.js";

/** This guest's state in a call.guests message ("waiting", "in_call", "left",
 *  "removed"), or null when the message does not name it. */
export function ownState(message, me) {
  return message.guests?.find((g) => g.participant === me)?.state ?? null;
}

/** The camera and microphone check, from what getUserMedia gave (or null: nothing). */
export function deviceCheck(stream) {
  const video = stream?.getVideoTracks().length ?? 0;
  const audio = stream?.getAudioTracks().length ?? 0;
  if (video && audio) return { ok: true, soundOnly: false, text: "Camera and microphone working" };
  if (audio) {
    return {
      ok: false,
      soundOnly: true,
      text: "Your camera could not be used (not allowed, or not found). You can join with sound only: the others will hear you but not see you.",
    };
  }
  if (video) {
    return {
      ok: false,
      soundOnly: false,
      text: "Your microphone could not be used: the others will see you but not hear you.",
    };
  }
  return {
    ok: false,
    soundOnly: true,
    text: "Your camera and microphone could not be used (not allowed, or not found). You can still join to see and hear the others, but they will not see or hear you.",
  };
}

/** The call's security level for this browser, in words, with a plain warning when the
 *  browser cannot encrypt end to end, or when the clinician chose to go on without
 *  end-to-end encryption (``clear``) because someone's browser cannot. */
export function securityWords(supported, clear = false) {
  if (!supported) {
    return {
      words: SECURITY_WORDS.relay_not_e2ee,
      warning: "This browser cannot encrypt the call end to end: telehub's relay could see and hear it. Use a recent Chrome, Edge or Safari if you can.",
    };
  }
  if (clear) {
    return {
      words: SECURITY_WORDS.relay_not_e2ee,
      warning: "Someone's browser cannot encrypt the call end to end, and the clinician chose to go on without it: telehub's relay could see and hear the call.",
    };
  }
  return { words: SECURITY_WORDS.relay_e2ee, warning: "" };
}

/** What a guest whose browser cannot encrypt sees until the clinician decides. */
export const UNDECIDED_WORDS =
  "Your browser cannot encrypt the call end to end. The clinician is deciding whether to go on without it: you will see and hear the others if so.";

/** The verification code as the page shows it. */
export function verificationText(words) {
  return words?.length ? `Read these words out: ${words.join(" ")}` : "Waiting for everyone's security keys…";
}

/** The WebSocket URL of the guest's signalling on this page's origin. */
export function guestSocketUrl(loc) {
  return `${loc.protocol === "https:" ? "wss" : "ws"}://${loc.host}/ws/guest`;
}
