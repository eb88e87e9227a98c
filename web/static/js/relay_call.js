// This browser's side of a call on telehub's media relay (calls of three or more),
// end-to-end encrypted. No page layout here: pages listen to events and place tiles.
//
// The relay makes every offer (relay.offer, with slots naming whose audio or video each
// transceiver carries); this side answers, sending its own camera and microphone on the
// transceivers no slot names. Every frame sent is encrypted and every frame received
// decrypted in one E2EEWorker (e2ee/worker.js), in the SFrame format (docs/media.md):
// the relay forwards what it cannot read.
//
// Keys: a per-call ECDH identity, announced with e2ee.identity. Whenever the roster
// (e2ee.roster) changes — someone joined or left — this side makes a new media key and
// seals it to each other participant (e2ee.key), so a newcomer cannot read what came
// before and a leaver what comes after. Keys received (e2ee.key_delivery) are opened
// and handed to the worker; an envelope that does not open, or an old one, is dropped.
//
// This side announces its key once per join (when the roster has none for it), and its
// verification code always covers the key it holds itself, whatever the roster says its
// key is: a server that swapped it (for everyone, this side included) makes this screen's
// words differ from the others'. Announcing again would only loop against such a server.
//
// A browser without encoded transforms cannot encrypt: it says so (e2ee.unsupported, on
// joining and whenever the roster changes, so that newcomers hear it too), announces no
// key, sends nothing and shows nothing it receives (ciphertext: noise) until the
// clinician decides to go on without end-to-end encryption (e2ee.clear). Then every
// sender sends its frames unencrypted — the relay sends one stream to everyone — and
// every receiver takes each sender's frames as they come when they do not decrypt
// (per sender, so frames still in flight either way arrive whole). When the clinician's
// page turns encryption back on (the browser that could not has gone) — or as soon as a
// browser sees the last one that could not leave its roster — every sender encrypts
// again with the key it made when that browser left.
//
// Events: "tile" ({participant, name, role, kind, stream}), "roster" ([{participant,
// name, role, publicKey}]), "verification" (the code's words, or null until every
// participant who can has announced a key), "connection" (RTCPeerConnectionState),
// "unsupported" ({participant, name, role}: their browser cannot encrypt), "clear"
// (true: the call's frames go unencrypted now; false: end to end again).

import {
  createIdentity,
  createMediaKey,
  nextMediaKey,
  openDecision,
  openEnvelope,
  ReceivedKeys,
  sealDecision,
  sealEnvelope,
} from "./e2ee/keys.js";
import { decryptReceiver, E2EEWorker, encryptSender, peerConnectionConfig, supportsE2EE } from "./e2ee/transform.js";
import { verificationCode } from "./e2ee/verification.js";

// Which encoded-transform API the relay connection uses. Chromium (156) never feeds an
// RTCRtpScriptTransform set on a *video* sender whose transceiver the remote offer made —
// and the relay always offers — so its frames would leave unencrypted (audio works).
// Where the browser also has Chromium's createEncodedStreams, use that instead (checked
// in tests/browser/test_guest_call_browser.py); elsewhere (Safari, Firefox) the standard API.
const API =
  typeof globalThis.RTCRtpSender?.prototype?.createEncodedStreams === "function"
    ? { RTCRtpSender: globalThis.RTCRtpSender }
    : globalThis;

export class RelayCall extends EventTarget {
  /** ``keyless``: test builds only (test_hooks.js testFlag): a participant that drops
   *  every key sent to it and hands what it receives to its decoders undecrypted, to
   *  show that what crosses the relay is ciphertext. */
  constructor({ callId, me, signalling, stream, iceServers = [], keyless = false }) {
    super();
    this.callId = callId;
    this.keyless = keyless;
    this.me = me; // this participant's id: "device:7", "staff:3", "guest:12"
    this.sig = signalling;
    this.stream = stream;
    this.iceServers = iceServers;
    this.pc = null;
    this.slots = new Map(); // mid -> {participant, kind}
    this.roster = [];
    this.code = null;
    this.closed = false;
    this.encrypts = supportsE2EE(API); // false: no encoded transforms in this browser
    this.clear = false; // the clinician chose to go on without end-to-end encryption
    this._decided = null; // on the clinician's page: its own last decision
    this._lastDecision = 0; // the number of the newest decision followed or made
    this.decisionsIgnored = 0; // decisions to stop encrypting that came without a proof
    this.unsupported = new Set(); // others on the relay whose browsers cannot encrypt
    this._own = new Set(); // this side's senders: its camera and microphone
    this._held = new Map(); // "participant kind" -> tile, in a browser that cannot decrypt
    this._encrypted = new WeakSet(); // senders already piped through the worker
    this._received = new ReceivedKeys();
    this._sentKid = new Map(); // participant -> the key id last sealed to them
    this._members = ""; // the roster's participant ids, to notice a change
    this._inbox = Promise.resolve();
    this._off = [];
    this.rejoins = 0; // times this browser joined the relay again (lost, or a new socket)
    this.seat = null; // the relay's number for this browser's current join (relay.offer)
    this._joinRef = null;
  }

  /** Whether this browser can take part end to end (else say so: the clinician decides). */
  static supported() {
    return supportsE2EE(API);
  }

  async start() {
    if (this.encrypts) {
      this.identity = await createIdentity();
      this.worker = E2EEWorker.start();
      this.sendKey = createMediaKey(1);
      await this.worker.setSendKey(this.sendKey);
    }
    const mine = (handler) => (m) => {
      if (m.call_id === this.callId && !this.closed) this._queue(() => handler(m));
    };
    this._off = [
      this.sig.on("relay.offer", mine((m) => this._onOffer(m))),
      this.sig.on("e2ee.roster", mine((m) => this._onRoster(m))),
      this.sig.on("e2ee.key_delivery", mine((m) => this._onKey(m))),
      this.sig.on("e2ee.unsupported", mine((m) => this._onUnsupported(m))),
      this.sig.on("e2ee.clear", mine((m) => this._onClear(m))),
      // The relay lost this browser's media connection (relay.lost), or its socket was
      // replaced (the server takes a socket that went away off the relay): join again.
      this.sig.on("relay.lost", mine((m) => m.seat === this.seat && this._rejoin())),
      listen(this.sig, "open", () => this._queue(() => this._rejoin())),
    ];
    this._join();
    return this;
  }

  _join() {
    this.seat = null; // until the relay's first offer for this join names it
    this._joinRef = this.sig.send("relay.join", { call_id: this.callId });
  }

  /** Messages and rejoins are handled one at a time, in order. */
  _queue(work) {
    this._inbox = this._inbox.then(work).catch((err) => console.error(err));
  }

  /** On a new seat: a new connection to the relay, keys shared again from scratch (the
   *  others dropped the keys of the seat that went, and rotate theirs for this one). */
  _rejoin() {
    if (this.closed) return;
    this.pc?.close();
    this.pc = null;
    this.slots.clear();
    this._own.clear();
    this._held.clear();
    this._sentKid.clear();
    this._members = ""; // the next roster is a change: a new send key, sealed to everyone
    this.rejoins += 1;
    this._join();
  }

  async stop() {
    if (this.closed) return;
    this.closed = true;
    for (const off of this._off) off();
    this.sig.send("relay.leave", { call_id: this.callId });
    this.pc?.close();
    this.worker?.terminate();
  }

  /** Frames encrypted, decrypted and dropped so far (for the page and for tests); null in
   *  a browser that cannot encrypt, or once stopped. */
  async counts() {
    return this.worker && !this.closed ? this.worker.counts() : null;
  }

  /** The clinician's decision (the server takes it from the call's clinician only): every
   *  frame unencrypted from now on (true), or end to end again (false). Sealed to each
   *  participant with a key (keys.js sealDecision), numbered above every earlier one:
   *  their browsers stop encrypting on this page's word only, never the server's. */
  async decideClear(clear) {
    const n = Math.max(Date.now(), this._lastDecision + 1);
    this._lastDecision = n;
    this._decided = clear;
    const proofs = [];
    for (const p of this.identity ? this.roster : []) {
      if (p.participant === this.me || !p.publicKey) continue;
      const to = { to: p.participant, recipientKey: p.publicKey };
      proofs.push(await sealDecision({ identity: this.identity, callId: String(this.callId), from: this.me, ...to, n, clear }));
    }
    this.sig.send("e2ee.clear", { call_id: this.callId, clear, proofs });
  }

  /** Whether this side's camera and microphone go out: always when it encrypts; from a
   *  browser that cannot, only once the clinician chose to go on without. */
  _sending() {
    return this.encrypts || this.clear;
  }

  // -- media -----------------------------------------------------------------------

  async _onOffer(m) {
    // The first offer of the latest join names the seat; offers still coming for an
    // earlier seat (this side joined again meanwhile) are dropped.
    if (this.seat === null && m.ref && m.ref === this._joinRef) this.seat = m.seat;
    if (m.seat !== this.seat) return;
    for (const s of m.slots) this.slots.set(s.mid, { participant: s.participant, kind: s.kind });
    if (!this.pc) this._createPc();
    await this.pc.setRemoteDescription({ type: "offer", sdp: m.sdp });
    for (const t of this.pc.getTransceivers()) {
      if (!t.mid || this.slots.has(t.mid) || t.currentDirection === "stopped") continue;
      // A transceiver no slot names carries this side's own camera or microphone.
      const kind = t.receiver.track.kind;
      if (this.encrypts && !this._encrypted.has(t.sender)) {
        // Before the track: the sender must never send a frame in clear.
        encryptSender(t.sender, this.worker.worker, kind, { g: API });
        this._encrypted.add(t.sender);
      }
      this._own.add(t.sender);
      await this._send(t.sender, kind);
      t.direction = "sendonly";
    }
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    this.sig.send("relay.answer", { call_id: this.callId, seat: this.seat, sdp: this.pc.localDescription.sdp });
  }

  async _send(sender, kind = sender.track?.kind ?? this._kind(sender)) {
    const track = this._sending() ? this.stream.getTracks().find((x) => x.kind === kind) ?? null : null;
    if (sender.track !== track) await sender.replaceTrack(track);
  }

  _kind(sender) {
    return this.pc.getTransceivers().find((t) => t.sender === sender)?.receiver.track.kind;
  }

  _createPc() {
    const config = { iceServers: this.iceServers, bundlePolicy: "max-bundle" };
    this.pc = new RTCPeerConnection(peerConnectionConfig(config, API));
    const pc = this.pc;
    pc.addEventListener("connectionstatechange", () => {
      if (pc !== this.pc) return; // a connection already given up on
      this._emit("connection", pc.connectionState);
      // The browser's own ICE consent ran out (no word from the relay for ~30 s): the
      // relay has likely dropped this seat too. Join again, at most once per failure.
      if (pc.connectionState === "failed") this._queue(() => this._rejoin());
    });
    this.pc.addEventListener("track", (event) => {
      const slot = this.slots.get(event.transceiver.mid);
      if (!slot) return;
      // Set in ontrack: this side answers, where Chromium feeds such a transform
      // (FIELD-NOTES: not when the receiving side makes the offer).
      if (this.encrypts) {
        if (this.keyless || this.clear) this.worker.receiveClear(slot.participant, true).catch(() => {});
        decryptReceiver(event.receiver, this.worker.worker, slot.kind, { from: slot.participant, g: API });
      }
      const who = this.roster.find((p) => p.participant === slot.participant);
      const tile = {
        participant: slot.participant,
        name: who?.name ?? "",
        role: who?.role ?? "",
        kind: slot.kind,
        stream: new MediaStream([event.track]),
      };
      // A browser that cannot decrypt shows a tile only while frames come unencrypted: it
      // would play the others' ciphertext as noise.
      if (!this.encrypts) this._held.set(`${tile.participant} ${tile.kind}`, tile);
      if (this.encrypts || this.clear) this._emit("tile", tile);
    });
  }

  // -- keys ------------------------------------------------------------------------

  async _onRoster(m) {
    this.roster = m.participants.map((p) => ({
      participant: p.participant,
      name: p.name,
      role: p.role,
      publicKey: p.public_key,
    }));
    const members = this.roster.map((p) => p.participant).sort().join(" ");
    const changed = members !== this._members;
    const previous = new Set(this._members.split(" "));
    this._members = members;
    const gone = [...previous].filter((id) => id && !members.split(" ").includes(id));
    const lastUnsupportedLeft = gone.some((id) => this.unsupported.has(id));
    for (const id of gone) this.unsupported.delete(id);
    for (const [key, tile] of this._held) if (gone.includes(tile.participant)) this._held.delete(key);
    this._emit("roster", this.roster);
    if (!this.encrypts) {
      // Whoever is here now (a newcomer too) hears that this browser cannot encrypt.
      if (changed) this.sig.send("e2ee.unsupported", { call_id: this.callId });
      return;
    }
    const mine = this.roster.find((p) => p.participant === this.me);
    if (mine && !mine.publicKey) {
      this.sig.send("e2ee.identity", { call_id: this.callId, public_key: this.identity.publicKeyB64 });
    }
    if (changed) {
      // Someone joined or left: a new key, so that nobody reads what they should not.
      for (const id of gone) {
        this._received.forget(id);
        this._sentKid.delete(id);
        await this.worker.forget(id);
      }
      this.sendKey = nextMediaKey(this.sendKey);
      await this.worker.setSendKey(this.sendKey);
    }
    await this._shareKey();
    await this._recode();
    // The last browser that could not encrypt has gone: encrypt again (with the key just
    // made) without waiting for the clinician's page to say so — going back to end to
    // end needs nobody's decision, and that page may itself have dropped out.
    if (this.clear && lastUnsupportedLeft && this.unsupported.size === 0) await this._onClear({ clear: false });
  }

  /** The verification code over every key media keys are sealed to: our own entry is the
   *  key we hold, never the server's word for it; a browser that said it cannot encrypt
   *  has none, and is left out (it gets no media key either). */
  async _recode() {
    const keyed = this.roster.filter((p) => !(this.unsupported.has(p.participant) && !p.publicKey));
    const keys = keyed.map((p) => (p.participant === this.me && p.publicKey ? this.identity.publicKeyB64 : p.publicKey));
    this.code = keys.every(Boolean) && keys.length > 1 ? await verificationCode(keys) : null;
    this._emit("verification", this.code);
  }

  async _onUnsupported(m) {
    const who = this.roster.find((p) => p.participant === m.participant);
    if (!who || m.participant === this.me || this.unsupported.has(m.participant)) return;
    this.unsupported.add(m.participant);
    this._emit("unsupported", { participant: who.participant, name: who.name, role: who.role });
    if (this.encrypts) await this._recode();
  }

  async _onClear(m) {
    if (m.clear === this.clear) return;
    if (this.encrypts && !(await this._decisionHolds(m))) {
      console.warn("e2ee.clear without a proof from the call's clinician: ignored");
      this.decisionsIgnored += 1;
      return;
    }
    this.clear = m.clear;
    if (this.encrypts) {
      await this.worker.sendClear(this.clear);
      const senders = new Set([...this.slots.values()].map((s) => s.participant));
      for (const from of senders) await this.worker.receiveClear(from, this.clear || this.keyless);
    } else {
      for (const sender of this._own) await this._send(sender);
      // Back to end to end, the page takes its tiles down (its "clear" event).
      if (this.clear) for (const tile of this._held.values()) this._emit("tile", tile);
    }
    this._emit("clear", this.clear);
  }

  /** Whether to follow a decision to stop encrypting: only with a proof this browser
   *  opens, sealed by a clinician in the roster (whose key the verification words cover),
   *  newer than any followed before — or this page's own decision, on the clinician's
   *  page. Encrypting again needs nobody's word: the worst a server can do with it is
   *  make a browser that cannot encrypt see nothing. (A browser that cannot encrypt has
   *  no key to be sealed to and follows the server's word: its page says it is not end
   *  to end encrypted either way.) */
  async _decisionHolds(m) {
    if (!m.clear) return true;
    if (!m.proof) return this._decided === true;
    const clinicians = new Map(
      this.roster.filter((p) => p.role === "clinician" && p.publicKey).map((p) => [p.participant, p.publicKey]),
    );
    const as = { identity: this.identity, callId: String(this.callId), me: this.me, roster: clinicians };
    const decision = this.identity ? await openDecision(m.proof, as) : null;
    if (!decision || decision.clear !== m.clear || decision.n <= this._lastDecision) return false;
    this._lastDecision = decision.n;
    return true;
  }

  async _shareKey() {
    // Not before the server shows our own key to everyone: an envelope that reached
    // someone before a roster with our key could not be opened there, and this key id
    // would never be sent to them again (until the next change of the roster). The
    // roster with our key goes to each of them before anything we send after seeing it.
    if (!this.roster.find((p) => p.participant === this.me)?.publicKey) return;
    for (const p of this.roster) {
      if (p.participant === this.me || !p.publicKey || this._sentKid.get(p.participant) === this.sendKey.kid) continue;
      const envelope = await sealEnvelope({
        identity: this.identity,
        callId: String(this.callId),
        from: this.me,
        to: p.participant,
        recipientKey: p.publicKey,
        mediaKey: this.sendKey,
      });
      this._sentKid.set(p.participant, this.sendKey.kid);
      this.sig.send("e2ee.key", { call_id: this.callId, envelope });
    }
  }

  async _onKey(m) {
    if (this.keyless || !this.encrypts) return;
    const roster = new Map(this.roster.filter((p) => p.publicKey).map((p) => [p.participant, p.publicKey]));
    const opened = await openEnvelope(m.envelope, {
      identity: this.identity,
      callId: String(this.callId),
      me: this.me,
      roster,
    });
    if (!this._received.accept(opened)) return; // forged, altered, old, or from a stranger
    await this.worker.setReceiveKey(opened.from, { kid: opened.kid, key: opened.key });
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

function listen(target, type, handler) {
  target.addEventListener(type, handler);
  return () => target.removeEventListener(type, handler);
}
