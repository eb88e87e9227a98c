// Printable reports: the "Print" button opens the browser's print dialogue.
// (A static module because the Content-Security-Policy forbids inline scripts.)
for (const button of document.querySelectorAll("[data-print]")) {
  button.addEventListener("click", () => window.print());
}
