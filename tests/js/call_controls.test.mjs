// node --test tests/js/: the call's controls and stage sentences, written once for the
// console and the tablet (web/static/js/call_controls.js, issue 11). A plain object
// stands in for the Call: these functions read its fields only.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  buttonStates, describePeerMedia, describeQuality, qualityText, stageNote,
} from "../../web/static/js/call_controls.js";

const CONSOLE = { mode: "Audio only", who: "The home", connecting: "Connecting to the home…", autoQuality: " · switched to audio only" };
const TABLET = { mode: "Sound only", who: "Hannah", connecting: "Hannah is joining…", autoQuality: " · sound only to save the connection" };

const call = (fields = {}) => ({
  muted: false, cameraOff: false, audioOnly: false, autoAudioOnly: false, peerAudioOnly: false, peerMuted: false,
  peerCameraOff: false, timings: { firstFrame: 812 }, pc: { connectionState: "connected" }, ...fields,
});

test("buttons: pressed state and the words that undo it", () => {
  assert.deepEqual(buttonStates(call(), CONSOLE), [
    { id: "mute", pressed: false, text: "Mute" },
    { id: "camera", pressed: false, text: "Camera off" },
    { id: "audio-only", pressed: false, text: "Audio only" },
  ]);
  assert.deepEqual(buttonStates(call({ muted: true, cameraOff: true, audioOnly: true }), TABLET), [
    { id: "mute", pressed: true, text: "Unmute" },
    { id: "camera", pressed: true, text: "Camera on" },
    { id: "audio-only", pressed: true, text: "Video on" },
  ]);
  assert.equal(buttonStates(call(), TABLET)[2].text, "Sound only");
});

test("the stage says why there is no video, in each page's words", () => {
  assert.equal(stageNote(call(), CONSOLE), null); // the video is showing
  assert.equal(stageNote(call({ audioOnly: true }), CONSOLE), "Audio only: video paused");
  assert.equal(stageNote(call({ audioOnly: true, autoAudioOnly: true }), TABLET), "Sound only: video paused because the connection is weak");
  assert.equal(stageNote(call({ peerAudioOnly: true }), CONSOLE), "The home switched to audio only");
  assert.equal(stageNote(call({ peerAudioOnly: true }), TABLET), "Hannah switched to sound only");
  assert.equal(stageNote(call({ peerCameraOff: true }), CONSOLE), "The home has turned the camera off");
  assert.equal(stageNote(call({ timings: {} }), TABLET), "Hannah is joining…");
  assert.equal(stageNote(call({ pc: { connectionState: "disconnected" } }), CONSOLE), "Reconnecting the video…");
  assert.equal(stageNote(call({ pc: { connectionState: "failed" } }), TABLET), "Reconnecting the video…");
});

test("quality and the other side's media, for people", () => {
  assert.equal(describeQuality("poor"), "Poor connection");
  assert.equal(describeQuality("nonsense"), "Connecting…");
  assert.equal(qualityText("poor", call({ autoAudioOnly: true }), CONSOLE), "Poor connection · switched to audio only");
  assert.equal(qualityText("good", null, TABLET), "Good connection");
  assert.equal(describePeerMedia(call(), "The home"), null);
  assert.equal(describePeerMedia(call({ peerMuted: true, peerCameraOff: true }), "Hannah"), "Hannah: muted · camera off");
});
