// copy.js: a "Copy" button copies the text of the element its
// data-copy attribute names, and says so.
(function () {
  "use strict";
  document.addEventListener("click", function (e) {
    var b = e.target.closest("button[data-copy]");
    if (!b) return;
    var src = document.getElementById(b.getAttribute("data-copy"));
    if (!src || !navigator.clipboard) return;
    var text = src.value !== undefined ? src.value : src.textContent;
    navigator.clipboard.writeText(text.trim()).then(function () {
      var was = b.textContent;
      b.textContent = "Copied";
      setTimeout(function () { b.textContent = was; }, 1500);
    });
  });
  document.addEventListener("DOMContentLoaded", function () {
    var bs = document.querySelectorAll("button[data-copy]");
    for (var i = 0; i < bs.length; i++) bs[i].hidden = false;
  });
})();
