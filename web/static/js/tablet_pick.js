// Tablet: filter the resident list as the carer types (every word must match).
const filter = document.getElementById("filter");
const rows = [...document.querySelectorAll("[data-testid=pick-list] li[data-name]")];

filter?.addEventListener("input", () => {
  const words = filter.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
  let shown = 0;
  for (const li of rows) {
    li.hidden = !words.every((w) => li.dataset.name.includes(w));
    if (!li.hidden) shown++;
  }
  document.getElementById("no-match").hidden = shown > 0 || rows.length === 0;
});
