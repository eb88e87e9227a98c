// The console's guests of the call in hand: who came by an invitation link (GP, family
// member, interpreter), where each is (waiting in the lobby, in the call, left, removed),
// the banner and tone when one is waiting, and the clinician's buttons: Let in, Remove,
// End guest part (every guest out; the call goes on). The server says who is where
// (call.guests on every change, GET /api/calls/{id}/guests after a reload); the buttons
// are POSTs (web/calls/guests.py). The functions above "-- the page" have no DOM and are
// unit-tested (tests/js/console_guests.test.mjs).
import { api as defaultApi } from "./api.js";
import { el, human } from "./console_format.js";

export const KIND_WORDS = { gp: "GP", family: "Family member", interpreter: "Interpreter", other: "Other" };
export const STATE_WORDS = { waiting: "Waiting to be let in", in_call: "In the call", left: "Left", removed: "Removed" };

const capital = (s) => s.charAt(0).toUpperCase() + s.slice(1);
export const roleWords = (role) => KIND_WORDS[role] ?? capital(human(role));
export const stateWords = (state) => STATE_WORDS[state] ?? capital(human(state));

/** "guest:12" → 12 (the id the admit / remove routes take); null for anyone else. */
export function guestIdOf(participant) {
  const m = /^guest:(\d+)$/.exec(String(participant ?? ""));
  return m ? Number(m[1]) : null;
}

/** A guest from GET /api/calls/{id}/guests in the shape of a call.guests item. */
export const fromApi = (g) => ({ participant: `guest:${g.id}`, name: g.name, role: g.kind, state: g.state });

/** "Sam Smith (Family member)". */
export const guestName = (g) => `${g.name} (${roleWords(g.role)})`;

/** The banner's lines: one per guest waiting in the lobby. */
export const waitingLines = (guests) => guests.filter((g) => g.state === "waiting").map((g) => `${guestName(g)} is waiting to join`);

/** What the clinician can do with a guest now. */
export function actionsFor(guest) {
  if (guest.state === "waiting") return ["admit", "remove"];
  if (guest.state === "in_call") return ["remove"];
  return [];
}

/** Guests waiting now who were not waiting before (``before``: a Set of participants). */
export const newlyWaiting = (before, guests) => guests.filter((g) => g.state === "waiting" && !before.has(g.participant));

/** Whether anyone came as a guest who is still waiting or in the call. */
export const anyPresent = (guests) => guests.some((g) => g.state === "waiting" || g.state === "in_call");

/** An error in words: "Could not let Sam Smith (GP) in: the call has ended". */
export function failureWords(action, guest, err) {
  const who = guest ? guestName(guest) : "the guests";
  const what = { admit: `let ${who} in`, remove: `remove ${who}`, end: "end the guest part of the call", load: "load the guests of this call" }[action] ?? action;
  const why = err?.message ? `: ${err.message}` : "";
  return `Could not ${what}${why}`;
}

// -- the page ------------------------------------------------------------------------

const ACTION_WORDS = { admit: "Let in", remove: "Remove" };

export class GuestsPanel {
  /** ``root`` holds #guest-list, #guest-banner and #guests-end; ``sound`` is the page's
   *  SoundAlerts; ``onError(words)`` shows a failure; ``onGuests(guests)`` hears every
   *  change (the console moves a reloaded page onto the relay from it). */
  constructor({ root, sound, onError, onGuests = () => {}, api = defaultApi }) {
    this.root = root;
    this.sound = sound;
    this.onError = onError;
    this.onGuests = onGuests;
    this.api = api;
    this.callId = null;
    this.guests = [];
    this.waiting = new Set();
    this.busy = false;
    this._q = (sel) => root.querySelector(sel);
    this._q("#guests-end").addEventListener("click", () => this.endGuests());
  }

  /** A call is in hand: show its guests (there may be some already after a reload). */
  async open(callId) {
    this.callId = callId;
    this.show(callId, []);
    try {
      const data = await this.api("GET", `/api/calls/${callId}/guests`);
      if (this.callId === callId) this.show(callId, data.guests.map(fromApi));
    } catch (err) {
      if (this.callId === callId) this.onError(failureWords("load", null, err));
    }
  }

  close() {
    this.callId = null;
    this.guests = [];
    this.waiting = new Set();
    this._render();
  }

  /** The guests as the server has them now (a call.guests message or the API). */
  show(callId, guests) {
    if (callId !== this.callId) return;
    const fresh = newlyWaiting(this.waiting, guests);
    this.guests = guests;
    this.waiting = new Set(guests.filter((g) => g.state === "waiting").map((g) => g.participant));
    if (fresh.length) this.sound?.beep();
    this._render();
    this.onGuests(guests);
  }

  async act(action, guest) {
    const id = guestIdOf(guest.participant);
    if (id === null) return;
    await this._post(`/api/guests/${id}/${action}`, action, guest);
  }

  async endGuests() {
    if (this.callId === null) return;
    await this._post(`/api/calls/${this.callId}/guests/end`, "end", null);
  }

  async _post(path, action, guest) {
    this._setBusy(true);
    try {
      await this.api("POST", path, {});
      // The server's call.guests (to this page too) redraws the list.
    } catch (err) {
      this.onError(failureWords(action, guest, err));
    } finally {
      this._setBusy(false);
    }
  }

  _setBusy(busy) {
    this.busy = busy;
    for (const b of this.root.querySelectorAll("button")) b.disabled = busy || (b.id === "guests-end" && !anyPresent(this.guests));
  }

  _render() {
    const list = this._q("#guest-list");
    list.replaceChildren(...this.guests.map((g) => this._item(g, "li")));
    this._q("#guests-empty").hidden = this.guests.length > 0;
    const banner = this._q("#guest-banner");
    const waiting = this.guests.filter((g) => g.state === "waiting");
    banner.replaceChildren(...waiting.map((g) => {
      const p = this._item(g, "p");
      p.querySelector(".guest-who").textContent = `${guestName(g)} is waiting to join`;
      p.querySelector(".guest-state").remove();
      return p;
    }));
    banner.hidden = waiting.length === 0;
    this._q("#guests-end").hidden = !anyPresent(this.guests);
    this._setBusy(this.busy);
  }

  _item(g, tag) {
    const item = document.createElement(tag);
    item.className = `guest ${g.state}`;
    item.dataset.participant = g.participant;
    item.dataset.state = g.state;
    const who = el("span", guestName(g));
    who.className = "guest-who";
    const state = el("span", stateWords(g.state));
    state.className = "guest-state";
    item.append(who, state);
    for (const action of actionsFor(g)) {
      const b = el("button", ACTION_WORDS[action]);
      b.type = "button";
      b.className = action === "admit" ? "primary" : "danger";
      b.dataset.action = action;
      b.addEventListener("click", () => this.act(action, g));
      item.append(b);
    }
    return item;
  }
}
