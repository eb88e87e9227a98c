// The guest's page (/guest): a camera and microphone check, the wait until the clinician
// lets this guest in, then the call on telehub's relay, end-to-end encrypted, with a
// tile (name and role) for each other participant, the verification code to read out
// and the security level in words. The guest sees and hears the call and nothing else.
//
// The server says where this guest stands: call.guests (everyone's guests and states,
// this one included) and call.media_route "relay" once it is let in. It closes the
// guest's socket with 4401 when the guest is removed or the call ends. This guest's
// participant id and call come from the page (the lobby renders them).

import { localMedia } from "./call.js";
import { CallTiles } from "./call_tiles.js";
import { deviceCheck, guestSocketUrl, ownState, securityWords, UNDECIDED_WORDS, verificationText } from "./guest_words.js";
import { letGo } from "./let_go.js";
import { RelayCall } from "./relay_call.js";
import { SignallingClient } from "./signalling.js";
import { expose, testFlag } from "./test_hooks.js";

const $ = (id) => document.getElementById(id);
const root = $("guest");
const me = root.dataset.participant;
const callId = Number(root.dataset.callId);

const sig = new SignallingClient({ url: guestSocketUrl(location) });
expose("telehubSignalling", sig); // test builds only (server.test_hooks)
const tiles = new CallTiles($("tiles"));

const page = {
  state: root.dataset.state, // waiting | in_call | left | removed
  stream: null, // this guest's camera and microphone (or an empty stream)
  ready: false, // the check is done: camera working, or sound only accepted
  relay: null,
  over: false,
};

// -- the camera and microphone check ------------------------------------------------

async function check() {
  $("check").hidden = false;
  $("sound-only").hidden = true;
  $("retry").hidden = true;
  let stream = null;
  try {
    stream = await localMedia(); // falls back to the microphone alone
  } catch (err) {
    console.warn("no camera or microphone", err);
  }
  if (page.over) {
    stream?.getTracks().forEach((t) => t.stop());
    return;
  }
  page.stream?.getTracks().forEach((t) => t.stop());
  page.stream = stream ?? new MediaStream();
  $("preview").srcObject = page.stream;
  const result = deviceCheck(stream);
  $("device-status").textContent = result.text;
  $("device-status").className = `device-status ${result.ok ? "ok" : "bad"}`;
  $("preview").hidden = !page.stream.getVideoTracks().length;
  if (result.soundOnly) {
    // Say so plainly and let the guest choose: sound only, or try the camera again.
    $("sound-only").hidden = false;
    $("sound-only").textContent = page.stream.getAudioTracks().length ? "Join with sound only" : "Join without camera or microphone";
    $("retry").hidden = false;
    return;
  }
  page.ready = true;
  maybeJoin();
}

$("sound-only").addEventListener("click", () => {
  $("sound-only").hidden = true;
  $("retry").hidden = true;
  $("device-status").textContent = "You will join with sound only.";
  page.ready = true;
  maybeJoin();
});
$("retry").addEventListener("click", () => check());

// -- where this guest stands ------------------------------------------------------------

sig.on("call.guests", (m) => {
  if (m.call_id !== callId) return;
  const state = ownState(m, me);
  if (!state) return;
  page.state = state;
  if (state === "left" || state === "removed") showOver();
  else if (state === "waiting") showWaiting();
  else maybeJoin();
});

sig.on("call.media_route", (m) => {
  if (m.call_id !== callId || m.route !== "relay") return;
  page.state = "in_call";
  maybeJoin();
});

sig.addEventListener("open", () => {
  // Once on the relay, RelayCall joins it again by itself on a new socket.
  if (!page.relay) maybeJoin();
});
sig.addEventListener("state", (e) => {
  if (page.over) return;
  $("link").hidden = e.detail === "open" || e.detail === "idle" || e.detail === "ended";
  $("link").textContent = "Connection lost: reconnecting…";
});
sig.addEventListener("ended", () => showOver()); // 4401: removed, or the call ended

function showWaiting() {
  $("lobby-title").textContent = "Waiting for the clinician to let you in";
  $("lobby-hint").textContent = "Keep this page open. The clinician knows you are here.";
}

/** Join the relay once let in, the check done and the socket open. */
function maybeJoin() {
  if (page.over || page.relay || page.state !== "in_call") return;
  if (!page.ready) {
    $("lobby-title").textContent = "You are in the call";
    $("lobby-hint").textContent = "The clinician has let you in: finish the camera check to join.";
    return;
  }
  if (sig.state !== "open") return; // joined on "open"
  startRelay();
}

function startRelay() {
  // keyless: test builds only, a guest holding no keys (tests/browser/test_relay_e2ee_browser.py).
  const relay = new RelayCall({ callId, me, signalling: sig, stream: page.stream, keyless: testFlag("keyless") });
  page.relay = relay;
  expose("telehubRelay", relay);
  relay.addEventListener("tile", (e) => {
    tiles.show(e.detail);
    $("nobody").hidden = true;
  });
  relay.addEventListener("roster", (e) => {
    tiles.roster(e.detail.filter((p) => p.participant !== me));
    $("nobody").hidden = tiles.tiles.size > 0;
  });
  relay.addEventListener("verification", (e) => ($("verification").textContent = verificationText(e.detail)));
  relay.addEventListener("connection", (e) => {
    if (e.detail === "failed") $("nobody").textContent = "The connection to the call failed: reconnecting…";
  });
  relay.addEventListener("clear", () => page.relay === relay && showSecurity(relay));
  showLive();
  showSecurity(relay);
  relay.start().catch((err) => {
    console.error(err);
    $("nobody").hidden = false;
    $("nobody").textContent = `Could not join the call: ${err.message}`;
  });
}

function showLive() {
  $("lobby").hidden = true;
  $("live").hidden = false;
  document.title = "In the call · telehub";
  $("verification").textContent = verificationText(null);
  $("camera").hidden = !page.stream.getVideoTracks().length;
  $("mute").hidden = !page.stream.getAudioTracks().length;
}

/** The level in words; with end-to-end encryption off, no code to compare; in a browser
 *  that cannot encrypt, what it waits for (the clinician's decision). */
function showSecurity(relay) {
  const security = securityWords(relay.encrypts, relay.clear);
  $("security").textContent = security.words;
  $("security-warning").textContent = security.warning;
  $("security-warning").hidden = !security.warning;
  $("verification").hidden = relay.clear || !relay.encrypts;
  if (!relay.encrypts && !relay.clear) {
    tiles.clear(); // what arrives now is ciphertext (RelayCall holds the tiles back)
    $("nobody").hidden = false;
    $("nobody").textContent = UNDECIDED_WORDS;
  }
}

function stopAll() {
  page.over = true;
  const relay = page.relay;
  page.relay = null;
  tiles.clear();
  page.stream?.getTracks().forEach((t) => t.stop());
  return relay?.stop().catch(() => {});
}

function showOver() {
  if (page.over) return;
  // The screen first: whatever letting go of the call does, the guest is told it is over.
  $("lobby").hidden = true;
  $("live").hidden = true;
  $("link").hidden = true;
  $("leave").hidden = true;
  $("over").hidden = false;
  document.title = "The call is over · telehub";
  letGo(stopAll, () => sig.close());
}

// -- controls -------------------------------------------------------------------------

function toggle(button, kind, onWords, offWords) {
  const tracks = page.stream?.getTracks().filter((t) => t.kind === kind) ?? [];
  const off = button.getAttribute("aria-pressed") !== "true";
  for (const t of tracks) t.enabled = !off;
  button.setAttribute("aria-pressed", String(off));
  button.textContent = off ? offWords : onWords;
}
$("mute").addEventListener("click", () => toggle($("mute"), "audio", "Mute", "Unmute"));
$("camera").addEventListener("click", () => toggle($("camera"), "video", "Camera off", "Camera on"));

$("leave").addEventListener("submit", async (event) => {
  // Off the relay first (the others rotate their keys at once), then the server's
  // "You have left" page.
  event.preventDefault();
  $("leave").querySelector("button").disabled = true;
  await stopAll();
  sig.close();
  $("leave").submit();
});

if (page.state === "left" || page.state === "removed") showOver();
else {
  check();
  sig.connect();
}
