// The signalling protocol client (docs/signalling.md). No DOM code: pages listen to it.
//
// It reconnects with exponential back-off and jitter, says hello again on every
// connection (resuming a call if it has one), and pings every 20 s; a pong missing for
// 8 s means the network silently died (a Wi-Fi drop), so it closes and reconnects at
// once rather than waiting for TCP to notice.

const PING_EVERY_MS = 20_000;
const PONG_TIMEOUT_MS = 8_000;
const MAX_BACKOFF_MS = 10_000;
const SESSION_ENDED = 4401;

export class SignallingClient extends EventTarget {
  constructor({ url = defaultUrl(), resumeCallId = null } = {}) {
    super();
    this.url = url;
    this.resumeCallId = resumeCallId;
    this.state = "idle"; // idle | connecting | open | closed | ended
    this._ws = null;
    this._attempt = 0;
    this._seq = 0;
    this._handlers = new Map();
    this._pingTimer = null;
    this._pongTimer = null;
    this._stopped = false;
  }

  connect() {
    this._stopped = false;
    this._open();
    return this;
  }

  close() {
    this._stopped = true;
    this._clearTimers();
    this._ws?.close(1000, "bye");
    this._setState("closed");
  }

  on(type, handler) {
    if (!this._handlers.has(type)) this._handlers.set(type, new Set());
    this._handlers.get(type).add(handler);
    return () => this._handlers.get(type).delete(handler);
  }

  send(type, fields = {}) {
    const ref = `r${++this._seq}`;
    if (!this._ws || this._ws.readyState !== WebSocket.OPEN) {
      this.dispatchEvent(new CustomEvent("unsent", { detail: { type, ref } }));
      return null;
    }
    this._ws.send(JSON.stringify({ type, ref, ...fields }));
    return ref;
  }

  _open() {
    this._setState("connecting");
    const ws = new WebSocket(this.url);
    this._ws = ws;
    ws.addEventListener("open", () => {
      this._attempt = 0;
      this._setState("open");
      const hello = { v: 1 };
      if (this.resumeCallId) hello.resume_call_id = this.resumeCallId;
      this.send("hello", hello);
      this._schedulePing();
    });
    ws.addEventListener("message", (event) => this._receive(event.data));
    ws.addEventListener("close", (event) => {
      if (ws !== this._ws) return;
      this._clearTimers();
      if (event.code === SESSION_ENDED) {
        this._setState("ended");
        return;
      }
      if (this._stopped) return;
      this._setState("closed");
      const backoff = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this._attempt++);
      setTimeout(() => !this._stopped && this._open(), backoff * (0.5 + Math.random() / 2));
    });
  }

  _receive(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (message.type === "pong") clearTimeout(this._pongTimer);
    for (const handler of this._handlers.get(message.type) ?? []) handler(message);
    for (const handler of this._handlers.get("*") ?? []) handler(message);
  }

  _schedulePing() {
    this._clearTimers();
    this._pingTimer = setInterval(() => {
      if (this.send("ping") === null) return;
      clearTimeout(this._pongTimer);
      this._pongTimer = setTimeout(() => this._ws?.close(4000, "no pong"), PONG_TIMEOUT_MS);
    }, PING_EVERY_MS);
  }

  _clearTimers() {
    clearInterval(this._pingTimer);
    clearTimeout(this._pongTimer);
  }

  _setState(state) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: state }));
  }
}

function defaultUrl() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/ws`;
}
