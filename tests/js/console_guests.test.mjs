// node --test tests/js/: the console's guests (issue 12) without a DOM: guests and their
// state in words, the lobby banner, what the clinician may do with each guest, the
// invitation's expiry and QR code, and the relayed stage's captions, code and level.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  actionsFor, anyPresent, failureWords, fromApi, guestIdOf, guestName, newlyWaiting, roleWords, stateWords, waitingLines,
} from "../../web/static/js/console_guests.js";
import { expiryWords, inviteFailure, KINDS, qrSource } from "../../web/static/js/console_invite.js";
import { clearAction, codeText, gone, levelOf, participantRole, tileCaption, unsupportedQuestion } from "../../web/static/js/console_relay.js";
import { SECURITY_WORDS } from "../../web/static/js/media_route.js";

const sam = { participant: "guest:12", name: "Sam Smith", role: "family", state: "waiting" };
const gp = { participant: "guest:13", name: "Dr Patel", role: "gp", state: "in_call" };

test("guests' roles and states in words", () => {
  assert.deepEqual(KINDS, ["gp", "family", "interpreter", "other"]);
  assert.deepEqual(KINDS.map(roleWords), ["GP", "Family member", "Interpreter", "Other"]);
  assert.deepEqual(["waiting", "in_call", "left", "removed"].map(stateWords), ["Waiting to be let in", "In the call", "Left", "Removed"]);
  assert.equal(guestName(sam), "Sam Smith (Family member)");
});

test("a waiting guest makes the banner line; the buttons follow the state", () => {
  assert.deepEqual(waitingLines([sam, gp]), ["Sam Smith (Family member) is waiting to join"]);
  assert.deepEqual(actionsFor(sam), ["admit", "remove"]);
  assert.deepEqual(actionsFor(gp), ["remove"]);
  assert.deepEqual(actionsFor({ ...sam, state: "left" }), []);
  assert.deepEqual(actionsFor({ ...sam, state: "removed" }), []);
  assert.equal(anyPresent([{ ...sam, state: "left" }]), false);
  assert.equal(anyPresent([{ ...sam, state: "left" }, gp]), true);
});

test("only a guest newly in the lobby sounds the alert", () => {
  assert.deepEqual(newlyWaiting(new Set(), [sam, gp]), [sam]);
  assert.deepEqual(newlyWaiting(new Set(["guest:12"]), [sam, gp]), []);
});

test("guest ids, the API's shape, and failures in words", () => {
  assert.equal(guestIdOf("guest:12"), 12);
  assert.equal(guestIdOf("staff:3"), null);
  assert.equal(guestIdOf("guest:12x"), null);
  assert.equal(guestIdOf(undefined), null);
  assert.deepEqual(fromApi({ id: 12, name: "Sam Smith", kind: "family", state: "waiting", kind_label: "Family member" }), sam);
  assert.equal(failureWords("admit", sam, new Error("call 4 is ended, not live")), "Could not let Sam Smith (Family member) in: call 4 is ended, not live");
  assert.equal(failureWords("remove", gp, new Error("x")), "Could not remove Dr Patel (GP): x");
  assert.equal(failureWords("end", null, {}), "Could not end the guest part of the call");
  assert.equal(inviteFailure("invite", new Error("too many guests")), "Could not make the link: too many guests");
});

test("the link's expiry is UK time; the QR code is an image of the server's SVG, or none", () => {
  assert.equal(expiryWords("2026-07-01T13:35:00+00:00"), "Works once, until 14:35 (UK time)"); // BST
  assert.equal(expiryWords("2026-01-15T09:05:00Z"), "Works once, until 09:05 (UK time)");
  const src = qrSource('<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0h1"/></svg>');
  assert.ok(src.startsWith("data:image/svg+xml;charset=utf-8,%3Csvg"), src);
  assert.ok(!src.includes("<"), src);
  // segno's inline SVG has no namespace: the image gets one (else it does not render).
  const inline = decodeURIComponent(qrSource('<svg width="132" height="132" class="segno"><path d="M0 0h1"/></svg>').split(",")[1]);
  assert.ok(inline.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="132"'), inline);
  assert.equal(decodeURIComponent(src.split(",")[1]).match(/xmlns=/g).length, 1);
  assert.equal(qrSource(undefined), null);
  assert.equal(qrSource("<script>alert(1)</script>"), null);
});

test("the relayed stage: captions, the code to read out, and the level reported", () => {
  assert.equal(tileCaption({ name: "Sam Smith", role: "family" }), "Sam Smith · Family member");
  assert.equal(tileCaption({ name: "Rose Court", role: "device" }), "Rose Court · Care home");
  assert.equal(tileCaption({ name: "", role: "" }), "Joining…");
  assert.equal(participantRole("clinician"), "Clinician");
  assert.equal(codeText(["apple", "river", "stone", "cloud"]), "Read these words out: apple river stone cloud");
  assert.equal(codeText(null), null);
  assert.equal(levelOf(SECURITY_WORDS.relay_e2ee), "relay_e2ee");
  assert.equal(levelOf(SECURITY_WORDS.relay_not_e2ee), "relay_not_e2ee");
  assert.equal(levelOf("something else"), null);
  assert.deepEqual(gone(["device:1", "guest:12"], [{ participant: "device:1" }, { participant: "staff:3" }]), ["guest:12"]);
});

test("a browser that cannot encrypt: the clinician is asked plainly, with the way out that fits", () => {
  const una = { participant: "guest:14", name: "Una Plain", role: "other" };
  assert.deepEqual(unsupportedQuestion(una, "staff:3"), {
    text: "Una Plain's browser cannot encrypt end to end. Continue without end-to-end encryption, or remove Una Plain?",
    alternative: "remove",
    alternativeWords: "Remove Una Plain",
  });
  const tablet = unsupportedQuestion({ participant: "device:7", name: "Trolley", role: "device" }, "staff:3");
  assert.equal(tablet.text, "Trolley (Care home)'s browser cannot encrypt end to end. Continue without end-to-end encryption, or end the guest part of the call?");
  assert.deepEqual([tablet.alternative, tablet.alternativeWords], ["end", "End the guest part"]);
  const mine = unsupportedQuestion({ participant: "staff:3", name: "Cleo", role: "clinician" }, "staff:3");
  assert.equal(mine.text, "Your browser cannot encrypt end to end. Continue without end-to-end encryption, or end the guest part of the call?");
  assert.equal(unsupportedQuestion({ ...una, name: "" }, "staff:3").alternativeWords, "Remove A participant");
});

test("with encryption off, the clinician's page turns it back on once nobody who cannot is left", () => {
  const roster = [{ participant: "staff:3" }, { participant: "device:7" }, { participant: "guest:14" }];
  const unsupported = new Set(["guest:14"]);
  assert.equal(clearAction({ clear: false, unsupported, roster, joined: true }), null); // nothing decided yet
  assert.equal(clearAction({ clear: true, unsupported, roster, joined: false }), null);
  assert.equal(clearAction({ clear: true, unsupported, roster, joined: true }), "tell"); // a newcomer hears it
  const left = roster.filter((p) => p.participant !== "guest:14");
  assert.equal(clearAction({ clear: true, unsupported, roster: left, joined: false }), "restore");
  assert.equal(clearAction({ clear: true, unsupported: new Set(), roster, joined: false }), "restore");
});
