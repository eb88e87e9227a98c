// Hub console: the live queue (no reload), alerts, answering, and the call itself.
import { api } from "./api.js";
import { Call, localMedia, prefetchIce } from "./call.js";
import { showControls, showQuality, showStage, wireControls } from "./call_controls.js";
import { securityLevelOf } from "./call_security.js";
import {
  badge, cell, cellNode, clockText, el, human, news2Badge, row,
} from "./console_format.js";
import { GuestsPanel } from "./console_guests.js";
import { InvitePanel } from "./console_invite.js";
import { NotesPanel } from "./console_notes.js";
import { PendingOutcomes } from "./console_outcomes.js";
import { showRecord } from "./console_record.js";
import { RelayStage } from "./console_relay.js";
import { SoundAlerts } from "./console_sound.js";
import { letGo } from "./let_go.js";
import { MediaRoute } from "./media_route.js";
import { SignallingClient } from "./signalling.js";
import { expose } from "./test_hooks.js";

const $ = (id) => document.getElementById(id);
const canAnswer = $("console").dataset.canAnswer === "yes";
const ANSWER_TARGET_S = Number($("console").dataset.answerTargetS) || 300;
const SKILL_FOR_REASON = JSON.parse($("console").dataset.skillForReason || "{}");
const TARGET_TEXT = ANSWER_TARGET_S % 60 ? `${ANSWER_TARGET_S}-second` : `${ANSWER_TARGET_S / 60}-minute`;
const NOT_ON_SHIFT = "you are not on shift (the queue is read-only until your shift starts)";
const TITLE = document.title;
const sig = new SignallingClient();
const notes = new NotesPanel(sig); // the call's note entries and this clinician's draft
const answered = {}; // { answerPressed, callId }: the call this page last answered
expose("telehubSignalling", sig); // test builds only (server.test_hooks)
expose("telehubTimings", answered); // answer pressed → first frame, for tests and benchmarks
let items = [];
let known = null; // call ids seen in the last snapshot (null until the first one)
let active = null; // { callId, call, handedTo, residentId }
let unseen = 0;
let media = null; // { callId, stream: Promise<MediaStream|null> } opened when Answer is pressed
// Who may answer what (GET /api/routing): the queue snapshot is the same for everyone,
// routing is per clinician. Until the first fetch, the page's own read-only flag holds.
const routing = { readOnly: $("console").dataset.readOnly === "yes", byCall: new Map(), onShift: null, enforced: false };

// -- the link ------------------------------------------------------------------------

// Logging out here ends this page's socket too (4401): the logout's own redirect wins.
let loggingOut = false;
document.querySelector('form[action="/logout"]')?.addEventListener("submit", () => (loggingOut = true));

sig.addEventListener("state", (e) => {
  const link = $("link");
  link.textContent = { open: "Live", connecting: "Connecting…", closed: "Reconnecting…", ended: "Session ended" }[e.detail] ?? e.detail;
  link.dataset.state = e.detail;
  if (e.detail === "ended" && !loggingOut) location.assign("/login?next=/console");
});

sig.on("welcome", () => {
  sig.send("queue.subscribe");
  if (active?.call) {
    // Our own socket came back: say so, and renegotiate with an ICE restart.
    sig.send("call.join", { call_id: active.callId });
    active.call.offer({ restart: true });
  }
  notes.reconnected(); // watch the call's notes again; send what was typed offline
});

sig.addEventListener("unsent", (e) => {
  if (e.detail.type.startsWith("notes.")) {
    notes.unsent(e.detail); // the text stays in the box, marked "not saved"
  } else if (e.detail.type !== "rtc.ice") {
    showError("Not connected to the server: try again in a moment.");
    render();
  }
});

// -- the queue -----------------------------------------------------------------------

sig.on("queue.snapshot", (m) => {
  const fresh = known ? m.items.filter((i) => i.state === "waiting" && !known.has(i.call_id)) : [];
  const now = Date.now();
  items = m.items.map((i) => ({ ...i, seenAt: now }));
  known = new Set(m.items.map((i) => i.call_id));
  render(new Set(fresh.map((i) => i.call_id)));
  refreshRoutingSoon();
  if (fresh.length) alertNew(fresh);
  else if (known.size === 0) document.title = TITLE;
});

let recentFresh = { ids: new Set(), until: 0 };
function render(fresh) {
  // A redraw soon after a new call arrived (a routing update) keeps its highlight.
  if (fresh === undefined) fresh = Date.now() < recentFresh.until ? recentFresh.ids : new Set();
  else if (fresh.size) recentFresh = { ids: fresh, until: Date.now() + 3000 };
  const body = $("queue-body");
  body.replaceChildren();
  const waiting = items.filter((i) => i.state === "waiting").length;
  $("count").textContent = String(waiting);
  $("count").classList.toggle("zero", waiting === 0);
  if (!items.length) {
    const tr = row([cell("No calls waiting.", "empty", 7)]);
    tr.classList.add("empty-row");
    body.append(tr);
    return;
  }
  for (const item of items) {
    const action = cell("", "action");
    if (canAnswer && item.state === "waiting" && !active) {
      const b = el("button", "Answer");
      b.type = "button";
      b.className = "primary";
      b.dataset.testid = "answer";
      const why = refusalFor(item);
      if (why) {
        // Off shift, or the call needs a skill: shown, but not answerable (the server refuses too).
        b.disabled = true;
        b.title = why.charAt(0).toUpperCase() + why.slice(1);
        b.dataset.refusal = why;
      } else {
        b.addEventListener("click", () => answer(item.call_id, b));
      }
      action.append(b);
    }
    const state = item.state === "waiting" ? "waiting"
      : `${label(`state:${item.state}`)}${item.claimed_by ? ` · ${item.claimed_by}` : ""}`;
    const waited = cell("", "waited num");
    waited.dataset.base = String(item.waited_s);
    waited.dataset.seenAt = String(item.seenAt);
    const tr = row([cellNode(news2Badge(item)), cell(item.resident_name, "resident"), cell(item.home_name),
      reasonCell(item), waited, cell(state, `state ${item.state}`), action]);
    tr.dataset.callId = String(item.call_id);
    const complete = item.news2_score !== null && !item.news2_missing.length;
    tr.className = `q-${complete ? item.news2_band : "unknown"}${item.state === "waiting" ? "" : " taken"}${fresh.has(item.call_id) ? " fresh" : ""}`;
    body.append(tr);
  }
  tick();
}

/** The reason, with a "needs prescriber" badge when the call needs a skill. */
function reasonCell(item) {
  const td = cell(label(item.reason));
  const known = routing.byCall.get(item.call_id);
  const skill = known ? known.needs : SKILL_FOR_REASON[item.reason];
  if (skill && item.state === "waiting") {
    const b = badge(`needs ${human(skill)}`, `needs${known?.shortfall ? " unmet" : ""}`);
    b.dataset.testid = "needs-skill";
    b.title = known?.shortfall ? `${known.shortfall}: any clinician on shift may answer` : `Offered to clinicians on shift who are a ${human(skill)}`;
    td.append(b);
  }
  return td;
}

/** Why this clinician may not answer the call now (null: they may). */
function refusalFor(item) {
  const known = routing.byCall.get(item.call_id);
  if (known) return known.may_answer ? null : known.refusal;
  return routing.readOnly ? NOT_ON_SHIFT : null; // a call newer than the last routing fetch
}


function tick() {
  for (const td of document.querySelectorAll("td.waited")) {
    const s = Number(td.dataset.base) + Math.floor((Date.now() - Number(td.dataset.seenAt)) / 1000);
    td.textContent = clockText(s);
    td.classList.toggle("long", s > ANSWER_TARGET_S); // past the answer-time target (rota.answer_target_s)
  }
  renderAlerts();
}
setInterval(tick, 1000);

const waitedNow = (item) => item.waited_s + Math.floor((Date.now() - item.seenAt) / 1000);

// -- routing: who may answer, shift status, alerts ------------------------------------------

let routingTimer = null;
let routingKey = "";
function refreshRoutingSoon() {
  clearTimeout(routingTimer);
  routingTimer = setTimeout(refreshRouting, 200);
}

async function refreshRouting() {
  clearTimeout(routingTimer);
  let data;
  try {
    data = await api("GET", "/api/routing");
  } catch {
    return; // the next queue update or poll tries again; the server enforces routing anyway
  }
  routing.readOnly = data.viewer.read_only;
  routing.enforced = data.enforced;
  routing.onShift = new Set(data.on_shift_ids);
  routing.byCall = new Map(data.calls.map((c) => [c.call_id, c]));
  const key = JSON.stringify([data.viewer.read_only, data.calls.map((c) => [c.call_id, c.refusal, c.needs, c.shortfall])]);
  const note = $("shift-note");
  note.textContent = data.viewer.shift_note ?? "";
  note.classList.toggle("on", data.viewer.on_shift);
  if ($("off-shift")) $("off-shift").hidden = !data.viewer.read_only;
  $("console").dataset.readOnly = data.viewer.read_only ? "yes" : "no";
  markColleagues(data.colleagues);
  if (key !== routingKey) {
    routingKey = key;
    render();
  } else renderAlerts();
}
setInterval(refreshRouting, 30_000); // shifts start and end between queue updates

/** Alerts at the top: calls nobody on shift can take as routed (server), and calls
 * waiting longer than the answer target (this page's timer). */
let shownAlerts = null; // what the server drew stays until the first queue snapshot
function renderAlerts() {
  if (known === null) return;
  const lines = [];
  for (const item of items) {
    if (item.state !== "waiting") continue;
    const who = `${item.resident_name} at ${item.home_name} (${label(item.reason)})`;
    const short = routing.byCall.get(item.call_id)?.shortfall;
    if (short) lines.push(["unanswerable", item.call_id, `${who}: ${short}`]);
    const s = waitedNow(item);
    if (s > ANSWER_TARGET_S) {
      lines.push(["over_target", item.call_id, `${who}: waiting ${clockText(s)}, over the ${TARGET_TEXT} answer target`]);
    }
  }
  // Redraw only when the set of alerts changes, not with every second of waiting.
  const signature = lines.map(([kind, id]) => `${kind}:${id}`).join(",");
  const list = $("routing-alert-list");
  if (signature === shownAlerts) {
    lines.forEach(([, , text], i) => {
      if (list.children[i]) list.children[i].textContent = text;
    });
    return;
  }
  shownAlerts = signature;
  list.replaceChildren(...lines.map(([kind, id, text]) => {
    const li = el("li", text);
    li.className = `alert-${kind}`;
    li.dataset.kind = kind;
    li.dataset.callId = String(id);
    return li;
  }));
  $("routing-alerts").hidden = lines.length === 0;
}

/** Mark colleagues who are off shift in the transfer list (the server refuses them). */
/** The transfer list from /api/routing: each colleague online (a console open on any
 *  node) or not, and on or off shift (when a published rota is in force), those who can
 *  take the call first. Off-shift colleagues cannot be chosen while routing by shift is
 *  enforced (the server refuses them too). */
function markColleagues(colleagues) {
  if (!colleagues) return;
  const select = $("colleague");
  const chosen = select.value;
  const first = select.options[0]; // "Transfer to…"
  select.replaceChildren(first, ...colleagues.map((c) => {
    const shift = c.on_shift === null ? null : c.on_shift ? "on shift" : "off shift";
    const option = el("option", [c.name, c.online ? "online" : "offline", shift].filter(Boolean).join(" · "));
    option.value = String(c.id);
    option.dataset.online = c.online ? "yes" : "no";
    option.dataset.onShift = c.on_shift === null ? "" : c.on_shift ? "yes" : "no";
    option.disabled = routing.enforced && c.on_shift === false;
    return option;
  }));
  select.value = [...select.options].some((o) => o.value === chosen && !o.disabled) ? chosen : "";
  $("transfer").disabled = !select.value;
}

// -- alerts --------------------------------------------------------------------------

function alertNew(fresh) {
  const high = fresh.some((i) => i.news2_band === "high" && !i.news2_missing.length);
  unseen += fresh.length;
  document.title = `(${unseen}) New call${high ? " — HIGH NEWS2" : ""} · telehub`;
  const box = $("console");
  box.classList.remove("flash", "flash-high");
  void box.offsetWidth; // restart the animation
  box.classList.add(high ? "flash-high" : "flash");
  sound.beep(high);
}

function acknowledge() {
  unseen = 0;
  document.title = TITLE;
}
window.addEventListener("focus", acknowledge);
document.addEventListener("pointerdown", acknowledge);


// Sound alerts (console_sound.js): remembered for this clinician in this browser.
const sound = new SoundAlerts($("sound"), $("console").dataset.userId);
sound.restore();

// -- guests: the invitation link, the lobby, and the call on the media relay -------------

// This clinician on the relay and in key envelopes (docs/signalling.md).
const ME = `staff:${$("console").dataset.userId}`;
const invite = new InvitePanel({ root: $("guests"), onError: showError });
const guests = new GuestsPanel({
  root: $("guests"), sound, onError: showError,
  onGuests: (list) => {
    relayIfGuestsIn(list);
    invite.refresh(); // a guest came in by a link (used now), or the guest part ended (links withdrawn)
  },
});
const relayStage = new RelayStage({
  stage: document.querySelector("#in-call .stage"),
  tiles: $("relay-tiles"),
  code: $("relay-code"),
  security: $("relay-security"),
  // Relayed: the level is this browser's (end to end, or not in this browser).
  onLevel: (level) => active && sig.send("call.security", { call_id: active.callId, level }),
  onDirect: reportDirectLevel,
  // A browser that cannot encrypt end to end: the other way out than going on without.
  me: ME,
  onRemove: (participant) => {
    const guest = guests.guests.find((g) => g.participant === participant);
    if (guest) guests.act("remove", guest);
  },
  onEndGuests: () => guests.endGuests(),
});
sig.on("call.guests", (m) => guests.show(m.call_id, m.guests));

/** Back to peer to peer: the level is the peer-to-peer path's again (direct or TURN). The
 *  Call reports only when its candidate pair changes, so say it here. */
function reportDirectLevel() {
  const call = active?.call;
  if (!call) return;
  call.stats()
    .then((s) => active?.call === call && sig.send("call.security", { call_id: active.callId, level: securityLevelOf(s) ?? "direct" }))
    .catch(() => {});
}

/** After a reload the server does not repeat call.media_route: a guest already in the
 *  call means the media goes through the relay (once this page's camera is open). */
function relayIfGuestsIn(list) {
  const route = active?.route;
  if (!route || !active.started || route.route !== "direct") return;
  if (list.some((g) => g.state === "in_call")) route.moveTo("relay").catch((err) => showError(`Could not move onto the relay: ${err.message}`));
}

// -- answering -----------------------------------------------------------------------

function answer(callId, button) {
  button.disabled = true;
  button.textContent = "Answering…";
  Object.assign(answered, { answerPressed: performance.now(), callId });
  if (sig.send("call.claim", { call_id: callId }) === null) {
    button.disabled = false;
    button.textContent = "Answer";
    return;
  }
  // Open the camera while the claim is on its way: it is on the path to the first frame.
  dropMedia();
  media = { callId, stream: localMedia().catch(() => null) };
}

function dropMedia() {
  media?.stream.then((s) => s?.getTracks().forEach((t) => t.stop()));
  media = null;
}

sig.on("call.claimed", (m) => {
  if (m.ok) startCall(m.call_id);
  else if (media?.callId === m.call_id) dropMedia();
  // ok false: an "error" with code conflict follows and names who has it.
});

sig.on("error", (m) => {
  showError(m.message);
  if (active?.handedTo) active.handedTo = null; // the transfer did not happen
  if (m.code === "forbidden" && media && !active) {
    dropMedia(); // routing refused the answer: off shift, or the call needs a skill
    refreshRouting();
  }
  if (m.code === "conflict" || m.code === "forbidden") render();
});

const seenSeq = new Map(); // call id → the state seq last acted on
sig.on("call.state", (m) => {
  if ((m.seq ?? 0) < (seenSeq.get(m.call_id) ?? -1)) return; // overtaken by a newer state
  seenSeq.set(m.call_id, m.seq ?? 0);
  if (!active || m.call_id !== active.callId) {
    // We only hear of calls we hold or held: an answered one we are not in was
    // transferred to us by a colleague, or is ours after a reload.
    if ((m.state === "answered" || m.state === "in_call") && canAnswer && !active) {
      if (answered.callId !== m.call_id) {
        // Not one we just answered: a colleague handed it to us (or this page reloaded).
        showNotice(`Call ${m.call_id} is yours${m.clinician_name ? `, ${m.clinician_name}` : ""}: connecting…`);
        sound.beep();
      }
      startCall(m.call_id);
    }
    return;
  }
  if (m.state === "waiting") stopCall("Call handed back to the queue.");
  else if (["ended", "cancelled", "abandoned"].includes(m.state)) stopCall(`Call ${m.state}.`);
  else if (m.state === "answered" && active.handedTo) stopCall(`Call transferred to ${m.clinician_name ?? "a colleague"}.`);
});

sig.on("call.peer", (m) => {
  // The tablet came back (new socket, or a reloaded page): restart ICE towards it.
  if (active?.call && m.call_id === active.callId && m.event === "joined") active.call.offer({ restart: true });
});

async function startCall(callId) {
  if (active) return;
  acknowledge();
  active = { callId, call: null, handedTo: null, residentId: null, route: null, started: false };
  $("in-call").hidden = false;
  notes.open(callId); // every entry of the call, and this clinician's own draft
  $("stage-note").textContent = "Connecting to the home…";
  $("stage-note").hidden = false;
  $("call-title").textContent = `Call ${callId}`;
  render();
  const stream = media?.callId === callId ? media.stream : null;
  media = null;
  const call = new Call({ callId, role: "clinician", signalling: sig, localVideo: $("local"), remoteVideo: $("remote"), stream });
  active.call = call;
  const route = new MediaRoute({ call, me: ME, signalling: sig });
  active.route = route;
  relayStage.attach(route);
  expose("telehubRoute", route); // test builds only
  invite.open(callId);
  guests.open(callId);
  call.addEventListener("quality", (e) => {
    showQuality(e.detail, call, WORDS);
    if (relayStage.words) $("path").textContent = relayStage.words; // relayed: the relay's level
  });
  call.addEventListener("controls", () => {
    syncButtons();
    updateStage(call);
  });
  for (const type of ["first-frame", "peer-media", "connection"]) call.addEventListener(type, () => updateStage(call));
  $("in-call").scrollIntoView({ behavior: "smooth", block: "start" });
  try {
    await call.start();
    if (active?.call !== call) return call.close();
    active.started = true;
    relayIfGuestsIn(guests.guests);
    await call.offer();
  } catch (err) {
    showError(`Could not start the video: ${err.message}`);
  }
  syncButtons();
  loadRecord(callId).catch((err) => showError(`Could not load the resident's record: ${err.message}`));
}

async function loadRecord(callId) {
  const c = await api("GET", `/api/calls/${callId}`);
  const r = await api("GET", `/api/residents/${c.resident_id}`);
  if (active?.callId !== callId) return;
  active.residentId = r.id;
  showRecord(callId, c, r, { homeName: items.find((i) => i.call_id === callId)?.home_name, label });
}

function stopCall(message) {
  const ending = active;
  active = null;
  letGo(
    () => notes.close(), // a draft still in the box becomes an entry
    () => ending?.route?.close()?.catch(() => {}),
    () => relayStage.detach(),
    () => guests.close(),
    () => invite.close(),
    () => ending?.call?.close(),
  );
  $("in-call").hidden = true;
  showNotice(message);
  render();
  outcomes.load();
}

/** The video, or a plain sentence saying why there is none. */
function updateStage(call) {
  if (active?.call === call) showStage(call, document.querySelector("#in-call .stage"), WORDS);
}

function syncButtons() {
  if (active?.call) showControls(active.call, WORDS);
}

// -- controls --------------------------------------------------------------------------

// The console's words for the call (call_controls.js).
const WORDS = { mode: "Audio only", who: "The home", connecting: "Connecting to the home…", autoQuality: " · switched to audio only" };
$("release").addEventListener("click", () => {
  if (!active) return;
  notes.commit(); // what is in the box becomes an entry before the call leaves us
  sig.send("call.release", { call_id: active.callId });
});
wireControls({
  getCall: () => active?.call,
  onEnd: () => {
    if (!active) return;
    notes.commit(); // what was typed in the last moment is kept, as an entry
    sig.send("call.end", { call_id: active.callId });
  },
});
$("colleague").addEventListener("change", () => ($("transfer").disabled = !$("colleague").value));
$("transfer").addEventListener("click", () => {
  const to = Number($("colleague").value);
  if (!active || !to) return;
  notes.commit();
  active.handedTo = to;
  sig.send("call.transfer", { call_id: active.callId, to_user_id: to });
});

// -- outcomes: calls this clinician ended but has not closed (console_outcomes.js) -------

// Answering was refused because a call of ours still needs its outcome (the server
// names it): show the outstanding outcomes, at the top, to record or defer there and then.
sig.on("error", (m) => {
  if (m.code !== "outcome_outstanding") return;
  dropMedia();
  render();
  outcomes.reveal().catch((err) => showError(`Could not load the outcomes outstanding: ${err.message}`));
});

// -- small helpers -----------------------------------------------------------------------

let errorTimer = null;
function showError(message) {
  $("console-error").textContent = message.charAt(0).toUpperCase() + message.slice(1);
  $("console-error").hidden = false;
  clearTimeout(errorTimer);
  errorTimer = setTimeout(() => ($("console-error").hidden = true), 10_000);
}

let noticeTimer = null;
function showNotice(message) {
  $("notice").textContent = message;
  $("notice").hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => ($("notice").hidden = true), 10_000);
}

// Labels the page was given (reasons, soft signs), else the code made readable.
const LABELS = Object.fromEntries([...document.querySelectorAll("#labels [data-key]")].map((e) => [e.dataset.key, e.textContent]));
const label = (key) => LABELS[key] ?? human(key.split(":").pop());

const outcomes = new PendingOutcomes({ enabled: canAnswer, label, notice: showNotice });

sig.connect();
outcomes.load();
refreshRouting();
if (canAnswer) prefetchIce();
