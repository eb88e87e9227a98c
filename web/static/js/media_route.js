// Where a call's media goes: peer to peer (the two-party Call in call.js, direct or
// through TURN) or through telehub's media relay (RelayCall in relay_call.js) while a
// guest is in the call. The server says which (call.media_route); this moves the page's
// media without ending the call: make before break.
//
// To the relay: the RelayCall starts with the same camera and microphone; once its
// connection is up, the peer-to-peer senders stop sending (replaceTrack(null): the peer
// connection stays, so coming back needs no new negotiation). Back to direct: the
// peer-to-peer senders get their tracks back first, then the relay is left.
//
// Events: "route" ("direct" | "relay"), "relay" (the RelayCall, when one starts), and
// "security" (the security level in words, for every screen).

import { RelayCall } from "./relay_call.js";

export const SECURITY_WORDS = {
  direct: "Direct, encrypted (DTLS-SRTP)",
  relay: "Through TURN relay, encrypted",
  relay_e2ee: "Through telehub relay, end-to-end encrypted",
  relay_not_e2ee: "Through telehub relay, NOT end-to-end encrypted (this browser cannot)",
};

export class MediaRoute extends EventTarget {
  constructor({ call, me, signalling, makeRelay = (options) => new RelayCall(options) }) {
    super();
    this.call = call; // the peer-to-peer Call (call.js)
    this.me = me; // this participant's id ("device:7", "staff:3")
    this.sig = signalling;
    this.route = "direct";
    this.relay = null;
    this._makeRelay = makeRelay;
    this._kinds = new WeakMap(); // peer-to-peer sender -> "audio" | "video"
    this._off = signalling.on("call.media_route", (m) => {
      if (m.call_id === call.callId) this.moveTo(m.route).catch((err) => console.error(err));
    });
  }

  async moveTo(route) {
    if (route === this.route) return;
    this.route = route;
    this._emit("route", route);
    if (route === "relay") await this._toRelay();
    else await this._toDirect();
  }

  async _toRelay() {
    const relay = this._makeRelay({
      callId: this.call.callId,
      me: this.me,
      signalling: this.sig,
      stream: this.call.stream,
    });
    this.relay = relay;
    this.call.relayed = true;
    this._emit("relay", relay);
    this._emit("security", SECURITY_WORDS[RelayCall.supported() ? "relay_e2ee" : "relay_not_e2ee"]);
    // The clinician chose to go on without end-to-end encryption (a browser cannot), or
    // turned it back on: every screen says so.
    relay.addEventListener("clear", (e) => {
      if (this.relay !== relay) return;
      this._emit("security", SECURITY_WORDS[e.detail || !relay.encrypts ? "relay_not_e2ee" : "relay_e2ee"]);
    });
    relay.addEventListener("connection", (e) => {
      // Make before break: the peer-to-peer leg stops sending once the relay carries media.
      if (e.detail === "connected" && this.relay === relay) this._pauseDirect(true);
    });
    await relay.start();
  }

  async _toDirect() {
    await this._pauseDirect(false);
    const relay = this.relay;
    this.relay = null;
    this.call.relayed = false;
    await relay?.stop();
    // The peer-to-peer leg's own measurement (the stored level is still the relay's).
    this._emit("security", SECURITY_WORDS[this.call.directLevel ?? "direct"]);
  }

  async _pauseDirect(paused) {
    for (const sender of this.call.pc?.getSenders() ?? []) {
      // A paused sender has no track: remember each sender's kind for the way back.
      const kind = sender.track?.kind ?? this._kinds.get(sender);
      if (!kind) continue;
      this._kinds.set(sender, kind);
      const track = paused ? null : this.call.stream.getTracks().find((t) => t.kind === kind) ?? null;
      await sender.replaceTrack(track);
    }
  }

  close() {
    this._off?.();
    return this.relay?.stop();
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
