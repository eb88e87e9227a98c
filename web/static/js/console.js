// Hub console: the live queue (no reload), alerts, answering, and the call itself.
import { api } from "./api.js";
import { Call, describeQuality } from "./call.js";
import { SignallingClient } from "./signalling.js";

const $ = (id) => document.getElementById(id);
const canAnswer = $("console").dataset.canAnswer === "yes";
const sig = new SignallingClient();
window.telehubSignalling = sig;
let items = [];
let known = new Set();
let active = null; // { callId, call, residentId }
let audio = null;
let notesTimer = null;

sig.addEventListener("state", (e) => {
  $("link").textContent = { open: "Live", connecting: "Connecting…", closed: "Reconnecting…", ended: "Session ended" }[e.detail] ?? e.detail;
  $("link").dataset.state = e.detail;
  if (e.detail === "ended") location.assign("/login?next=/console");
});

sig.on("welcome", () => {
  sig.send("queue.subscribe");
  // After our own reconnect, renegotiate the live call with an ICE restart.
  if (active?.call) {
    sig.send("call.join", { call_id: active.callId });
    active.call.offer({ restart: true });
  }
});

sig.on("queue.snapshot", (m) => {
  const fresh = m.items.filter((i) => i.state === "waiting" && !known.has(i.call_id));
  items = m.items.map((i) => ({ ...i, seenAt: Date.now() }));
  known = new Set(m.items.map((i) => i.call_id));
  render();
  if (fresh.length) alertNew(fresh);
});

sig.on("call.claimed", (m) => {
  if (m.ok) startCall(m.call_id);
});

sig.on("error", (m) => showError(m.message));

sig.on("call.state", (m) => {
  if (!active || m.call_id !== active.callId) {
    // We only hear about calls we hold or held: an answered one we are not in was
    // transferred to us by a colleague (or is ours after a reload).
    if (m.state === "answered" || m.state === "in_call") startCall(m.call_id);
    return;
  }
  if (["ended", "cancelled", "abandoned", "waiting"].includes(m.state)) stopCall(`Call ${m.state === "waiting" ? "handed back to the queue" : m.state}.`);
  else if (m.state === "answered" && m.clinician_name && active.handedTo) stopCall(`Transferred to ${m.clinician_name}.`);
});

sig.on("call.peer", (m) => {
  if (active?.call && m.call_id === active.callId && m.event === "joined") active.call.offer({ restart: true });
});

sig.on("call.media", (m) => {
  if (active && m.call_id === active.callId) $("quality").textContent = m.mode === "audio" ? "The home switched to audio only" : "Video back on";
});

function render() {
  const body = $("queue-body");
  body.replaceChildren();
  $("count").textContent = String(items.filter((i) => i.state === "waiting").length);
  if (!items.length) {
    const tr = row([cell("No calls waiting.", "empty", 7)]);
    tr.classList.add("empty-row");
    body.append(tr);
    return;
  }
  for (const item of items) {
    const badge = document.createElement("span");
    if (item.news2_score === null) {
      badge.className = "band missing";
      badge.textContent = "not taken";
    } else {
      badge.className = `band ${item.news2_band}${item.news2_missing.length ? " incomplete" : ""}`;
      badge.textContent = item.news2_missing.length ? `${item.news2_score}+?` : String(item.news2_score);
      badge.title = item.news2_missing.length ? `missing: ${item.news2_missing.join(", ")}` : item.news2_band;
    }
    const waited = cell("", "waited");
    waited.dataset.base = String(item.waited_s);
    waited.dataset.seenAt = String(item.seenAt);
    const action = cell("");
    if (canAnswer && item.state === "waiting") {
      const b = document.createElement("button");
      b.className = "primary";
      b.textContent = "Answer";
      b.dataset.testid = "answer";
      b.setAttribute("data-testid", "answer");
      b.addEventListener("click", () => {
        b.disabled = true;
        sig.send("call.claim", { call_id: item.call_id });
      });
      action.append(b);
    }
    const tr = row([cellNode(badge), cell(item.resident_name), cell(item.home_name), cell(item.reason.replaceAll("_", " ")),
      waited, cell(item.claimed_by ? `${item.state.replace("_", " ")} (${item.claimed_by})` : item.state), action]);
    tr.dataset.callId = String(item.call_id);
    tr.className = `q-${item.news2_band ?? "unknown"}`;
    body.append(tr);
  }
  tick();
}

function tick() {
  for (const td of document.querySelectorAll("td.waited")) {
    const s = Number(td.dataset.base) + Math.floor((Date.now() - Number(td.dataset.seenAt)) / 1000);
    td.textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }
}
setInterval(tick, 1000);

function alertNew(fresh) {
  const high = fresh.some((i) => i.news2_band === "high");
  document.title = `(${fresh.length}) New call — telehub`;
  $("console").classList.remove("flash");
  void $("console").offsetWidth;
  $("console").classList.add("flash", high ? "flash-high" : "flash-normal");
  if (audio) beep(high);
  setTimeout(() => (document.title = "Hub console · telehub"), 10_000);
}

function beep(high) {
  const now = audio.currentTime;
  for (let i = 0; i < (high ? 3 : 1); i++) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = high ? 880 : 660;
    gain.gain.value = high ? 0.6 : 0.25;
    osc.connect(gain).connect(audio.destination);
    osc.start(now + i * 0.35);
    osc.stop(now + i * 0.35 + 0.25);
  }
}

$("sound").addEventListener("click", () => {
  audio = new AudioContext();
  beep(false);
  $("sound").textContent = "Sound alerts on";
  $("sound").disabled = true;
});

async function startCall(callId) {
  if (active) return;
  const item = items.find((i) => i.call_id === callId);
  active = { callId, call: null, handedTo: null };
  $("in-call").hidden = false;
  $("notes").value = "";
  $("notes-state").textContent = "";
  const call = new Call({ callId, role: "clinician", signalling: sig, localVideo: $("local"), remoteVideo: $("remote") });
  active.call = call;
  call.addEventListener("quality", (e) => ($("quality").textContent = describeQuality(e.detail)));
  call.addEventListener("controls", () => {
    $("mute").textContent = call.muted ? "Unmute" : "Mute";
    $("camera").textContent = call.cameraOff ? "Camera on" : "Camera off";
    $("audio-only").textContent = call.audioOnly ? "Video on" : "Audio only";
  });
  await call.start();
  await call.offer();
  const detail = await api("GET", `/api/calls/${callId}`).catch(() => null);
  if (detail) showResident(detail.resident_id, item);
}

async function showResident(residentId, item) {
  const r = await api("GET", `/api/residents/${residentId}`);
  $("resident-name").textContent = r.name;
  const facts = $("resident-facts");
  facts.replaceChildren();
  const add = (k, v) => facts.append(el("dt", k), el("dd", v));
  add("Born", r.date_of_birth);
  add("NHS number", r.nhs_number.replace(/(\d{3})(\d{3})(\d{4})/, "$1 $2 $3"));
  add("DNACPR", r.dnacpr ? "Yes" : "No");
  add("End-of-life care", r.end_of_life ? "Yes" : "No");
  add("Allergies", r.allergies || "None recorded");
  add("Alerts", r.alerts || "None recorded");
  if (item) add("This call", `${item.reason.replaceAll("_", " ")}, NEWS2 ${item.news2_score ?? "not taken"}`);
  const history = $("history");
  history.replaceChildren();
  for (const c of r.consultations.filter((c) => c.id !== active?.callId).slice(0, 10)) {
    history.append(el("li", `${c.requested_at.slice(0, 10)} — ${c.reason.replaceAll("_", " ")} — ${(c.outcome ?? c.state).replaceAll("_", " ")}`));
  }
}

function stopCall(message) {
  active?.call?.close();
  active = null;
  $("in-call").hidden = true;
  showNotice(message);
  loadPending();
}

// Calls this clinician ended but has not closed: each needs its coded outcome.
async function loadPending() {
  if (!canAnswer) return;
  const { calls } = await api("GET", "/api/outcomes/pending");
  const box = $("pending");
  box.replaceChildren();
  $("outcomes").hidden = calls.length === 0;
  for (const c of calls) {
    const form = $("outcome-form").content.firstElementChild.cloneNode(true);
    form.dataset.callId = String(c.call_id);
    form.querySelector(".which").textContent = `Call ${c.call_id}: ${c.reason.replaceAll("_", " ")}, ended ${new Date(c.ended_at).toLocaleTimeString()}`;
    form.addEventListener("submit", (event) => submitOutcome(event, form, c.call_id));
    box.append(form);
  }
}

async function submitOutcome(event, form, callId) {
  event.preventDefault();
  const f = new FormData(form);
  const local = f.get("call_back_at");
  const errorBox = form.querySelector(".error");
  try {
    await api("POST", `/api/calls/${callId}/outcome`, {
      outcome: f.get("outcome"),
      follow_up: f.get("follow_up"),
      admission_judgement: f.get("admission_judgement"),
      call_back_at: local ? new Date(local).toISOString() : null,
    });
    showNotice(`Outcome recorded for call ${callId}.`);
    loadPending();
  } catch (err) {
    errorBox.textContent = err.message;
    errorBox.hidden = false;
  }
}

$("notes").addEventListener("input", () => {
  clearTimeout(notesTimer);
  $("notes-state").textContent = "typing…";
  notesTimer = setTimeout(() => {
    if (active) sig.send("notes.save", { call_id: active.callId, text: $("notes").value });
  }, 600);
});
sig.on("notes.saved", () => ($("notes-state").textContent = "saved"));

$("mute").addEventListener("click", () => active?.call?.toggleMute());
$("camera").addEventListener("click", () => active?.call?.toggleCamera());
$("audio-only").addEventListener("click", () => active?.call?.setAudioOnly(!active.call.audioOnly));
$("release").addEventListener("click", () => active && sig.send("call.release", { call_id: active.callId }));
$("end").addEventListener("click", () => active && sig.send("call.end", { call_id: active.callId }));
$("transfer").addEventListener("click", () => {
  const to = Number($("colleague").value);
  if (!active || !to) return;
  active.handedTo = to;
  sig.send("call.transfer", { call_id: active.callId, to_user_id: to });
});

function showError(message) {
  $("console-error").textContent = message;
  $("console-error").hidden = false;
  setTimeout(() => ($("console-error").hidden = true), 8000);
  render();
}

function showNotice(message) {
  $("notice").textContent = message;
  $("notice").hidden = false;
  setTimeout(() => ($("notice").hidden = true), 8000);
}

const el = (tag, text) => Object.assign(document.createElement(tag), { textContent: text });
const cell = (text, cls, span) => {
  const td = el("td", text);
  if (cls) td.className = cls;
  if (span) td.colSpan = span;
  return td;
};
const cellNode = (node) => {
  const td = document.createElement("td");
  td.append(node);
  return td;
};
const row = (cells) => {
  const tr = document.createElement("tr");
  tr.append(...cells);
  return tr;
};

sig.connect();
loadPending();
