// Import call logs (admin): post the form with fetch, read the answer as NDJSON lines
// (progress, then done / refused / error) and show them. Without this script the form
// posts normally and the server renders the result page.
// Every message from the server is shown as text (textContent), never as HTML.

import { csrfToken } from "./api.js";

const SHOW_ROWS = 200;
const form = document.getElementById("import-form");
const status = document.getElementById("import-status");
const result = document.getElementById("import-result");
const button = document.getElementById("import-button");
const text = status?.querySelector("[data-testid=import-progress-text]");
const bar = status?.querySelector("progress");
const spinner = status?.querySelector(".spinner");
const count = (n) => Number(n).toLocaleString("en-GB");

function el(tag, attrs = {}, content = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.textContent = content;
  return node;
}

function rowList(rows) {
  const list = el("ul", { class: "import-errors", "data-testid": "import-rows" });
  for (const [line, message] of rows.slice(0, SHOW_ROWS)) {
    list.append(el("li", {}, `Line ${line}: ${message}`));
  }
  return list;
}

function more(shown, total) {
  return total > shown ? [el("p", { class: "hint" }, `… and ${count(total - shown)} more.`)] : [];
}

let rowsInFile = 0;

function showProgress(checked, total) {
  rowsInFile = total;
  bar.max = Math.max(total, 1);
  bar.value = Math.min(checked, bar.max);
  text.textContent = `Checked ${count(checked)} of ${count(total)} row${total === 1 ? "" : "s"}`;
}

function finish(state) {
  status.dataset.state = state;
  spinner.hidden = true;
}

function showDone(msg) {
  bar.value = bar.max;
  text.textContent = `Checked ${count(rowsInFile)} of ${count(rowsInFile)} rows`;
  finish("done");
  const skipped = msg.skipped_count ?? msg.skipped.length;
  const duplicates = msg.duplicates_count ?? 0;
  // The server words the summary ("Imported 1 call; skipped 2 duplicates.").
  result.replaceChildren(
    el("p", { class: "notice", role: "status", "data-testid": "import-summary" }, msg.summary),
  );
  if (msg.skipped.length) result.append(rowList(msg.skipped), ...more(msg.skipped.length, skipped));
  if (duplicates) {
    const list = rowList(msg.duplicates);
    list.setAttribute("class", "import-duplicates");
    list.setAttribute("data-testid", "import-duplicates");
    result.append(
      el("p", { class: "hint" }, "Duplicates, skipped (each call is stored once):"),
      list,
      ...more(msg.duplicates.length, duplicates),
    );
  }
}

function showRefused(msg) {
  finish("refused");
  const box = el("div", { class: "error", role: "alert" });
  const s = msg.count === 1 ? "" : "s";
  box.append(
    el("p", {}, `Nothing was imported: ${count(msg.count)} bad row${s}. ` +
      `Fix ${msg.count === 1 ? "it" : "them"} and upload again, or tick "skip bad rows".`),
    rowList(msg.errors),
    ...more(msg.errors.length, msg.count),
  );
  result.replaceChildren(box);
}

function showError(message) {
  finish("error");
  status.hidden = true;
  result.replaceChildren(el("p", { class: "error", role: "alert", "data-testid": "import-error" }, message));
}

function handle(msg) {
  switch (msg.type) {
    case "progress": showProgress(msg.checked, msg.total); return false;
    case "done": showDone(msg); return true;
    case "refused": showRefused(msg); return true;
    case "error": showError(msg.message); return true;
    default: return false;
  }
}

async function* lines(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let at;
    while ((at = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, at).trim();
      buffer = buffer.slice(at + 1);
      if (line) yield line;
    }
  }
  if (buffer.trim()) yield buffer.trim();
}

async function errorOf(resp) {
  const body = await resp.text().catch(() => "");
  try {
    const data = JSON.parse(body.split("\n")[0]);
    return data.error?.message ?? data.message ?? resp.statusText;
  } catch {
    return `the server said ${resp.status} ${resp.statusText}`;
  }
}

async function upload(event) {
  event.preventDefault();
  button.disabled = true;
  result.replaceChildren();
  status.hidden = false;
  status.dataset.state = "running";
  spinner.hidden = false;
  bar.removeAttribute("value"); // indeterminate while the file goes up
  text.textContent = "Uploading…";
  rowsInFile = 0;
  try {
    const resp = await fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/x-ndjson, application/json", "X-CSRF-Token": csrfToken() },
      credentials: "same-origin",
    });
    if (!resp.ok) {
      showError(await errorOf(resp));
      return;
    }
    text.textContent = "Checking rows…";
    for await (const line of lines(resp.body)) {
      if (handle(JSON.parse(line))) return;
    }
    showError(
      "The connection closed before the result arrived. An import that did not finish " +
        "imports nothing: check the audit trail, then try again.",
    );
  } catch (err) {
    showError(`The upload failed (${err.message}): nothing was imported. Try again.`);
  } finally {
    button.disabled = false;
  }
}

form?.addEventListener("submit", upload);
