/* Console helpers. Every console page works without this script (the Preview button posts the
 * form and the server draws the preview; a snippet can be selected and copied by hand); this
 * only makes those steps quicker:
 *  - the campaign form's preview follows what is typed (the server writes it: one wording);
 *  - amount labels name the currency chosen;
 *  - "Copy" buttons copy a widget snippet. */
(function () {
  "use strict";
  function livePreview(form) {
    var url = form.getAttribute("data-preview-url");
    var box = document.getElementById("preview-text");
    if (!url || !box || !window.fetch || !window.FormData) return;
    var timer = null;
    var asked = 0;
    function ask() {
      var mine = ++asked;
      fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html !== null && mine === asked) box.innerHTML = html;
        })
        .catch(function () { /* offline: the Preview button still works */ });
    }
    function later() {
      if (timer) clearTimeout(timer);
      timer = setTimeout(ask, 400);
    }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
  }
  function currencyWords(form) {
    var select = form.querySelector("select[name=currency]");
    if (!select) return;
    var shown = select.options[select.selectedIndex].getAttribute("data-name");
    select.addEventListener("change", function () {
      var now = select.options[select.selectedIndex].getAttribute("data-name");
      Array.prototype.forEach.call(form.querySelectorAll("label"), function (label) {
        if (shown && label.textContent.indexOf(" " + shown) !== -1) {
          label.textContent = label.textContent.split(" " + shown).join(" " + now);
        }
      });
      shown = now;
    });
  }
  function copyButtons() {
    Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var source = document.getElementById(button.getAttribute("data-copy"));
        var status = document.getElementById(button.getAttribute("data-copy") + "-status");
        if (!source) return;
        var done = function () { if (status) status.textContent = button.getAttribute("data-done"); };
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(source.value).then(done, function () { source.select(); });
        } else {
          source.select();
        }
      });
    });
  }
  function start() {
    var form = document.getElementById("campaign-form");
    if (form) {
      livePreview(form);
      currencyWords(form);
    }
    copyButtons();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
