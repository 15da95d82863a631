// live.js: keeps the Live Events table current. It listens to the API's
// stream (server-sent events, through the UI's same-origin proxy) with the
// page's filters, puts new events on top and updates changed ones in place.
// "Pause" stops listening; without JavaScript the page is a plain list
// with "Load older".
(function () {
  "use strict";
  var table, tbody, source, paused = false, names = {}, countsTimer, countsBusy = false, countsAgain = false;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function timeEl(iso) {
    var t = el("time", null, iso.replace("T", " ").replace(/\.\d+/, "").replace("Z", " UTC"));
    t.setAttribute("datetime", iso);
    return t;
  }

  var labels = ["Time", "Event", "Type", "Integration", "Status", "Details"];

  function row(ev) {
    var tr = el("tr");
    tr.setAttribute("data-id", ev.id);
    var td = el("td"); td.appendChild(timeEl(ev.received_at)); tr.appendChild(td);
    td = el("td");
    var a = el("a", null, ev.event || ev.type);
    a.href = "/live-events/" + encodeURIComponent(ev.id);
    td.appendChild(a); tr.appendChild(td);
    tr.appendChild(el("td", null, ev.type));
    tr.appendChild(el("td", null, names[ev.integration_id] || ev.integration_id || ""));
    td = el("td"); td.appendChild(el("span", "badge status-" + ev.status, ev.status)); tr.appendChild(td);
    td = el("td", null, ev.status !== "delivered" ? (ev.reason_text || "") : "");
    if (ev.next_attempt_at) {
      var n = el("span", "muted", " Next attempt ");
      n.appendChild(timeEl(ev.next_attempt_at));
      td.appendChild(n);
    }
    (ev.warnings || []).forEach(function (w) {
      td.appendChild(el("span", "warning", " Warning: " + w.message));
    });
    tr.appendChild(td);
    for (var i = 0; i < tr.children.length; i++) tr.children[i].setAttribute("data-label", labels[i]);
    return tr;
  }

  function upsert(ev) {
    var fresh = row(ev);
    var old = tbody.querySelector('tr[data-id="' + CSS.escape(ev.id) + '"]');
    if (old) {
      tbody.replaceChild(fresh, old);
    } else {
      tbody.insertBefore(fresh, tbody.firstChild);
      while (tbody.children.length > 200) tbody.removeChild(tbody.lastChild);
    }
    var empty = document.getElementById("live-empty");
    if (empty) empty.remove();
    if (window.signalLocalizeTimes) window.signalLocalizeTimes(fresh);
    refreshCounts();
  }

  // refreshCounts asks for the counts at most once a second, and never
  // while an earlier answer is still awaited: it asks again after it.
  function refreshCounts() {
    var url = table.getAttribute("data-counts");
    if (!url || countsTimer) return;
    if (countsBusy) { countsAgain = true; return; }
    countsTimer = setTimeout(function () {
      countsTimer = null;
      countsBusy = true;
      var q = new URLSearchParams(location.search);
      q.delete("status"); q.delete("cursor");
      var qs = q.toString();
      fetch(url + (qs ? "?" + qs : ""), { credentials: "same-origin" }).then(function (r) {
        return r.ok ? r.json() : null;
      }).then(function (c) {
        if (!c) return;
        var els = document.querySelectorAll("[data-count]");
        for (var i = 0; i < els.length; i++) {
          var k = els[i].getAttribute("data-count");
          if (typeof c[k] === "number") els[i].textContent = c[k];
        }
        var note = document.getElementById("live-counts-window");
        if (note) note.hidden = !c.limited;
      }).catch(function () {}).then(function () {
        countsBusy = false;
        if (countsAgain) { countsAgain = false; refreshCounts(); }
      });
    }, 1000);
  }

  function state(text) {
    var s = document.getElementById("live-state");
    if (s) s.textContent = text;
  }

  // catchUp reads the newest rows again: the stream sends changes from the
  // moment it connects, so a change made between the page's render and the
  // connection (or during a reconnect) would otherwise be missed.
  function catchUp() {
    var q = new URLSearchParams(location.search);
    q.delete("cursor");
    q.set("limit", "50");
    fetch("/ui/api/live-events?" + q.toString(), { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (page) {
      if (!page || !page.data) return;
      for (var i = page.data.length - 1; i >= 0; i--) upsert(page.data[i]);
    }).catch(function () {});
  }

  function start() {
    if (source || !window.EventSource) return;
    source = new EventSource(table.getAttribute("data-stream"));
    source.onopen = function () { state("Live"); catchUp(); };
    source.onmessage = function (m) {
      try { upsert(JSON.parse(m.data)); } catch (e) { /* one bad line must not stop the list */ }
    };
    source.onerror = function () { state("Reconnecting…"); };
  }

  function stop() {
    if (source) { source.close(); source = null; }
    state("Paused");
  }

  document.addEventListener("DOMContentLoaded", function () {
    table = document.getElementById("live-table");
    if (!table || !table.getAttribute("data-stream")) return;
    tbody = document.getElementById("live-rows");
    try { names = JSON.parse(table.getAttribute("data-integrations") || "{}") || {}; } catch (e) { names = {}; }
    var btn = document.getElementById("live-pause");
    if (btn) {
      btn.hidden = false;
      btn.addEventListener("click", function () {
        paused = !paused;
        btn.textContent = paused ? "Resume" : "Pause";
        btn.setAttribute("aria-pressed", paused ? "true" : "false");
        if (paused) stop(); else start();
      });
    }
    start();
  });
})();
