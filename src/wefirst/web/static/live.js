/* Live counters: re-reads a campaign's figures every 15 s and updates them in place. The page
 * is complete without it (the figures are rendered on the server); this only keeps them fresh. */
(function () {
  "use strict";
  var PERIOD_MS = 15000;
  function refresh(list) {
    var url = list.getAttribute("data-live");
    return fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        Array.prototype.forEach.call(list.querySelectorAll("[data-key]"), function (dd) {
          var value = data[dd.getAttribute("data-key")];
          if (typeof value === "string" && dd.textContent !== value) dd.textContent = value;
        });
      })
      .catch(function () { /* offline: keep the last figures */ });
  }
  function refreshAll() {
    var lists = document.querySelectorAll("[data-live]");
    return Promise.all(Array.prototype.map.call(lists, refresh));
  }
  function start() {
    if (!document.querySelector("[data-live]") || !window.fetch) return;
    setInterval(function () {
      if (!document.hidden) refreshAll();
    }, PERIOD_MS);
  }
  window.wefirstLive = { refreshAll: refreshAll };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
