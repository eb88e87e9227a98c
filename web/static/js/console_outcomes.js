// The console's "Outcomes outstanding": calls this clinician ended but has not closed.
// The list comes from the server (so it survives a reload); each entry is the outcome
// form, with "Defer with a reason" beside it. Answering another call is refused by the
// server while one of these is neither recorded nor deferred.
import { api } from "./api.js";

const $ = (id) => document.getElementById(id);

export class PendingOutcomes {
  /**
   * @param {{enabled: boolean, label: (code: string) => string, notice: (text: string) => void}} options
   */
  constructor({ enabled, label, notice }) {
    this.enabled = enabled;
    this.label = label;
    this.notice = notice;
  }

  /** Fetches and draws the list; resolves to the calls listed. */
  async load() {
    if (!this.enabled) return [];
    const { calls } = await api("GET", "/api/outcomes/pending");
    const box = $("pending");
    box.replaceChildren();
    $("outcomes").hidden = calls.length === 0;
    for (const c of calls) {
      const form = $("outcome-form").content.firstElementChild.cloneNode(true);
      form.dataset.callId = String(c.call_id);
      // Who and when, as the server says it (UK time).
      form.querySelector(".which").textContent = `${c.resident_name} · ${this.label(c.reason)} · ended ${c.ended_at_uk} (UK time)`
        + (c.deferred ? ` · deferred: ${c.deferred_reason}` : "");
      form.dataset.deferred = c.deferred ? "yes" : "no";
      form.addEventListener("submit", (event) => this.#submit(event, form, c.call_id));
      form.querySelector(".defer-button").addEventListener("click", () => this.#defer(form, c.call_id));
      if (c.deferred) form.querySelector(".defer").hidden = true;
      box.append(form);
    }
    return calls;
  }

  /** Shows the list at the top with the first undeferred outcome's first field focused. */
  async reveal() {
    await this.load();
    $("outcomes").scrollIntoView({ behavior: "smooth", block: "start" });
    $("pending").querySelector(".outcome-form[data-deferred=no] select")?.focus();
  }

  async #defer(form, callId) {
    await this.#post(form, `/api/calls/${callId}/outcome/defer`,
      { reason: form.querySelector("[name=defer_reason]").value },
      `Outcome of call ${callId} deferred: it stays listed until it is recorded.`);
  }

  async #submit(event, form, callId) {
    event.preventDefault();
    const f = new FormData(form);
    const local = f.get("call_back_at");
    await this.#post(form, `/api/calls/${callId}/outcome`, {
      outcome: f.get("outcome"),
      follow_up: f.get("follow_up"),
      admission_judgement: f.get("admission_judgement"),
      call_back_at: local ? new Date(local).toISOString() : null,
    }, `Outcome recorded for call ${callId}.`);
  }

  async #post(form, path, body, done) {
    const errorBox = form.querySelector(".error");
    try {
      await api("POST", path, body);
      this.notice(done);
      await this.load();
    } catch (err) {
      errorBox.textContent = err.message;
      errorBox.hidden = false;
    }
  }
}
