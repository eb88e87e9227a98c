// Tablet: wait in the queue (place, estimated wait, camera check), then talk by video.
import { Call, describeQuality, localMedia } from "./call.js";
import { SignallingClient } from "./signalling.js";

const root = document.getElementById("call");
const callId = Number(root.dataset.callId);
const $ = (id) => document.getElementById(id);
const sig = new SignallingClient({ resumeCallId: callId });
window.telehubSignalling = sig;
let call = null;
let previewStream = null;
// An offer (and its ICE) can overtake the "answered" state: keep them for the call.
let early = [];
let callReady = false;
sig.on("rtc.offer", (m) => !callReady && m.call_id === callId && early.push(m));
sig.on("rtc.ice", (m) => !callReady && m.call_id === callId && early.push(m));

sig.addEventListener("state", (e) => {
  $("link").textContent = e.detail === "open" ? "" : e.detail === "ended"
    ? "This tablet is no longer enrolled." : "Reconnecting to the hub…";
  if (e.detail === "ended") location.assign("/enrol");
});

sig.on("call.state", (m) => {
  if (m.call_id !== callId) return;
  root.dataset.state = m.state;
  if (m.state === "waiting") showWaiting(m);
  else if (m.state === "answered" || m.state === "in_call") showLive(m);
  else showOver(m.state);
});

sig.on("error", (m) => {
  $("link").textContent = m.message;
});

sig.on("call.media", (m) => {
  if (m.call_id === callId) $("quality").textContent = m.mode === "audio"
    ? "The hub switched to audio only" : describeQuality(call?.quality ?? "unknown");
});

function showWaiting(m) {
  $("waiting").hidden = false;
  $("live").hidden = true;
  $("position").textContent = m.position === 1 ? "You are next" : `Place in queue: ${m.position ?? "…"}`;
  const mins = m.estimated_wait_s ? Math.max(1, Math.round(m.estimated_wait_s / 60)) : null;
  $("eta").textContent = mins ? `Estimated wait: about ${mins} minute${mins > 1 ? "s" : ""}` : "";
}

async function showLive(m) {
  $("waiting").hidden = true;
  $("live").hidden = false;
  $("joining").textContent = m.state === "in_call"
    ? `Talking to ${m.clinician_name ?? "the hub"}` : `${m.clinician_name ?? "A clinician"} is joining…`;
  if (call) return;
  stopPreview();
  call = new Call({ callId, role: "device", signalling: sig, localVideo: $("local"), remoteVideo: $("remote") });
  call.addEventListener("quality", (e) => ($("quality").textContent = describeQuality(e.detail)));
  call.addEventListener("controls", syncButtons);
  await call.start();
  callReady = true;
  // The clinician offers once it has answered; after a reload or reconnect our hello
  // (with resume_call_id) tells it we are back and it restarts ICE. Nothing to send here.
  for (const m of early.splice(0)) await (m.type === "rtc.offer" ? call._onOffer(m) : call._onIce(m));
}

function showOver(state) {
  call?.close();
  call = null;
  callReady = false;
  stopPreview();
  $("waiting").hidden = true;
  $("live").hidden = true;
  $("over").hidden = false;
  $("over-title").textContent = {
    ended: "The call has ended", cancelled: "The call was cancelled",
    abandoned: "The call was closed because the tablet lost its connection",
  }[state] ?? "The call is over";
  sig.close();
}

function syncButtons() {
  $("mute").textContent = call.muted ? "Unmute" : "Mute";
  $("camera").textContent = call.cameraOff ? "Camera on" : "Camera off";
  $("audio-only").textContent = call.audioOnly ? "Video on" : "Audio only";
}

async function startPreview() {
  try {
    previewStream = await localMedia();
    $("preview").srcObject = previewStream;
    $("device-status").textContent = previewStream.getVideoTracks().length
      ? "Camera and microphone working" : "No camera found: the call will be audio only";
    const audio = new AudioContext();
    const analyser = audio.createAnalyser();
    audio.createMediaStreamSource(previewStream).connect(analyser);
    const data = new Uint8Array(analyser.fftSize);
    const tick = () => {
      if (!previewStream) return audio.close();
      analyser.getByteTimeDomainData(data);
      const peak = Math.max(...data.map((v) => Math.abs(v - 128))) / 128;
      $("mic-level").value = peak;
      requestAnimationFrame(tick);
    };
    tick();
  } catch (err) {
    $("device-status").textContent = `Camera or microphone problem: ${err.message}`;
  }
}

function stopPreview() {
  for (const t of previewStream?.getTracks() ?? []) t.stop();
  previewStream = null;
}

$("cancel").addEventListener("click", () => sig.send("call.cancel", { call_id: callId }));
$("end").addEventListener("click", () => sig.send("call.end", { call_id: callId }));
$("mute").addEventListener("click", () => call?.toggleMute());
$("camera").addEventListener("click", () => call?.toggleCamera());
$("switch").addEventListener("click", () => call?.switchCamera());
$("audio-only").addEventListener("click", () => call?.setAudioOnly(!call.audioOnly));

if (root.dataset.state === "waiting" || root.dataset.state === "requested") startPreview();
sig.connect();
