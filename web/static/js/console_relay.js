// The console's stage while the call goes through telehub's media relay (a guest is in
// the call): one tile per other participant (their video, with their name and role under
// it; their audio plays from the same element), the verification code to read out, and
// the security level in words. The route itself (MediaRoute, media_route.js) moves the
// media; this only shows it. Back to direct, the tiles and the code go and the normal
// two-party stage returns. The functions above "-- the page" have no DOM and are
// unit-tested (tests/js/console_guests.test.mjs).
//
// The clinician decides for the call when a browser cannot encrypt end to end: the stage
// asks ("Sam's browser cannot encrypt end to end. Continue without end-to-end
// encryption, or remove Sam?"). Continuing tells everyone (e2ee.clear): every screen then
// says the call is NOT end-to-end encrypted, and this page stores that level
// (call.security, audited). Once no such browser is left, this page turns encryption
// back on for everyone; while it is off, whoever joins is told too.
import { el } from "./console_format.js";
import { guestIdOf, roleWords } from "./console_guests.js";
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

export const CONTINUE_WORDS = "Continue without end-to-end encryption";

/** What the clinician is asked when ``who``'s browser cannot encrypt end to end (``me``:
 *  this clinician's participant id): the question, and the other way out — remove a
 *  guest; for the tablet or this browser, end the guest part (back to peer to peer,
 *  which DTLS-SRTP encrypts end to end). */
export function unsupportedQuestion({ participant, name, role }, me) {
  const end = { alternative: "end", alternativeWords: "End the guest part" };
  const ask = (whose, orWhat) => `${whose} browser cannot encrypt end to end. ${CONTINUE_WORDS}, or ${orWhat}?`;
  if (participant === me) return { text: ask("Your", "end the guest part of the call"), ...end };
  const who = name || (role === "device" ? "The care home tablet" : "A participant");
  if (guestIdOf(participant) !== null) {
    return { text: ask(`${who}'s`, `remove ${who}`), alternative: "remove", alternativeWords: `Remove ${who}` };
  }
  return { text: ask(`${who} (${participantRole(role)})'s`, "end the guest part of the call"), ...end };
}

/** What the clinician's page does about end-to-end encryption when the roster changes:
 *  "restore" (it is off, and nobody who cannot is left), "tell" (it is off and someone
 *  joined: they must hear it), or null. ``unsupported``: who cannot (this browser too). */
export function clearAction({ clear, unsupported, roster, joined }) {
  if (!clear) return null;
  const present = [...unsupported].some((id) => roster.some((p) => p.participant === id));
  if (!present) return "restore";
  return joined ? "tell" : null;
}

// -- the page ------------------------------------------------------------------------

export class RelayStage {
  /** ``stage``: the call's stage (holding #remote); ``tiles``, ``code``, ``security``:
   *  the elements for the tiles, the verification code and the level in words;
   *  ``onLevel(level)``: report a relayed level to the server; ``onDirect()``: the
   *  route is back to peer to peer; ``me``: this clinician's participant id;
   *  ``onRemove(participant)`` and ``onEndGuests()``: the ways out offered when a
   *  browser cannot encrypt end to end. */
  constructor({ stage, tiles, code, security, me = null, onLevel = () => {}, onDirect = () => {}, onRemove = () => {}, onEndGuests = () => {} }) {
    Object.assign(this, { stage, tilesBox: tiles, codeBox: code, securityBox: security, me, onLevel, onDirect, onRemove, onEndGuests });
    this.tiles = new Map(); // participant → { figure, video, caption, stream, name, role }
    this.route = null;
    this.words = null; // the security level in words while relayed
    this.asking = new Map(); // participant → who, whose browser cannot encrypt (undecided)
    this.questionBox = null; // made on first use, below the level in words
    this._members = new Set(); // the relay's roster, to notice who joined
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
      this._members = new Set();
      relay.addEventListener("tile", (e) => route.relay === relay && this._tile(e.detail));
      relay.addEventListener("roster", (e) => {
        if (route.relay !== relay) return;
        this._roster(e.detail);
        this._decide(relay, e.detail);
      });
      relay.addEventListener("verification", (e) => route.relay === relay && this._code(relay.clear ? null : e.detail));
      relay.addEventListener("unsupported", (e) => route.relay === relay && this._ask(relay, e.detail));
      relay.addEventListener("clear", (e) => {
        if (route.relay !== relay) return;
        if (e.detail) this._asked();
        this._code(e.detail ? null : relay.code);
      });
      if (!relay.encrypts) this._ask(relay, { participant: this.me, name: "", role: "clinician" });
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
    this._asked();
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

  // -- a browser that cannot encrypt: the clinician decides ---------------------------

  _ask(relay, who) {
    if (relay.clear) return; // already going on without: nothing more to decide
    this.asking.set(who.participant, who);
    this._showQuestion(relay);
  }

  /** Nothing (more) to ask about ``participant`` (everyone: null): the clinician decided,
   *  or whoever it was has gone. The question turns to the next one, if any. */
  _asked(participant = null) {
    if (participant === null) this.asking.clear();
    else this.asking.delete(participant);
    if (this.asking.size && this.route?.relay) this._showQuestion(this.route.relay);
    else if (this.questionBox) this.questionBox.hidden = true;
  }

  _decide(relay, roster) {
    const members = new Set(roster.map((p) => p.participant));
    const joined = [...members].some((id) => !this._members.has(id));
    this._members = members;
    for (const id of [...this.asking.keys()]) if (!members.has(id)) this._asked(id);
    const unsupported = new Set(relay.unsupported);
    if (!relay.encrypts) unsupported.add(this.me);
    const action = clearAction({ clear: relay.clear, unsupported, roster, joined });
    if (action === "restore") relay.decideClear(false);
    else if (action === "tell") relay.decideClear(true);
  }

  _showQuestion(relay) {
    const [who] = this.asking.values();
    if (!this.questionBox) {
      this.questionBox = document.createElement("div");
      this.questionBox.className = "relay-question";
      this.questionBox.setAttribute("role", "alertdialog");
      this.questionBox.dataset.testid = "relay-question";
      this.securityBox.after(this.questionBox);
    }
    const q = unsupportedQuestion(who, this.me);
    const text = el("p", q.text);
    const go = el("button", CONTINUE_WORDS);
    go.type = "button";
    go.addEventListener("click", () => {
      this._asked();
      relay.decideClear(true);
    });
    const other = el("button", q.alternativeWords);
    other.type = "button";
    other.addEventListener("click", () => {
      this._asked(who.participant);
      if (q.alternative === "remove") this.onRemove(who.participant);
      else this.onEndGuests();
    });
    this.questionBox.replaceChildren(text, go, other);
    this.questionBox.hidden = false;
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
