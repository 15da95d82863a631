// time.js: shows every <time datetime> in the browser's own time zone.
// Without JavaScript the server's UTC text stays, which is still right.
(function () {
  "use strict";
  var fmt;
  try {
    fmt = new Intl.DateTimeFormat(undefined, {
      year: "numeric", month: "short", day: "numeric",
      hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short"
    });
  } catch (e) { return; }
  function localize(root) {
    var els = (root || document).querySelectorAll("time[datetime]:not([data-local])");
    for (var i = 0; i < els.length; i++) {
      var d = new Date(els[i].getAttribute("datetime"));
      if (isNaN(d.getTime())) continue;
      els[i].title = els[i].textContent;
      els[i].textContent = fmt.format(d);
      els[i].setAttribute("data-local", "1");
    }
  }
  window.signalLocalizeTimes = localize;
  document.addEventListener("DOMContentLoaded", function () { localize(document); });
})();
