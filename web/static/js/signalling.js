// The signalling protocol client (docs/signalling.md). No DOM code: pages listen to it.
//
// It reconnects with exponential back-off and jitter (capped at 10 s), says hello again
// on every connection (resuming a call if it has one), and pings every 20 s; a pong
// missing for 8 s means the network silently died (a Wi-Fi drop leaves a socket that
// looks open), so it drops that socket and reconnects at once rather than wait for TCP.
// Close code 4401 (session ended, tablet revoked) stops it for good: event "ended".
//
// Events (EventTarget): "state" (detail: idle|connecting|open|closed|ended), "open",
// "closed" (detail: {code, reason}), "ended", "unsent" (detail: {type, ref}: a message
// that could not be sent because the socket is down). Messages: on(type, handler),
// where type "*" sees every message.
//
// The WebSocket class is the browser's unless one is passed in (the unit tests pass an
// in-memory one: tests/js/signalling.test.mjs).

const PING_EVERY_MS = 20_000;
const PONG_TIMEOUT_MS = 8_000;
const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 10_000;
const SESSION_ENDED = 4401;
// Only these are worth keeping for later: a hello is sent on every connection anyway,
// and re-joining a live call must not be lost. Everything else fails fast ("unsent"):
// an offer or a claim replayed minutes later would do more harm than good.
const QUEUED_TYPES = new Set(["hello", "call.join"]);
const OPEN = 1; // a WebSocket's readyState once it is open

export class SignallingClient extends EventTarget {
  constructor({ url = null, resumeCallId = null, WebSocket = globalThis.WebSocket } = {}) {
    super();
    this._Socket = WebSocket;
    this.url = url;
    this.resumeCallId = resumeCallId;
    this.pingEveryMs = PING_EVERY_MS;
    this.pongTimeoutMs = PONG_TIMEOUT_MS; // tests shorten it
    this.state = "idle"; // idle | connecting | open | closed | ended
    this._ws = null;
    this._attempt = 0;
    this._seq = 0;
    this._handlers = new Map();
    this._pingTimer = null;
    this._pongTimer = null;
    this._retryTimer = null;
    this._stopped = true;
    this._queued = [];
    // The browser's own hints: back online, reconnect now (or check the socket we have);
    // gone offline, find out at once whether the socket survived.
    this._onOnline = () => (this.state === "open" ? this.checkAlive() : this.reconnectNow());
    this._onOffline = () => this.checkAlive();
    this._onVisible = () => document.visibilityState === "visible" && this.checkAlive();
  }

  connect(url = null) {
    if (url) this.url = url;
    if (!this.url) this.url = defaultUrl();
    this._stopped = false;
    globalThis.addEventListener?.("online", this._onOnline);
    globalThis.addEventListener?.("offline", this._onOffline);
    globalThis.document?.addEventListener("visibilitychange", this._onVisible);
    this._open();
    return this;
  }

  close() {
    this._stopped = true;
    this._clearTimers();
    clearTimeout(this._retryTimer);
    globalThis.removeEventListener?.("online", this._onOnline);
    globalThis.removeEventListener?.("offline", this._onOffline);
    globalThis.document?.removeEventListener("visibilitychange", this._onVisible);
    const ws = this._ws;
    this._ws = null;
    ws?.close(1000, "bye");
    this._setState("closed");
  }

  on(type, handler) {
    if (!this._handlers.has(type)) this._handlers.set(type, new Set());
    this._handlers.get(type).add(handler);
    return () => this._handlers.get(type)?.delete(handler);
  }

  /** Send a message; returns its ref, or null when the socket is down (hello and
   *  call.join are then kept and sent after the next hello). */
  send(type, fields = {}) {
    const ref = `r${++this._seq}`;
    const message = { type, ref, ...fields };
    if (this.state !== "open" || this._ws?.readyState !== OPEN) {
      if (type === "hello") return null; // sent on every connection anyway
      if (QUEUED_TYPES.has(type)) {
        this._queued = this._queued.filter((m) => !(m.type === type && m.call_id === message.call_id));
        this._queued.push(message);
        return ref;
      }
      if (type !== "ping") this._emit("unsent", { type, ref });
      return null;
    }
    this._ws.send(JSON.stringify(message));
    return ref;
  }

  /** Reconnect at once (the network came back): skips any back-off still pending. */
  reconnectNow() {
    if (this._stopped || this.state === "ended" || this.state === "open" || this.state === "connecting") return;
    clearTimeout(this._retryTimer);
    this._attempt = 0;
    this._open();
  }

  /** Ping now and treat a missing pong as a dead socket (after sleep, or when the page
   *  comes back to the foreground). */
  checkAlive() {
    if (this.state === "open") this._ping();
  }

  _open() {
    clearTimeout(this._retryTimer);
    this._setState("connecting");
    let ws;
    try {
      ws = new this._Socket(this.url);
    } catch {
      this._scheduleRetry();
      return;
    }
    this._ws = ws;
    ws.addEventListener("open", () => {
      if (ws !== this._ws) return;
      this._attempt = 0;
      this._setState("open");
      const hello = { v: 1 };
      if (this.resumeCallId) hello.resume_call_id = this.resumeCallId;
      ws.send(JSON.stringify({ type: "hello", ref: `r${++this._seq}`, ...hello }));
      for (const m of this._queued.splice(0)) ws.send(JSON.stringify(m));
      this._schedulePing();
      this._emit("open");
    });
    ws.addEventListener("message", (event) => ws === this._ws && this._receive(event.data));
    ws.addEventListener("close", (event) => {
      if (ws !== this._ws) return; // a socket we already gave up on
      this._lost(event.code, event.reason);
    });
  }

  _lost(code, reason) {
    this._ws = null;
    this._clearTimers();
    if (code === SESSION_ENDED) {
      this._stopped = true;
      this._setState("ended");
      this._emit("ended", { code, reason });
      return;
    }
    if (this._stopped) return;
    this._setState("closed");
    this._emit("closed", { code, reason });
    this._scheduleRetry();
  }

  _scheduleRetry() {
    if (this._stopped) return;
    const ceiling = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** this._attempt++);
    const delay = ceiling / 2 + (Math.random() * ceiling) / 2; // jitter: [ceiling/2, ceiling]
    clearTimeout(this._retryTimer);
    this._retryTimer = setTimeout(() => this._open(), delay);
  }

  _receive(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (message.type === "pong") {
      clearTimeout(this._pongTimer);
      this._pongTimer = null;
    }
    for (const handler of [...(this._handlers.get(message.type) ?? []), ...(this._handlers.get("*") ?? [])]) {
      try {
        const result = handler(message);
        result?.catch?.((err) => console.error(`handler for ${message.type} failed`, err));
      } catch (err) {
        console.error(`handler for ${message.type} failed`, err);
      }
    }
  }

  _schedulePing() {
    this._clearTimers();
    this._pingTimer = setInterval(() => this._ping(), this.pingEveryMs);
  }

  _ping() {
    const ws = this._ws;
    if (!ws || ws.readyState !== OPEN) return;
    ws.send(JSON.stringify({ type: "ping" }));
    if (this._pongTimer) return; // one outstanding ping is enough
    this._pongTimer = setTimeout(() => {
      this._pongTimer = null;
      if (ws !== this._ws) return;
      // Dead but not closed: abandon it (its close event is ignored) and start afresh.
      try {
        ws.close(4000, "no pong");
      } catch {
        // already closing
      }
      this._lost(4000, "no pong");
      this._attempt = 0;
      clearTimeout(this._retryTimer);
      this._open();
    }, this.pongTimeoutMs);
  }

  _clearTimers() {
    clearInterval(this._pingTimer);
    clearTimeout(this._pongTimer);
    this._pingTimer = null;
    this._pongTimer = null;
  }

  _setState(state) {
    if (this.state === state) return;
    this.state = state;
    this._emit("state", state);
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

function defaultUrl() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/ws`;
}
