// The people of a relayed call (three or more) as tiles: one per participant, their
// video (or a "sound only" card) with their name and role underneath, so everyone sees
// who is in the call. Shared by every page on the relay: the tablet, the guest, the
// console. No signalling or WebRTC here: the page feeds it RelayCall's events.
//
//   const tiles = new CallTiles(document.getElementById("tiles"));
//   relay.addEventListener("tile", (e) => tiles.show(e.detail));     // a track arrived
//   relay.addEventListener("roster", (e) => tiles.roster(e.detail)); // names, leavers
//   ...; tiles.clear();                                              // off the relay
//
// RelayCall sends one "tile" per track (audio and video apart); the tile of a
// participant keeps both in one MediaStream so one <video> element plays them together.
// The words (roleLabel, tileCaption, guestLine) have no DOM: tests/js/guest_tiles.test.mjs.

/** A participant's role (signalling's ParticipantRole) in words people use. */
export const ROLE_LABELS = Object.freeze({
  device: "Care home",
  clinician: "Clinician",
  gp: "GP",
  family: "Family member",
  interpreter: "Interpreter",
  other: "Guest",
});

export function roleLabel(role) {
  return ROLE_LABELS[role] ?? "Guest";
}

/** "Sam Smith · Family member"; just the role while the name is not known yet. */
export function tileCaption({ name, role }) {
  return name ? `${name} · ${roleLabel(role)}` : roleLabel(role);
}

const GUEST_STATES = { waiting: "waiting", in_call: "in the call" };

/** "Sam Smith (Family member) — waiting" for a guest still there (call.guests entry), or
 *  null for one who left or was removed. */
export function guestLine({ name, role, state }) {
  const where = GUEST_STATES[state];
  return where ? `${name} (${roleLabel(role)}) — ${where}` : null;
}

export class CallTiles {
  constructor(container, { doc = globalThis.document } = {}) {
    this.container = container;
    this.doc = doc;
    this.tiles = new Map(); // participant -> {el, video, caption, stream, who}
  }

  /** A track of someone's (RelayCall "tile" detail): add it to their tile. */
  show({ participant, name, role, stream }) {
    const tile = this.tiles.get(participant) ?? this._create(participant);
    const track = stream.getTracks()[0];
    if (track) {
      // A renegotiation brings a new track of the same kind: the old one has ended.
      for (const old of tile.stream.getTracks()) if (old.kind === track.kind && old !== track) tile.stream.removeTrack(old);
      if (!tile.stream.getTracks().includes(track)) tile.stream.addTrack(track);
    }
    if (name) tile.who = { name, role };
    else if (!tile.who.role) tile.who = { name: "", role };
    this._render(tile);
  }

  /** The relay's roster (RelayCall "roster"): names for tiles, and no tile for whoever left. */
  roster(participants) {
    const present = new Map(participants.map((p) => [p.participant, p]));
    for (const [participant, tile] of this.tiles) {
      const p = present.get(participant);
      if (!p) {
        this._remove(participant);
        continue;
      }
      tile.who = { name: p.name, role: p.role };
      this._render(tile);
    }
  }

  /** Off the relay: no tiles. */
  clear() {
    for (const participant of [...this.tiles.keys()]) this._remove(participant);
  }

  _create(participant) {
    const el = this.doc.createElement("figure");
    el.className = "call-tile";
    el.dataset.participant = participant;
    el.dataset.testid = "call-tile";
    const video = this.doc.createElement("video");
    video.autoplay = true;
    video.playsInline = true;
    const caption = this.doc.createElement("figcaption");
    el.append(video, caption);
    this.container.append(el);
    const stream = new MediaStream();
    video.srcObject = stream;
    const tile = { el, video, caption, stream, who: { name: "", role: "" } };
    this.tiles.set(participant, tile);
    return tile;
  }

  _render(tile) {
    tile.caption.textContent = tileCaption(tile.who);
    tile.el.dataset.role = tile.who.role;
    tile.el.classList.toggle("sound-only", tile.stream.getVideoTracks().length === 0);
  }

  _remove(participant) {
    const tile = this.tiles.get(participant);
    if (!tile) return;
    tile.video.srcObject = null;
    tile.el.remove();
    this.tiles.delete(participant);
  }
}
