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
// Events: "tile" ({participant, name, role, kind, stream}), "roster" ([{participant,
// name, role, publicKey}]), "verification" (the code's words, or null until every
// participant has announced a key), "connection" (RTCPeerConnectionState).

import { createIdentity, createMediaKey, nextMediaKey, openEnvelope, ReceivedKeys, sealEnvelope } from "./e2ee/keys.js";
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
  constructor({ callId, me, signalling, stream, iceServers = [] }) {
    super();
    this.callId = callId;
    this.me = me; // this participant's id: "device:7", "staff:3", "guest:12"
    this.sig = signalling;
    this.stream = stream;
    this.iceServers = iceServers;
    this.pc = null;
    this.slots = new Map(); // mid -> {participant, kind}
    this.roster = [];
    this.code = null;
    this.closed = false;
    this._encrypted = new WeakSet(); // senders already piped through the worker
    this._received = new ReceivedKeys();
    this._sentKid = new Map(); // participant -> the key id last sealed to them
    this._members = ""; // the roster's participant ids, to notice a change
    this._inbox = Promise.resolve();
    this._off = [];
  }

  /** Whether this browser can take part end to end (else say so: the clinician decides). */
  static supported() {
    return supportsE2EE(API);
  }

  async start() {
    this.identity = await createIdentity();
    this.worker = E2EEWorker.start();
    this.sendKey = createMediaKey(1);
    await this.worker.setSendKey(this.sendKey);
    const mine = (handler) => (m) => {
      if (m.call_id !== this.callId || this.closed) return;
      this._inbox = this._inbox.then(() => handler(m)).catch((err) => console.error(err));
    };
    this._off = [
      this.sig.on("relay.offer", mine((m) => this._onOffer(m))),
      this.sig.on("e2ee.roster", mine((m) => this._onRoster(m))),
      this.sig.on("e2ee.key_delivery", mine((m) => this._onKey(m))),
    ];
    this.sig.send("relay.join", { call_id: this.callId });
    return this;
  }

  async stop() {
    if (this.closed) return;
    this.closed = true;
    for (const off of this._off) off();
    this.sig.send("relay.leave", { call_id: this.callId });
    this.pc?.close();
    this.worker?.terminate();
  }

  /** Frames encrypted, decrypted and dropped so far (for the page and for tests). */
  counts() {
    return this.worker.counts();
  }

  // -- media -----------------------------------------------------------------------

  async _onOffer(m) {
    for (const s of m.slots) this.slots.set(s.mid, { participant: s.participant, kind: s.kind });
    if (!this.pc) this._createPc();
    await this.pc.setRemoteDescription({ type: "offer", sdp: m.sdp });
    for (const t of this.pc.getTransceivers()) {
      if (!t.mid || this.slots.has(t.mid) || t.currentDirection === "stopped") continue;
      // A transceiver no slot names carries this side's own camera or microphone.
      const kind = t.receiver.track.kind;
      if (!this._encrypted.has(t.sender)) {
        // Before the track: the sender must never send a frame in clear.
        encryptSender(t.sender, this.worker.worker, kind, { g: API });
        this._encrypted.add(t.sender);
      }
      const track = this.stream.getTracks().find((x) => x.kind === kind) ?? null;
      if (t.sender.track !== track) await t.sender.replaceTrack(track);
      t.direction = "sendonly";
    }
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    this.sig.send("relay.answer", { call_id: this.callId, sdp: this.pc.localDescription.sdp });
  }

  _createPc() {
    const config = { iceServers: this.iceServers, bundlePolicy: "max-bundle" };
    this.pc = new RTCPeerConnection(peerConnectionConfig(config, API));
    this.pc.addEventListener("connectionstatechange", () => this._emit("connection", this.pc.connectionState));
    this.pc.addEventListener("track", (event) => {
      const slot = this.slots.get(event.transceiver.mid);
      if (!slot) return;
      // Set in ontrack: this side answers, where Chromium feeds such a transform
      // (FIELD-NOTES: not when the receiving side makes the offer).
      decryptReceiver(event.receiver, this.worker.worker, slot.kind, { from: slot.participant, g: API });
      const who = this.roster.find((p) => p.participant === slot.participant);
      this._emit("tile", {
        participant: slot.participant,
        name: who?.name ?? "",
        role: who?.role ?? "",
        kind: slot.kind,
        stream: new MediaStream([event.track]),
      });
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
    this._emit("roster", this.roster);
    const mine = this.roster.find((p) => p.participant === this.me);
    if (mine && mine.publicKey !== this.identity.publicKeyB64) {
      this.sig.send("e2ee.identity", { call_id: this.callId, public_key: this.identity.publicKeyB64 });
    }
    const members = this.roster.map((p) => p.participant).sort().join(" ");
    if (members !== this._members) {
      // Someone joined or left: a new key, so that nobody reads what they should not.
      const previous = new Set(this._members.split(" "));
      this._members = members;
      for (const gone of previous) {
        if (gone && !members.split(" ").includes(gone)) {
          this._received.forget(gone);
          this._sentKid.delete(gone);
          await this.worker.forget(gone);
        }
      }
      this.sendKey = nextMediaKey(this.sendKey);
      await this.worker.setSendKey(this.sendKey);
    }
    await this._shareKey();
    const keys = this.roster.map((p) => p.publicKey);
    this.code = keys.every(Boolean) && keys.length > 1 ? await verificationCode(keys) : null;
    this._emit("verification", this.code);
  }

  async _shareKey() {
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
