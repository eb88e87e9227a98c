// NEWS2 in words, written once for every page: the observations' names (short clinical
// ones for the hub console, plain ones for the care-home tablet), their units, the
// observations as a clinician writes them, and the score with its band. No DOM here.
// The score itself is computed once, on the server (hub/calls/news2.py).

/** Each NEWS2 observation: its key, the key the server uses when it is missing
 *  (air_or_oxygen), its name for hub clinicians and for care-home staff, its unit. */
export const NEWS2_OBSERVATIONS = [
  { key: "respiration_rate", clinician: "breathing rate", carer: "breathing rate", unit: "/min" },
  { key: "spo2", clinician: "SpO₂", carer: "oxygen saturation", unit: "%" },
  { key: "on_oxygen", missingKey: "air_or_oxygen", clinician: "air/oxygen", carer: "air or oxygen", unit: "" },
  { key: "systolic_bp", clinician: "BP", carer: "blood pressure", unit: " mmHg" },
  { key: "pulse", clinician: "pulse", carer: "pulse", unit: "/min" },
  { key: "consciousness", clinician: "ACVPU", carer: "consciousness", unit: "" },
  { key: "temperature", clinician: "temperature", carer: "temperature", unit: " °C" },
];

const BY_KEY = new Map(NEWS2_OBSERVATIONS.flatMap((o) => [[o.key, o], ...(o.missingKey ? [[o.missingKey, o]] : [])]));

const readable = (key) => String(key ?? "").replaceAll("_", " ");

/** An observation's name ("SpO₂" for clinicians, "oxygen saturation" for carers); the
 *  key made readable when it is not a NEWS2 observation. */
export function observationName(key, audience = "clinician") {
  const o = BY_KEY.get(key);
  return o ? o[audience] : readable(key);
}

/** The names of missing observations (as the server lists them), joined with commas. */
export function missingNames(missing, audience = "clinician") {
  return (missing ?? []).map((key) => observationName(key, audience)).join(", ");
}

/** Observations as a clinician would write them ("breathing rate 24/min, SpO₂ 93%, on
 *  air, ACVPU alert"), never "on oxygen false". ``acvpu`` turns a code ("A") into words. */
export function describeObservations(obs, acvpu = (code) => code) {
  const parts = [];
  for (const [key, value] of Object.entries(obs ?? {})) {
    if (value === null || value === undefined) continue;
    if (key === "on_oxygen") parts.push(value ? "on oxygen" : "on air");
    else if (key === "spo2_scale") parts.push(`SpO₂ scale ${value}`);
    else if (key === "consciousness") parts.push(`ACVPU ${acvpu(value)}`);
    else parts.push(`${observationName(key)} ${value}${BY_KEY.get(key)?.unit ?? ""}`);
  }
  return parts.join(", ");
}

/** A call's stored NEWS2 for the clinician: "5 (medium risk)", "not taken", or "at least
 *  3: incomplete, missing SpO₂, BP" (missing observations never count as normal). */
export function describeNews2(c) {
  if (c.news2_score === null || c.news2_score === undefined) return "not taken";
  const missing = NEWS2_OBSERVATIONS.filter(({ key }) => c.observations?.[key] === undefined || c.observations?.[key] === null);
  if (!missing.length) return `${c.news2_score}${c.news2_band ? ` (${c.news2_band} risk)` : ""}`;
  return `at least ${c.news2_score}: incomplete, missing ${missing.map((o) => o.clinician).join(", ")}`;
}

/** The tooltip of a queue row's partial score: "missing: SpO₂, air/oxygen". */
export const missingTitle = (missing) => `missing: ${missingNames(missing)}`;

/** The tablet's live score (POST /api/news2's answer) for care-home staff: the class of
 *  the box and its sentence. */
export function describeScore(r) {
  if (r.complete) {
    const why = r.single_parameter_3 && r.band === "low-medium" ? " — one observation scored 3" : "";
    return { cls: `band ${r.band}`, text: `NEWS2 ${r.aggregate} · ${r.band} risk${why}` };
  }
  // Missing observations never count as normal: no band colour until complete.
  return { cls: "incomplete", text: `NEWS2 at least ${r.aggregate} — incomplete. Not taken: ${missingNames(r.missing, "carer")}` };
}
