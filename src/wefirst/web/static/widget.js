/*! wefirst click-to-give widget · Apache-2.0 · no dependencies, no cookies, no fingerprinting.
 * Embed: <script src="https://API/static/widget.js" data-campaign="cmp_…" data-publisher="pub_…" async></script>
 * Optional: data-lang="fr|en", data-api="https://API" (defaults to the script's origin),
 * data-target="element-id" (defaults to right after the script tag).
 */
(function () {
  "use strict";
  var D = document, W = window;

  var T = {
    fr: {
      region: "Don par clic",
      loading: "Chargement…",
      button: "Je clique pour donner",
      busy: "Envoi…",
      thanks: "Merci ! Votre clic est compté.",
      receipt: "Voir le reçu qui le prouve",
      already: "Vous avez déjà donné aujourd’hui. Revenez demain !",
      paused: "Campagne en pause. Revenez bientôt.",
      ended: "Cette campagne est terminée. Merci à toutes et à tous !",
      not_started: "La campagne n’a pas encore commencé.",
      cap_reached: "Objectif atteint ! Merci à toutes et à tous.",
      bad_origin: "Ce widget n’est pas autorisé sur ce site.",
      rate_limited: "Trop de clics d’un coup. Réessayez dans une minute.",
      refused: "Votre clic n’a pas pu être compté. Rechargez la page et réessayez.",
      error: "Service momentanément indisponible. Réessayez plus tard.",
      verify: "Les dons sont publiés dans un registre public vérifiable.",
      promised: "Promis à ce jour\u00a0:",
      by: "wefirst"
    },
    en: {
      region: "Click to give",
      loading: "Loading…",
      button: "Click to give",
      busy: "Sending…",
      thanks: "Thank you! Your click counts.",
      receipt: "See the receipt that proves it",
      already: "You already gave today. Come back tomorrow!",
      paused: "This campaign is paused. Come back soon.",
      ended: "This campaign has ended. Thank you all!",
      not_started: "This campaign has not started yet.",
      cap_reached: "Goal reached! Thank you all.",
      bad_origin: "This widget is not enabled on this site.",
      rate_limited: "Too many clicks at once. Try again in a minute.",
      refused: "Your click could not be counted. Reload the page and try again.",
      error: "Service temporarily unavailable. Please try again later.",
      verify: "Donations are published in a public, verifiable log.",
      promised: "Promised so far:",
      by: "wefirst"
    }
  };

  var CSS =
    ":host{all:initial;display:block;contain:content;margin:1em 0}" +
    ".w{box-sizing:border-box;max-width:26rem;padding:1rem 1.1rem;border:1px solid #c8ccd2;" +
    "border-radius:.6rem;background:#fff;color:#1b1f24;font:1rem/1.45 system-ui,-apple-system," +
    "'Segoe UI',Roboto,sans-serif;text-align:left}" +
    ".l{margin:0 0 .4rem;font-weight:600}" +
    ".c{margin:0 0 .8rem;font-size:1.05rem}.n{font-size:1.6rem;font-weight:700;color:#0a4f8f;" +
    "font-variant-numeric:tabular-nums}" +
    "button{font:inherit;font-weight:600;cursor:pointer;padding:.6rem 1.1rem;border:0;" +
    "border-radius:.4rem;background:#0b57a4;color:#fff;transition:background .15s,transform .15s}" +
    "button:hover{background:#084480}button:active{transform:scale(.97)}" +
    "button:focus-visible,a:focus-visible{outline:3px solid #e07b00;outline-offset:2px}" +
    "button[disabled]{cursor:default;background:#5a6470}" +
    ".s{margin:.7rem 0 0;min-height:1.2em}.s[data-k=ok]{color:#1d6b2f;font-weight:600}" +
    ".s[data-k=warn]{color:#8a3b00}.s[data-k=end]{color:#1b1f24;font-weight:600}" +
    "a{color:#0a4f8f}.f{margin:.8rem 0 0;font-size:.8rem;color:#4a525c}.f a{color:#4a525c}" +
    ".bump{animation:b .5s ease-out}@keyframes b{50%{color:#1d6b2f;transform:scale(1.06)}}" +
    ".n{display:inline-block}" +
    "@media (prefers-reduced-motion:reduce){*{transition:none!important;animation:none!important}}";

  // ---- SHA-256 (for the visitor commitment and proof of work; crypto.subtle is async-only
  // and missing on plain-http pages, so a small synchronous one is both simpler and faster).
  var K = [], H0 = [];
  (function () {
    var n = 2, i = 0, j, p;
    function f(x) { return (x - Math.floor(x)) * 4294967296 | 0; }
    while (i < 64) {
      p = true;
      for (j = 2; j * j <= n; j++) if (n % j === 0) { p = false; break; }
      if (p) { if (i < 8) H0[i] = f(Math.pow(n, 1 / 2)); K[i++] = f(Math.pow(n, 1 / 3)); }
      n++;
    }
  })();

  function sha256hex(str) {
    var bytes = new TextEncoder().encode(str), len = bytes.length;
    var nb = ((len + 9 + 63) >> 6) << 6, m = new Uint8Array(nb), w = new Int32Array(64);
    var h = H0.slice(), i, j, a, b, c, d, e, f, g, k, t1, t2, out = "";
    m.set(bytes); m[len] = 0x80;
    var bits = len * 8;
    m[nb - 4] = bits >>> 24; m[nb - 3] = bits >>> 16; m[nb - 2] = bits >>> 8; m[nb - 1] = bits;
    for (i = 0; i < nb; i += 64) {
      for (j = 0; j < 16; j++) {
        w[j] = m[i + 4 * j] << 24 | m[i + 4 * j + 1] << 16 | m[i + 4 * j + 2] << 8 | m[i + 4 * j + 3];
      }
      for (j = 16; j < 64; j++) {
        a = w[j - 15]; b = w[j - 2];
        w[j] = ((a >>> 7 | a << 25) ^ (a >>> 18 | a << 14) ^ a >>> 3) + w[j - 16] +
          ((b >>> 17 | b << 15) ^ (b >>> 19 | b << 13) ^ b >>> 10) + w[j - 7] | 0;
      }
      a = h[0]; b = h[1]; c = h[2]; d = h[3]; e = h[4]; f = h[5]; g = h[6]; k = h[7];
      for (j = 0; j < 64; j++) {
        t1 = k + ((e >>> 6 | e << 26) ^ (e >>> 11 | e << 21) ^ (e >>> 25 | e << 7)) +
          (e & f ^ ~e & g) + K[j] + w[j] | 0;
        t2 = ((a >>> 2 | a << 30) ^ (a >>> 13 | a << 19) ^ (a >>> 22 | a << 10)) +
          (a & b ^ a & c ^ b & c) | 0;
        k = g; g = f; f = e; e = d + t1 | 0; d = c; c = b; b = a; a = t1 + t2 | 0;
      }
      h[0] = h[0] + a | 0; h[1] = h[1] + b | 0; h[2] = h[2] + c | 0; h[3] = h[3] + d | 0;
      h[4] = h[4] + e | 0; h[5] = h[5] + f | 0; h[6] = h[6] + g | 0; h[7] = h[7] + k | 0;
    }
    for (i = 0; i < 8; i++) out += ("0000000" + (h[i] >>> 0).toString(16)).slice(-8);
    return out;
  }

  function zeroBits(hex) {
    var n = 0, i, v;
    for (i = 0; i < hex.length; i++) {
      v = parseInt(hex[i], 16);
      if (v === 0) { n += 4; continue; }
      return n + (v < 2 ? 3 : v < 4 ? 2 : v < 8 ? 1 : 0);
    }
    return n;
  }

  // Proof of work in slices so the page stays responsive while a campaign under attack asks
  // readers' browsers to spend a little effort.
  function solve(token, bits, done, alive) {
    var n = 0;
    (function slice() {
      if (alive && !alive()) return;  // a newer challenge replaced this one
      var end = n + 4000;
      for (; n < end; n++) if (zeroBits(sha256hex(token + "." + n)) >= bits) return done(String(n));
      setTimeout(slice, 0);
    })();
  }

  // ---- Storage on the host page's own origin: a random id that never leaves the browser (only
  // its hash does), so nothing is shared across sites and no third-party cookie is needed.
  function store(key, value) {
    try {
      if (value === undefined) return W.localStorage.getItem(key);
      W.localStorage.setItem(key, value);
    } catch (e) { /* storage blocked: the id lives for this page view only */ }
    return null;
  }

  var memoryId = null;
  function visitorId() {
    var id = store("wefirst:vid");
    if (id && /^[0-9a-f]{32}$/.test(id)) return id;
    if (!memoryId) {
      var b = new Uint8Array(16), i;
      W.crypto.getRandomValues(b);
      memoryId = "";
      for (i = 0; i < 16; i++) memoryId += ("0" + b[i].toString(16)).slice(-2);
    }
    store("wefirst:vid", memoryId);
    return memoryId;
  }

  function today() { return new Date().toISOString().slice(0, 10); }

  function el(tag, attrs, text) {
    var e = D.createElement(tag), k;
    for (k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }

  function pick(map, lang) {
    if (!map) return "";
    return typeof map === "string" ? map : (map[lang] || map.en || map.fr || "");
  }

  function request(method, url, body) {
    var opts = { method: method, mode: "cors", credentials: "omit", cache: "no-store" };
    if (body) { opts.headers = { "Content-Type": "application/json" }; opts.body = JSON.stringify(body); }
    return fetch(url, opts).then(function (r) {
      return r.json().then(function (j) { return { status: r.status, body: j }; },
        function () { return { status: r.status, body: {} }; });
    });
  }

  function mount(script) {
    if (script.getAttribute("data-wefirst-mounted")) return;
    script.setAttribute("data-wefirst-mounted", "1");
    var campaign = script.getAttribute("data-campaign") || "";
    var publisher = script.getAttribute("data-publisher") || "";
    var api = (script.getAttribute("data-api") || new URL(script.src, D.baseURI).origin)
      .replace(/\/+$/, "");
    var langAttr = script.getAttribute("data-lang") ||
      (script.closest && script.closest("[lang]") ? script.closest("[lang]").getAttribute("lang") : "") ||
      D.documentElement.lang || navigator.language || "en";
    var lang = /^fr\b/i.test(langAttr) ? "fr" : "en";
    var t = T[lang];
    var reduce = W.matchMedia && W.matchMedia("(prefers-reduced-motion: reduce)").matches;
    var fmt = new Intl.NumberFormat(lang === "fr" ? "fr-FR" : "en-GB");
    var plural = new Intl.PluralRules(lang === "fr" ? "fr-FR" : "en-GB");

    var host = el("div", { "class": "wefirst-widget" });
    var target = script.getAttribute("data-target") && D.getElementById(script.getAttribute("data-target"));
    if (target) target.appendChild(host);
    else script.parentNode.insertBefore(host, script.nextSibling);
    var root = host.attachShadow({ mode: "open" });
    var style = el("style", {}, CSS);
    var box = el("section", { "class": "w", role: "region", "aria-label": t.region, lang: lang });
    var line = el("p", { "class": "l" });
    var counter = el("p", { "class": "c", "aria-live": "polite", "aria-atomic": "true" });
    var num = el("span", { "class": "n" });
    var label = el("span", { "class": "u" });
    // The count is what the brand has promised, not what was delivered: the words say so.
    counter.appendChild(el("span", { "class": "p" }, t.promised)); counter.appendChild(D.createTextNode(" "));
    counter.appendChild(num); counter.appendChild(D.createTextNode(" ")); counter.appendChild(label);
    // Where the unit has an outcome conversion, the exact figure (floor, remainder shown).
    var outcome = el("span", { "class": "o" });
    counter.appendChild(outcome);
    var button = el("button", { type: "button" }, t.button);
    var status = el("p", { "class": "s", role: "status", "aria-live": "polite" });
    var foot = el("p", { "class": "f" }, t.verify + " ");
    foot.appendChild(el("a", { href: api + "/", target: "_blank", rel: "noopener" }, t.by));
    box.appendChild(line); box.appendChild(counter); box.appendChild(button);
    box.appendChild(status); box.appendChild(foot);
    root.appendChild(style); root.appendChild(box);
    host.setAttribute("data-state", "loading");
    status.textContent = t.loading;
    button.hidden = true;

    var vid = visitorId();
    var visitor = sha256hex("wefirst-visitor\n" + vid);
    var doneKey = "wefirst:done:" + campaign;
    var state = null, challengeAt = 0, units = 0, unitLabels = null;

    function setState(name, kind, text) {
      host.setAttribute("data-state", name);
      status.setAttribute("data-k", kind || "");
      status.textContent = text || "";
    }

    function showReceipt(url) {
      if (!url) return;
      status.appendChild(D.createTextNode(" "));
      status.appendChild(el("a", { href: url, target: "_blank", rel: "noopener" }, t.receipt));
    }

    function showCount(value) {
      var from = units;
      units = value;
      var forms = unitLabels && (unitLabels[lang] || unitLabels.en) || {};
      label.textContent = forms[plural.select(value)] || forms.other || "";
      if (reduce || from === value || !from) { num.textContent = fmt.format(value); return; }
      num.classList.remove("bump"); void num.offsetWidth; num.classList.add("bump");
      num.textContent = fmt.format(value);
    }

    function showOutcome(o) {
      outcome.textContent = o && o.text ? " · " + (o.text[lang] || o.text.en) : "";
    }

    function showDone(receiptUrl) {
      button.hidden = true;
      setState("already", "ok", t.already);
      showReceipt(receiptUrl);
    }

    function render(s) {
      state = s;
      challengeAt = Date.now();
      line.textContent = pick(s.campaign && s.campaign.line, lang);
      unitLabels = s.counter && s.counter.label;
      showCount(s.counter ? s.counter.units : 0);
      showOutcome(s.counter && s.counter.outcome);
      var cs = s.campaign && s.campaign.state;
      if (cs && cs !== "active") {
        button.hidden = true;
        setState(cs, "end", t[cs] || t.ended);
        return;
      }
      var done = null;
      try { done = JSON.parse(store(doneKey) || "null"); } catch (e) { done = null; }
      if (s.counted_today) return showDone(done && done.day === today() ? done.receipt : null);
      button.hidden = false;
      button.disabled = false;
      button.textContent = t.button;
      setState("ready", "", "");
      prepare(s.challenge);
    }

    // Proof of work starts as soon as a challenge arrives, while the reader reads, so a click
    // rarely waits for it; a later challenge (the minute refresh) starts its own.
    var work = null;
    function prepare(c) {
      if (!c || !(c.pow_bits > 0) || (work && work.token === c.token)) return;
      var w = work = { token: c.token, nonce: null, waiting: [] };
      solve(c.token, c.pow_bits, function (nonce) {
        w.nonce = nonce;
        var waiting = w.waiting;
        w.waiting = [];
        for (var k = 0; k < waiting.length; k++) waiting[k](nonce);
      }, function () { return work === w; });
    }
    function withPow(c, then) {
      if (!(c.pow_bits > 0)) return then(null);
      prepare(c);
      if (work.nonce !== null) return then(work.nonce);
      work.waiting.push(then);
    }

    var stateUrl = api + "/v1/widget/campaigns/" + encodeURIComponent(campaign) + "/state?publisher=" +
      encodeURIComponent(publisher) + "&visitor=" + visitor;

    function load() {
      return request("GET", stateUrl).then(function (r) {
        if (r.status === 200) return render(r.body);
        fail(r.body && r.body.decision);
      }, function () { fail(); });
    }

    // The live counter: while the page is visible, the state is read again every minute; an
    // idle widget also gets a fresh challenge that way.
    function refresh() {
      var shown = host.getAttribute("data-state");
      if (D.hidden || button.disabled || !/^(ready|thanks|already)$/.test(shown)) return;
      request("GET", stateUrl).then(function (r) {
        if (r.status !== 200 || button.disabled) return;
        if (shown === "ready") return render(r.body);  // a pause or a reached goal shows too
        showCount(r.body.counter ? r.body.counter.units : units);  // keep the thank-you
        if (r.body.counter) showOutcome(r.body.counter.outcome);
      }, function () { /* keep what is shown */ });
    }

    function fail(reason, detail) {
      button.hidden = reason === "bad_origin" || reason === "cap_reached" || reason === "campaign_inactive";
      button.disabled = false;
      button.textContent = t.button;
      button.removeAttribute("aria-busy");
      if (reason === "cap_reached") return setState("cap_reached", "end", t.cap_reached);
      if (reason === "campaign_inactive") {
        var why = detail === "paused" || detail === "not_started" ? detail : "ended";
        return setState(why, "end", t[why]);
      }
      setState(reason || "error", "warn", t[reason] || (reason ? t.refused : t.error));
    }

    function send(pow) {
      request("POST", api + "/v1/widget/clicks", {
        campaign: campaign, publisher: publisher, visitor: visitor,
        challenge: state.challenge.token, pow: pow
      }).then(function (r) {
        var b = r.body || {};
        button.removeAttribute("aria-busy");
        if (b.counter) showCount(b.counter.units);
        if (b.decision === "counted") {
          var receipt = b.receipt && b.receipt.url;
          store(doneKey, JSON.stringify({ day: today(), receipt: receipt }));
          button.hidden = true;
          setState("thanks", "ok", t.thanks);
          showReceipt(receipt);
          return;
        }
        if (b.decision === "duplicate") {
          var done = null;
          try { done = JSON.parse(store(doneKey) || "null"); } catch (e) { done = null; }
          return showDone(done && done.day === today() ? done.receipt : null);
        }
        fail(b.decision, b.detail);
        // A used challenge cannot be presented again: fetch a fresh one for the next try.
        if (b.decision === "rate_limited" || b.decision === "bad_challenge" || b.decision === "automated") {
          button.disabled = true;
          setTimeout(load, b.decision === "rate_limited" ? 60000 : 1500);
        }
      }, function () { fail(); });
    }

    function click() {
      if (!state || button.disabled) return;
      var c = state.challenge || {};
      if (Date.now() - challengeAt > (c.ttl_ms || 600000) - 30000) {
        button.disabled = true;
        return load().then(function () { if (!button.hidden) click(); });
      }
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      button.textContent = t.busy;
      // The server refuses clicks that come sooner than a person could click; wait out the rest.
      var wait = Math.max(0, (c.min_delay_ms || 0) + 50 - (Date.now() - challengeAt));
      setTimeout(function () {
        withPow(c, send);
      }, wait);
    }

    button.addEventListener("click", click);
    load();
    setInterval(refresh, 60000);
  }

  var current = D.currentScript;
  if (current && current.getAttribute("data-campaign")) mount(current);
  var all = D.querySelectorAll("script[data-campaign][data-publisher]"), i;
  for (i = 0; i < all.length; i++) if (/widget\.js(\?|#|$)/.test(all[i].src)) mount(all[i]);
})();
