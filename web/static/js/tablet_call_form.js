// Tablet: say why, score NEWS2 live as observations are typed (the server holds the one
// NEWS2 implementation), then call the hub.
import { api } from "./api.js";
import { describeScore, observationName } from "./news2_labels.js";

const form = document.getElementById("call-form");
const out = document.getElementById("news2");
const errorBox = document.getElementById("form-error");
const button = document.getElementById("call-now");
const INTEGERS = ["respiration_rate", "spo2", "systolic_bp", "pulse"];

/** The observations typed so far, and the names of any that are out of range. */
function observations() {
  const f = new FormData(form);
  const obs = {};
  const bad = [];
  for (const name of [...INTEGERS, "temperature"]) {
    const input = form.elements[name];
    const raw = input.value.trim();
    if (raw === "" && !input.validity.badInput) continue;
    if (!input.checkValidity() || raw === "") {
      bad.push(name);
      continue;
    }
    obs[name] = name === "temperature" ? Number.parseFloat(raw) : Number.parseInt(raw, 10);
  }
  const ox = f.get("on_oxygen");
  if (ox) obs.on_oxygen = ox === "true";
  const c = f.get("consciousness");
  if (c) obs.consciousness = c;
  if (f.get("spo2_scale_2")) obs.spo2_scale = 2;
  return { obs, bad };
}

function rangeText(name) {
  const input = form.elements[name];
  return `${observationName(name, "carer")} must be between ${input.min} and ${input.max}`;
}

let timer = null;
let asked = 0; // answers to older questions are ignored: typing outruns the network
form.addEventListener("input", (event) => {
  if (event.target.closest(".obs")) {
    clearTimeout(timer);
    timer = setTimeout(score, 300);
  }
  if (event.target.name === "reason") document.getElementById("reason-error").hidden = true;
  if (event.target.name === "intention") document.getElementById("intention-error").hidden = true;
});

async function score() {
  const { obs, bad } = observations();
  const mine = ++asked;
  for (const input of form.querySelectorAll(".obs input[type=number]")) {
    input.classList.toggle("out-of-range", bad.includes(input.name));
  }
  const taken = Object.keys(obs).filter((k) => k !== "spo2_scale");
  if (bad.length) {
    show("invalid", `Check: ${bad.map(rangeText).join("; ")}.`);
    return;
  }
  if (!taken.length) {
    show("", "NEWS2: not taken");
    return;
  }
  try {
    const r = await api("POST", "/api/news2", obs);
    if (mine !== asked) return;
    const { cls, text } = describeScore(r);
    show(cls, text);
  } catch (err) {
    if (mine === asked) show("invalid", err.message);
  }
}

function show(cls, text) {
  out.className = `news2 ${cls}`.trim();
  out.textContent = text;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  errorBox.hidden = true;
  const f = new FormData(form);
  const missingReason = !f.get("reason");
  const missingIntention = f.get("intention") === null;
  document.getElementById("reason-error").hidden = !missingReason;
  document.getElementById("intention-error").hidden = !missingIntention;
  if (missingReason || missingIntention) {
    document.getElementById(missingReason ? "reason-set" : "intention-set").scrollIntoView({ behavior: "smooth", block: "center" });
    return;
  }
  const { obs, bad } = observations();
  if (bad.length) {
    fail(`Please check the observations: ${bad.map(rangeText).join("; ")}.`);
    return;
  }
  button.disabled = true;
  button.textContent = "Calling the hub…";
  try {
    const call = await api("POST", "/api/calls", {
      resident_id: Number(form.dataset.residentId),
      reason: f.get("reason"),
      soft_signs: f.getAll("soft_signs"),
      observations: obs,
      intention: f.get("intention") || null, // "Not sure" is sent as no intention
    });
    location.assign(call.url);
  } catch (err) {
    // e.g. 409 "the hub already has a call for Edna Smith" (another tablet made it).
    fail(err.status ? sentence(err.message) : "Could not reach the hub: check the Wi-Fi and press the button again.");
    button.disabled = false;
    button.textContent = "Call the hub now";
  }
});

function fail(message) {
  errorBox.textContent = message;
  errorBox.hidden = false;
  errorBox.scrollIntoView({ behavior: "smooth", block: "center" });
}

// Observations typed before this script ran (a slow page on bad Wi-Fi) or put back by
// the browser (Back, a restored tab) raised no input event that was heard: score them
// now. Then the button may be pressed (the page renders it disabled).
const typed = observations();
if (Object.keys(typed.obs).length || typed.bad.length) score();
button.disabled = false;

const sentence = (s) => s.charAt(0).toUpperCase() + s.slice(1) + (/[.!?]$/.test(s) ? "" : ".");
