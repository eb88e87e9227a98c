// node --test tests/js/: the signalling protocol client (web/static/js/signalling.js) with
// an in-memory WebSocket class passed in: no DOM, no network. Timers are Node's mock
// timers, moved on by hand: nothing here waits for real time.
import assert from "node:assert/strict";
import { beforeEach, mock, test } from "node:test";

import { SignallingClient } from "../../web/static/js/signalling.js";

/** A WebSocket the test drives: open(), receive(message), drop(code). */
class FakeSocket extends EventTarget {
  static made = [];

  constructor(url) {
    super();
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.closedWith = null;
    FakeSocket.made.push(this);
  }

  send(text) {
    assert.equal(this.readyState, 1, "sent on a socket that is not open");
    this.sent.push(JSON.parse(text));
  }

  close(code = 1000, reason = "") {
    this.closedWith = { code, reason };
    this.readyState = 3;
  }

  open() {
    this.readyState = 1;
    this.dispatchEvent(new Event("open"));
  }

  receive(message) {
    const text = typeof message === "string" ? message : JSON.stringify(message);
    this.dispatchEvent(Object.assign(new Event("message"), { data: text }));
  }

  drop(code = 1006, reason = "") {
    this.readyState = 3;
    this.dispatchEvent(Object.assign(new Event("close"), { code, reason }));
  }
}

const latest = () => FakeSocket.made.at(-1);
const URL = "ws://hub.test/ws";

function client(options = {}) {
  const states = [];
  const sig = new SignallingClient({ url: URL, WebSocket: FakeSocket, ...options });
  sig.addEventListener("state", (e) => states.push(e.detail));
  return { sig, states };
}

beforeEach(() => {
  FakeSocket.made = [];
  mock.timers.reset();
  mock.timers.enable({ apis: ["setTimeout", "setInterval"] });
});

test("connects, says hello (with the call to resume) and is open", () => {
  const { sig, states } = client({ resumeCallId: 42 });
  sig.connect();
  assert.equal(latest().url, URL);
  assert.equal(sig.state, "connecting");
  latest().open();
  assert.deepEqual(latest().sent, [{ type: "hello", ref: "r1", v: 1, resume_call_id: 42 }]);
  assert.deepEqual(states, ["connecting", "open"]);
});

test("send gives each message a fresh ref", () => {
  const { sig } = client();
  sig.connect();
  latest().open();
  assert.equal(sig.send("queue.subscribe"), "r2");
  assert.equal(sig.send("call.claim", { call_id: 7 }), "r3");
  assert.deepEqual(latest().sent.slice(1), [
    { type: "queue.subscribe", ref: "r2" },
    { type: "call.claim", ref: "r3", call_id: 7 },
  ]);
});

test("while down: a claim fails fast ('unsent'), a join is kept once and sent after the next hello", () => {
  const { sig } = client();
  const unsent = [];
  sig.addEventListener("unsent", (e) => unsent.push(e.detail));
  sig.connect();
  assert.equal(sig.send("call.claim", { call_id: 7 }), null);
  assert.equal(sig.send("ping"), null); // pings are not worth an "unsent"
  assert.equal(sig.send("hello"), null); // a hello goes out on every connection anyway
  assert.ok(sig.send("call.join", { call_id: 7 }));
  assert.ok(sig.send("call.join", { call_id: 7 })); // the same join twice: kept once
  assert.deepEqual(unsent, [{ type: "call.claim", ref: "r1" }]);
  latest().open();
  assert.deepEqual(latest().sent.map((m) => [m.type, m.call_id]), [["hello", undefined], ["call.join", 7]]);
});

test("messages reach handlers of their type and '*'; unsubscribing stops them; bad JSON is ignored", (t) => {
  const errors = t.mock.method(console, "error", () => {});
  const { sig } = client();
  const seen = [];
  const off = sig.on("call.state", (m) => seen.push(`state ${m.state}`));
  sig.on("*", (m) => seen.push(`any ${m.type}`));
  sig.on("call.state", () => {
    throw new Error("a broken handler");
  });
  sig.connect();
  latest().open();
  latest().receive({ type: "call.state", call_id: 1, state: "waiting" });
  latest().receive("{not json");
  off();
  latest().receive({ type: "call.state", call_id: 1, state: "answered" });
  assert.deepEqual(seen, ["state waiting", "any call.state", "any call.state"]);
  assert.equal(errors.mock.callCount(), 2); // the broken handler, logged, did not stop the others
});

test("a dropped socket reconnects after a back-off that doubles, and says hello again", (t) => {
  t.mock.method(Math, "random", () => 0); // the jitter's lower end: half the ceiling
  const { sig, states } = client();
  const closed = [];
  sig.addEventListener("closed", (e) => closed.push(e.detail));
  sig.connect();
  latest().open();
  latest().drop(1006);
  assert.equal(sig.state, "closed");
  assert.deepEqual(closed, [{ code: 1006, reason: "" }]);
  mock.timers.tick(249);
  assert.equal(FakeSocket.made.length, 1);
  mock.timers.tick(1); // 500 ms ceiling / 2
  assert.equal(FakeSocket.made.length, 2);
  latest().drop(1006); // never opened: the next wait doubles
  mock.timers.tick(499);
  assert.equal(FakeSocket.made.length, 2);
  mock.timers.tick(1);
  assert.equal(FakeSocket.made.length, 3);
  latest().open();
  assert.equal(latest().sent[0].type, "hello");
  assert.deepEqual(states, ["connecting", "open", "closed", "connecting", "closed", "connecting", "open"]);
});

test("reconnectNow skips the back-off still pending", () => {
  const { sig } = client();
  sig.connect();
  latest().drop(1006);
  assert.equal(FakeSocket.made.length, 1);
  sig.reconnectNow();
  assert.equal(FakeSocket.made.length, 2);
  assert.equal(sig.state, "connecting");
});

test("close code 4401 ends the session for good: 'ended', no reconnect", () => {
  const { sig } = client();
  let ended = null;
  sig.addEventListener("ended", (e) => (ended = e.detail));
  sig.connect();
  latest().open();
  latest().drop(4401, "session ended");
  assert.equal(sig.state, "ended");
  assert.deepEqual(ended, { code: 4401, reason: "session ended" });
  mock.timers.tick(60_000);
  assert.equal(FakeSocket.made.length, 1);
  sig.reconnectNow();
  assert.equal(FakeSocket.made.length, 1);
});

test("a ping every 20 s; a pong missing for 8 s drops that socket and opens a new one at once", () => {
  const { sig } = client();
  sig.connect();
  const first = latest();
  first.open();
  mock.timers.tick(20_000);
  assert.deepEqual(first.sent.at(-1), { type: "ping" });
  first.receive({ type: "pong" }); // answered: nothing happens
  mock.timers.tick(8_000);
  assert.equal(FakeSocket.made.length, 1);
  mock.timers.tick(12_000); // the next ping, and no pong this time
  assert.deepEqual(first.sent.filter((m) => m.type === "ping").length, 2);
  mock.timers.tick(7_999);
  assert.equal(FakeSocket.made.length, 1);
  mock.timers.tick(1);
  assert.deepEqual(first.closedWith, { code: 4000, reason: "no pong" });
  assert.equal(FakeSocket.made.length, 2);
  assert.equal(sig.state, "connecting");
  first.drop(4000); // the dead socket's late close event is ignored
  assert.equal(sig.state, "connecting");
});

test("checkAlive pings now; the shorter pong timeout a test sets is honoured", () => {
  const { sig } = client();
  sig.pongTimeoutMs = 1500;
  sig.connect();
  latest().open();
  sig.checkAlive();
  assert.deepEqual(latest().sent.at(-1), { type: "ping" });
  mock.timers.tick(1500);
  assert.equal(FakeSocket.made.length, 2);
});

test("close() says bye, stops reconnecting and pinging", () => {
  const { sig } = client();
  sig.connect();
  const ws = latest();
  ws.open();
  sig.close();
  assert.equal(sig.state, "closed");
  assert.deepEqual(ws.closedWith, { code: 1000, reason: "bye" });
  mock.timers.tick(120_000);
  assert.equal(FakeSocket.made.length, 1);
  assert.equal(ws.sent.length, 1); // the hello only: no pings after close
});
