// The call's controls and what a page says about the call, written once for every page
// that holds a call (the hub console and the care-home tablet): mute, camera, audio only
// (the tablet says "sound only"), switch camera and end; their pressed state and words;
// the connection quality line; and the sentence on the stage saying why there is no
// video. Pages pass their words ({ mode, who, connecting, autoQuality }):
//   mode         "Audio only" (console) | "Sound only" (tablet)
//   who          the other side: "The home" | the nurse's name
//   connecting   the stage's sentence before the first frame
//   autoQuality  appended to the quality line when the weak link forced audio only
// The functions above the "-- the page" line have no DOM and are unit-tested (node --test).

import { describeSecurity } from "./call_security.js";

export function describeQuality(level) {
  return {
    good: "Good connection",
    fair: "Fair connection",
    poor: "Poor connection",
    connecting: "Connecting…",
    reconnecting: "Reconnecting…",
  }[level] ?? "Connecting…";
}

/** The quality line: "Poor connection · switched to audio only". */
export function qualityText(level, call, words) {
  return describeQuality(level) + (call?.autoAudioOnly ? words.autoQuality : "");
}

/** How the media travels, for people: the level the server stored for this call (as
 *  both sides reported it), not a guess of this page's. */
export function describePath(stats) {
  return describeSecurity(stats?.securityLevel);
}

/** What the other side has turned off, for people: "Hannah Clarke: muted · camera off"
 *  (null when nothing is). */
export function describePeerMedia(call, who) {
  const off = [call.peerMuted && "muted", call.peerCameraOff && "camera off"].filter(Boolean);
  return off.length ? `${who}: ${off.join(" · ")}` : null;
}

/** Each toggle button's id, whether it is pressed, and its words. */
export function buttonStates(call, words) {
  return [
    { id: "mute", pressed: call.muted, text: call.muted ? "Unmute" : "Mute" },
    { id: "camera", pressed: call.cameraOff, text: call.cameraOff ? "Camera on" : "Camera off" },
    { id: "audio-only", pressed: call.audioOnly, text: call.audioOnly ? "Video on" : words.mode },
  ];
}

/** Why the stage shows no video, in a sentence (null: the video is showing). */
export function stageNote(call, words) {
  if (call.audioOnly) return `${words.mode}: video paused${call.autoAudioOnly ? " because the connection is weak" : ""}`;
  if (call.peerAudioOnly) return `${words.who} switched to ${words.mode.toLowerCase()}`;
  if (call.peerCameraOff) return `${words.who} has turned the camera off`;
  if (call.timings.firstFrame === undefined) return words.connecting;
  const state = call.pc?.connectionState;
  if (state === "disconnected" || state === "failed") return "Reconnecting the video…";
  return null;
}

// -- the page ------------------------------------------------------------------------

/** The buttons' pressed state and words, and no self-view while the camera is off. */
export function showControls(call, words, $ = byId) {
  for (const { id, pressed, text } of buttonStates(call, words)) {
    $(id).setAttribute("aria-pressed", String(pressed));
    $(id).textContent = text;
  }
  $("local").hidden = call.cameraOff || call.audioOnly;
}

/** The stage (an element holding #remote): the sentence in #stage-note, the other
 *  side's muted / camera-off line in #peer-state, and no black picture while its camera
 *  is off. */
export function showStage(call, stage, words, $ = byId) {
  const note = stageNote(call, words);
  stage.classList.toggle("sound-only", call.audioOnly || call.peerAudioOnly);
  const line = $("peer-state");
  const text = describePeerMedia(call, words.who);
  line.textContent = text ?? "";
  line.hidden = text === null;
  stage.classList.toggle("camera-off", call.peerCameraOff && !call.peerAudioOnly);
  $("stage-note").textContent = note ?? "";
  $("stage-note").hidden = note === null;
}

/** The quality line (#quality) and how the media travels (#path). */
export function showQuality({ level, stats }, call, words, $ = byId) {
  $("quality").className = `quality ${level}`;
  $("quality").textContent = qualityText(level, call, words);
  $("path").textContent = describePath(stats);
}

/** Clicks on the controls go to the page's current call (getCall() may return null);
 *  "end" is the page's own (the console keeps the notes first). */
export function wireControls({ getCall, onEnd }, $ = byId) {
  $("mute").addEventListener("click", () => getCall()?.toggleMute());
  $("camera").addEventListener("click", () => getCall()?.toggleCamera());
  $("audio-only").addEventListener("click", () => {
    const call = getCall();
    call?.setAudioOnly(!call.audioOnly);
  });
  $("switch")?.addEventListener("click", () => getCall()?.switchCamera());
  $("end").addEventListener("click", onEnd);
}

function byId(id) {
  return document.getElementById(id);
}
