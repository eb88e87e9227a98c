// The console's pure helpers: NEWS2 and observation labels, badges, table cells, the
// wait clock and the alert tone. No state: console.js owns the page.

export const NEWS2_INPUTS = [["respiration_rate", "breathing rate"], ["spo2", "SpO₂"], ["on_oxygen", "air/oxygen"],
  ["systolic_bp", "BP"], ["pulse", "pulse"], ["consciousness", "ACVPU"], ["temperature", "temperature"]];
export const OBS_LABELS = { respiration_rate: "breathing rate", spo2: "SpO₂", spo2_scale: "SpO₂ scale", on_oxygen: "on oxygen",
  systolic_bp: "BP", pulse: "pulse", consciousness: "ACVPU", temperature: "temperature" };
export const MISSING_LABELS = {
  respiration_rate: "breathing rate", spo2: "SpO₂", air_or_oxygen: "air/oxygen", systolic_bp: "BP",
  pulse: "pulse", consciousness: "ACVPU", temperature: "temperature",
};

const OBS_UNITS = { respiration_rate: "/min", spo2: "%", systolic_bp: " mmHg", pulse: "/min", temperature: " °C" };

/** Observations as a clinician would write them ("breathing rate 24/min, SpO₂ 93%, on
 *  air, ACVPU alert"), never "on oxygen false". ``acvpu`` turns a code ("A") into words. */
export function describeObservations(obs, acvpu = (code) => code) {
  const parts = [];
  for (const [key, value] of Object.entries(obs ?? {})) {
    if (value === null || value === undefined) continue;
    if (key === "on_oxygen") parts.push(value ? "on oxygen" : "on air");
    else if (key === "spo2_scale") parts.push(`SpO₂ scale ${value}`);
    else if (key === "consciousness") parts.push(`ACVPU ${acvpu(value)}`);
    else parts.push(`${OBS_LABELS[key] ?? human(key)} ${value}${OBS_UNITS[key] ?? ""}`);
  }
  return parts.join(", ");
}

// Times people read are UK wall-clock time, whatever the browser's own time zone.
const UK = "Europe/London";
export const ukTime = (when) => new Date(when).toLocaleTimeString("en-GB", { timeZone: UK, hour: "2-digit", minute: "2-digit" });
export const ukDate = (when) => new Date(when).toLocaleDateString("en-GB", { timeZone: UK, day: "2-digit", month: "short", year: "numeric" });

export const clockText = (s) => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
export const human = (s) => String(s ?? "").replaceAll("_", " ");

export const el = (tag, text) => Object.assign(document.createElement(tag), { textContent: text });
export const badge = (text, cls) => Object.assign(el("span", text), { className: cls });
export const cell = (text, cls, span) => {
  const td = el("td", text);
  if (cls) td.className = cls;
  if (span) td.colSpan = span;
  return td;
};
export const cellNode = (node) => {
  const td = document.createElement("td");
  td.append(node);
  return td;
};
export const row = (cells) => {
  const tr = document.createElement("tr");
  tr.append(...cells);
  return tr;
};

/** Score and band as colour when complete; otherwise a grey badge: missing is never normal. */
export function news2Badge(item) {
  const box = document.createElement("span");
  box.className = "news2-cell";
  if (item.news2_score === null) {
    box.append(badge("not taken", "obs-missing"));
    return box;
  }
  if (!item.news2_missing.length) {
    const b = badge(String(item.news2_score), `band ${item.news2_band}`);
    b.title = `NEWS2 ${item.news2_score}: ${item.news2_band} risk`;
    box.append(b);
    return box;
  }
  const partial = badge(`≥${item.news2_score}`, "band partial");
  const missing = badge("incomplete", "obs-missing");
  partial.title = missing.title = `missing: ${item.news2_missing.map((m) => MISSING_LABELS[m] ?? m).join(", ")}`;
  box.append(partial, missing);
  return box;
}

export function describeNews2(c) {
  if (c.news2_score === null) return "not taken";
  const missing = NEWS2_INPUTS.filter(([key]) => c.observations[key] === undefined || c.observations[key] === null);
  if (!missing.length) return `${c.news2_score}${c.news2_band ? ` (${c.news2_band} risk)` : ""}`;
  return `at least ${c.news2_score}: incomplete, missing ${missing.map(([, name]) => name).join(", ")}`;
}

/** A short tone through the page's AudioContext (created on the user's click). */
export function beep(audio, high) {
  audio.resume?.();
  const now = audio.currentTime;
  const count = high ? 3 : 1;
  for (let i = 0; i < count; i++) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = high ? "square" : "sine";
    osc.frequency.value = high ? 880 : 660;
    const start = now + i * 0.4;
    const length = high ? 0.3 : 0.2;
    gain.gain.setValueAtTime(0, start);
    gain.gain.linearRampToValueAtTime(high ? 0.5 : 0.2, start + 0.02);
    gain.gain.linearRampToValueAtTime(0, start + length);
    osc.connect(gain).connect(audio.destination);
    osc.start(start);
    osc.stop(start + length + 0.05);
  }
}
