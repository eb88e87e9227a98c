// The console's "Invite" control for the call in hand: choose the kind of guest, get a
// single-use link for this call (POST /api/calls/{id}/invitations), and see every link
// of the call that still works (GET /api/calls/{id}/guests, "invitations"), each with its
// kind, when it stops working (UK time) and a Withdraw button. The link itself is in the
// POST's answer only (the server keeps its digest), so this page can show the link, a
// Copy button and its QR code only for the newest one it made; after a reload, or for
// older ones, it says so. The functions above "-- the page" have no DOM and are
// unit-tested (tests/js/console_invite.test.mjs).
import { api as defaultApi } from "./api.js";
import { ukTime } from "./console_format.js";
import { KIND_WORDS } from "./console_guests.js";

export const KINDS = Object.keys(KIND_WORDS); // gp, family, interpreter, other

/** What the clinician reads beside a link this page cannot show (it was made in another
 *  page, or before a reload, or it is not the newest made here). */
export const LINK_NOT_SHOWN = "Link shown when it was made; withdraw it and invite again if it was lost";

/** "Works once, until 14:35 (UK time)". */
export const expiryWords = (expiresAt) => `Works once, until ${ukTime(expiresAt)} (UK time)`;

/** "Family member": the server's label, else ours, else the code. */
export const invitationKind = (invitation) => invitation.kind_label ?? KIND_WORDS[invitation.kind] ?? String(invitation.kind ?? "Guest");

/** Whether a link (an item of the API's "invitations") still lets a guest in at ``now``
 *  (ms): not used, not withdrawn, not expired. The server's status is as of its answer;
 *  the expiry is checked again here because the list stays on screen for minutes. */
export function stillWorks(invitation, now) {
  if (!invitation || invitation.status !== "open") return false;
  if (invitation.used_at || invitation.revoked_at) return false;
  const until = Date.parse(invitation.expires_at);
  return Number.isFinite(until) && until > now;
}

/** The links that still work, newest first (the one just made is at the top). */
export function openInvitations(invitations, now) {
  const newestFirst = (a, b) => Date.parse(b.created_at) - Date.parse(a.created_at) || b.id - a.id;
  return (invitations ?? []).filter((i) => stillWorks(i, now)).sort(newestFirst);
}

/** The list as the page shows it: one entry per link that still works. ``shownId`` is
 *  the id of the newest link this page made (its link and QR code go with its entry);
 *  every other entry says why its link is not shown. */
export function invitationEntries(invitations, shownId, now) {
  return openInvitations(invitations, now).map((i) => {
    const kind = invitationKind(i);
    const showsLink = i.id === shownId;
    return {
      id: i.id,
      kind,
      expiry: expiryWords(i.expires_at),
      showsLink,
      note: showsLink ? null : LINK_NOT_SHOWN,
      // Several "Withdraw" buttons in a row: a screen reader hears which link each is for.
      withdrawLabel: `Withdraw the ${kind} link (until ${ukTime(i.expires_at)})`,
    };
  });
}

/** Milliseconds until the first of these links expires (when the list must change by
 *  itself), or null when none will. */
export function nextExpiryIn(invitations, now) {
  const times = openInvitations(invitations, now).map((i) => Date.parse(i.expires_at) - now);
  return times.length ? Math.min(...times) : null;
}

/** The invitations with ``made`` (the POST's answer's "invitation") in, replacing an
 *  older copy of it: the list shows a new link at once, before the next GET. */
export const withInvitation = (invitations, made) => [made, ...(invitations ?? []).filter((i) => i.id !== made.id)];

const SVG_NS = "http://www.w3.org/2000/svg";

/** The QR code as an image address (the server's SVG as a data: URL, which the page's
 *  CSP allows for images: no server markup is parsed into the page); null without one.
 *  The server's SVG is made for inlining in HTML (segno's svg_inline: no xmlns), and an
 *  SVG image without its namespace does not render, so it is added. */
export function qrSource(svg) {
  if (typeof svg !== "string" || !svg.trimStart().startsWith("<svg")) return null;
  const image = /^\s*<svg[^>]*\sxmlns=/.test(svg) ? svg : svg.replace("<svg", `<svg xmlns="${SVG_NS}"`);
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(image)}`;
}

/** "Could not make the link: …" and friends. */
export function inviteFailure(action, err) {
  const what = {
    invite: "make the link", withdraw: "withdraw the link", copy: "copy the link", load: "load the invitation links of this call",
  }[action] ?? action;
  return `Could not ${what}${err?.message ? `: ${err.message}` : ""}`;
}

// -- the page ------------------------------------------------------------------------

// setTimeout's longest wait; a link lasts minutes, so this only guards a bad date.
const LONGEST_WAIT_MS = 2 ** 31 - 1;

export class InvitePanel {
  /** ``root`` holds #invite-kind and #invite (make a link), #invitations (the list:
   *  #invite-list), #invitation (the newest link made here: #invite-link, #invite-copy,
   *  #invite-qr; moved into that link's entry) and #invite-state (what just happened). */
  constructor({ root, onError, api = defaultApi, clipboard = globalThis.navigator?.clipboard, now = () => Date.now() }) {
    this.root = root;
    this.onError = onError;
    this.api = api;
    this.clipboard = clipboard;
    this.now = now;
    this.callId = null;
    this.invitations = []; // the call's links as the server last said (plus one just made)
    this.made = null; // { id, link, qr }: the newest link this page made for the call in hand
    this._pending = null; // the GET under way: { callId, again, done }
    this._changes = 0; // links made or withdrawn here: an answer older than one is stale
    this._expiryTimer = null;
    const q = (sel) => root.querySelector(sel);
    // Held, not looked up: the link box moves into its entry and out again.
    this.el = {
      invite: q("#invite"), kind: q("#invite-kind"), section: q("#invitations"), list: q("#invite-list"),
      linkBox: q("#invitation"), link: q("#invite-link"), copy: q("#invite-copy"), qr: q("#invite-qr"), state: q("#invite-state"),
    };
    this.el.invite.addEventListener("click", () => this.invite(this.el.kind.value));
    this.el.copy.addEventListener("click", () => this.copy());
  }

  /** A call is in hand (``null``: none): show its links that still work. */
  open(callId) {
    this.callId = callId;
    this.invitations = [];
    this.made = null;
    this._state("");
    this._render();
    return this.refresh();
  }

  close() {
    this.open(null);
  }

  /** Ask the server for the call's links again (after a reload, a guest coming in by a
   *  link, the guest part ending). Calls while one is under way make one more GET after
   *  it, not one each: the guests list can change several times in a second. */
  refresh() {
    const callId = this.callId;
    if (callId === null) return Promise.resolve();
    if (this._pending?.callId === callId) {
      this._pending.again = true;
      return this._pending.done;
    }
    const pending = { callId, again: false, done: null };
    this._pending = pending;
    pending.done = this._load(pending);
    return pending.done;
  }

  async _load(pending) {
    try {
      do {
        pending.again = false;
        const asked = this._changes;
        const data = await this.api("GET", `/api/calls/${pending.callId}/guests`);
        if (this.callId !== pending.callId) return;
        // A link made or withdrawn while this GET was on its way: its answer would put the
        // list back as it was for a moment; the GET asked for after the change follows.
        if (asked !== this._changes) continue;
        this.invitations = data.invitations ?? [];
        this._render();
      } while (pending.again && this.callId === pending.callId);
    } catch (err) {
      if (this.callId === pending.callId) this.onError(inviteFailure("load", err));
    } finally {
      if (this._pending === pending) this._pending = null;
    }
  }

  async invite(kind) {
    const callId = this.callId;
    if (callId === null || !KINDS.includes(kind)) return;
    this.el.invite.disabled = true;
    try {
      const made = await this.api("POST", `/api/calls/${callId}/invitations`, { kind });
      if (this.callId !== callId) return;
      this._changes += 1;
      this.made = { id: made.invitation.id, link: made.link, qr: qrSource(made.qr_svg) };
      this.invitations = withInvitation(this.invitations, made.invitation);
      this._state("");
      this._render();
      this.refresh(); // and any link made or used elsewhere meanwhile
    } catch (err) {
      this.onError(inviteFailure("invite", err));
    } finally {
      this.el.invite.disabled = false;
    }
  }

  async copy() {
    try {
      await this.clipboard.writeText(this.el.link.value);
      this._state("Link copied");
    } catch (err) {
      // No clipboard (an http page, or permission refused): select it for Ctrl+C.
      this.el.link.select();
      this.onError(inviteFailure("copy", err));
    }
  }

  async withdraw(id, button) {
    const callId = this.callId;
    if (callId === null) return;
    button.disabled = true;
    try {
      await this.api("POST", `/api/invitations/${id}/withdraw`, {});
      if (this.callId !== callId) return;
      this._changes += 1;
      this.invitations = this.invitations.filter((i) => i.id !== id);
      if (this.made?.id === id) this.made = null; // its link no longer works: not shown
      this._state("Link withdrawn: it no longer works");
      this._render();
    } catch (err) {
      button.disabled = false;
      this.onError(inviteFailure("withdraw", err));
    }
    // Either way the server has the truth (it may have been used a moment before).
    this.refresh();
  }

  _render() {
    clearTimeout(this._expiryTimer);
    const now = this.now();
    const entries = invitationEntries(this.invitations, this.made?.id ?? null, now);
    const { list, linkBox, section } = this.el;
    section.append(linkBox); // back home (hidden) unless its entry takes it below
    linkBox.hidden = true;
    list.replaceChildren(...entries.map((e) => this._item(e)));
    section.hidden = entries.length === 0;
    // A link runs out with no message from the server: take it off the list then.
    const wait = nextExpiryIn(this.invitations, now);
    if (wait !== null) this._expiryTimer = setTimeout(() => this._render(), Math.min(wait + 50, LONGEST_WAIT_MS));
  }

  _item(entry) {
    const li = document.createElement("li");
    li.className = "invite-item";
    li.dataset.invitationId = String(entry.id);
    li.dataset.testid = "invite-item";
    const kind = document.createElement("span");
    kind.className = "invite-kind";
    kind.textContent = entry.kind;
    const expiry = document.createElement("span");
    expiry.className = "invite-expiry meta";
    expiry.textContent = entry.expiry;
    const withdraw = document.createElement("button");
    withdraw.type = "button";
    withdraw.className = "danger";
    withdraw.textContent = "Withdraw";
    withdraw.setAttribute("aria-label", entry.withdrawLabel);
    withdraw.dataset.testid = "invite-withdraw";
    withdraw.addEventListener("click", () => this.withdraw(entry.id, withdraw));
    li.append(kind, expiry, withdraw);
    if (entry.showsLink) {
      this._showLink(this.made);
      li.append(this.el.linkBox);
    } else {
      const note = document.createElement("p");
      note.className = "invite-not-shown meta";
      note.textContent = entry.note;
      li.append(note);
    }
    return li;
  }

  _showLink(made) {
    const { linkBox, link, qr } = this.el;
    linkBox.hidden = false;
    link.value = made.link;
    qr.hidden = made.qr === null;
    if (made.qr && qr.getAttribute("src") !== made.qr) qr.src = made.qr;
    else if (!made.qr) qr.removeAttribute("src");
  }

  _state(text) {
    this.el.state.textContent = text;
  }
}
