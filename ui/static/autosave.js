// Proposal editor enhancements: conditional questions shown and hidden as
// answers change, word counters, autosave with optimistic versions, and the
// receipt's print button. The editor works without this file; the server
// decides visibility and checks every answer again.
(function () {
  "use strict";

  function each(root, sel, fn) { Array.prototype.forEach.call(root.querySelectorAll(sel), fn); }

  // Print button on the receipt.
  each(document, "[data-print]", function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { window.print(); });
  });

  var form = document.getElementById("proposal-form");
  if (!form) { return; }

  // The answer values of a question as its condition compares them.
  function values(id) {
    var out = [];
    var box = document.getElementById("q-" + id);
    if (!box || box.hidden) { return out; }
    each(box, "[name='answers." + id + "']", function (el) {
      if (el.disabled) { return; }
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) { return; }
      if (el.value !== "") { out.push(el.value); }
    });
    return out;
  }

  // Conditions only look back, so one pass in page order settles them.
  function applyConditions() {
    each(form, "[data-visible-if]", function (box) {
      var wanted = (box.getAttribute("data-visible-values") || "").split(" ");
      var got = values(box.getAttribute("data-visible-if"));
      var show = got.some(function (v) { return wanted.indexOf(v) >= 0; });
      box.hidden = !show;
      each(box, "input, select, textarea", function (el) { el.disabled = !show; });
    });
  }

  // Word counters under texts with a word limit.
  each(form, "[data-max-words]", function (el) {
    var counter = document.createElement("p");
    counter.className = "hint";
    counter.setAttribute("aria-live", "polite");
    el.parentNode.insertBefore(counter, el.nextSibling);
    var max = parseInt(el.getAttribute("data-max-words"), 10);
    function count() {
      var n = el.value.trim() === "" ? 0 : el.value.trim().split(/\s+/).length;
      counter.textContent = el.getAttribute("data-words").replace("{count}", n);
      counter.className = n > max ? "field-error" : "hint";
    }
    el.addEventListener("input", count);
    count();
  });

  function parseNumber(v) {
    v = v.trim();
    if (v.indexOf(",") >= 0 && v.indexOf(".") < 0 && v.split(",").length === 2) { v = v.replace(",", "."); }
    if (!/^-?\d+(\.\d+)?$/.test(v)) { return null; }
    return parseFloat(v);
  }

  function parseMoney(v, digits) {
    v = v.replace(/[,\s\u00a0\u202f']/g, "");
    var m = /^(\d{0,15})(?:\.(\d*))?$/.exec(v);
    if (!m || (m[1] === "" && m[2] === undefined) || (m[2] !== undefined && (m[2] === "" || m[2].length > digits))) { return null; }
    var frac = (m[2] || "");
    while (frac.length < digits) { frac += "0"; }
    return parseInt((m[1] || "0") + frac, 10);
  }

  // The edit as the API takes it; fields typed in a way the server would
  // refuse are left for the Save button, which explains the problem.
  function payload() {
    var body = { version: parseInt(form.elements.version.value, 10) };
    if (form.elements.section.value === "_details") {
      body.title = form.elements.title.value;
      var amount = form.elements.requested_amount;
      if (amount.value.trim() === "") { body.requested_minor = 0; } else {
        var m = parseMoney(amount.value, parseInt(amount.getAttribute("data-digits"), 10));
        if (m !== null) { body.requested_minor = m; }
      }
      return body;
    }
    body.answers = {};
    each(form, "[data-question]", function (box) {
      var id = box.getAttribute("data-question"), kind = box.getAttribute("data-kind");
      if (box.hidden || kind === "file") { return; }
      var picked = [], text = null;
      each(box, "[name='answers." + id + "']", function (el) {
        if (el.type === "radio" || el.type === "checkbox") { if (el.checked) { picked.push(el.value); } } else { text = el.value; }
      });
      var a;
      switch (kind) {
      case "multiple_choice": a = picked.length ? picked : null; break;
      case "single_choice": a = picked.length ? picked[0] : null; break;
      case "yes_no": a = picked.length ? picked[0] === "yes" : null; break;
      case "number":
        if (text.trim() === "") { a = null; break; }
        a = parseNumber(text); if (a === null) { return; } break;
      case "money":
        if (text.trim() === "") { a = null; break; }
        a = parseMoney(text, parseInt(box.querySelector("input").getAttribute("data-digits"), 10)); if (a === null) { return; } break;
      default:
        a = text === null || text.trim() === "" ? null : text;
      }
      body.answers[id] = a;
    });
    return body;
  }

  var status = document.getElementById("autosave-status");
  var csrf = form.elements.csrf.value;
  var url = form.getAttribute("data-autosave");
  var dirty = false, busy = false, stopped = false, submitting = false, timer = null, failures = 0;

  function say(key, time) {
    var msg = status.getAttribute("data-" + key) || "";
    status.textContent = time ? msg.replace("{time}", time) : msg;
  }

  function schedule(ms) {
    window.clearTimeout(timer);
    timer = window.setTimeout(save, ms);
  }

  function save() {
    if (stopped || !dirty) { return; }
    if (busy) { schedule(1000); return; }
    busy = true;
    dirty = false;
    say("saving");
    fetch(url, {
      method: "PATCH", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(payload())
    }).then(function (res) {
      return res.json().then(function (data) { return { res: res, data: data }; }, function () { return { res: res, data: null }; });
    }).then(function (r) {
      busy = false;
      if (r.res.ok && r.data) {
        failures = 0;
        // Later saves, and the Save button, build on this version.
        form.elements.version.value = r.data.version;
        var d = new Date();
        say("saved", ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2));
      } else if (r.res.status === 409) {
        // Someone else saved first: never overwrite their version.
        stopped = true;
        say("conflict");
      } else if (r.res.status === 422) {
        var first = r.data && r.data.error && r.data.error.fields && r.data.error.fields[0];
        say("invalid");
        if (first) { status.textContent += " " + first.message; }
      } else if (r.res.status === 401 || r.res.status === 403) {
        stopped = true;
        say("signed-out");
      } else {
        offline();
      }
      if (submitting) { form.submit(); }
    }, function () {
      busy = false;
      offline();
      if (submitting) { form.submit(); }
    });
  }

  function offline() {
    dirty = true;
    failures++;
    say("offline");
    schedule(Math.min(60000, 5000 * failures));
  }

  function changed() {
    applyConditions();
    if (stopped) { return; }
    dirty = true;
    schedule(3000);
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", function (ev) {
    window.clearTimeout(timer);
    stopped = true;
    // Wait for a save under way, so the form carries its new version.
    if (busy) { submitting = true; ev.preventDefault(); }
  });
  window.addEventListener("online", function () { if (dirty) { schedule(0); } });
  // Leaving the page (a link, the upload button, closing the tab) must not
  // lose what was typed since the last save: send it with a request the
  // browser finishes even after the page is gone.
  function flush() {
    if (stopped || submitting || !dirty || busy) { return; }
    window.clearTimeout(timer);
    dirty = false;
    fetch(url, {
      method: "PATCH", credentials: "same-origin", keepalive: true,
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(payload())
    }).catch(function () { /* the page is gone; nothing to tell */ });
  }
  window.addEventListener("pagehide", flush);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { flush(); }
  });
  applyConditions();
})();
