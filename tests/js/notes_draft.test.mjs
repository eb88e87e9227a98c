// node --test tests/js/: the console's notes draft and entries, without a browser (issue 10, item 1).
import assert from "node:assert/strict";
import { test } from "node:test";

import { Draft, describeEntries } from "../../web/static/js/notes_draft.js";

const hhmm = (iso) => iso.slice(11, 16);

test("one save in flight at a time, from the revision last seen", () => {
  const d = new Draft(7);
  d.typed("Resp 24");
  assert.deepEqual(d.nextSave(), { call_id: 7, text: "Resp 24", base: 0 });
  d.sending("r1", "Resp 24");
  d.typed("Resp 24, sats 93%");
  assert.equal(d.nextSave(), null); // waits for the first reply: never conflicts with itself
  assert.equal(d.status(hhmm).text, "Saving…");
  assert.ok(d.saved({ ref: "r1", revision: 1, saved_at: "2026-03-02T14:02:00+00:00" }));
  assert.deepEqual(d.nextSave(), { call_id: 7, text: "Resp 24, sats 93%", base: 1 });
  d.sending("r2", "Resp 24, sats 93%");
  d.saved({ ref: "r2", revision: 2, saved_at: "2026-03-02T14:03:00+00:00" });
  assert.deepEqual(d.status(hhmm), { kind: "saved", text: "Draft saved 14:03" });
});

test("offline: the text stays and says so; the reopened call takes the rest", () => {
  const d = new Draft(7);
  d.typed("Fell at 9");
  d.sending(null, "Fell at 9");
  assert.deepEqual(d.status(hhmm), { kind: "offline", text: "Not saved — connection lost, your text is kept here" });
  d.opened({ draft_text: "", draft_revision: 0, draft_saved_at: null });
  assert.equal(d.text, "Fell at 9");
  assert.deepEqual(d.nextSave(), { call_id: 7, text: "Fell at 9", base: 0 });
});

test("a reload gets the saved draft back", () => {
  const d = new Draft(7);
  d.opened({ draft_text: "Sats 94%", draft_revision: 3, draft_saved_at: "2026-03-02T14:05:00+00:00" });
  assert.equal(d.text, "Sats 94%");
  assert.equal(d.nextSave(), null);
  assert.equal(d.status(hhmm).text, "Draft saved 14:05");
});

test("a save lost with the socket is recognised when the call is reopened", () => {
  const d = new Draft(7);
  d.typed("A");
  d.sending("r1", "A");
  d.typed("AB"); // typed more, then the socket died before the reply
  d.opened({ draft_text: "A", draft_revision: 1, draft_saved_at: null });
  assert.equal(d.conflict, null);
  assert.deepEqual(d.nextSave(), { call_id: 7, text: "AB", base: 1 });
});

test("another tab saved first: nothing is overwritten until the clinician chooses", () => {
  const d = new Draft(7);
  d.typed("Mine");
  d.sending("r1", "Mine");
  d.conflicted({ ref: "r1", revision: 4, draft_text: "Theirs", saved_at: null });
  assert.equal(d.nextSave(), null);
  assert.equal(d.status(hhmm).kind, "conflict");
  d.resolve(true);
  assert.equal(d.text, "Mine\n\nTheirs");
  assert.deepEqual(d.nextSave(), { call_id: 7, text: "Mine\n\nTheirs", base: 4 });
  const e = new Draft(7);
  e.typed("Mine");
  e.conflicted({ ref: null, revision: 2, draft_text: "Theirs", saved_at: null });
  e.resolve(false);
  assert.deepEqual(e.nextSave(), { call_id: 7, text: "Mine", base: 2 });
});

test("entries in the order written, corrections named both ways", () => {
  const rows = describeEntries(
    [
      { entry_id: 2, author_name: "Cleo", written_at: "2026-03-02T14:09:00+00:00", text: "Left hip", corrects: 1 },
      { entry_id: 1, author_name: "Cleo", written_at: "2026-03-02T14:02:00+00:00", text: "Right hip", corrects: null },
    ],
    hhmm,
  );
  assert.deepEqual(rows.map((r) => [r.entry_id, r.when, r.correctionOf, r.correctedNote]), [
    [1, "14:02", null, "Corrected at 14:09"],
    [2, "14:09", "Correction to the 14:02 entry", null],
  ]);
});
