"""The tests hash console passwords at argon2's lowest cost (tests/conftest.py); the product
must not: a fresh process, as `wefirst serve` starts, hashes at the library's recommended cost
(RFC 9106's second recommended option: argon2id, 64 MiB, three passes)."""

from __future__ import annotations

import json
import subprocess
import sys

from argon2 import Type


def test_the_product_hashes_passwords_at_the_recommended_cost() -> None:
    probe = (
        "import json; from wefirst.auth.console_users import HASHER as h;"
        " from wefirst.web.sessions import HASHER as s;"
        " print(json.dumps([h is s, h.type.name, h.memory_cost, h.time_cost, h.hash('x')[:30]]))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    same, kind, memory, passes, prefix = json.loads(out)
    assert same
    assert kind == Type.ID.name
    assert memory >= 65536
    assert passes >= 3
    assert prefix.startswith("$argon2id$v=19$m=65536,t=3")
