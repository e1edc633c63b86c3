"""The in-browser receipt verifier (static/verifier.js) in real Chromium: it accepts the golden
vector of TLOG.md and proofs computed here by an independent RFC 6962 implementation, and it
rejects each kind of tampering with the right diagnosis."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from browser import new_context
from web.verifier_helpers import GOLDEN, GOLDEN_CHECKPOINT, GOLDEN_ENTRIES, GOLDEN_KEY, Log, mth
from web.web_helpers import pages_app

pytestmark = pytest.mark.browser


def test_reference_reproduces_the_golden_vector() -> None:
    """The Python side of these tests must itself be right, or the browser checks mean little."""
    assert GOLDEN.verifier == GOLDEN_KEY
    assert GOLDEN.checkpoint(GOLDEN_ENTRIES) == GOLDEN_CHECKPOINT
    rfc = [
        bytes.fromhex(h)
        for h in (
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
            "606162636465666768696a6b6c6d6e6f",
        )
    ]
    assert mth(rfc).hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"


@pytest.fixture(scope="module")
def verifier_page(browser: Any, serve: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    app = pages_app(tmp_path_factory.mktemp("pages"), key=GOLDEN_KEY, secret="test-secret")
    server = serve(app)
    context = new_context(browser)
    page = context.new_page()
    page.goto(server.url + "/verify")
    yield page
    context.close()


def verify(page: Any, receipt: Any, key: str, **options: Any) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(
        "([r, k, o]) => window.wefirstVerifier.verifyReceipt(r, k, o)", [receipt, key, options]
    )
    return result


def test_golden_vector_entries_verify(verifier_page: Any) -> None:
    for index in range(3):
        receipt = {**GOLDEN.receipt(GOLDEN_ENTRIES, index), "checkpoint": GOLDEN_CHECKPOINT}
        result = verify(verifier_page, json.dumps(receipt), GOLDEN_KEY)
        assert result["ok"], result
        assert [c["code"] for c in result["checks"]] == ["key", "signature", "origin", "inclusion"]


def test_python_proofs_verify_for_many_sizes(verifier_page: Any) -> None:
    log = Log("wefirst.test/log", bytes(range(1, 33)))
    leaves = [json.dumps({"n": i}).encode() for i in range(21)]
    cases = [(size, index) for size in (1, 2, 5, 8, 13, 21) for index in {0, size // 2, size - 1}]
    results = verifier_page.evaluate(
        "async ([rs, k]) => { const out = []; for (const r of rs) {"
        " out.push((await window.wefirstVerifier.verifyReceipt(r, k)).ok); } return out; }",
        [[log.receipt(leaves[:size], index) for size, index in cases], log.verifier],
    )
    assert results == [True] * len(cases)


def test_changed_entry_is_rejected(verifier_page: Any) -> None:
    receipt = GOLDEN.receipt(GOLDEN_ENTRIES, 1)
    receipt["entry"] = '{"n":7}'
    result = verify(verifier_page, receipt, GOLDEN_KEY)
    assert not result["ok"]
    assert result["code"] == "root_mismatch"
    assert "changed" in result["summary"]


def test_entry_text_that_differs_from_its_bytes_is_rejected(verifier_page: Any) -> None:
    """A receipt shows the entry twice (text for people, base64 for machines): a reader must
    never be shown one thing while another is verified."""
    receipt = GOLDEN.receipt(GOLDEN_ENTRIES, 1)
    receipt["entry_b64"] = base64.b64encode(GOLDEN_ENTRIES[1]).decode()
    assert verify(verifier_page, receipt, GOLDEN_KEY)["ok"]
    receipt["entry"] = '{"n":7}'
    result = verify(verifier_page, receipt, GOLDEN_KEY)
    assert (result["ok"], result["code"]) == (False, "changed_entry")


def test_wrong_key_is_rejected(verifier_page: Any) -> None:
    other = Log("log.example/golden", bytes(range(2, 34)))  # same name, another key
    result = verify(verifier_page, GOLDEN.receipt(GOLDEN_ENTRIES, 0), other.verifier)
    assert not result["ok"]
    assert result["code"] == "wrong_key"
    assert "Wrong key" in result["summary"]


def test_checkpoint_signed_by_another_key_with_forged_id_is_rejected(verifier_page: Any) -> None:
    """An attacker's own key, labelled with the real key's name and id: the signature check
    itself must fail, not just the lookup by id."""
    forger = Log("log.example/golden", bytes(range(3, 35)))
    leaves = [*GOLDEN_ENTRIES, b'{"n":3}']
    body = forger.checkpoint(leaves).split("\n\n")[0] + "\n"
    sig = base64.b64encode(GOLDEN.key_id + forger.key.sign(body.encode())).decode()
    receipt = {**GOLDEN.receipt(leaves, 3), "checkpoint": body + f"\n— log.example/golden {sig}\n"}
    result = verify(verifier_page, receipt, GOLDEN_KEY)
    assert (result["ok"], result["code"]) == (False, "bad_signature")


def test_proof_of_another_tree_is_rejected(verifier_page: Any) -> None:
    leaves = [*GOLDEN_ENTRIES, b'{"n":3}', b'{"n":4}']
    receipt = GOLDEN.receipt(leaves, 1)  # proof for a tree of 5 ...
    receipt["checkpoint"] = GOLDEN_CHECKPOINT  # ... shown with the signed tree of 3
    result = verify(verifier_page, receipt, GOLDEN_KEY)
    assert (result["ok"], result["code"]) == (False, "other_tree")
    assert "another tree" in result["summary"]
    # without the declared size the proof's length still gives it away
    del receipt["tree_size"]
    result = verify(verifier_page, receipt, GOLDEN_KEY)
    assert (result["ok"], result["code"]) == (False, "other_tree")


def test_changed_checkpoint_is_rejected(verifier_page: Any) -> None:
    receipt = GOLDEN.receipt(GOLDEN_ENTRIES, 0)
    receipt["checkpoint"] = GOLDEN_CHECKPOINT.replace("\n3\n", "\n4\n", 1)
    del receipt["tree_size"]
    result = verify(verifier_page, receipt, GOLDEN_KEY)
    assert (result["ok"], result["code"]) == (False, "bad_signature")


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda r: r.update(index=3), "index_range"),
        (lambda r: r.update(inclusion_proof=["not base64!"]), "receipt_format"),
        (lambda r: r.pop("entry"), "receipt_format"),
        (lambda r: r.update(checkpoint="garbage"), "note_format"),
        (lambda r: r.update(checkpoint=GOLDEN_CHECKPOINT.replace("—", "-")), "note_format"),
    ],
)
def test_malformed_receipts_say_what_is_wrong(verifier_page: Any, mutate: Any, code: str) -> None:
    receipt = GOLDEN.receipt(GOLDEN_ENTRIES, 2)
    mutate(receipt)
    result = verify(verifier_page, receipt, GOLDEN_KEY)
    assert (result["ok"], result["code"]) == (False, code)


@pytest.mark.parametrize(
    ("key", "code"),
    [
        ("log.example/golden", "key_format"),
        (GOLDEN_KEY.replace("+15cad01a+", "+15cad01b+"), "key_id"),
        (GOLDEN_KEY[:-4], "key_format"),
    ],
)
def test_bad_published_keys_are_refused(verifier_page: Any, key: str, code: str) -> None:
    result = verify(verifier_page, GOLDEN.receipt(GOLDEN_ENTRIES, 0), key)
    assert (result["ok"], result["code"]) == (False, code)


def test_commitment_ties_the_entry_to_the_receipt_secret(verifier_page: Any) -> None:
    secret = "rct_secret_for_test"
    commitment = hashlib.sha256(secret.encode()).hexdigest()
    leaves = [b'{"n":0}', json.dumps({"commitment": commitment, "kind": "pledge"}).encode()]
    receipt = GOLDEN.receipt(leaves, 1)
    assert verify(verifier_page, receipt, GOLDEN_KEY, secret=secret)["ok"]
    wrong = verify(verifier_page, receipt, GOLDEN_KEY, secret="someone-else")
    assert (wrong["ok"], wrong["code"]) == (False, "commitment")


def test_the_form_shows_the_verdict(verifier_page: Any) -> None:
    page = verifier_page
    page.fill("#receipt", json.dumps(GOLDEN.receipt(GOLDEN_ENTRIES, 2)))
    page.click("#verify-form button[type=submit]")
    page.wait_for_selector("#verify-verdict")
    verdict = page.locator("#verify-verdict")
    assert verdict.get_attribute("data-code") == "ok"
    assert "index 2" in verdict.inner_text()
    page.fill("#receipt", json.dumps({**GOLDEN.receipt(GOLDEN_ENTRIES, 2), "entry": "{}"}))
    page.click("#verify-form button[type=submit]")
    page.wait_for_selector("#verify-verdict[data-code=root_mismatch]")


def test_verify_page_passes_axe_in_both_languages(verifier_page: Any, axe: Any) -> None:
    for lang in ("en", "fr"):
        verifier_page.goto(verifier_page.url.split("?")[0] + f"?lang={lang}")
        assert verifier_page.evaluate("document.documentElement.lang") == lang
        assert axe(verifier_page) == []
