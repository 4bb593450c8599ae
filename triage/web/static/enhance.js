// Progressive enhancement only: every page works without this file.
// Shows a "Print this page" button on the result page.
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("print");
  if (button) {
    button.parentElement.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  }
  // Print every explanation, not only the ones that are open.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });
  // Move the keyboard focus to the error summary when a page shows one.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.setAttribute("tabindex", "-1"); summary.focus(); }
});
