// Public call pages: deadlines in the browser's own timezone and a live
// countdown. Progressive enhancement only: without this file the pages show
// every time in the reader's timezone (when signed in) and in UTC.
(function () {
  "use strict";
  var lang = document.documentElement.lang || "en";

  // Add the time in the browser's timezone next to a UTC time.
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
  if (zone && zone !== "UTC" && zone !== "Etc/UTC") {
    document.querySelectorAll("[data-local-time]").forEach(function (el) {
      var t = new Date(el.getAttribute("data-local-time"));
      if (isNaN(t.getTime())) { return; }
      var text;
      try {
        text = t.toLocaleString(lang, { year: "numeric", month: "short", day: "numeric",
          hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
      } catch (e) { text = t.toString(); }
      el.textContent = "";
      el.appendChild(document.createElement("br"));
      el.appendChild(document.createTextNode(el.getAttribute("data-label") + ": " + text + " (" + zone + ")"));
      el.hidden = false;
    });
  }

  // Count down to data-countdown, writing data-format with {d} {h} {m} {s}
  // filled in, and data-done once the time has passed.
  var counters = [];
  document.querySelectorAll("[data-countdown]").forEach(function (el) {
    var t = new Date(el.getAttribute("data-countdown")).getTime();
    if (!isNaN(t)) { counters.push({ el: el, at: t, done: false }); }
  });
  if (counters.length === 0) { return; }
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function tick() {
    var now = Date.now(), running = false;
    counters.forEach(function (c) {
      if (c.done) { return; }
      var left = Math.floor((c.at - now) / 1000);
      if (left <= 0) {
        c.el.textContent = c.el.getAttribute("data-done");
        c.done = true;
        return;
      }
      running = true;
      var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600),
          m = Math.floor(left % 3600 / 60), s = left % 60;
      c.el.textContent = c.el.getAttribute("data-format")
        .replace("{d}", String(d)).replace("{h}", pad(h)).replace("{m}", pad(m)).replace("{s}", pad(s));
    });
    if (running) { window.setTimeout(tick, 1000 - (Date.now() % 1000)); }
  }
  tick();
})();
