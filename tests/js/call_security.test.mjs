// node --test tests/js/: how a call's media travels, from a stats() summary (issue 10, item 5).
import assert from "node:assert/strict";
import { test } from "node:test";

import { describePath } from "../../web/static/js/call_controls.js";
import { describeSecurity, securityLevelOf } from "../../web/static/js/call_security.js";

test("the selected pair gives the level: relay if either candidate is a TURN relay", () => {
  assert.equal(securityLevelOf({ candidateType: "host", remoteCandidateType: "srflx" }), "direct");
  assert.equal(securityLevelOf({ candidateType: "prflx", remoteCandidateType: "relay" }), "relay");
  assert.equal(securityLevelOf({ candidateType: "relay", remoteCandidateType: "host" }), "relay");
  assert.equal(securityLevelOf({ candidateType: null }), null); // no pair selected yet
  assert.equal(securityLevelOf(undefined), null);
});

test("pages show the level the server stored, in words, and nothing before it", () => {
  assert.equal(describeSecurity("direct"), "Direct, encrypted (DTLS-SRTP)");
  assert.equal(describeSecurity("relay"), "Through TURN relay, encrypted");
  assert.equal(describePath({ candidateType: "host", securityLevel: null }), "");
  assert.equal(describePath({ candidateType: "relay", securityLevel: "relay" }), "Through TURN relay, encrypted");
});
