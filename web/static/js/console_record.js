// The console's resident panel for the call in hand: who the resident is (flags, date of
// birth and age, NHS number, allergies, alerts), why the home called (reason, soft signs,
// NEWS2, observations) and the resident's last ten calls. The pure parts (the facts as
// pairs of words, the history lines, age) have no DOM and are unit-tested.
import { badge, el, ukDate } from "./console_format.js";
import { describeNews2, describeObservations } from "./news2_labels.js";

/** Whole years between a date of birth ("1931-04-02") and ``now``: "94 years". */
export function age(isoDate, now = new Date()) {
  const [y, m, d] = isoDate.split("-").map(Number);
  let years = now.getFullYear() - y;
  if (now < new Date(now.getFullYear(), m - 1, d)) years--;
  return `${years} years`;
}

/** "9434765919" → "943 476 5919", as the NHS writes it. */
export const nhsNumberText = (n) => n.replace(/(\d{3})(\d{3})(\d{4})/, "$1 $2 $3");

export function residentFacts(r, now = new Date()) {
  return [
    ["Born", `${r.date_of_birth} (${age(r.date_of_birth, now)})`],
    ["NHS number", nhsNumberText(r.nhs_number)],
    ["Allergies", r.allergies || "None recorded"],
    ["Alerts", r.alerts || "None recorded"],
  ];
}

/** ``label`` turns a code ("reason:fall", "consciousness:C") into the page's words. */
export function callFacts(c, label) {
  const obs = describeObservations(c.observations, (code) => label(`consciousness:${code}`));
  return [
    ["Reason", label(c.reason)],
    ["Soft signs", c.soft_signs.map(label).join(", ") || "none ticked"],
    ["NEWS2", describeNews2(c)],
    ["Observations", obs || "none taken"],
  ];
}

/** The resident's calls before this one, newest first, at most ten, one line each. */
export function historyLines(r, callId, label) {
  const previous = r.consultations.filter((x) => x.id !== callId).slice(0, 10);
  if (!previous.length) return ["None before this call."];
  return previous.map((x) => `${ukDate(x.requested_at)} · ${label(x.reason)} · NEWS2 ${x.news2_score ?? "not taken"} · ${x.outcome ? label(x.outcome) : label(`state:${x.state}`)}`);
}

// -- the page ------------------------------------------------------------------------

/** Fill the panel from GET /api/calls/{id} (``c``) and GET /api/residents/{id} (``r``). */
export function showRecord(callId, c, r, { homeName, label }) {
  const $ = (id) => document.getElementById(id);
  $("call-title").textContent = homeName ? `${r.name} · ${homeName}` : r.name;
  $("resident-name").textContent = r.name;
  const flags = $("resident-flags");
  flags.replaceChildren();
  if (r.dnacpr) flags.append(badge("DNACPR", "flag dnacpr"));
  if (r.end_of_life) flags.append(badge("End of life", "flag eol"));
  facts($("resident-facts"), residentFacts(r));
  facts($("call-facts"), callFacts(c, label));
  $("history").replaceChildren(...historyLines(r, callId, label).map((text) => el("li", text)));
}

function facts(dl, pairs) {
  dl.replaceChildren();
  for (const [k, v] of pairs) dl.append(el("dt", k), el("dd", v));
}
