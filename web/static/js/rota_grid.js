// The rota grid: colour a cell as soon as its shift is changed, and count the changes
// waiting to be saved (the form itself posts without JavaScript too).
const form = document.querySelector("[data-rota-grid]");
if (form) {
  const counter = form.querySelector("[data-changes]");
  const original = new Map();
  for (const select of form.querySelectorAll("select")) original.set(select, select.value);
  form.addEventListener("change", (event) => {
    const select = event.target;
    if (!(select instanceof HTMLSelectElement)) return;
    const cell = select.closest("td");
    cell.dataset.shift = select.value;
    cell.classList.toggle("changed", select.value !== original.get(select));
    const changed = form.querySelectorAll("td.changed").length;
    if (counter) counter.textContent = changed ? `${changed} unsaved change(s)` : "";
  });
}

// Print: the grid and cover chart on landscape pages (rota.css @media print).
for (const button of document.querySelectorAll("[data-print]")) {
  button.addEventListener("click", () => window.print());
}
