/*
 * wefirst receipt verifier — runs entirely in the browser with WebCrypto, so a reader does not
 * have to trust the server that shows the page.
 *
 * It checks, in order, and reports every step:
 *   1. the published verifier key is well formed (<name>+<8 hex key id>+<base64(0x01||pub)>) and
 *      its key id really is SHA-256(name || "\n" || 0x01 || pub)[:4];
 *   2. the checkpoint (C2SP signed note) carries a signature line from that key, and the Ed25519
 *      signature over the note body is valid;
 *   3. the checkpoint's origin is the key's name;
 *   4. the entry hashes (RFC 6962: SHA-256(0x00 || entry)) through the inclusion proof to the
 *      signed root, for the given index and the checkpoint's tree size;
 *   5. optionally, the entry's "commitment" is SHA-256 of the receipt secret (the receipt is
 *      yours), and the log's own level-0 tile holds the same leaf hash (the entry is unchanged);
 *   6. with a trust policy (pasted, or from the URL fragment #policy=…, never fetched from the
 *      server it judges), the log key comes from the policy and at least the policy's quorum of
 *      witnesses cosigned the checkpoint (C2SP tlog-cosignature, cosignature/v1: Ed25519 over
 *      "cosignature/v1\ntime <t>\n" + checkpoint body, key ID with type byte 0x04).
 *
 * Formats: /work/shared/TLOG.md and docs/tlog.md (C2SP tlog-checkpoint, signed-note, tlog-tiles,
 * tlog-cosignature; RFC 9162). Policy syntax: docs/witnessing.md (Sigsum policy, vkeys).
 */
(function () {
  "use strict";

  var enc = new TextEncoder();

  var MESSAGES = {
    en: {
      key_format: "The published key is not a valid verifier key (expected name+keyid+base64).",
      key_id: "The published key's id does not match its name and public key.",
      key_ok: "Published key is well formed",
      note_format: "The checkpoint is not a well-formed signed note: ",
      no_sig: "The checkpoint is not signed by the published key {name}+{id}: it was signed by {others}. Wrong key.",
      bad_sig: "The checkpoint's signature does not verify with the published key: the checkpoint was changed or signed by another key with the same name.",
      sig_ok: "Checkpoint signed by the published key",
      origin: "The checkpoint is for the log \u201c{origin}\u201d, not for \u201c{name}\u201d.",
      origin_ok: "Checkpoint origin matches the key",
      receipt_format: "The receipt is not valid: ",
      index_range: "The entry index {index} is outside the signed tree of size {size}.",
      other_tree: "The inclusion proof belongs to another tree: it was made for a tree of size {proof_size}, but the signed checkpoint is for size {size}.",
      proof_length: "The inclusion proof belongs to another tree: an entry at index {index} in a tree of size {size} needs {expected} proof hashes, the receipt has {got}.",
      changed_entry: "The entry was changed: the log holds a different entry at index {index}.",
      text_differs: "The entry was changed: its text and its exact bytes (entry_b64) differ.",
      root_mismatch: "The entry and its proof do not lead to the signed root: the entry or the proof was changed.",
      inclusion_ok: "Entry is included in the signed tree",
      commitment_bad: "This entry does not belong to this receipt: its commitment is not the hash of the receipt secret.",
      commitment_ok: "The entry carries this receipt's commitment",
      passed: "Verified: the entry is in the public log at index {index}, under a checkpoint of size {size} signed by {name}.",
      failed: "Verification failed.",
      crypto: "This browser cannot check Ed25519 signatures (WebCrypto); use a recent browser or the command-line verifier.",
      policy_format: "The trust policy is not valid: ",
      policy_log: "The trust policy does not name the log \u201c{origin}\u201d.",
      witness_bad: "The cosignature of witness {name} does not verify: the checkpoint or the cosignature was changed.",
      witness_quorum: "Not enough witnesses cosigned this checkpoint ({quorum}): missing {missing}.",
      witness_ok: "Cosigned by {names} ({quorum})",
      witness_stale: "The cosignature of {name} is {age} old, more than the policy allows ({max}): that witness may be cut off from the log."
    },
    fr: {
      key_format: "La clé publiée n\u2019est pas une clé de vérification valide (attendu : nom+idclé+base64).",
      key_id: "L\u2019identifiant de la clé publiée ne correspond pas à son nom et à sa clé publique.",
      key_ok: "La clé publiée est bien formée",
      note_format: "Le point de contrôle n\u2019est pas une note signée bien formée : ",
      no_sig: "Le point de contrôle n\u2019est pas signé par la clé publiée {name}+{id} : il a été signé par {others}. Mauvaise clé.",
      bad_sig: "La signature du point de contrôle ne se vérifie pas avec la clé publiée : le point de contrôle a été modifié ou signé par une autre clé du même nom.",
      sig_ok: "Point de contrôle signé par la clé publiée",
      origin: "Le point de contrôle concerne le journal « {origin} », pas « {name} ».",
      origin_ok: "L\u2019origine du point de contrôle correspond à la clé",
      receipt_format: "Le reçu n\u2019est pas valide : ",
      index_range: "L\u2019index {index} est hors de l\u2019arbre signé de taille {size}.",
      other_tree: "La preuve d\u2019inclusion appartient à un autre arbre : elle a été faite pour un arbre de taille {proof_size}, mais le point de contrôle signé est de taille {size}.",
      proof_length: "La preuve d\u2019inclusion appartient à un autre arbre : une entrée à l\u2019index {index} dans un arbre de taille {size} demande {expected} empreintes, le reçu en a {got}.",
      changed_entry: "L\u2019entrée a été modifiée : le journal contient une autre entrée à l\u2019index {index}.",
      text_differs: "L\u2019entrée a été modifiée : son texte et ses octets exacts (entry_b64) diffèrent.",
      root_mismatch: "L\u2019entrée et sa preuve ne mènent pas à la racine signée : l\u2019entrée ou la preuve a été modifiée.",
      inclusion_ok: "L\u2019entrée est incluse dans l\u2019arbre signé",
      commitment_bad: "Cette entrée n\u2019appartient pas à ce reçu : son engagement n\u2019est pas l\u2019empreinte du secret du reçu.",
      commitment_ok: "L\u2019entrée porte l\u2019engagement de ce reçu",
      passed: "Vérifié : l\u2019entrée figure dans le journal public à l\u2019index {index}, sous un point de contrôle de taille {size} signé par {name}.",
      failed: "Échec de la vérification.",
      crypto: "Ce navigateur ne sait pas vérifier les signatures Ed25519 (WebCrypto) ; utilisez un navigateur récent ou l\u2019outil en ligne de commande.",
      policy_format: "La politique de confiance n\u2019est pas valide : ",
      policy_log: "La politique de confiance ne nomme pas le journal « {origin} ».",
      witness_bad: "La cosignature du témoin {name} ne se vérifie pas : le point de contrôle ou la cosignature a été modifié.",
      witness_quorum: "Trop peu de témoins ont cosigné ce point de contrôle ({quorum}) : il manque {missing}.",
      witness_ok: "Cosigné par {names} ({quorum})",
      witness_stale: "La cosignature de {name} date de {age}, plus que la politique ne l\u2019autorise ({max}) : ce témoin est peut-être coupé du journal."
    }
  };

  function lang() {
    var l = (document.documentElement.lang || "en").slice(0, 2);
    return MESSAGES[l] ? l : "en";
  }

  function msg(key, vars) {
    var text = MESSAGES[lang()][key] || MESSAGES.en[key] || key;
    return text.replace(/\{(\w+)\}/g, function (_, k) {
      return vars && vars[k] !== undefined ? String(vars[k]) : "{" + k + "}";
    });
  }

  function VerifyError(code, message) {
    this.code = code;
    this.message = message;
  }

  function b64decode(text) {
    if (typeof text !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
      throw new Error("bad base64");
    }
    var bin = atob(text);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function hexdecode(text) {
    if (typeof text !== "string" || !/^([0-9a-f]{2})*$/i.test(text)) throw new Error("bad hex");
    var out = new Uint8Array(text.length / 2);
    for (var i = 0; i < out.length; i++) out[i] = parseInt(text.substr(i * 2, 2), 16);
    return out;
  }

  function hex(bytes) {
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function concat() {
    var total = 0, i;
    for (i = 0; i < arguments.length; i++) total += arguments[i].length;
    var out = new Uint8Array(total), offset = 0;
    for (i = 0; i < arguments.length; i++) {
      out.set(arguments[i], offset);
      offset += arguments[i].length;
    }
    return out;
  }

  function equal(a, b) {
    if (a.length !== b.length) return false;
    var diff = 0;
    for (var i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
    return diff === 0;
  }

  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }

  function leafHash(entry) { return sha256(concat(new Uint8Array([0]), entry)); }
  function nodeHash(l, r) { return sha256(concat(new Uint8Array([1]), l, r)); }

  /* ---- verifier key ----------------------------------------------------------------------- */
  async function parseVerifierKey(text, alg) {
    alg = alg || 1;
    text = (text || "").trim();
    var first = text.indexOf("+");
    var second = first < 0 ? -1 : text.indexOf("+", first + 1);
    if (first <= 0 || second < 0) throw new VerifyError("key_format", msg("key_format"));
    var name = text.slice(0, first), idHex = text.slice(first + 1, second);
    var raw;
    try { raw = b64decode(text.slice(second + 1)); } catch (e) {
      throw new VerifyError("key_format", msg("key_format"));
    }
    if (!/^[0-9a-f]{8}$/.test(idHex) || raw.length !== 33 || raw[0] !== alg || /\s/.test(name)) {
      throw new VerifyError("key_format", msg("key_format"));
    }
    var digest = await sha256(concat(enc.encode(name), new Uint8Array([10]), raw));
    if (hex(digest.slice(0, 4)) !== idHex) throw new VerifyError("key_id", msg("key_id"));
    return { name: name, id: hexdecode(idHex), idHex: idHex, pub: raw.slice(1) };
  }

  /* ---- checkpoint (signed note) --------------------------------------------------------- */
  function parseCheckpoint(text) {
    if (typeof text !== "string") throw new VerifyError("note_format", msg("note_format") + "missing");
    var split = text.indexOf("\n\n");
    if (split < 0 || text.indexOf("\r") >= 0) {
      throw new VerifyError("note_format", msg("note_format") + "no blank line before signatures");
    }
    var body = text.slice(0, split + 1);
    var lines = body.slice(0, -1).split("\n");
    if (lines.length < 3) throw new VerifyError("note_format", msg("note_format") + "fewer than 3 lines");
    var origin = lines[0], sizeText = lines[1];
    if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) {
      throw new VerifyError("note_format", msg("note_format") + "bad tree size");
    }
    var root;
    try { root = b64decode(lines[2]); } catch (e) { root = new Uint8Array(0); }
    if (root.length !== 32) throw new VerifyError("note_format", msg("note_format") + "bad root hash");
    var sigs = [];
    var sigText = text.slice(split + 2);
    if (!sigText.endsWith("\n")) throw new VerifyError("note_format", msg("note_format") + "no final newline");
    sigText.slice(0, -1).split("\n").forEach(function (line) {
      var m = /^\u2014 (\S+) (\S+)$/.exec(line);
      if (!m) throw new VerifyError("note_format", msg("note_format") + "bad signature line");
      var blob;
      try { blob = b64decode(m[2]); } catch (e) {
        throw new VerifyError("note_format", msg("note_format") + "bad signature encoding");
      }
      if (blob.length < 5) throw new VerifyError("note_format", msg("note_format") + "short signature");
      sigs.push({ name: m[1], id: blob.slice(0, 4), sig: blob.slice(4) });
    });
    if (!sigs.length) throw new VerifyError("note_format", msg("note_format") + "no signature");
    return { origin: origin, size: Number(sizeText), sizeText: sizeText, root: root, body: body, sigs: sigs };
  }

  async function checkSignature(cp, key) {
    var mine = cp.sigs.filter(function (s) { return s.name === key.name && equal(s.id, key.id); });
    if (!mine.length) {
      var others = cp.sigs.map(function (s) { return s.name + "+" + hex(s.id); }).join(", ");
      throw new VerifyError("wrong_key", msg("no_sig", { name: key.name, id: key.idHex, others: others }));
    }
    var cryptoKey;
    try {
      cryptoKey = await crypto.subtle.importKey("raw", key.pub, { name: "Ed25519" }, false, ["verify"]);
    } catch (e) {
      throw new VerifyError("crypto", msg("crypto"));
    }
    for (var i = 0; i < mine.length; i++) {
      if (mine[i].sig.length === 64 &&
          await crypto.subtle.verify({ name: "Ed25519" }, cryptoKey, mine[i].sig, enc.encode(cp.body))) {
        return true;
      }
    }
    throw new VerifyError("bad_signature", msg("bad_sig"));
  }

  /* ---- trust policy (Sigsum policy syntax with note verifier keys) ----------------------- */
  async function parsePolicy(text) {
    var logs = [], witnesses = {}, groups = {}, quorum = null, maxAge = null;
    function defined(n) { return n === "none" || witnesses[n] || groups[n]; }
    function bad(why) { throw new VerifyError("policy_format", msg("policy_format") + why); }
    var lines = String(text || "").replace(/;/g, "\n").split("\n");
    for (var i = 0; i < lines.length; i++) {
      var line = lines[i].split("#")[0].trim();
      if (!line) continue;
      var w = line.split(/\s+/), kind = w[0], args = w.slice(1);
      if (kind === "log") {
        if (args.length < 1 || args.length > 2) bad("line " + (i + 1) + ": log <key> [url]");
        try { logs.push(await parseVerifierKey(args[0], 1)); } catch (e) { bad("line " + (i + 1) + ": bad log key"); }
      } else if (kind === "witness") {
        if (args.length < 2 || args.length > 3 || defined(args[0])) bad("line " + (i + 1) + ": witness <name> <key> [url]");
        try { witnesses[args[0]] = await parseVerifierKey(args[1], 4); } catch (e) { bad("line " + (i + 1) + ": bad witness key"); }
      } else if (kind === "group") {
        if (args.length < 3 || defined(args[0])) bad("line " + (i + 1) + ": group <name> <k|any|all> <member>...");
        var members = args.slice(2);
        members.forEach(function (m) { if (m === "none" || !defined(m)) bad("line " + (i + 1) + ": unknown member " + m); });
        var k = args[1] === "any" ? 1 : args[1] === "all" ? members.length : Number(args[1]);
        if (!Number.isInteger(k) || k < 1 || k > members.length) bad("line " + (i + 1) + ": bad threshold");
        groups[args[0]] = { k: k, members: members };
      } else if (kind === "quorum") {
        if (quorum !== null || args.length !== 1 || !defined(args[0])) bad("line " + (i + 1) + ": quorum <name>");
        quorum = args[0];
      } else if (kind === "max-age") {
        if (args.length !== 1 || !/^[1-9][0-9]*$/.test(args[0])) bad("line " + (i + 1) + ": max-age <seconds>");
        maxAge = Number(args[0]);
      } else {
        bad("line " + (i + 1) + ": unknown keyword " + kind);
      }
    }
    if (!logs.length) bad("no log line");
    if (quorum === null) bad("no quorum line");
    return { logs: logs, witnesses: witnesses, groups: groups, quorum: quorum, maxAge: maxAge };
  }

  function satisfied(policy, name, present) {
    if (name === "none") return true;
    if (policy.witnesses[name]) return !!present[name];
    var g = policy.groups[name], n = 0;
    g.members.forEach(function (m) { if (satisfied(policy, m, present)) n++; });
    return n >= g.k;
  }

  function describeQuorum(policy) {
    if (policy.quorum === "none") return "0";
    if (policy.witnesses[policy.quorum]) return policy.quorum;
    var g = policy.groups[policy.quorum];
    return g.k + "/" + g.members.length;
  }

  function age(seconds) {
    if (seconds < 7200) return Math.round(seconds / 60) + " min";
    if (seconds < 172800) return Math.round(seconds / 3600) + " h";
    return Math.round(seconds / 86400) + " d";
  }

  /* C2SP tlog-cosignature: key ID || u64 big-endian timestamp || Ed25519 signature over
   * "cosignature/v1\ntime <timestamp>\n" + the checkpoint body. */
  async function checkCosignatures(cp, policy, now) {
    var present = {}, missing = [], stale = [];
    var names = Object.keys(policy.witnesses);
    for (var i = 0; i < names.length; i++) {
      var name = names[i], key = policy.witnesses[name];
      var lines = cp.sigs.filter(function (s) { return s.name === key.name && equal(s.id, key.id); });
      if (!lines.length) { missing.push(name); continue; }
      var cryptoKey;
      try {
        cryptoKey = await crypto.subtle.importKey("raw", key.pub, { name: "Ed25519" }, false, ["verify"]);
      } catch (e) {
        throw new VerifyError("crypto", msg("crypto"));
      }
      for (var j = 0; j < lines.length; j++) {
        var sig = lines[j].sig;
        var hi = 0, lo = 0;
        if (sig.length === 72) {
          hi = ((sig[0] << 24) >>> 0) + (sig[1] << 16) + (sig[2] << 8) + sig[3];
          lo = ((sig[4] << 24) >>> 0) + (sig[5] << 16) + (sig[6] << 8) + sig[7];
        }
        var ts = hi * 4294967296 + lo;
        var good = sig.length === 72 && hi < 2097152 && await crypto.subtle.verify(
          { name: "Ed25519" }, cryptoKey, sig.slice(8),
          enc.encode("cosignature/v1\ntime " + ts + "\n" + cp.body));
        if (!good) throw new VerifyError("witness_bad", msg("witness_bad", { name: name }));
        if (ts <= now + 60 && (present[name] === undefined || ts > present[name])) present[name] = ts;
      }
      if (present[name] === undefined) missing.push(name);
      else if (policy.maxAge !== null && now - present[name] > policy.maxAge) stale.push(name);
    }
    return { present: present, missing: missing, stale: stale, ok: satisfied(policy, policy.quorum, present) };
  }

  /* ---- inclusion proof (RFC 9162 section 2.1.3.2) --------------------------------------- */
  function proofLength(index, size) {
    var fn = index, sn = size - 1, n = 0;
    while (sn > 0) {
      if ((fn & 1) === 1 || fn === sn) {
        if ((fn & 1) === 0) {
          while ((fn & 1) === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
        }
      }
      n++;
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return n;
  }

  async function rootFromInclusion(index, size, leaf, proof) {
    var fn = index, sn = size - 1, r = leaf;
    for (var i = 0; i < proof.length; i++) {
      if (sn === 0) return null;
      if ((fn & 1) === 1 || fn === sn) {
        r = await nodeHash(proof[i], r);
        if ((fn & 1) === 0) {
          while ((fn & 1) === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
        }
      } else {
        r = await nodeHash(r, proof[i]);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return sn === 0 ? r : null;
  }

  /* ---- receipt ---------------------------------------------------------------------------- */
  function decodeHash(text) {
    var out;
    if (typeof text === "string" && /^[0-9a-f]{64}$/i.test(text)) out = hexdecode(text);
    else out = b64decode(text);
    if (out.length !== 32) throw new Error("hash is not 32 bytes");
    return out;
  }

  function parseReceipt(input) {
    var r = input;
    try {
      if (typeof input === "string") r = JSON.parse(input);
      if (!r || typeof r !== "object") throw new Error("not a JSON object");
      if (r.receipt && typeof r.receipt === "object") r = r.receipt;
      var entry;
      if (typeof r.entry_b64 === "string") entry = b64decode(r.entry_b64);
      else if (typeof r.entry === "string") entry = enc.encode(r.entry);
      else throw new Error("missing entry");
      if (typeof r.entry_b64 === "string" && typeof r.entry === "string" &&
          !equal(entry, enc.encode(r.entry))) {
        /* The readable text is what a person checks: it must be the very bytes verified. */
        throw new VerifyError("changed_entry", msg("text_differs"));
      }
      var index = r.index !== undefined ? r.index : r.leaf_index;
      if (!Number.isSafeInteger(index) || index < 0) throw new Error("missing or bad index");
      var proofList = r.inclusion_proof || r.proof || [];
      if (!Array.isArray(proofList)) throw new Error("proof is not a list");
      var proof = proofList.map(decodeHash);
      var checkpoint = r.checkpoint;
      if (typeof checkpoint !== "string") throw new Error("missing checkpoint");
      var treeSize = r.tree_size;
      if (treeSize !== undefined && (!Number.isSafeInteger(treeSize) || treeSize < 0)) {
        throw new Error("bad tree_size");
      }
      return { entry: entry, index: index, proof: proof, checkpoint: checkpoint,
               treeSize: treeSize, logUrl: typeof r.log_url === "string" ? r.log_url : null };
    } catch (e) {
      if (e instanceof VerifyError) throw e;
      throw new VerifyError("receipt_format", msg("receipt_format") + e.message);
    }
  }

  function tilePath(n) {
    var groups = [], s = String(n);
    while (s.length % 3) s = "0" + s;
    for (var i = 0; i < s.length; i += 3) groups.push(s.slice(i, i + 3));
    return groups.map(function (g, i) { return i < groups.length - 1 ? "x" + g : g; }).join("/");
  }

  /* Ask the log itself which leaf sits at this index (level-0 tile), to tell a changed entry
   * from a bad proof. Only an explanation: the verdict never depends on it. */
  async function logLeafAt(logUrl, index, size) {
    if (!logUrl || !window.fetch) return null;
    var n = Math.floor(index / 256);
    var width = Math.min(256, size - n * 256);
    var base = logUrl.replace(/\/$/, "") + "/tile/0/" + tilePath(n);
    /* A partial tile may have been replaced by its full tile since the checkpoint: try both. */
    var paths = width < 256 ? [base + ".p/" + width, base] : [base];
    for (var i = 0; i < paths.length; i++) {
      try {
        var resp = await fetch(paths[i]);
        if (!resp.ok) continue;
        var body = new Uint8Array(await resp.arrayBuffer());
        var pos = (index % 256) * 32;
        if (body.length >= pos + 32) return body.slice(pos, pos + 32);
      } catch (e) {
        /* unreachable log: no explanation, the verdict stands */
      }
    }
    return null;
  }

  async function verifyReceipt(receiptInput, keyText, options) {
    options = options || {};
    var checks = [];
    function pass(code, text) { checks.push({ code: code, ok: true, text: text }); }
    try {
      if (!window.crypto || !crypto.subtle) throw new VerifyError("crypto", msg("crypto"));
      var policy = options.policy && String(options.policy).trim() ? await parsePolicy(options.policy) : null;
      var receipt = parseReceipt(receiptInput);
      var cp = parseCheckpoint(receipt.checkpoint);
      var key;
      if (policy) {
        /* The policy names the log key: the key shown by the server is not used. */
        key = policy.logs.filter(function (k) { return k.name === cp.origin; })[0];
        if (!key) throw new VerifyError("policy_log", msg("policy_log", { origin: cp.origin }));
      } else {
        key = await parseVerifierKey(keyText);
      }
      pass("key", msg("key_ok"));
      await checkSignature(cp, key);
      pass("signature", msg("sig_ok"));
      if (cp.origin !== key.name) throw new VerifyError("origin", msg("origin", { origin: cp.origin, name: key.name }));
      pass("origin", msg("origin_ok"));
      var vars = { index: receipt.index, size: cp.size, name: key.name };
      if (receipt.index >= cp.size) throw new VerifyError("index_range", msg("index_range", vars));
      if (receipt.treeSize !== undefined && receipt.treeSize !== cp.size) {
        throw new VerifyError("other_tree", msg("other_tree", { proof_size: receipt.treeSize, size: cp.size }));
      }
      var expected = proofLength(receipt.index, cp.size);
      if (expected !== receipt.proof.length) {
        throw new VerifyError("other_tree", msg("proof_length", {
          index: receipt.index, size: cp.size, expected: expected, got: receipt.proof.length }));
      }
      var leaf = await leafHash(receipt.entry);
      var root = await rootFromInclusion(receipt.index, cp.size, leaf, receipt.proof);
      if (!root || !equal(root, cp.root)) {
        var logLeaf = await logLeafAt(options.logUrl || receipt.logUrl, receipt.index, cp.size);
        if (logLeaf && !equal(logLeaf, leaf)) {
          throw new VerifyError("changed_entry", msg("changed_entry", vars));
        }
        throw new VerifyError("root_mismatch", msg("root_mismatch"));
      }
      pass("inclusion", msg("inclusion_ok"));
      if (policy) {
        var now = options.now !== undefined ? options.now : Math.floor(Date.now() / 1000);
        var w = await checkCosignatures(cp, policy, now);
        var quorum = describeQuorum(policy);
        if (!w.ok) {
          throw new VerifyError("witness_quorum", msg("witness_quorum", { quorum: quorum, missing: w.missing.join(", ") }));
        }
        pass("witnesses", msg("witness_ok", { names: Object.keys(w.present).join(", ") || "\u2014", quorum: quorum }));
        w.stale.forEach(function (name) {
          checks.push({ code: "stale", ok: true, warn: true, text: msg("witness_stale", {
            name: name, age: age(now - w.present[name]), max: age(policy.maxAge) }) });
        });
      }
      if (options.secret) {
        var commitment = hex(await sha256(enc.encode(options.secret)));
        var parsed = null;
        try { parsed = JSON.parse(new TextDecoder().decode(receipt.entry)); } catch (e) { parsed = null; }
        if (!parsed || parsed.commitment !== commitment) {
          throw new VerifyError("commitment", msg("commitment_bad"));
        }
        pass("commitment", msg("commitment_ok"));
      }
      return { ok: true, code: "ok", summary: msg("passed", vars), checks: checks,
               index: receipt.index, size: cp.size, leafHash: hex(leaf) };
    } catch (e) {
      if (!(e instanceof VerifyError)) e = new VerifyError("internal", String(e && e.message || e));
      checks.push({ code: e.code, ok: false, text: e.message });
      return { ok: false, code: e.code, summary: msg("failed") + " " + e.message, checks: checks };
    }
  }

  /* ---- page wiring ------------------------------------------------------------------------ */
  function show(out, result) {
    out.textContent = "";
    var head = document.createElement("p");
    head.className = result.ok ? "ok-text" : "bad-text";
    head.id = "verify-verdict";
    head.setAttribute("data-code", result.code);
    head.textContent = (result.ok ? "\u2714 " : "\u2718 ") + result.summary;
    out.appendChild(head);
    var list = document.createElement("ul");
    result.checks.forEach(function (c) {
      var li = document.createElement("li");
      li.textContent = (c.warn ? "\u26a0 " : c.ok ? "\u2714 " : "\u2718 ") + c.text;
      list.appendChild(li);
    });
    out.appendChild(list);
  }

  /* The receipt's secret travels in the fragment (#secret=… or #rcpt_…), which no browser
   * sends to a server: the page is found by its commitment and the secret checked here. */
  function secretFromFragment() {
    var m = /(?:^#|&)secret=([^&]*)/.exec(window.location.hash || "") || /^#(rcpt_[^&]*)/.exec(window.location.hash || "");
    if (!m) return null;
    try { return decodeURIComponent(m[1]); } catch (e) { return null; }
  }

  async function openReceipt(secret) {
    var commitment = hex(await sha256(enc.encode(secret)));
    window.location.replace("/receipts/c/" + commitment + "#secret=" + encodeURIComponent(secret));
  }

  function wire(form) {
    var out = document.getElementById(form.getAttribute("data-result") || "verify-result");
    if (form.hasAttribute("data-receipt-opener")) {
      var held = secretFromFragment();
      if (held && window.crypto && crypto.subtle) {
        openReceipt(held);
        return;
      }
    }
    var run = async function () {
      var receipt = form.querySelector("[name=receipt]").value;
      var key = form.querySelector("[name=key]").value;
      var policyField = form.querySelector("[name=policy]");
      out.textContent = "\u2026";
      var result = await verifyReceipt(receipt, key, {
        secret: form.getAttribute("data-secret") || secretFromFragment(),
        logUrl: form.getAttribute("data-log-url") || null,
        policy: policyField ? policyField.value : null
      });
      show(out, result);
      form.setAttribute("data-verified", result.ok ? "ok" : "failed");
    };
    /* A policy can come in the link itself (#policy=…): the fragment never reaches the server. */
    var policyField = form.querySelector("[name=policy]");
    function policyFromFragment() {
      var fragment = /(?:^#|&)policy=([^&]*)/.exec(window.location.hash || "");
      if (policyField && fragment) {
        /* "+" stays "+": verifier keys contain it. */
        try { policyField.value = decodeURIComponent(fragment[1]); } catch (e) { /* left as it was */ }
      }
    }
    policyFromFragment();
    window.addEventListener("hashchange", policyFromFragment);
    form.addEventListener("submit", function (event) {
      /* A receipt JSON is checked here and never sent. A receipt's code (rcpt_…) or link goes
       * to its receipt page, which needs the server to find the entry: the form submits. */
      var text = form.querySelector("[name=receipt]").value.trim();
      if (text.charAt(0) !== "{") return;
      event.preventDefault();
      run();
    });
    if (form.hasAttribute("data-autorun")) run();
  }

  window.wefirstVerifier = {
    verifyReceipt: verifyReceipt,
    parseVerifierKey: parseVerifierKey,
    parseCheckpoint: parseCheckpoint,
    parsePolicy: parsePolicy,
    proofLength: proofLength,
    tilePath: tilePath
  };

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-verifier]"), wire);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
