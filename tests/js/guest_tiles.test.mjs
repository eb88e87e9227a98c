// node --test tests/js/: CallTiles (web/static/js/call_tiles.js) keeps one tile per
// participant — audio and video in one stream, names from the roster, leavers removed —
// checked against a tiny stand-in DOM.
import assert from "node:assert/strict";
import { test } from "node:test";

import { CallTiles } from "../../web/static/js/call_tiles.js";

class FakeStream {
  constructor(tracks = []) {
    this.tracks = [...tracks];
  }
  getTracks() { return [...this.tracks]; }
  getVideoTracks() { return this.tracks.filter((t) => t.kind === "video"); }
  addTrack(t) { this.tracks.push(t); }
  removeTrack(t) { this.tracks = this.tracks.filter((x) => x !== t); }
}

class FakeElement {
  constructor(tag) {
    this.tag = tag;
    this.children = [];
    this.dataset = {};
    this.textContent = "";
    this.className = "";
    const classes = new Set();
    this.classList = { toggle: (c, on) => (on ? classes.add(c) : classes.delete(c)), contains: (c) => classes.has(c) };
  }
  append(...els) {
    for (const el of els) {
      el.parent = this;
      this.children.push(el);
    }
  }
  remove() {
    this.parent.children = this.parent.children.filter((c) => c !== this);
  }
}

const doc = { createElement: (tag) => new FakeElement(tag) };
globalThis.MediaStream ??= FakeStream;

const track = (kind) => ({ kind });
const tile = (participant, kind, name = "", role = "") => ({ participant, name, role, kind, stream: new FakeStream([track(kind)]) });

test("audio and video of one participant share one tile, captioned by name and role", () => {
  const box = new FakeElement("div");
  const tiles = new CallTiles(box, { doc });
  tiles.show(tile("guest:2", "audio", "Sam Smith", "family"));
  assert.equal(box.children.length, 1);
  const [fig] = box.children;
  assert.equal(fig.dataset.participant, "guest:2");
  assert.equal(fig.children[1].textContent, "Sam Smith · Family member");
  assert.equal(fig.classList.contains("sound-only"), true); // no video yet
  tiles.show(tile("guest:2", "video", "Sam Smith", "family"));
  assert.equal(box.children.length, 1);
  assert.equal(tiles.tiles.get("guest:2").stream.getTracks().length, 2);
  assert.equal(fig.classList.contains("sound-only"), false);
});

test("a renegotiated track replaces the old one of the same kind", () => {
  const tiles = new CallTiles(new FakeElement("div"), { doc });
  tiles.show(tile("staff:3", "video", "Nurse", "clinician"));
  const again = tile("staff:3", "video", "Nurse", "clinician");
  tiles.show(again);
  assert.deepEqual(tiles.tiles.get("staff:3").stream.getTracks(), again.stream.getTracks());
});

test("the roster names tiles that came before it and removes whoever left", () => {
  const box = new FakeElement("div");
  const tiles = new CallTiles(box, { doc });
  tiles.show(tile("device:7", "video", "", "device"));
  tiles.show(tile("guest:2", "video", "Sam", "family"));
  assert.equal(box.children[0].children[1].textContent, "Care home");
  tiles.roster([{ participant: "device:7", name: "Trolley", role: "device" }]);
  assert.equal(box.children.length, 1);
  assert.equal(box.children[0].children[1].textContent, "Trolley · Care home");
  tiles.clear();
  assert.equal(box.children.length, 0);
  assert.equal(tiles.tiles.size, 0);
});
