/* Keeps the processing progress of media shown on a page up to date (every 3 s while
   something is processing); reloads the page once an item is ready or failed. */
(function () {
  "use strict";
  var rows = document.querySelectorAll("[data-media-status-url]");
  if (!rows.length || !window.fetch) return;
  var percent = new Intl.NumberFormat(document.documentElement.lang || undefined,
                                      { style: "percent" });

  function poll() {
    var pending = 0;
    var work = Array.prototype.map.call(rows, function (row) {
      if (row.getAttribute("data-status") !== "processing") return Promise.resolve();
      pending++;
      return fetch(row.getAttribute("data-media-status-url"), { credentials: "same-origin",
                                                                headers: { "Accept": "application/json" } })
        .then(function (resp) { return resp.ok ? resp.json() : null; })
        .then(function (body) {
          if (!body) return;
          var bar = row.querySelector("progress");
          if (bar) bar.value = body.progress;
          var pct = row.querySelector("[data-progress-text]");
          if (pct) pct.textContent = percent.format(body.progress / 100);
          if (body.status !== "processing") window.location.reload();
        })
        .catch(function () { /* try again next round */ });
    });
    Promise.all(work).then(function () { if (pending) setTimeout(poll, 3000); });
  }
  setTimeout(poll, 3000);
})();
