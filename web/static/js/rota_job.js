// A rota job's progress: poll /rota/jobs/{id} every second, draw the bar and figures,
// and open the rota when the solver is done (or show why it failed).
import { api } from "./api.js";

const panel = document.querySelector("[data-rota-job]");
const field = (name) => panel.querySelector(`[data-field="${name}"]`);

function show(job) {
  panel.dataset.state = job.state;
  const bar = panel.querySelector("progress");
  bar.max = job.time_limit_s;
  bar.value = Math.min(job.elapsed_s, job.time_limit_s);
  field("elapsed").textContent = `${Math.round(job.elapsed_s)} s of ${Math.round(job.time_limit_s)} s`;
  field("objective").textContent = job.objective ?? "—";
  field("best_bound").textContent = job.best_bound ?? "—";
  field("solutions").textContent = job.solutions;
  field("state").textContent = job.state;
  const error = field("error");
  error.hidden = !job.error;
  error.textContent = job.error ?? "";
}

async function poll() {
  let job;
  try {
    job = await api("GET", panel.dataset.jobUrl);
  } catch (err) {
    const error = field("error");
    error.hidden = false;
    error.textContent = err.message;
    if (err.status !== 404 && err.status !== 403) setTimeout(poll, 2000);
    return;
  }
  show(job);
  if (job.state === "running") {
    setTimeout(poll, 1000);
  } else if (job.state === "done" && job.redirect) {
    location.assign(job.redirect);
  } else {
    for (const button of document.querySelectorAll("button[disabled][data-while-job]")) button.disabled = false;
  }
}

if (panel && panel.dataset.state === "running") poll();
