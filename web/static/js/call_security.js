// How a call's media travels (its security level), from a Call.stats() summary: no DOM.
// The server stores what both sides report (call.security, docs/signalling.md).

/** The level a stats() summary shows: "relay" when either candidate of the selected
 *  pair is a TURN relay, "direct" otherwise, null before a pair is selected. */
export function securityLevelOf(stats) {
  if (!stats?.candidateType) return null;
  return stats.candidateType === "relay" || stats.remoteCandidateType === "relay" ? "relay" : "direct";
}

/** A security level in words (both paths are encrypted end to end with DTLS-SRTP). */
export function describeSecurity(level) {
  return { direct: "Direct, encrypted (DTLS-SRTP)", relay: "Through TURN relay, encrypted" }[level] ?? "";
}
