// Tablet: say why, score NEWS2 live (the server's one implementation), call the hub.
import { api } from "./api.js";

const form = document.getElementById("call-form");
const out = document.getElementById("news2");
const errorBox = document.getElementById("form-error");
const NUMBERS = ["respiration_rate", "spo2", "systolic_bp", "pulse"];

function observations() {
  const f = new FormData(form);
  const obs = {};
  for (const name of NUMBERS) {
    const v = f.get(name);
    if (v !== "") obs[name] = Number.parseInt(v, 10);
  }
  const t = f.get("temperature");
  if (t !== "") obs.temperature = Number.parseFloat(t);
  const ox = f.get("on_oxygen");
  if (ox !== "") obs.on_oxygen = ox === "true";
  const c = f.get("consciousness");
  if (c !== "") obs.consciousness = c;
  if (f.get("spo2_scale_2")) obs.spo2_scale = 2;
  return obs;
}

let timer = null;
form.addEventListener("input", (event) => {
  if (!event.target.closest(".obs")) return;
  clearTimeout(timer);
  timer = setTimeout(score, 250);
});

async function score() {
  const obs = observations();
  const taken = Object.keys(obs).filter((k) => k !== "spo2_scale");
  out.className = "news2";
  if (!taken.length) {
    out.textContent = "NEWS2: not taken";
    return;
  }
  try {
    const r = await api("POST", "/api/news2", obs);
    if (r.complete) {
      out.classList.add("band", r.band);
      out.textContent = `NEWS2 ${r.aggregate} (${r.band} risk)`;
    } else {
      // Missing observations never count as normal: no band colour until complete.
      out.classList.add("incomplete");
      out.textContent = `NEWS2 ${r.aggregate} so far — incomplete, missing: ${r.missing.join(", ").replaceAll("_", " ")}`;
    }
  } catch (err) {
    out.classList.add("invalid");
    out.textContent = err.message;
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const f = new FormData(form);
  const button = document.getElementById("call-now");
  button.disabled = true;
  button.textContent = "Calling…";
  errorBox.hidden = true;
  try {
    const call = await api("POST", "/api/calls", {
      resident_id: Number(form.dataset.residentId),
      reason: f.get("reason"),
      soft_signs: f.getAll("soft_signs"),
      observations: observations(),
      intention: f.get("intention") || null,
    });
    location.assign(call.url);
  } catch (err) {
    errorBox.textContent = err.message;
    errorBox.hidden = false;
    button.disabled = false;
    button.textContent = "Call the hub now";
  }
});
