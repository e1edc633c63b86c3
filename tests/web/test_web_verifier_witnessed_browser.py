"""The in-browser verifier with a trust policy, in real Chromium: witness cosignatures made here
in Python (and the golden cosigned checkpoint of docs/tlog.md) checked by verifier.js with
WebCrypto; quorums that name the missing witness; the policy pasted or taken from #policy=…."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from wefirst.tlog.cosignature import CosignatureSigner
from wefirst.tlog.policy import simple_policy

from browser import new_context
from web.verifier_helpers import GOLDEN, GOLDEN_ENTRIES, GOLDEN_KEY, Log
from web.web_helpers import pages_app

pytestmark = pytest.mark.browser

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "tlog"
W1 = CosignatureSigner("charity.example/w", bytes(range(10, 42)))
W2 = CosignatureSigner("watchdog.example/w", bytes(range(50, 82)))
NOW = 1_800_000_000


def cosigned_receipt(
    log: Log, leaves: list[bytes], index: int, *witnesses: CosignatureSigner, at: int = NOW
) -> Any:
    receipt = log.receipt(leaves, index)
    body = receipt["checkpoint"].split("\n\n")[0] + "\n"
    receipt["checkpoint"] += "".join(w.cosign(body, at) for w in witnesses)
    return receipt


def policy(k: int, *, max_age: int | None = None) -> str:
    return simple_policy(GOLDEN_KEY, [W1.verifier.key_string, W2.verifier.key_string], k, max_age=max_age)


@pytest.fixture(scope="module")
def page(browser: Any, serve: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    app = pages_app(tmp_path_factory.mktemp("pages"), key=GOLDEN_KEY, secret="test-secret")
    server = serve(app)
    context = new_context(browser)
    p = context.new_page()
    p.goto(server.url + "/verify")
    p.server_url = server.url
    yield p
    context.close()


def verify(page: Any, receipt: Any, key: str, **options: Any) -> dict[str, Any]:
    options.setdefault("now", NOW + 5)
    result: dict[str, Any] = page.evaluate(
        "([r, k, o]) => window.wefirstVerifier.verifyReceipt(r, k, o)", [receipt, key, options]
    )
    return result


def test_both_cosignatures_meet_two_of_two(page: Any) -> None:
    result = verify(page, cosigned_receipt(GOLDEN, GOLDEN_ENTRIES, 1, W1, W2), "", policy=policy(2))
    assert result["ok"], result
    assert [c["code"] for c in result["checks"]] == ["key", "signature", "origin", "inclusion", "witnesses"]
    assert "charity.example/w, watchdog.example/w" in result["checks"][-1]["text"]


def test_one_cosignature_fails_two_of_two_naming_the_missing_witness_and_passes_one_of_two(page: Any) -> None:
    receipt = cosigned_receipt(GOLDEN, GOLDEN_ENTRIES, 1, W1)
    result = verify(page, receipt, "", policy=policy(2))
    assert (result["ok"], result["code"]) == (False, "witness_quorum")
    assert "missing watchdog.example/w" in result["summary"]
    assert verify(page, receipt, "", policy=policy(1))["ok"]


def test_a_changed_cosignature_is_refused(page: Any) -> None:
    receipt = cosigned_receipt(GOLDEN, GOLDEN_ENTRIES, 0, W1, W2)
    lines = receipt["checkpoint"].rstrip("\n").split("\n")
    name, b64 = lines[-1][2:].split(" ")
    raw = bytearray(base64.b64decode(b64))
    raw[20] ^= 1
    lines[-1] = f"— {name} {base64.b64encode(bytes(raw)).decode()}"
    receipt["checkpoint"] = "\n".join(lines) + "\n"
    result = verify(page, receipt, "", policy=policy(1))
    assert (result["ok"], result["code"]) == (False, "witness_bad")


def test_the_policy_names_the_log_key_and_the_servers_key_is_not_used(page: Any) -> None:
    receipt = cosigned_receipt(GOLDEN, GOLDEN_ENTRIES, 2, W1, W2)
    assert verify(page, receipt, "not a key at all", policy=policy(2))["ok"]
    other = Log("other.example/log", bytes(range(5, 37)))
    wrong = simple_policy(other.verifier, [W1.verifier.key_string], 1)
    result = verify(page, receipt, GOLDEN_KEY, policy=wrong)
    assert (result["ok"], result["code"]) == (False, "policy_log")


def test_future_cosignatures_do_not_count_and_old_ones_are_reported(page: Any) -> None:
    future = cosigned_receipt(GOLDEN, GOLDEN_ENTRIES, 0, W1, at=NOW + 3600)
    assert verify(page, future, "", policy=policy(1))["code"] == "witness_quorum"
    old = cosigned_receipt(GOLDEN, GOLDEN_ENTRIES, 0, W1, at=NOW - 3 * 86400)
    result = verify(page, old, "", policy=policy(1, max_age=86400))
    assert result["ok"], result
    stale = [c for c in result["checks"] if c["code"] == "stale"]
    assert len(stale) == 1
    assert "charity.example/w" in stale[0]["text"]


def test_a_bad_policy_says_what_is_wrong(page: Any) -> None:
    receipt = cosigned_receipt(GOLDEN, GOLDEN_ENTRIES, 0, W1)
    result = verify(page, receipt, "", policy=f"log {GOLDEN_KEY}\nquorum nobody")
    assert (result["ok"], result["code"]) == (False, "policy_format")
    witness_as_log = f"log {W1.verifier.key_string}; quorum none"
    assert verify(page, receipt, "", policy=witness_as_log)["code"] == "policy_format"


def test_the_golden_cosigned_checkpoint_verifies_in_the_browser(page: Any) -> None:
    """Python made these bytes (docs/tlog.md); WebCrypto must agree on every one of them."""
    vector = json.loads((ASSETS / "cosigned.json").read_text())
    receipt = GOLDEN.receipt(GOLDEN_ENTRIES, 2)
    receipt["checkpoint"] = (ASSETS / "cosigned.checkpoint").read_text()
    golden_policy = f"log {GOLDEN_KEY}\nwitness golden {vector['witness_key']}\nquorum golden\n"
    result = verify(page, receipt, "", policy=golden_policy, now=vector["timestamp"] + 60)
    assert result["ok"], result


def test_policy_pasted_in_the_form_or_given_in_the_fragment(page: Any) -> None:
    # The form uses the browser's clock: cosign "now".
    receipt = json.dumps(cosigned_receipt(GOLDEN, GOLDEN_ENTRIES, 2, W1, at=int(time.time())))
    page.goto(page.server_url + "/verify")
    page.fill("#receipt", receipt)
    page.fill("#policy", policy(1))
    page.click("#verify-form button[type=submit]")
    page.wait_for_selector("#verify-verdict[data-code=ok]")
    # The same page opened from a link carrying a 2-of-2 policy in its fragment.
    page.goto(page.server_url + "/verify#policy=" + quote(policy(2), safe=""))
    assert page.input_value("#policy") == policy(2)
    page.fill("#receipt", receipt)
    page.click("#verify-form button[type=submit]")
    page.wait_for_selector("#verify-verdict[data-code=witness_quorum]")
    assert "watchdog.example/w" in page.inner_text("#verify-verdict")
