// One WebRTC call between a tablet and a clinician: peer-to-peer, DTLS-SRTP, through
// TURN when no direct path exists. No page layout here: pages pass their video elements.
//
// The clinician side makes offers (and ICE-restart offers after a reconnect); the tablet
// answers. A getStats() monitor grades the link every 2 s and steps down to audio-only
// after 10 s of poor quality, and back up after 20 s of good.

import { api } from "./api.js";

const MONITOR_MS = 2000;
const STEP_DOWN_AFTER = 5; // poor samples in a row (10 s)
const STEP_UP_AFTER = 10; // good samples in a row (20 s)

export class Call extends EventTarget {
  constructor({ callId, role, signalling, localVideo, remoteVideo }) {
    super();
    this.callId = callId;
    this.role = role; // "clinician" (offers) or "device" (answers)
    this.sig = signalling;
    this.localVideo = localVideo;
    this.remoteVideo = remoteVideo;
    this.pc = null;
    this.stream = null;
    this.muted = false;
    this.cameraOff = false;
    this.audioOnly = false;
    this.autoAudioOnly = false;
    this.quality = "unknown";
    this._pendingIce = [];
    this._poor = 0;
    this._good = 0;
    this._monitor = null;
    this._last = null;
    this._offCallbacks = [];
    window.telehubCall = this;
  }

  async start() {
    const ice = await api("GET", "/api/ice-servers");
    const policy = new URLSearchParams(location.search).get("ice") ?? ice.ice_transport_policy;
    this.pc = new RTCPeerConnection({ iceServers: ice.ice_servers, iceTransportPolicy: policy });
    this.stream = await localMedia();
    this.localVideo.srcObject = this.stream;
    for (const track of this.stream.getTracks()) this.pc.addTrack(track, this.stream);
    if (!this.stream.getVideoTracks().length) this.pc.addTransceiver("video", { direction: "recvonly" });
    this.pc.addEventListener("track", (event) => {
      this.remoteVideo.srcObject = event.streams[0] ?? new MediaStream([event.track]);
      this._emit("remote-track");
    });
    this.pc.addEventListener("icecandidate", (event) => {
      const c = event.candidate;
      this.sig.send("rtc.ice", {
        call_id: this.callId,
        candidate: c ? c.candidate : "",
        sdp_mid: c ? c.sdpMid : null,
        sdp_mline_index: c ? c.sdpMLineIndex : null,
      });
    });
    this.pc.addEventListener("connectionstatechange", () => {
      this._emit("connection", this.pc.connectionState);
      if (this.pc.connectionState === "failed" && this.role === "clinician") {
        this.offer({ restart: true });
      }
    });
    this._offCallbacks = [
      this.sig.on("rtc.offer", (m) => m.call_id === this.callId && this._onOffer(m)),
      this.sig.on("rtc.answer", (m) => m.call_id === this.callId && this._onAnswer(m)),
      this.sig.on("rtc.ice", (m) => m.call_id === this.callId && this._onIce(m)),
    ];
    this._monitor = setInterval(() => this._grade(), MONITOR_MS);
  }

  async offer({ restart = false } = {}) {
    if (!this.pc) return;
    if (this.pc.signalingState === "have-local-offer") {
      // An offer is already out (the peer may have missed it while reconnecting):
      // send the same one again rather than start a second, conflicting negotiation.
      this.sig.send("rtc.offer", { call_id: this.callId, sdp: this.pc.localDescription.sdp, restart });
      return;
    }
    const offer = await this.pc.createOffer({ iceRestart: restart });
    await this.pc.setLocalDescription(offer);
    this.sig.send("rtc.offer", { call_id: this.callId, sdp: offer.sdp, restart });
  }

  async _onOffer(m) {
    await this.pc.setRemoteDescription({ type: "offer", sdp: m.sdp });
    await this._flushIce();
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    this.sig.send("rtc.answer", { call_id: this.callId, sdp: answer.sdp });
  }

  async _onAnswer(m) {
    if (this.pc.signalingState !== "have-local-offer") return;
    await this.pc.setRemoteDescription({ type: "answer", sdp: m.sdp });
    await this._flushIce();
  }

  async _onIce(m) {
    if (!m.candidate) return;
    const candidate = { candidate: m.candidate, sdpMid: m.sdp_mid, sdpMLineIndex: m.sdp_mline_index };
    if (!this.pc.remoteDescription) {
      this._pendingIce.push(candidate);
      return;
    }
    await this.pc.addIceCandidate(candidate).catch(() => {});
  }

  async _flushIce() {
    for (const c of this._pendingIce.splice(0)) await this.pc.addIceCandidate(c).catch(() => {});
  }

  toggleMute() {
    this.muted = !this.muted;
    for (const t of this.stream?.getAudioTracks() ?? []) t.enabled = !this.muted;
    this._emit("controls");
  }

  toggleCamera() {
    this.cameraOff = !this.cameraOff;
    this._applyVideo();
  }

  setAudioOnly(on, { automatic = false } = {}) {
    this.audioOnly = on;
    this.autoAudioOnly = on && automatic;
    this._applyVideo();
    this.sig.send("call.media", { call_id: this.callId, mode: on ? "audio" : "video" });
  }

  async switchCamera() {
    const cams = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "videoinput");
    const current = this.stream?.getVideoTracks()[0];
    if (cams.length < 2 || !current) return;
    const index = cams.findIndex((d) => d.deviceId === current.getSettings().deviceId);
    const next = cams[(index + 1) % cams.length];
    const fresh = await navigator.mediaDevices.getUserMedia({ video: { deviceId: { exact: next.deviceId } } });
    const track = fresh.getVideoTracks()[0];
    const sender = this.pc.getSenders().find((s) => s.track?.kind === "video");
    await sender?.replaceTrack(track);
    this.stream.removeTrack(current);
    current.stop();
    this.stream.addTrack(track);
    this._applyVideo();
  }

  _applyVideo() {
    for (const t of this.stream?.getVideoTracks() ?? []) t.enabled = !(this.cameraOff || this.audioOnly);
    this._emit("controls");
  }

  async stats() {
    const out = { framesDecoded: 0, bytesReceived: 0, packetsLost: 0, candidateType: null, rtt: null };
    if (!this.pc) return out;
    const report = await this.pc.getStats();
    let pairId = null;
    report.forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") {
        out.framesDecoded += s.framesDecoded ?? 0;
        out.bytesReceived += s.bytesReceived ?? 0;
        out.packetsLost += s.packetsLost ?? 0;
      }
      if (s.type === "transport" && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
    });
    const pair = pairId ? report.get(pairId) : null;
    if (pair) {
      out.rtt = pair.currentRoundTripTime ?? null;
      out.outgoingBitrate = pair.availableOutgoingBitrate ?? null;
      out.candidateType = report.get(pair.localCandidateId)?.candidateType ?? null;
      out.remoteCandidateType = report.get(pair.remoteCandidateId)?.candidateType ?? null;
    }
    return out;
  }

  async _grade() {
    const s = await this.stats();
    const prev = this._last;
    this._last = s;
    if (!prev || this.pc.connectionState !== "connected") return;
    const lossRate = s.packetsLost - prev.packetsLost;
    const kbps = ((s.bytesReceived - prev.bytesReceived) * 8) / MONITOR_MS;
    const poor = (s.rtt ?? 0) > 1.0 || lossRate > 20 || (!this.audioOnly && kbps < 50)
      || (s.outgoingBitrate != null && s.outgoingBitrate < 150_000);
    const fair = (s.rtt ?? 0) > 0.4 || lossRate > 5;
    this.quality = poor ? "poor" : fair ? "fair" : "good";
    this._emit("quality", this.quality);
    this._poor = poor ? this._poor + 1 : 0;
    this._good = poor || fair ? 0 : this._good + 1;
    if (!this.audioOnly && this._poor >= STEP_DOWN_AFTER) this.setAudioOnly(true, { automatic: true });
    if (this.autoAudioOnly && this._good >= STEP_UP_AFTER) this.setAudioOnly(false);
  }

  close() {
    clearInterval(this._monitor);
    for (const off of this._offCallbacks) off();
    this.pc?.close();
    for (const t of this.stream?.getTracks() ?? []) t.stop();
    this.pc = null;
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

export async function localMedia() {
  try {
    return await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: true });
  } catch {
    // No camera (or it is busy): carry on with sound only rather than fail the call.
    return await navigator.mediaDevices.getUserMedia({ audio: true });
  }
}

export function describeQuality(level) {
  return { good: "Good connection", fair: "Fair connection", poor: "Poor connection", unknown: "Connecting…" }[level];
}
