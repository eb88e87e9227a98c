// Tablet: filter the resident list as the carer types.
const filter = document.getElementById("filter");
filter?.addEventListener("input", () => {
  const q = filter.value.trim().toLowerCase();
  for (const li of document.querySelectorAll("[data-testid=pick-list] li[data-name]")) {
    li.hidden = q !== "" && !li.dataset.name.includes(q);
  }
});
