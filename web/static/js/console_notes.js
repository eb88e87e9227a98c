// The console's notes panel: the call's entries, and this clinician's draft saved as
// they type (docs/signalling.md, "Notes"). console.js opens it for the call in hand,
// commits it before hand back / transfer / end, and closes it when the call goes.
import { ukDate, ukTime } from "./console_format.js";
import { Draft, describeEntries } from "./notes_draft.js";

const SAVE_AFTER_MS = 600;
const $ = (id) => document.getElementById(id);
const when = (iso) => {
  const today = ukDate(new Date());
  return ukDate(iso) === today ? ukTime(iso) : `${ukDate(iso)} ${ukTime(iso)}`;
};

export class NotesPanel {
  constructor(sig) {
    this.sig = sig;
    this.draft = null;
    this.entries = new Map();
    this.refs = new Map(); // ref → what it was (for errors): { kind, text }
    this.timer = null;
    $("notes").addEventListener("input", () => this._typed());
    $("notes-add").addEventListener("click", () => this.commit());
    $("notes-keep-both").addEventListener("click", () => this._resolve(true));
    $("notes-keep-mine").addEventListener("click", () => this._resolve(false));
    sig.on("notes.snapshot", (m) => this._snapshot(m));
    sig.on("notes.entry", (m) => this._entry(m));
    sig.on("notes.draft_saved", (m) => this._saved(m));
    sig.on("notes.draft_conflict", (m) => this._conflict(m));
    sig.on("notes.added", (m) => this._added(m));
    sig.on("error", (m) => this._error(m));
    addEventListener("pagehide", () => this._save()); // a reload or close: send what is typed now
  }

  get callId() {
    return this.draft?.callId ?? null;
  }

  /** A call is in hand (answered, transferred to us, or after a reload). */
  open(callId) {
    this.close();
    this.draft = new Draft(callId);
    this.entries.clear();
    $("notes").value = "";
    $("notes").disabled = true; // until the server's draft is here: nothing typed is lost
    this._render();
    this._status();
    this.refs.set(this.sig.send("notes.open", { call_id: callId }), { kind: "open" });
  }

  /** Our socket came back: watch the call again and send what was typed meanwhile. */
  reconnected() {
    if (this.draft) this.sig.send("notes.open", { call_id: this.draft.callId });
  }

  /** The call has gone (handed back, transferred, ended). Text typed since the last
   *  save, or never added, becomes an entry if the server still takes one. */
  close() {
    clearTimeout(this.timer);
    if (!this.draft) return;
    if (this.draft.dirty && this.draft.text.trim()) this._add(this.draft.text, null);
    this.sig.send("notes.close", { call_id: this.draft.callId });
    this.draft = null;
  }

  /** "Add to notes" (also before hand back, transfer and end): the box becomes an entry. */
  commit() {
    const d = this.draft;
    if (!d || !d.text.trim() || d.conflict) return;
    clearTimeout(this.timer);
    if (this._add(d.text, d.revision) === null) return;
    d.typed("");
    $("notes").value = "";
    this._status();
  }

  unsent(detail) {
    if (!this.draft || !detail.type.startsWith("notes.")) return;
    if (detail.type === "notes.draft") this.draft.sending(null);
    this._status();
  }

  _add(text, base) {
    const fields = { call_id: this.draft.callId, text };
    if (base !== null) fields.base = base;
    const ref = this.sig.send("notes.add", fields);
    if (ref === null) {
      this.draft.offline = true;
      this._status();
      return null;
    }
    this.refs.set(ref, { kind: "add", text });
    return ref;
  }

  _typed() {
    if (!this.draft) return;
    this.draft.typed($("notes").value);
    this._status();
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this._save(), SAVE_AFTER_MS);
  }

  _save() {
    clearTimeout(this.timer);
    const next = this.draft?.nextSave();
    if (!next) return;
    this.draft.sending(this.sig.send("notes.draft", next), next.text);
    this._status();
  }

  _snapshot(m) {
    if (m.call_id !== this.callId) return;
    this.entries = new Map(m.entries.map((e) => [e.entry_id, e]));
    this.draft.opened(m);
    $("notes").value = this.draft.text;
    $("notes").disabled = false;
    this._render();
    this._status();
    this._save(); // what was typed while offline goes now
  }

  _entry(m) {
    if (m.call_id !== this.callId) return;
    this.entries.set(m.entry_id, m);
    this._render();
  }

  _saved(m) {
    if (m.call_id !== this.callId || !this.draft.saved(m)) return;
    this._status();
    this._save(); // typed more while that save was on its way
  }

  _conflict(m) {
    if (m.call_id !== this.callId) return;
    this.draft.conflicted(m);
    this._status();
  }

  _resolve(keepBoth) {
    if (!this.draft) return;
    this.draft.resolve(keepBoth);
    $("notes").value = this.draft.text;
    this._status();
    this._save();
  }

  _added(m) {
    const sent = this.refs.get(m.ref);
    this.refs.delete(m.ref);
    if (sent?.kind === "correct") sent.form.remove();
    if (m.call_id !== this.callId || sent?.kind !== "add") return;
    this.draft.added(m.draft_revision);
    this._status();
  }

  _error(m) {
    const sent = this.refs.get(m.ref);
    if (!sent) return;
    this.refs.delete(m.ref);
    if (!this.draft) return;
    if (sent.kind === "open") $("notes").disabled = false;
    if (sent.kind === "correct") sent.form.querySelector("button[type=submit]").disabled = false;
    // The entry was not taken: give its text back to the box rather than lose it.
    if (sent.kind === "add" && !this.draft.text.includes(sent.text)) {
      this.draft.typed(this.draft.text.trim() ? `${sent.text}\n\n${this.draft.text}` : sent.text);
      $("notes").value = this.draft.text;
    }
    this.draft.error = m.message;
    this._status();
  }

  _status() {
    const state = this.draft ? this.draft.status(when) : { kind: "empty", text: "" };
    $("notes-state").textContent = state.text;
    $("notes-state").dataset.state = state.kind;
    const conflict = this.draft?.conflict;
    $("notes-conflict").hidden = !conflict;
    $("notes-other").textContent = conflict ? conflict.text || "(empty)" : "";
    $("notes-add").disabled = !this.draft || !!conflict;
  }

  _render() {
    const list = $("note-entries");
    list.replaceChildren();
    const entries = describeEntries([...this.entries.values()], when);
    if (!entries.length) {
      const li = document.createElement("li");
      li.className = "empty";
      li.textContent = "No entries yet.";
      list.append(li);
    }
    for (const e of entries) list.append(this._item(e));
  }

  _item(e) {
    const li = document.createElement("li");
    li.className = `note${e.correctedNote ? " corrected" : ""}`;
    li.dataset.entryId = String(e.entry_id);
    li.dataset.testid = "note-entry";
    const meta = document.createElement("p");
    meta.className = "note-meta";
    const who = document.createElement("strong");
    who.textContent = e.author_name;
    meta.append(who, ` · ${e.when}`);
    for (const [text, cls] of [[e.correctionOf, "correction"], [e.correctedNote, "corrected-mark"]]) {
      if (!text) continue;
      const span = document.createElement("span");
      span.className = cls;
      span.textContent = text;
      meta.append(" · ", span);
    }
    const body = document.createElement("p");
    body.className = "note-text";
    body.textContent = e.text;
    const fix = document.createElement("button");
    fix.type = "button";
    fix.className = "link";
    fix.textContent = "Correct";
    fix.addEventListener("click", () => this._correctForm(li, e));
    li.append(meta, body, fix);
    return li;
  }

  _correctForm(li, e) {
    if (li.querySelector("form")) return;
    const form = document.createElement("form");
    form.className = "note-correct";
    const box = document.createElement("textarea");
    box.rows = 3;
    box.maxLength = 20000;
    box.value = e.text;
    box.setAttribute("aria-label", `Correction to the ${e.when} entry`);
    const save = Object.assign(document.createElement("button"), { type: "submit", textContent: "Add correction" });
    const cancel = Object.assign(document.createElement("button"), { type: "button", textContent: "Cancel" });
    cancel.addEventListener("click", () => form.remove());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!box.value.trim() || !this.draft) return;
      const ref = this.sig.send("notes.correct", { call_id: this.draft.callId, corrects: e.entry_id, text: box.value });
      if (ref === null) {
        this.draft.error = "not connected, try again in a moment";
        this._status();
        return;
      }
      this.refs.set(ref, { kind: "correct", text: box.value, form });
      save.disabled = true; // the form goes when the server has the correction
    });
    form.append(box, save, cancel);
    li.append(form);
    box.focus();
  }
}
