// Facility progressive enhancement. Every page works without this file.
(function () {
  "use strict";
  // Submit the language switcher as soon as a language is picked.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
    var button = sel.form && sel.form.querySelector("button");
    if (button) { button.hidden = true; }
    sel.addEventListener("change", function () { sel.form.submit(); });
  });
  // Bring the error summary into view and focus so screen readers announce it.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
  // Ask before destructive actions marked data-confirm.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { ev.preventDefault(); }
    });
  });
})();
