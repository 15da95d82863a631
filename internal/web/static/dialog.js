// dialog.js: a link with data-dialog="<id>" opens that <dialog> instead of
// its page; without JavaScript the link leads to the same form on a page.
(function () {
  "use strict";
  document.addEventListener("click", function (e) {
    var a = e.target.closest("[data-dialog]");
    if (a) {
      var d = document.getElementById(a.getAttribute("data-dialog"));
      if (!d || typeof d.showModal !== "function") return;
      e.preventDefault();
      d.showModal();
      var first = d.querySelector("input:not([type=hidden]), select");
      if (first) first.focus();
      return;
    }
    var c = e.target.closest(".dialog-close");
    if (c) {
      var dlg = c.closest("dialog");
      if (dlg) dlg.close();
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    var cs = document.querySelectorAll("dialog .dialog-close");
    for (var i = 0; i < cs.length; i++) cs[i].hidden = false;
  });
})();
