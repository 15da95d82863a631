// dialog.js: a link with data-dialog="<id>" opens that <dialog> instead of
// its page; without JavaScript the link leads to the same form on a page.
// A form in a dialog is sent in the background: when the server answers
// with the form again (an error beside its field, or a question such as
// "Install anyway"), that form replaces the dialog's, so the dialog stays
// open; when it answers with a redirect, the browser follows it.
(function () {
  "use strict";

  function open(d) {
    d.showModal();
    var first = d.querySelector("[aria-invalid=true]") || d.querySelector("input:not([type=hidden]), select");
    if (first) first.focus();
  }

  function showClose(root) {
    var cs = root.querySelectorAll("dialog .dialog-close");
    for (var i = 0; i < cs.length; i++) cs[i].hidden = false;
  }

  document.addEventListener("click", function (e) {
    var a = e.target.closest("[data-dialog]");
    if (a) {
      var d = document.getElementById(a.getAttribute("data-dialog"));
      if (!d || typeof d.showModal !== "function") return;
      e.preventDefault();
      open(d);
      return;
    }
    var c = e.target.closest(".dialog-close");
    if (c) {
      var dlg = c.closest("dialog");
      if (dlg) dlg.close();
    }
  });

  document.addEventListener("submit", function (e) {
    var form = e.target;
    var d = form.closest("dialog");
    if (!d || !window.fetch || !window.DOMParser) return;
    e.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    fetch(form.getAttribute("action"), {
      method: "POST", body: new URLSearchParams(new FormData(form)), credentials: "same-origin",
      headers: { "X-Signal-Fetch": "1" }
    })
      .then(function (r) {
        // Done: the server names the next page instead of redirecting,
        // so its message is shown there rather than used up by fetch.
        var next = r.headers.get("X-Location");
        if (next) { location.assign(next); return null; }
        return r.text();
      })
      .then(function (html) {
        if (html === null) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("form." + form.className.split(" ")[0]);
        if (!fresh) { form.submit(); return; }
        form.replaceWith(document.importNode(fresh, true));
        showClose(d);
        if (d.open) d.close();
        open(d);
      })
      .catch(function () { form.submit(); });
  });

  document.addEventListener("DOMContentLoaded", function () { showClose(document); });
})();
