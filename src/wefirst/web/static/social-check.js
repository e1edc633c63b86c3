/*
 * "Did my share count?" — runs in the browser: from what the person pastes it computes, with
 * WebCrypto, the SHA-256 commitment each of the campaign's social rules would log for their
 * action (wefirst/domain/social.py: "<account> <action> <target>" for a like or repost, the
 * post's own URI for a hashtag post, reply or quote), asks /v1/campaigns/{id}/social/check
 * with the commitment only, and shows the outcome and the log's inclusion proof.
 */
(function () {
  "use strict";
  var box = document.getElementById("social-check");
  if (!box) return;
  var lang = document.documentElement.lang === "fr" ? "fr" : "en";
  var T = {
    en: {
      counted: "Counted: {units} unit(s) pledged for your {action}.",
      reversed: "Counted, then reversed: your {action} was withdrawn before settlement.",
      duplicate: "Not counted again: this account already counted once under this rule.",
      over_cap: "Not counted: the campaign or this rule had reached its cap.",
      carried: "Counted toward the next whole unit (less than one unit).",
      refused: "Not counted: {reason}.",
      none: "Not found: this action was not seen for this campaign (not yet polled, another post, or a different address).",
      empty: "Paste an address first.",
      unresolved: "This Bluesky address could not be read: check it, or paste your DID (did:plc:…) or the post's AT-URI.",
      proof: "Log entry {index} in a signed tree of {size} entries — paste this proof into the verifier:",
      pending: "The log entry is written and waits for the next signed checkpoint.",
      why: { too_young: "the account was too new", too_few_posts: "the account had too few posts", bot: "the account is marked as a bot", burst: "too many accounts created at the same time already counted", no_profile: "the account's profile could not be read" }
    },
    fr: {
      counted: "Compté : {units} unité(s) promise(s) pour votre action ({action}).",
      reversed: "Compté puis annulé : votre action ({action}) a été retirée avant le versement.",
      duplicate: "Pas compté une seconde fois : ce compte a déjà été compté pour cette règle.",
      over_cap: "Pas compté : la campagne ou cette règle avait atteint son plafond.",
      carried: "Compté vers la prochaine unité entière (moins d'une unité).",
      refused: "Pas compté : {reason}.",
      none: "Introuvable : cette action n'a pas été vue pour cette campagne (pas encore relevée, autre publication, ou autre adresse).",
      empty: "Collez d'abord une adresse.",
      unresolved: "Cette adresse Bluesky n'a pas pu être lue : vérifiez-la, ou collez votre DID (did:plc:…) ou l'AT-URI de la publication.",
      proof: "Entrée {index} du journal, dans un arbre signé de {size} entrées — collez cette preuve dans le vérificateur :",
      pending: "L'entrée est écrite et attend le prochain point de contrôle signé.",
      why: { too_young: "le compte était trop récent", too_few_posts: "le compte avait trop peu de publications", bot: "le compte est marqué comme robot", burst: "trop de comptes créés en même temps ont déjà été comptés", no_profile: "le profil du compte n'a pas pu être lu" }
    }
  }[lang];

  function fill(s, v) { return s.replace(/\{(\w+)\}/g, function (_, k) { return v[k] === undefined ? "" : String(v[k]); }); }

  function normTarget(rule) {
    var t = rule.target.trim();
    return rule.action === "hashtag_post" ? t.replace(/^#/, "").toLowerCase() : t.replace(/\/+$/, "");
  }

  function candidates(rules, pasted) {
    var text = pasted.trim().replace(/[?#].*$/, "").replace(/\/+$/, "");
    var did = (pasted.match(/did:[a-z]+:[A-Za-z0-9._:%-]+/) || [null])[0];
    var out = [];
    rules.forEach(function (r) {
      if (r.action === "like" || r.action === "repost") {
        var who = r.network === "bluesky" ? did : (/^https:\/\//.test(text) ? text : null);
        if (who) out.push({ rule: r, uri: who + " " + r.action + " " + normTarget(r) });
      } else if (text) {
        out.push({ rule: r, uri: pasted.trim() });
      }
    });
    return out;
  }

  function hex(buf) {
    return Array.prototype.map.call(new Uint8Array(buf), function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function show(nodes) {
    var result = document.getElementById("social-result");
    result.textContent = "";
    nodes.forEach(function (n) { result.appendChild(n); });
  }

  function para(text, cls) { var p = document.createElement("p"); p.textContent = text; if (cls) p.className = cls; return p; }

  function render(body) {
    var nodes = [];
    var msg = body.outcome === "refused" ? fill(T.refused, { reason: T.why[body.reason] || body.reason })
      : fill(T[body.outcome] || body.outcome, { units: body.units, action: body.action.replace("_", " ") });
    nodes.push(para(msg, "social-" + body.outcome));
    if (body.proof && body.proof.status === "pending") nodes.push(para(T.pending));
    else if (body.proof) {
      nodes.push(para(fill(T.proof, { index: body.proof.index, size: body.proof.tree_size || (body.proof.checkpoint || "").split("\n")[1] })));
      var pre = document.createElement("textarea");
      pre.className = "mono"; pre.readOnly = true; pre.rows = 6; pre.id = "social-proof";
      pre.setAttribute("aria-label", "proof");
      pre.value = JSON.stringify(body.proof);
      nodes.push(pre);
      var a = document.createElement("a"); a.href = "/verify"; a.textContent = lang === "fr" ? "Ouvrir le vérificateur" : "Open the verifier";
      nodes.push(a);
    }
    show(nodes);
  }

  // A bsky.app address names a handle; the log's commitments name DIDs and AT-URIs: the
  // server resolves it (/v1/social/resolve) and the commitment is still computed here.
  function resolved(pasted) {
    var t = pasted.trim().replace(/[?#].*$/, "");
    if (!/^https:\/\/bsky\.app\/profile\//.test(t)) return Promise.resolve(pasted);
    return fetch("/v1/social/resolve?address=" + encodeURIComponent(t), { headers: { Accept: "application/json" } })
      .then(function (r) { return r.status === 200 ? r.json() : null; })
      .then(function (b) { return b ? (b.uri || b.did) : null; }, function () { return null; });
  }

  document.getElementById("social-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    resolved(document.getElementById("social-url").value).then(function (pasted) {
      if (pasted === null) show([para(T.unresolved)]); else check(pasted);
    });
  });

  function check(pasted) {
    var rules = JSON.parse(box.getAttribute("data-rules"));
    var list = candidates(rules, pasted);
    if (!list.length) { show([para(T.empty)]); return; }
    var campaign = box.getAttribute("data-campaign");
    var tries = list.map(function (c) {
      return crypto.subtle.digest("SHA-256", new TextEncoder().encode(c.uri)).then(function (d) {
        return fetch("/v1/campaigns/" + encodeURIComponent(campaign) + "/social/check?commitment=" + hex(d), { headers: { Accept: "application/json" } })
          .then(function (r) { return r.status === 200 ? r.json() : null; });
      });
    });
    Promise.all(tries).then(function (found) {
      var hit = found.filter(function (b) { return b && b.outcome !== "not_seen"; });
      var best = hit.filter(function (b) { return b.outcome === "counted"; })[0] || hit[0];
      if (best) render(best); else show([para(T.none)]);
    });
  }
})();
