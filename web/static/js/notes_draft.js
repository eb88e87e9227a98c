// The console's notes, without the DOM: the draft's save state and the entries list.
// (web/static/js/console_notes.js draws them; tests/js/notes_draft.test.mjs tests them.)
//
// A draft is saved from the revision this page last saw (`base`); one save is in flight
// at a time, so a page never conflicts with itself. A save the server refuses because
// another tab saved first is a conflict: nothing is overwritten, and the page shows
// the other text until the clinician chooses. What is typed stays here while offline
// and is sent when the link comes back.

export class Draft {
  constructor(callId) {
    this.callId = callId;
    this.text = ""; // what is in the box
    this.savedText = ""; // what the server holds at `revision`
    this.revision = 0;
    this.savedAt = null;
    this.pending = null; // { ref, text } of the save in flight
    this.offline = false;
    this.conflict = null; // { text, revision, savedAt } stored by another tab
    this.error = null;
  }

  get dirty() {
    return this.text !== this.savedText;
  }

  typed(text) {
    this.text = text;
    this.error = null;
  }

  /** The `notes.draft` fields to send now, or null (nothing new, a save in flight, or a
   *  conflict waiting for the clinician). */
  nextSave() {
    if (!this.dirty || this.pending || this.conflict) return null;
    return { call_id: this.callId, text: this.text, base: this.revision };
  }

  sending(ref, text) {
    if (ref === null) {
      this.offline = true;
      return;
    }
    this.offline = false;
    this.pending = { ref, text };
  }

  saved(m) {
    if (this.pending?.ref !== m.ref) return false;
    this.savedText = this.pending.text;
    this.pending = null;
    this.revision = m.revision;
    this.savedAt = m.saved_at;
    return true;
  }

  conflicted(m) {
    if (this.pending?.ref === m.ref) this.pending = null;
    this.conflict = { text: m.draft_text, revision: m.revision, savedAt: m.saved_at };
  }

  /** The clinician chose: keep both texts (theirs below), or only the one in this box. */
  resolve(keepBoth) {
    const other = this.conflict;
    if (!other) return;
    if (keepBoth && other.text.trim() && !this.text.includes(other.text)) {
      this.text = this.text.trim() ? `${this.text}\n\n${other.text}` : other.text;
    }
    this.savedText = other.text;
    this.revision = other.revision;
    this.conflict = null;
  }

  /** The server's view after (re)opening the call: take it, or keep what is typed here. */
  opened(m) {
    const wasPending = this.pending;
    this.pending = null;
    this.offline = false;
    const local = this.text;
    if (!this.dirty && !wasPending) {
      this.text = this.savedText = m.draft_text;
    } else if (m.draft_text === local) {
      this.savedText = local;
    } else if (m.draft_revision === this.revision || (wasPending && m.draft_text === wasPending.text)) {
      this.savedText = m.draft_text; // ours (or still the base we typed on): send the rest
    } else {
      this.conflict = { text: m.draft_text, revision: m.draft_revision, savedAt: m.draft_saved_at };
      return;
    }
    this.revision = m.draft_revision;
    this.savedAt = m.draft_saved_at;
  }

  /** "Add to notes" took the box's text: it is an entry now. */
  added(draftRevision) {
    if (draftRevision !== null && draftRevision !== undefined) {
      this.revision = draftRevision;
      this.savedText = "";
    }
  }

  /** What the clinician reads next to the box. */
  status(formatTime) {
    if (this.conflict) return { kind: "conflict", text: "Not saved — this draft was changed in another window: choose below" };
    if (this.error) return { kind: "error", text: `Not saved — ${this.error}; your text is kept here` };
    if (this.offline && this.dirty) return { kind: "offline", text: "Not saved — connection lost, your text is kept here" };
    if (this.pending) return { kind: "saving", text: "Saving…" };
    if (this.dirty) return { kind: "typing", text: "Not saved yet…" };
    if (this.savedAt && this.text) return { kind: "saved", text: `Draft saved ${formatTime(this.savedAt)}` };
    return { kind: "empty", text: "" };
  }
}

/** Entries in the order written, each with what a reader needs to see about corrections. */
export function describeEntries(entries, formatTime) {
  const byId = new Map(entries.map((e) => [e.entry_id, e]));
  const correctedBy = new Map();
  for (const e of entries) if (e.corrects !== null && e.corrects !== undefined) correctedBy.set(e.corrects, e);
  return [...entries]
    .sort((a, b) => a.written_at.localeCompare(b.written_at) || a.entry_id - b.entry_id)
    .map((e) => {
      const target = byId.get(e.corrects);
      const later = correctedBy.get(e.entry_id);
      return {
        ...e,
        when: formatTime(e.written_at),
        correctionOf: target ? `Correction to the ${formatTime(target.written_at)} entry` : null,
        correctedNote: later ? `Corrected at ${formatTime(later.written_at)}` : null,
      };
    });
}
