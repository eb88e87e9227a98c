// The console's "Invite" control for the call in hand: choose the kind of guest, get a
// single-use link for this call (POST /api/calls/{id}/invitations), show it with a Copy
// button, its QR code and when it stops working (UK time), and withdraw it. The link is
// in the POST's answer only (the server keeps its digest), so this page shows the last
// one it made. The functions above "-- the page" have no DOM and are unit-tested.
import { api as defaultApi } from "./api.js";
import { ukTime } from "./console_format.js";
import { KIND_WORDS } from "./console_guests.js";

export const KINDS = Object.keys(KIND_WORDS); // gp, family, interpreter, other

/** "Works once, until 14:35 (UK time)". */
export const expiryWords = (expiresAt) => `Works once, until ${ukTime(expiresAt)} (UK time)`;

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
  const what = { invite: "make the link", withdraw: "withdraw the link", copy: "copy the link" }[action] ?? action;
  return `Could not ${what}${err?.message ? `: ${err.message}` : ""}`;
}

// -- the page ------------------------------------------------------------------------

export class InvitePanel {
  /** ``root`` holds #invite-kind, #invite, and #invitation (the link, #invite-copy,
   *  #invite-qr, #invite-expiry, #invite-withdraw, #invite-state). */
  constructor({ root, onError, api = defaultApi, clipboard = globalThis.navigator?.clipboard }) {
    this.root = root;
    this.onError = onError;
    this.api = api;
    this.clipboard = clipboard;
    this.callId = null;
    this.invitation = null;
    this._q = (sel) => root.querySelector(sel);
    this._q("#invite").addEventListener("click", () => this.invite(this._q("#invite-kind").value));
    this._q("#invite-copy").addEventListener("click", () => this.copy());
    this._q("#invite-withdraw").addEventListener("click", () => this.withdraw());
  }

  open(callId) {
    this.callId = callId;
    this.invitation = null;
    this._render(null);
  }

  close() {
    this.open(null);
  }

  async invite(kind) {
    const callId = this.callId;
    if (callId === null || !KINDS.includes(kind)) return;
    this._q("#invite").disabled = true;
    try {
      const made = await this.api("POST", `/api/calls/${callId}/invitations`, { kind });
      if (this.callId !== callId) return;
      this.invitation = made.invitation;
      this._render(made);
    } catch (err) {
      this.onError(inviteFailure("invite", err));
    } finally {
      this._q("#invite").disabled = false;
    }
  }

  async copy() {
    const link = this._q("#invite-link");
    try {
      await this.clipboard.writeText(link.value);
      this._state("Link copied");
    } catch (err) {
      // No clipboard (an http page, or permission refused): select it for Ctrl+C.
      link.select();
      this.onError(inviteFailure("copy", err));
    }
  }

  async withdraw() {
    const invitation = this.invitation;
    if (!invitation) return;
    this._q("#invite-withdraw").disabled = true;
    try {
      await this.api("POST", `/api/invitations/${invitation.id}/withdraw`, {});
      if (this.invitation !== invitation) return;
      this._state("Link withdrawn: it no longer works");
      this._q("#invitation").classList.add("withdrawn");
    } catch (err) {
      this._q("#invite-withdraw").disabled = false;
      this.onError(inviteFailure("withdraw", err));
    }
  }

  _render(made) {
    const box = this._q("#invitation");
    box.hidden = made === null;
    box.classList.remove("withdrawn");
    this._state("");
    if (made === null) return;
    this._q("#invite-for").textContent = `Guest link (${made.invitation.kind_label ?? KIND_WORDS[made.invitation.kind]})`;
    this._q("#invite-link").value = made.link;
    this._q("#invite-expiry").textContent = expiryWords(made.expires_at);
    const qr = this._q("#invite-qr");
    const src = qrSource(made.qr_svg);
    qr.hidden = src === null;
    if (src) qr.src = src;
    else qr.removeAttribute("src");
    this._q("#invite-withdraw").disabled = false;
  }

  _state(text) {
    this._q("#invite-state").textContent = text;
  }
}
