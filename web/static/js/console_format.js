// The console's small helpers: UK times, badges, table cells, the NEWS2 badge of a queue
// row, the wait clock. No state: console.js owns the page. NEWS2 in
// words is news2_labels.js.
import { missingTitle } from "./news2_labels.js";

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
  partial.title = missing.title = missingTitle(item.news2_missing);
  box.append(partial, missing);
  return box;
}
