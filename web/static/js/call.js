// One WebRTC call between a tablet and a clinician: peer to peer, DTLS-SRTP, through
// TURN when no direct path exists. No page layout here: pages pass their video elements
// and listen to events.
//
// Who offers: the clinician side (after it has claimed the call, and again with an ICE
// restart when either side comes back after a drop); the tablet answers. A fresh offer
// (restart false) reaching a tablet that already has a session means a new peer
// connection on the other side (a transfer, a reloaded console): the tablet starts a
// fresh one too. An answer to an ICE restart that carries a new DTLS fingerprint comes
// from a reloaded tablet: the clinician then starts a fresh peer connection at once
// (resuming over the old one stalls ~3 s; docs/benchmarks.md). A getStats() monitor
// grades the link every 2 s; after 10 s of mostly poor quality this side stops sending
// video (audio only, told to the other side with call.media, which then stops sending
// its own), and after 20 s of good it tries video again (call_link.js). After an outage
// it sends a key frame as soon as packets flow again. call.media also tells the other
// side when this side is muted or its camera is off, so that it can say so.
//
// Events: "connection" (RTCPeerConnectionState), "quality" ({level, stats}),
// "controls" (mute/camera/audio-only changed), "peer-media" ("audio" | "video"; the
// other side's peerAudioOnly, peerMuted and peerCameraOff changed),
// "remote-track", "first-frame" (ms since the call object was made).

import { api } from "./api.js";
import { AudioOnlySteps, OutageWatch } from "./call_link.js";
import { securityLevelOf } from "./call_security.js";
import { expose } from "./test_hooks.js";

const MONITOR_MS = 2000;
const STEP_DOWN_AFTER = 5; // samples (10 s): none good and most of them poor
const STEP_UP_AFTER = 10; // good samples in a row (20 s), times the back-off
const LINK_CHECK_MS = 250; // how often packets received are counted (OutageWatch)
const RESTART_AFTER_DISCONNECTED_MS = 4000;

export class Call extends EventTarget {
  constructor({ callId, role, signalling, localVideo, remoteVideo, stream = null }) {
    super();
    this.callId = callId;
    this.role = role; // "clinician" (offers) or "device" (answers)
    this.sig = signalling;
    this.localVideo = localVideo;
    this.remoteVideo = remoteVideo;
    this.stream = stream;
    this.pc = null;
    this.remoteStream = null;
    this.muted = false;
    this.cameraOff = false;
    this.audioOnly = false; // this side chose (or stepped down to) audio only
    this.autoAudioOnly = false;
    this.peerAudioOnly = false; // the other side asked for audio only
    this.peerMuted = false; // the other side's microphone is muted (told by call.media)
    this.peerCameraOff = false; // the other side turned its camera off
    this.quality = "connecting";
    // How the media travels ("direct" | "relay"), as the server stored it (call.security);
    // this side reports what its selected candidate pair says on connect and on change.
    this.securityLevel = null;
    this._reportedLevel = null;
    this.directLevel = null; // what this side's peer-to-peer leg measured last
    this.relayed = false; // set by MediaRoute while the media goes through the relay
    // Samples in a row (one every 2 s) before stepping down / back up; tests shorten them.
    this.policy = { stepDownAfter: STEP_DOWN_AFTER, stepUpAfter: STEP_UP_AFTER };
    this.last = null; // the latest stats() sample
    this.closed = false;
    this.timings = { created: performance.now() }; // ms: created is absolute, the rest after it
    // Negotiations seen (for tests and benchmarks); fresh: new sessions started because
    // the other side had reloaded.
    // keyFrames: key frames sent because the link came back after an outage.
    this.counts = { offers: 0, restarts: 0, rebuilds: 0, fresh: 0, keyFrames: 0 };
    this._ice = null;
    this._iceFetchedAt = 0;
    this._pendingIce = [];
    this._inbox = Promise.resolve();
    this._steps = new AudioOnlySteps();
    this._outage = new OutageWatch();
    this._monitor = null;
    this._linkCheck = null;
    this._prev = null;
    this._disconnectedTimer = null;
    this._offCallbacks = [];
    expose("telehubCall", this); // the latest call, for tests and benchmarks (test builds only)
  }

  async start() {
    // ICE servers and the camera at the same time: both sit on the path to the first frame.
    const [, stream] = await Promise.all([
      this._fetchIce(),
      Promise.resolve(this.stream ?? localMedia()).catch((err) => {
        // No camera and no microphone (or both refused): still see and hear the other side.
        console.warn("no local media; receiving only", err);
        this.mediaError = err;
        return null;
      }),
    ]);
    this.stream = stream ?? new MediaStream();
    this.timings.ready = performance.now() - this.timings.created; // camera open, ICE known
    this.localVideo.srcObject = this.stream;
    this._createPc();
    const mine = (handler) => (m) => {
      if (m.call_id !== this.callId || this.closed) return;
      // One at a time, in arrival order: an ICE candidate must not overtake its offer.
      this._inbox = this._inbox.then(() => handler(m)).catch((err) => console.error(err));
    };
    this._offCallbacks = [
      this.sig.on("rtc.offer", mine((m) => this._onOffer(m))),
      this.sig.on("rtc.answer", mine((m) => this._onAnswer(m))),
      this.sig.on("rtc.ice", mine((m) => this._onIce(m))),
      this.sig.on("call.media", (m) => m.call_id === this.callId && this._onPeerMedia(m)),
      this.sig.on("call.security", (m) => m.call_id === this.callId && this._onSecurity(m.level)),
    ];
    this._monitor = setInterval(() => this._grade().catch(() => {}), MONITOR_MS);
    this._linkCheck = setInterval(() => this._checkLink().catch(() => {}), LINK_CHECK_MS);
    return this;
  }

  /** Hand an rtc.* message received before start() finished (it may overtake the
   *  "answered" state) to the call, in order. */
  deliver(m) {
    const handler = { "rtc.offer": this._onOffer, "rtc.answer": this._onAnswer, "rtc.ice": this._onIce }[m.type];
    if (handler) this._inbox = this._inbox.then(() => handler.call(this, m)).catch((err) => console.error(err));
  }

  // -- the peer connection ---------------------------------------------------------

  async _fetchIce({ fresh = false } = {}) {
    const { ice, at } = await iceServers({ fresh });
    const override = new URLSearchParams(location.search).get("ice");
    this._ice = {
      iceServers: ice.ice_servers,
      iceTransportPolicy: override === "relay" || override === "all" ? override : ice.ice_transport_policy,
      ttlMs: (ice.ttl_s ?? 3600) * 1000,
    };
    this._iceFetchedAt = at;
  }

  _createPc() {
    const pc = new RTCPeerConnection({
      iceServers: this._ice.iceServers,
      iceTransportPolicy: this._ice.iceTransportPolicy,
    });
    this.pc = pc;
    this._pendingIce = [];
    this._prev = null;
    // Always audio then video, whatever the local devices, so that both sides' m-lines
    // line up even when one side has no camera.
    const audio = this.stream.getAudioTracks()[0];
    const video = this.stream.getVideoTracks()[0];
    if (audio) pc.addTrack(audio, this.stream);
    else pc.addTransceiver("audio", { direction: "recvonly" });
    if (video) pc.addTrack(video, this.stream);
    else pc.addTransceiver("video", { direction: "recvonly" });
    this.remoteStream = new MediaStream();
    this.remoteVideo.srcObject = this.remoteStream;
    pc.addEventListener("track", (event) => {
      if (pc !== this.pc) return;
      this.remoteStream.addTrack(event.track);
      if (event.track.kind === "video") this._watchFirstFrame();
      this._emit("remote-track", event.track.kind);
    });
    pc.addEventListener("icecandidate", (event) => {
      if (pc !== this.pc) return;
      const c = event.candidate;
      this.sig.send("rtc.ice", {
        call_id: this.callId,
        candidate: c ? c.candidate : "",
        sdp_mid: c ? c.sdpMid : null,
        sdp_mline_index: c ? c.sdpMLineIndex : null,
      });
    });
    pc.addEventListener("connectionstatechange", () => {
      if (pc !== this.pc) return;
      const state = pc.connectionState;
      if (state === "connected" && this.timings.connected === undefined) {
        this.timings.connected = performance.now() - this.timings.created;
      }
      if (state === "connected") this._watchPath(pc);
      clearTimeout(this._disconnectedTimer);
      if (state === "failed") this.repair();
      if (state === "disconnected") {
        this._disconnectedTimer = setTimeout(() => pc === this.pc && pc.connectionState === "disconnected" && this.repair(), RESTART_AFTER_DISCONNECTED_MS);
      }
      this._emit("connection", state);
    });
    this._applySending();
    return pc;
  }

  _rebuild() {
    this.counts.rebuilds++;
    const old = this.pc;
    this.pc = null;
    old?.close();
    this._createPc();
  }

  _watchFirstFrame() {
    if (this.timings.firstFrame !== undefined) return;
    const seen = () => {
      if (this.timings.firstFrame !== undefined) return;
      this.timings.firstFrame = performance.now() - this.timings.created;
      this._emit("first-frame", this.timings.firstFrame);
    };
    if (this.remoteVideo.requestVideoFrameCallback) this.remoteVideo.requestVideoFrameCallback(seen);
    else this.remoteVideo.addEventListener("loadeddata", seen, { once: true });
  }

  /** Ask for the path to be mended: the clinician restarts ICE; the tablet tells the
   *  clinician it is (re)joining, which makes the clinician restart. */
  repair() {
    if (this.closed) return;
    if (this.role === "clinician") this.offer({ restart: true });
    else this.sig.send("call.join", { call_id: this.callId });
  }

  async offer({ restart = false } = {}) {
    if (!this.pc || this.closed || this.role !== "clinician") return;
    const pc = this.pc;
    if (pc.signalingState === "have-local-offer") {
      // An offer is already out (the peer may have missed it while reconnecting):
      // send the same one again rather than start a second, conflicting negotiation.
      this.sig.send("rtc.offer", { call_id: this.callId, sdp: pc.localDescription.sdp, restart });
      return;
    }
    if (restart) await this._refreshIce();
    const offer = await pc.createOffer({ iceRestart: restart });
    if (pc !== this.pc) return;
    await pc.setLocalDescription(offer);
    this.timings.offerSent ??= performance.now() - this.timings.created;
    this.counts.offers++;
    if (restart) this.counts.restarts++;
    this.sig.send("rtc.offer", { call_id: this.callId, sdp: offer.sdp, restart });
  }

  async _refreshIce() {
    // TURN credentials expire: an ICE restart late in a long call needs fresh ones.
    if (Date.now() - this._iceFetchedAt < this._ice.ttlMs / 2) return;
    try {
      await this._fetchIce({ fresh: true });
      this.pc?.setConfiguration({ iceServers: this._ice.iceServers, iceTransportPolicy: this._ice.iceTransportPolicy });
    } catch (err) {
      console.warn("could not refresh ICE servers", err);
    }
  }

  async _onOffer(m) {
    if (this.role !== "device" || this.closed) return;
    // A fresh offer when we already have a session: the other side started a new peer
    // connection (another clinician after a transfer, a reloaded console). Start afresh.
    if (this.pc.remoteDescription && !m.restart) this._rebuild();
    else if (m.restart) await this._refreshIce(); // our relay needs live credentials too
    try {
      await this.pc.setRemoteDescription({ type: "offer", sdp: m.sdp });
    } catch (err) {
      console.warn("offer refused by this session; starting a fresh one", err);
      this._rebuild();
      await this.pc.setRemoteDescription({ type: "offer", sdp: m.sdp });
    }
    await this._flushIce();
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    this._applySending();
    this.timings.answerSent ??= performance.now() - this.timings.created;
    this.counts.offers++;
    if (m.restart) this.counts.restarts++;
    this.sig.send("rtc.answer", { call_id: this.callId, sdp: answer.sdp });
    this._sendMedia(); // a side that reloaded or reconnected hears where we stand
  }

  async _onAnswer(m) {
    if (this.role !== "clinician" || this.pc?.signalingState !== "have-local-offer") return;
    const before = dtlsFingerprint(this.pc.currentRemoteDescription?.sdp);
    if (before && dtlsFingerprint(m.sdp) !== before) {
      // The answer comes from a new session on the other side (its page reloaded: new
      // DTLS certificate). Going on over the old connection stalls for seconds (DTLS
      // handshake retransmissions after the ICE restart); a fresh one connects at once.
      this.counts.fresh++;
      this._rebuild();
      await this.offer();
      return;
    }
    try {
      await this.pc.setRemoteDescription({ type: "answer", sdp: m.sdp });
    } catch (err) {
      // The tablet answered from a new session (it reloaded): start a new one too.
      console.warn("answer refused; offering a fresh session", err);
      this._rebuild();
      await this.offer();
      return;
    }
    await this._flushIce();
    this._applySending();
    this._sendMedia(); // a side that reloaded or reconnected hears where we stand
  }

  async _onIce(m) {
    if (!m.candidate || !this.pc) return; // "" = end of candidates: nothing to do
    const candidate = { candidate: m.candidate, sdpMid: m.sdp_mid, sdpMLineIndex: m.sdp_mline_index };
    if (!this.pc.remoteDescription) {
      this._pendingIce.push(candidate);
      return;
    }
    // Candidates of an ICE generation already replaced are refused: that is fine.
    await this.pc.addIceCandidate(candidate).catch(() => {});
  }

  async _flushIce() {
    for (const c of this._pendingIce.splice(0)) await this.pc.addIceCandidate(c).catch(() => {});
  }

  // -- controls --------------------------------------------------------------------

  toggleMute() {
    this.muted = !this.muted;
    for (const t of this.stream?.getAudioTracks() ?? []) t.enabled = !this.muted;
    this._sendMedia();
    this._emit("controls");
  }

  toggleCamera() {
    this.cameraOff = !this.cameraOff;
    this._applySending();
    this._sendMedia();
    this._emit("controls");
  }

  setAudioOnly(on, { automatic = false } = {}) {
    this.audioOnly = on;
    this.autoAudioOnly = on && automatic;
    this._steps.restart({ byPerson: !automatic });
    this._applySending();
    this._sendMedia();
    this._emit("controls");
  }

  /** Tell the other side what we send: audio only or video, muted, camera off (it shows
   *  them instead of a silent black picture). Sent again after every negotiation, so a
   *  side that reloaded or reconnected hears it too. */
  _sendMedia() {
    if (this.closed) return;
    this.sig.send("call.media", {
      call_id: this.callId, mode: this.audioOnly ? "audio" : "video", muted: this.muted, camera_off: this.cameraOff,
    });
  }

  _onPeerMedia(m) {
    // The other side's link is poor (or it chose sound only): stop sending it video too.
    this.peerAudioOnly = m.mode === "audio";
    this.peerMuted = m.muted === true;
    this.peerCameraOff = m.camera_off === true;
    this._applySending();
    this._emit("peer-media", m.mode);
  }

  get sendingVideo() {
    return !(this.cameraOff || this.audioOnly || this.peerAudioOnly) && this.stream?.getVideoTracks().length > 0;
  }

  _applySending() {
    for (const t of this.stream?.getVideoTracks() ?? []) t.enabled = !(this.cameraOff || this.audioOnly);
    const sender = this.pc?.getSenders().find((s) => s.track?.kind === "video");
    if (!sender) return;
    // An inactive encoding sends nothing at all (a disabled track still sends black
    // frames): that is what frees the bandwidth. No renegotiation needed.
    // One change at a time: overlapping setParameters calls refuse each other.
    this._params = (this._params ?? Promise.resolve()).then(async () => {
      const params = sender.getParameters();
      if (!params.encodings?.length) return; // not negotiated yet: applied after it is
      const active = !(this.audioOnly || this.peerAudioOnly);
      if (params.encodings.every((e) => e.active === active)) return;
      for (const e of params.encodings) e.active = active;
      await sender.setParameters(params);
    }).catch((err) => console.warn("setParameters", err));
  }

  /** Back from an outage: send a key frame at once. The other side's request for one
   *  was lost in it, and Chromium asks again only ~3 s later (video came back ~3 s after
   *  a 3 s drop; docs/benchmarks.md). An encoding turned off and on starts with one. */
  async _checkLink() {
    if (!this.pc || this.closed) return;
    const report = await this.pc.getStats();
    let received = 0;
    report.forEach((s) => {
      if (s.type === "inbound-rtp") received += s.packetsReceived ?? 0;
    });
    if (!this._outage.back(performance.now(), received)) return;
    const sender = this.pc?.getSenders().find((s) => s.track?.kind === "video");
    if (!sender || this.relayed) return;
    const sending = () => !(this.audioOnly || this.peerAudioOnly);
    this._params = (this._params ?? Promise.resolve()).then(async () => {
      if (!sending() || !sender.getParameters().encodings?.length) return;
      for (const active of [false, true]) {
        const params = sender.getParameters();
        for (const e of params.encodings) e.active = active && sending();
        await sender.setParameters(params);
      }
      this.counts.keyFrames++;
    }).catch((err) => console.warn("key frame", err));
  }

  async cameraCount() {
    const devices = await navigator.mediaDevices.enumerateDevices();
    return devices.filter((d) => d.kind === "videoinput").length;
  }

  /** Next camera (front/back on a tablet), swapped in without renegotiating. */
  async switchCamera() {
    const cams = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "videoinput");
    const current = this.stream?.getVideoTracks()[0];
    if (cams.length < 2 || !current) return false;
    const index = cams.findIndex((d) => d.deviceId === current.getSettings().deviceId);
    const next = cams[(index + 1) % cams.length];
    const fresh = await navigator.mediaDevices.getUserMedia({ video: { deviceId: { exact: next.deviceId }, width: 640, height: 480 } });
    const track = fresh.getVideoTracks()[0];
    const sender = this.pc?.getSenders().find((s) => s.track?.kind === "video");
    await sender?.replaceTrack(track);
    this.stream.removeTrack(current);
    current.stop();
    this.stream.addTrack(track);
    this.localVideo.srcObject = this.stream;
    this._applySending();
    this._emit("controls");
    return true;
  }

  // -- quality -----------------------------------------------------------------------

  /** A flat summary of getStats(): what the quality monitor and the tests read. */
  async stats() {
    const out = {
      framesDecoded: 0, framesPerSecond: null, frameWidth: null, bytesReceived: 0, bytesSent: 0,
      packetsReceived: 0, packetsLost: 0, remoteFractionLost: 0, rtt: null, availableOutgoingBitrate: null,
      candidateType: null, remoteCandidateType: null, connectionState: this.pc?.connectionState ?? "closed",
      audioOnly: this.audioOnly, peerAudioOnly: this.peerAudioOnly, quality: this.quality,
      securityLevel: this.securityLevel,
      timings: { ...this.timings }, counts: { ...this.counts },
    };
    if (!this.pc) return out;
    const report = await this.pc.getStats();
    let pairId = null;
    report.forEach((s) => {
      if (s.type === "inbound-rtp") {
        out.bytesReceived += s.bytesReceived ?? 0;
        out.packetsReceived += s.packetsReceived ?? 0;
        out.packetsLost += Math.max(0, s.packetsLost ?? 0);
        if (s.kind === "video") {
          out.framesDecoded += s.framesDecoded ?? 0;
          out.framesPerSecond = s.framesPerSecond ?? out.framesPerSecond;
          out.frameWidth = s.frameWidth ?? out.frameWidth;
        }
      }
      if (s.type === "outbound-rtp") out.bytesSent += s.bytesSent ?? 0;
      if (s.type === "remote-inbound-rtp") out.remoteFractionLost = Math.max(out.remoteFractionLost, s.fractionLost ?? 0);
      if (s.type === "transport" && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
    });
    if (!pairId) {
      // Some versions report the selected pair only on the pair itself.
      report.forEach((s) => {
        if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded") pairId ??= s.id;
      });
    }
    const pair = pairId ? report.get(pairId) : null;
    if (pair) {
      out.rtt = pair.currentRoundTripTime ?? null;
      out.availableOutgoingBitrate = pair.availableOutgoingBitrate ?? null;
      out.candidateType = report.get(pair.localCandidateId)?.candidateType ?? null;
      out.remoteCandidateType = report.get(pair.remoteCandidateId)?.candidateType ?? null;
    }
    return out;
  }

  async _grade() {
    if (!this.pc || this.closed) return;
    const s = await this.stats();
    const prev = this._prev;
    this._prev = s;
    if (this.pc.connectionState !== "connected") {
      this.quality = this.pc.connectionState === "new" || this.pc.connectionState === "connecting" ? "connecting" : "reconnecting";
      this._emit("quality", { level: this.quality, stats: s });
      return;
    }
    if (!prev) return;
    const received = s.packetsReceived - prev.packetsReceived;
    const lost = s.packetsLost - prev.packetsLost;
    const inLoss = received + lost > 0 ? lost / (received + lost) : 0;
    const loss = Math.max(inLoss, s.remoteFractionLost);
    const rtt = s.rtt ?? 0;
    s.sendKbps = ((s.bytesSent - prev.bytesSent) * 8) / MONITOR_MS;
    s.receiveKbps = ((s.bytesReceived - prev.bytesReceived) * 8) / MONITOR_MS;
    s.loss = loss;
    // The bandwidth estimate only means something while we are trying to send video.
    const bwe = this.sendingVideo ? s.availableOutgoingBitrate : null;
    const poor = rtt > 1.0 || loss > 0.1 || (bwe !== null && bwe < 150_000);
    const fair = rtt > 0.4 || loss > 0.03 || (bwe !== null && bwe < 300_000);
    this.quality = poor ? "poor" : fair ? "fair" : "good";
    s.quality = this.quality;
    this.last = s;
    const step = this._steps.next(this.quality, this, this.policy);
    if (step === "down") this.setAudioOnly(true, { automatic: true });
    else if (step === "up") this.setAudioOnly(false, { automatic: true });
    // After the step, so that the quality line says at once why the video stopped.
    this._emit("quality", { level: this.quality, stats: s });
    this._reportSecurity(s);
    this._renewRelay(s);
  }

  // -- security level: how the media travels, from the selected candidate pair ------------

  /** Report the level now, and again whenever ICE selects another pair. */
  _watchPath(pc) {
    this.stats().then((s) => pc === this.pc && this._reportSecurity(s)).catch(() => {});
    const ice = pc.getSenders().find((x) => x.transport)?.transport?.iceTransport;
    if (!ice || ice === this._watchedIce) return;
    this._watchedIce = ice;
    ice.addEventListener("selectedcandidatepairchange", () => {
      if (pc === this.pc) this.stats().then((s) => this._reportSecurity(s)).catch(() => {});
    });
  }

  _reportSecurity(s) {
    const level = securityLevelOf(s);
    this.directLevel = level ?? this.directLevel; // this leg's own path, relayed or not
    // While the call goes through telehub's relay (media_route.js), the relay's level
    // stands: a new pair on the paused peer-to-peer leg must not overwrite it.
    if (this.relayed) return;
    if (!level || level === this._reportedLevel || this.closed) return;
    if (this.sig.send("call.security", { call_id: this.callId, level }) !== null) this._reportedLevel = level;
  }

  _onSecurity(level) {
    this.securityLevel = level;
    this._emit("security", level);
  }

  _renewRelay(s) {
    // TURN credentials expire, and the relay then drops the allocation: well before
    // that, restart ICE (which fetches fresh ones on both sides).
    if (this.role !== "clinician" || this._renewing) return;
    if (s.candidateType !== "relay" && s.remoteCandidateType !== "relay") return;
    if (Date.now() - this._iceFetchedAt < this._ice.ttlMs * 0.75) return;
    this._renewing = true;
    this.offer({ restart: true }).finally(() => (this._renewing = false));
  }

  close() {
    this.closed = true;
    clearInterval(this._monitor);
    clearInterval(this._linkCheck);
    clearTimeout(this._disconnectedTimer);
    for (const off of this._offCallbacks) off();
    const pc = this.pc;
    this.pc = null;
    pc?.close();
    for (const t of this.stream?.getTracks() ?? []) t.stop();
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

/** The DTLS certificate fingerprint an SDP announces (null if none): a new one means a
 *  new peer connection on that side. */
export function dtlsFingerprint(sdp) {
  return /^a=fingerprint:(.+)$/m.exec(sdp ?? "")?.[1]?.trim() ?? null;
}

let iceCache = null; // { promise, at }

/** GET /api/ice-servers, kept for half the TURN credentials' lifetime: a page calls
 *  prefetchIce() early so that answering does not wait for it. */
export function iceServers({ fresh = false } = {}) {
  const now = Date.now();
  if (!fresh && iceCache && now - iceCache.at < iceCache.ttlMs / 2) return iceCache.promise;
  const entry = { at: now, ttlMs: 60_000 };
  entry.promise = api("GET", "/api/ice-servers").then((ice) => {
    entry.ttlMs = (ice.ttl_s ?? 3600) * 1000;
    return { ice, at: entry.at };
  });
  entry.promise.catch(() => iceCache === entry && (iceCache = null));
  iceCache = entry;
  return entry.promise;
}

export function prefetchIce() {
  iceServers().catch(() => {});
}

/** Camera and microphone; sound only when the camera fails (missing, busy, refused). */
export async function localMedia() {
  try {
    return await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: "user" },
      audio: { echoCancellation: true, noiseSuppression: true },
    });
  } catch (err) {
    console.warn("camera unavailable, audio only", err);
    return await navigator.mediaDevices.getUserMedia({ audio: true });
  }
}

// Words about a call for people (quality, path, the other side's media): call_controls.js.
