// node --test tests/js/: the console's invitation links (issue 12) without a DOM: which
// links of the call still work, in what order, in what words, which one shows its link
// and QR code, and when the list must change by itself (a link runs out).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  expiryWords, invitationEntries, invitationKind, inviteFailure, LINK_NOT_SHOWN, nextExpiryIn, openInvitations, stillWorks,
  withInvitation,
} from "../../web/static/js/console_invite.js";

const NOW = Date.parse("2026-07-01T13:00:00Z"); // 14:00 UK time (BST)
const MINUTE = 60_000;

/** An item of GET /api/calls/{id}/guests "invitations" (web/calls/guests.py _invitation). */
const link = (id, kind, { made = 0, expires = 30, status = "open", ...more } = {}) => ({
  id,
  call_id: 4,
  kind,
  kind_label: { gp: "GP", family: "Family member", interpreter: "Interpreter", other: "Other" }[kind],
  status,
  created_at: new Date(NOW - made * MINUTE).toISOString(),
  expires_at: new Date(NOW + expires * MINUTE).toISOString(),
  used_at: null,
  revoked_at: null,
  ...more,
});

test("a link still works only while open, unused, not withdrawn and not past its time", () => {
  assert.equal(stillWorks(link(1, "gp"), NOW), true);
  assert.equal(stillWorks(link(1, "gp", { status: "used", used_at: "2026-07-01T12:59:00Z" }), NOW), false);
  assert.equal(stillWorks(link(1, "gp", { status: "revoked", revoked_at: "2026-07-01T12:59:00Z" }), NOW), false);
  assert.equal(stillWorks(link(1, "gp", { status: "expired", expires: -1 }), NOW), false);
  // Open when the server answered, run out since (the list stays up for minutes).
  assert.equal(stillWorks(link(1, "gp", { expires: 5 }), NOW + 5 * MINUTE), false);
  assert.equal(stillWorks({ ...link(1, "gp"), expires_at: "not a time" }, NOW), false);
  assert.equal(stillWorks(undefined, NOW), false);
});

test("the links that still work, newest first", () => {
  const older = link(1, "gp", { made: 10 });
  const newer = link(2, "family", { made: 2 });
  const used = link(3, "interpreter", { status: "used", used_at: "2026-07-01T12:59:00Z" });
  assert.deepEqual(openInvitations([older, used, newer], NOW).map((i) => i.id), [2, 1]);
  // Made in the same second: the higher id is the newer.
  assert.deepEqual(openInvitations([link(5, "gp"), link(6, "gp")], NOW).map((i) => i.id), [6, 5]);
  assert.deepEqual(openInvitations(undefined, NOW), []);
});

test("each entry: the kind in words, until when in UK time, and the link only for the newest made here", () => {
  const entries = invitationEntries([link(1, "gp", { made: 10, expires: 20 }), link(2, "family", { made: 1, expires: 29 })], 2, NOW);
  assert.deepEqual(entries, [
    {
      id: 2, kind: "Family member", expiry: "Works once, until 14:29 (UK time)", showsLink: true, note: null,
      withdrawLabel: "Withdraw the Family member link (until 14:29)",
    },
    {
      id: 1, kind: "GP", expiry: "Works once, until 14:20 (UK time)", showsLink: false, note: LINK_NOT_SHOWN,
      withdrawLabel: "Withdraw the GP link (until 14:20)",
    },
  ]);
  assert.equal(LINK_NOT_SHOWN, "Link shown when it was made; withdraw it and invite again if it was lost");
  // After a reload this page made none: no entry shows a link, each says why.
  const reloaded = invitationEntries([link(1, "gp"), link(2, "family")], null, NOW);
  assert.deepEqual(reloaded.map((e) => [e.showsLink, e.note]), [[false, LINK_NOT_SHOWN], [false, LINK_NOT_SHOWN]]);
  // The newest made here was withdrawn or used: nothing else borrows its link.
  assert.deepEqual(invitationEntries([link(1, "gp")], 9, NOW).map((e) => e.showsLink), [false]);
  assert.deepEqual(invitationEntries([], 9, NOW), []);
});

test("the kind in words: the server's label, else ours", () => {
  assert.equal(invitationKind({ kind: "interpreter", kind_label: "Interpreter" }), "Interpreter");
  assert.equal(invitationKind({ kind: "family" }), "Family member");
  assert.equal(invitationKind({ kind: "locum" }), "locum");
});

test("the list changes by itself when the first link runs out", () => {
  assert.equal(nextExpiryIn([link(1, "gp", { expires: 20 }), link(2, "gp", { expires: 5 })], NOW), 5 * MINUTE);
  assert.equal(nextExpiryIn([link(1, "gp", { status: "used", expires: 1 }), link(2, "gp", { expires: 7 })], NOW), 7 * MINUTE);
  assert.equal(nextExpiryIn([], NOW), null);
  assert.equal(nextExpiryIn([link(1, "gp", { expires: 5 })], NOW + 6 * MINUTE), null);
});

test("a link just made is in the list at once, once", () => {
  const made = link(3, "other");
  assert.deepEqual(withInvitation([link(1, "gp"), made], made).map((i) => i.id), [3, 1]);
  assert.deepEqual(withInvitation(undefined, made).map((i) => i.id), [3]);
});

test("expiry words and failures in words", () => {
  assert.equal(expiryWords("2026-01-15T09:05:00Z"), "Works once, until 09:05 (UK time)"); // GMT
  assert.equal(inviteFailure("load", new Error("no call 4")), "Could not load the invitation links of this call: no call 4");
  assert.equal(inviteFailure("withdraw", {}), "Could not withdraw the link");
});
