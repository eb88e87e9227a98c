// The console's stage while the call goes through telehub's media relay (a guest is in
// the call): one tile per other participant (their video, with their name and role under
// it; their audio plays from the same element), the verification code to read out, and
// the security level in words. The route itself (MediaRoute, media_route.js) moves the
// media; this only shows it. Back to direct, the tiles and the code go and the normal
// two-party stage returns. The functions above "-- the page" have no DOM and are
// unit-tested (tests/js/console_guests.test.mjs).
import { el } from "./console_format.js";
import { roleWords } from "./console_guests.js";
import { SECURITY_WORDS } from "./media_route.js";

const PARTY_WORDS = { clinician: "Clinician", device: "Care home" };

/** A participant's role in words: "Care home", "Clinician", "GP", "Family member". */
export const participantRole = (role) => PARTY_WORDS[role] ?? (role ? roleWords(role) : "");

/** The words under a tile: "Sam Smith · Family member" (what is known of them so far). */
export function tileCaption({ name, role }) {
  return [name, participantRole(role)].filter(Boolean).join(" · ") || "Joining…";
}

/** The verification code in a sentence, or null until everyone has announced a key. */
export const codeText = (words) => (Array.isArray(words) && words.length ? `Read these words out: ${words.join(" ")}` : null);

/** The security level (call.security) whose words these are: SECURITY_WORDS reversed. */
export const levelOf = (words) => Object.keys(SECURITY_WORDS).find((k) => SECURITY_WORDS[k] === words) ?? null;

/** Tiles of participants no longer on the relay's roster (they left or were removed). */
export const gone = (tileIds, roster) => [...tileIds].filter((id) => !roster.some((p) => p.participant === id));

// -- the page ------------------------------------------------------------------------

export class RelayStage {
  /** ``stage``: the call's stage (holding #remote); ``tiles``, ``code``, ``security``:
   *  the elements for the tiles, the verification code and the level in words;
   *  ``onLevel(level)``: report a relayed level to the server; ``onDirect()``: the
   *  route is back to peer to peer. */
  constructor({ stage, tiles, code, security, onLevel = () => {}, onDirect = () => {} }) {
    Object.assign(this, { stage, tilesBox: tiles, codeBox: code, securityBox: security, onLevel, onDirect });
    this.tiles = new Map(); // participant → { figure, video, caption, stream, name, role }
    this.route = null;
    this.words = null; // the security level in words while relayed
  }

  /** Follow a MediaRoute (one per call). */
  attach(route) {
    this.clear();
    this.route = route;
    const mine = (fn) => (e) => this.route === route && fn(e.detail);
    route.addEventListener("route", mine((where) => (where === "relay" ? this._relayed() : this.clear(true))));
    route.addEventListener("security", mine((words) => {
      if (route.route !== "relay") return;
      this.words = words;
      this.securityBox.textContent = words;
      this.securityBox.hidden = false;
      const level = levelOf(words);
      if (level) this.onLevel(level);
    }));
    route.addEventListener("relay", mine((relay) => {
      relay.addEventListener("tile", (e) => route.relay === relay && this._tile(e.detail));
      relay.addEventListener("roster", (e) => route.relay === relay && this._roster(e.detail));
      relay.addEventListener("verification", (e) => route.relay === relay && this._code(e.detail));
    }));
  }

  /** Back to the two-party stage (``direct``: because the route went back, not a close). */
  clear(direct = false) {
    for (const id of [...this.tiles.keys()]) this._drop(id);
    this.stage.classList.remove("relayed");
    this.tilesBox.hidden = true;
    this._code(null);
    this.securityBox.hidden = true;
    this.securityBox.textContent = "";
    this.words = null;
    if (direct) this.onDirect();
  }

  detach() {
    this.route = null;
    this.clear();
  }

  _relayed() {
    this.stage.classList.add("relayed");
    this.tilesBox.hidden = false;
  }

  _tile({ participant, name, role, kind, stream }) {
    let t = this.tiles.get(participant);
    if (!t) {
      const video = document.createElement("video");
      Object.assign(video, { autoplay: true, playsInline: true, srcObject: new MediaStream() });
      const caption = el("figcaption", "");
      const figure = document.createElement("figure");
      figure.className = "relay-tile";
      figure.dataset.participant = participant;
      figure.append(video, caption);
      this.tilesBox.append(figure);
      t = { figure, video, caption, stream: video.srcObject, name: "", role: "" };
      this.tiles.set(participant, t);
    }
    // A renegotiation may bring a new track of the same kind: it replaces the old one.
    for (const old of t.stream.getTracks()) if (old.kind === kind) t.stream.removeTrack(old);
    for (const track of stream.getTracks()) t.stream.addTrack(track);
    t.figure.classList.toggle("has-video", t.stream.getVideoTracks().length > 0);
    if (name) t.name = name;
    if (role) t.role = role;
    t.caption.textContent = tileCaption(t);
    t.video.play?.().catch(() => {}); // autoplay may wait for the track; it plays then
  }

  _roster(roster) {
    for (const p of roster) {
      const t = this.tiles.get(p.participant);
      if (!t) continue;
      t.name = p.name || t.name;
      t.role = p.role || t.role;
      t.caption.textContent = tileCaption(t);
    }
    for (const id of gone(this.tiles.keys(), roster)) this._drop(id);
  }

  _drop(id) {
    const t = this.tiles.get(id);
    t.video.srcObject = null;
    t.figure.remove();
    this.tiles.delete(id);
  }

  _code(words) {
    const text = codeText(words);
    this.codeBox.textContent = text ?? "";
    this.codeBox.hidden = text === null;
    if (words) this.codeBox.dataset.words = words.join(" ");
    else delete this.codeBox.dataset.words;
  }
}
