// Tablet: wait in the queue (place, estimated wait, camera and microphone check), then
// talk by video, full screen, with one-tap controls. Survives reloads and Wi-Fi drops:
// the server tells a (re)connected tablet where its call stands.
//
// With guests (a GP, family member, interpreter): the tablet lists who has joined and
// their role (call.guests) before they can see the resident, and once one is let in the
// call moves onto telehub's relay (MediaRoute): a tile per participant with name and
// role, the verification code and the security level in words.
import { Call, localMedia, prefetchIce } from "./call.js";
import { showControls, showQuality, showStage, wireControls } from "./call_controls.js";
import { securityLevelOf } from "./call_security.js";
import { CallTiles, guestLine } from "./call_tiles.js";
import { verificationText } from "./guest_words.js";
import { letGo } from "./let_go.js";
import { MediaRoute } from "./media_route.js";
import { RelayCall } from "./relay_call.js";
import { SignallingClient } from "./signalling.js";
import { expose } from "./test_hooks.js";

const $ = (id) => document.getElementById(id);
const root = $("call");
const callId = Number(root.dataset.callId);
const OVER = {
  ended: ["The call has ended", "Thank you. The hub will record what was decided."],
  cancelled: ["The call was cancelled", "The hub no longer has this call."],
  abandoned: ["The call was closed", "The tablet lost its connection for too long. Call again if you still need the hub."],
};

// The sound level is redrawn ten times a second, not at the screen's 60: as readable
// for "speak to test", and a waiting tablet (a shared one, often on its charger) then
// uses half the CPU: 0.26 → 0.12 of a core for the whole page in headless Chromium.
const METER_MS = 100;
// Falls as fast as it did when redrawn every frame (×0.96 a frame at 60 a second).
const METER_FALL = 0.96 ** (METER_MS / (1000 / 60));

const sig = new SignallingClient({ resumeCallId: callId });
expose("telehubSignalling", sig); // test builds only (server.test_hooks)
let call = null;
let starting = null;
let clinician = null;
let preview = null; // { stream, audio, timer }
let route = null; // MediaRoute: peer to peer, or the relay while guests are in the call
let deviceId = null; // from welcome: this tablet's participant id is "device:<id>"
const tiles = new CallTiles($("tiles"));
// An offer (and its ICE) can overtake the "answered" state: keep them for the call.
const early = [];
for (const type of ["rtc.offer", "rtc.ice"]) {
  sig.on(type, (m) => m.call_id === callId && !call && early.push(m));
}

sig.addEventListener("state", (e) => {
  const state = e.detail;
  if (state === "ended") {
    location.assign("/enrol");
    return;
  }
  const over = root.dataset.state in OVER;
  $("link").hidden = state === "open" || state === "idle" || over;
  $("link").textContent = "Connection to the hub lost: reconnecting… Your call is kept.";
});

let seenSeq = -1; // the call's state seq last acted on
sig.on("call.state", (m) => {
  if (m.call_id !== callId) return;
  // Overtaken: read before a change we already heard of (a stale "waiting" must not
  // hang up a live call).
  if ((m.seq ?? 0) < seenSeq) return;
  seenSeq = m.seq ?? 0;
  root.dataset.state = m.state;
  if (m.state === "waiting") showWaiting(m);
  else if (m.state === "answered" || m.state === "in_call") showLive(m);
  else showOver(m.state);
});

sig.on("welcome", (m) => {
  deviceId = m.device_id;
});

sig.on("call.guests", (m) => {
  if (m.call_id !== callId) return;
  const lines = m.guests.map(guestLine).filter(Boolean);
  $("guest-list").replaceChildren(...lines.map((line) => {
    const li = document.createElement("li");
    li.textContent = line;
    return li;
  }));
  $("guests").hidden = lines.length === 0;
});

sig.on("error", (m) => {
  if (m.code === "not_found") showOver("cancelled");
  else console.warn("hub said:", m.message);
});

function showWaiting(m) {
  if (call) {
    // Handed back to the queue by the clinician: wait again.
    const ended = call;
    call = null;
    letGo(stopRoute, () => ended.close());
  }
  root.classList.remove("is-live");
  $("live").hidden = true;
  $("waiting").hidden = false;
  $("position").textContent = !m.position ? "Waiting for a nurse…"
    : m.position === 1 ? "You are next" : `Number ${m.position} in the queue`;
  const mins = m.estimated_wait_s ? Math.max(1, Math.round(m.estimated_wait_s / 60)) : null;
  $("eta").textContent = mins ? `Estimated wait: about ${mins} minute${mins > 1 ? "s" : ""}` : "";
  if (!preview) startPreview();
}

async function showLive(m) {
  clinician = m.clinician_name ?? "A nurse";
  $("waiting").hidden = true;
  $("live").hidden = false;
  root.classList.add("is-live");
  $("joining").textContent = m.state === "in_call" ? `Talking to ${clinician}` : `${clinician} is joining…`;
  if (!call || call.closed) {
    $("stage-note").textContent = `${clinician} is joining…`;
    $("stage-note").hidden = false;
  }
  if (call || starting) return;
  starting = startCall().finally(() => (starting = null));
}

async function startCall() {
  // The camera is already open for the check: hand it to the call (no second prompt).
  const stream = await (preview?.stream ?? null); // resolved before stopMeter() forgets it
  stopMeter();
  const c = new Call({ callId, role: "device", signalling: sig, localVideo: $("local"), remoteVideo: $("remote"), stream });
  c.addEventListener("quality", (e) => showQuality(e.detail, call, words()));
  c.addEventListener("controls", () => {
    showControls(c, words());
    updateStage(c);
  });
  c.addEventListener("first-frame", () => updateStage(c));
  c.addEventListener("peer-media", () => updateStage(c));
  c.addEventListener("connection", (e) => {
    if (e.detail === "connected") $("joining").textContent = `Talking to ${clinician}`;
    updateStage(c);
  });
  try {
    await c.start();
  } catch (err) {
    $("stage-note").textContent = `Could not start the video: ${err.message}`;
    $("stage-note").hidden = false;
    c.close();
    return;
  }
  if (!["answered", "in_call"].includes(root.dataset.state)) {
    c.close(); // handed back or ended while we were getting ready
    return;
  }
  call = c;
  startRoute(c);
  showControls(c, words());
  c.cameraCount().then((n) => ($("switch").hidden = n < 2)).catch(() => {});
  // The clinician offers once it has answered; after a reload or reconnect our hello
  // (with resume_call_id) tells it we are back and it restarts ICE. Nothing to send here.
  for (const m of early.splice(0)) c.deliver(m);
}

function showOver(state) {
  // The screen first: whatever letting go of the call does, the carer is told it is over.
  const ended = call;
  call = null;
  root.classList.remove("is-live");
  root.dataset.state = state;
  $("waiting").hidden = true;
  $("live").hidden = true;
  $("link").hidden = true;
  $("over").hidden = false;
  const [title, detail] = OVER[state] ?? ["The call is over", ""];
  $("over-title").textContent = title;
  $("over-detail").textContent = detail;
  document.title = `${title} · telehub`;
  letGo(stopRoute, () => ended?.close(), stopPreview, () => sig.close());
}

/** The tablet's words for the call (call_controls.js): plain ones, "sound only". */
function words() {
  return { mode: "Sound only", who: clinician, connecting: `${clinician} is joining…`, autoQuality: " · sound only to save the connection" };
}

/** What the big screen shows: the nurse, or a plain sentence saying why not. */
function updateStage(c) {
  showStage(c, document.querySelector("#live .stage"), words());
}

// -- with guests: the relay ----------------------------------------------------------

function startRoute(c) {
  const r = new MediaRoute({ call: c, me: `device:${deviceId}`, signalling: sig });
  route = r;
  expose("telehubRoute", r); // test builds only
  const stage = document.querySelector("#live .stage");
  r.addEventListener("relay", (e) => {
    const relay = e.detail;
    relay.addEventListener("tile", (t) => {
      if (route !== r || r.relay !== relay) return;
      tiles.show(t.detail);
      stage.classList.add("on-relay"); // the relay's tiles replace the direct video
    });
    relay.addEventListener("roster", (t) => r.relay === relay && tiles.roster(t.detail.filter((p) => p.participant !== r.me)));
    relay.addEventListener("verification", (t) => {
      if (r.relay === relay) $("verification").textContent = verificationText(t.detail);
    });
    // Going on without end-to-end encryption (someone's browser cannot): no code to compare.
    relay.addEventListener("clear", (t) => r.relay === relay && ($("verification").hidden = t.detail));
    $("verification").textContent = verificationText(null);
    $("verification").hidden = false;
    // How this side's media travels now: stored with the consultation, shown everywhere.
    const level = RelayCall.supported() ? "relay_e2ee" : "relay_not_e2ee";
    sig.send("call.security", { call_id: callId, level });
    $("security-warning").textContent = level === "relay_e2ee" ? ""
      : "This tablet's browser cannot encrypt the call end to end: telehub's relay could see and hear it.";
    $("security-warning").hidden = level === "relay_e2ee";
  });
  r.addEventListener("route", (e) => {
    if (e.detail !== "direct") return;
    $("security").hidden = true; // the direct path's words are in #path again
    tiles.clear();
    stage.classList.remove("on-relay");
    $("verification").hidden = true;
    $("security-warning").hidden = true;
    // Back to peer to peer: report the direct path's level again (the Call reports only
    // changes of its own path, which did not change while the relay carried the media).
    c.stats().then((s) => {
      const level = securityLevelOf(s);
      if (level && route === r) sig.send("call.security", { call_id: callId, level });
    }).catch(() => {});
  });
  r.addEventListener("security", (e) => {
    if (r.route !== "relay") return;
    $("security").textContent = e.detail;
    $("security").hidden = false;
  });
}

function stopRoute() {
  const r = route;
  route = null;
  tiles.clear();
  document.querySelector("#live .stage")?.classList.remove("on-relay");
  $("verification").hidden = true;
  r?.close()?.catch?.(() => {});
}

// -- the camera and microphone check while waiting --------------------------------

function startPreview() {
  const p = { stream: null, audio: null, timer: 0 };
  preview = p;
  p.stream = localMedia().then((stream) => {
    if (preview !== p) {
      for (const t of stream.getTracks()) t.stop();
      return null;
    }
    $("preview").srcObject = stream;
    $("device-status").textContent = stream.getVideoTracks().length
      ? "Camera and microphone working" : "No camera found: the call will be sound only";
    $("device-status").className = stream.getVideoTracks().length ? "device-status ok" : "device-status bad";
    meter(p, stream);
    return stream;
  }).catch((err) => {
    $("device-status").textContent = `Camera or microphone problem: ${err.message}`;
    $("device-status").className = "device-status bad";
    return null;
  });
}

function meter(p, stream) {
  if (!stream.getAudioTracks().length) return;
  const audio = new AudioContext();
  p.audio = audio;
  // Chromium may start it suspended until the page is touched.
  audio.resume().catch(() => {});
  document.addEventListener("pointerdown", () => audio.resume().catch(() => {}), { once: true });
  const analyser = audio.createAnalyser();
  analyser.fftSize = 1024;
  audio.createMediaStreamSource(stream).connect(analyser);
  const data = new Uint8Array(analyser.fftSize);
  let level = 0;
  const tick = () => {
    analyser.getByteTimeDomainData(data);
    let sum = 0;
    for (const v of data) sum += (v - 128) ** 2;
    const rms = Math.sqrt(sum / data.length) / 128;
    level = Math.max(rms * 3, level * METER_FALL); // quick rise, slow fall: readable
    $("mic-level").value = Math.min(1, level);
    p.timer = setTimeout(tick, METER_MS);
  };
  tick();
}

function stopMeter() {
  if (!preview) return;
  clearTimeout(preview.timer);
  preview.audio?.close().catch(() => {});
  preview = null;
}

function stopPreview() {
  const p = preview;
  stopMeter();
  p?.stream.then((s) => s && !call && s.getTracks().forEach((t) => t.stop()));
}

$("cancel").addEventListener("click", () => {
  $("cancel").disabled = true;
  if (sig.send("call.cancel", { call_id: callId }) === null) {
    $("cancel").disabled = false;
    $("link").hidden = false;
    $("link").textContent = "Not connected to the hub: try again in a moment.";
  }
});
wireControls({ getCall: () => call, onEnd: () => sig.send("call.end", { call_id: callId }) });

root.dataset.ready = "true"; // the script runs: call.css keeps the "did not load" line hidden
if (root.dataset.state in OVER) showOver(root.dataset.state);
else {
  if (root.dataset.state === "waiting" || root.dataset.state === "requested") startPreview();
  sig.connect();
  prefetchIce();
}
