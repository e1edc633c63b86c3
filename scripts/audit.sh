#!/usr/bin/env bash
# Audit the locked dependencies (requirements.lock) for known vulnerabilities with pip-audit.
# Where the vulnerability database cannot be reached (an offline build host), say so and skip:
# an audit that cannot run must not look like a clean one, nor block an offline build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"

if ! "$PY" - <<'PYEOF'
import sys, urllib.request
try:
    urllib.request.urlopen("https://pypi.org/pypi/pip/json", timeout=10).close()
except Exception as exc:  # any failure: DNS, proxy, TLS, timeout
    print(f"audit skipped: the vulnerability database (pypi.org) is unreachable ({type(exc).__name__})")
    sys.exit(1)
PYEOF
then
  exit 0
fi
"$PY" -m pip install --quiet "pip-audit>=2.7,<3"
# --disable-pip: audit exactly the pinned, hashed set without resolving it again
report="$(mktemp)"
trap 'rm -f "$report"' EXIT
"$PY" -m pip_audit --requirement requirements.lock --require-hashes --disable-pip \
  --progress-spinner off --format json --output "$report" >/dev/null || true
"$PY" - "$report" <<'PYEOF'
import json, sys
deps = json.load(open(sys.argv[1]))["dependencies"]
audited = [d for d in deps if "skip_reason" not in d]
vulnerable = [d for d in audited if d.get("vulns")]
if not audited:
    print(f"audit skipped: the vulnerability database answered for none of the {len(deps)} locked packages")
    sys.exit(0)
for d in vulnerable:
    for v in d["vulns"]:
        print(f"VULNERABLE {d['name']} {d['version']}: {v['id']} (fixed in {', '.join(v.get('fix_versions') or ['?'])})")
print(f"audited {len(audited)} of {len(deps)} locked packages; {len(vulnerable)} with known vulnerabilities")
sys.exit(1 if vulnerable else 0)
PYEOF
