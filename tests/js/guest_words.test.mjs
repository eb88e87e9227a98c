// node --test tests/js/: what the guest's page says (web/static/js/guest_words.js), and
// the participant words shared by every page on the relay (web/static/js/call_tiles.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { guestLine, roleLabel, tileCaption } from "../../web/static/js/call_tiles.js";
import { deviceCheck, guestSocketUrl, ownState, securityWords, verificationText } from "../../web/static/js/guest_words.js";
import { SECURITY_WORDS } from "../../web/static/js/media_route.js";

/** Just enough of a MediaStream: its tracks by kind. */
const stream = (...kinds) => ({
  getVideoTracks: () => kinds.filter((k) => k === "video"),
  getAudioTracks: () => kinds.filter((k) => k === "audio"),
});

test("the guest finds itself in call.guests by its participant id, not by its name", () => {
  const message = {
    call_id: 4,
    guests: [
      { participant: "guest:1", name: "Sam Smith", role: "family", state: "waiting" },
      { participant: "guest:2", name: "Sam Smith", role: "gp", state: "in_call" },
    ],
  };
  assert.equal(ownState(message, "guest:2"), "in_call");
  assert.equal(ownState(message, "guest:1"), "waiting");
  assert.equal(ownState(message, "guest:9"), null);
  assert.equal(ownState({ call_id: 4 }, "guest:1"), null);
});

test("the camera check says plainly what works and offers sound only without a camera", () => {
  assert.deepEqual(deviceCheck(stream("video", "audio")), { ok: true, soundOnly: false, text: "Camera and microphone working" });
  const noCamera = deviceCheck(stream("audio"));
  assert.equal(noCamera.ok, false);
  assert.equal(noCamera.soundOnly, true);
  assert.match(noCamera.text, /join with sound only/);
  const nothing = deviceCheck(null);
  assert.equal(nothing.soundOnly, true);
  assert.match(nothing.text, /camera and microphone could not be used/);
  assert.match(deviceCheck(stream("video")).text, /will see you but not hear you/);
});

test("the security level is the shared wording, with a warning when the browser cannot encrypt", () => {
  assert.deepEqual(securityWords(true), { words: SECURITY_WORDS.relay_e2ee, warning: "" });
  const not = securityWords(false);
  assert.equal(not.words, "Through telehub relay, NOT end-to-end encrypted (this browser cannot)");
  assert.match(not.warning, /cannot encrypt the call end to end/);
  assert.deepEqual(securityWords(false, true), not); // this browser's own reason comes first
  const waived = securityWords(true, true);
  assert.equal(waived.words, not.words);
  assert.match(waived.warning, /clinician chose to go on without it/);
});

test("the verification code is read out as words; until every key is in, the page says it waits", () => {
  assert.equal(verificationText(["apple", "river", "stone", "lamp"]), "Read these words out: apple river stone lamp");
  assert.equal(verificationText(null), "Waiting for everyone's security keys…");
  assert.equal(verificationText([]), "Waiting for everyone's security keys…");
});

test("the guest's socket is /ws/guest on the page's own origin", () => {
  assert.equal(guestSocketUrl({ protocol: "https:", host: "hub.example:8443" }), "wss://hub.example:8443/ws/guest");
  assert.equal(guestSocketUrl({ protocol: "http:", host: "127.0.0.1:8080" }), "ws://127.0.0.1:8080/ws/guest");
});

test("participants are shown by name and role in words", () => {
  assert.equal(roleLabel("device"), "Care home");
  assert.equal(roleLabel("clinician"), "Clinician");
  assert.equal(roleLabel("gp"), "GP");
  assert.equal(roleLabel("family"), "Family member");
  assert.equal(roleLabel("interpreter"), "Interpreter");
  assert.equal(roleLabel("something new"), "Guest");
  assert.equal(tileCaption({ name: "Sam Smith", role: "family" }), "Sam Smith · Family member");
  assert.equal(tileCaption({ name: "", role: "device" }), "Care home");
});

test("the tablet lists guests still there with their role and where they are", () => {
  assert.equal(guestLine({ name: "Sam Smith", role: "family", state: "waiting" }), "Sam Smith (Family member) — waiting");
  assert.equal(guestLine({ name: "Dr Patel", role: "gp", state: "in_call" }), "Dr Patel (GP) — in the call");
  assert.equal(guestLine({ name: "Gone", role: "gp", state: "left" }), null);
  assert.equal(guestLine({ name: "Out", role: "other", state: "removed" }), null);
});
