// agentver console: times in the reader's own time zone. The server writes each <time> as
// "2 h ago" (or a UTC date when older than a week) with the exact UTC time in its title; this
// puts the exact time in the browser's time zone in the title, and an older one's date in that
// zone in the text. Without it the page reads the same, in UTC.
(function () {
  "use strict";
  var exact = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric", hour: "2-digit",
    minute: "2-digit", second: "2-digit", timeZoneName: "short" });
  var day = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" });
  function local(root) {
    var times = root.querySelectorAll("time[datetime]");
    for (var i = 0; i < times.length; i++) {
      var t = times[i], d = new Date(t.getAttribute("datetime"));
      if (isNaN(d.getTime())) continue;
      t.title = exact.format(d);
      if (t.hasAttribute("data-date")) t.textContent = day.format(d);
    }
  }
  document.addEventListener("DOMContentLoaded", function () { local(document); });
  document.addEventListener("htmx:afterSwap", function (e) { local(e.target); });
})();
