"""Trust policy: Sigsum policy syntax with note verifier keys; k-of-n quorums that name the
missing witness; future and stale cosignatures; a known witness's bad line rejects the note."""

from __future__ import annotations

import pytest

from wefirst.tlog.checkpoint import parse_signed_checkpoint
from wefirst.tlog.cosignature import CosignatureSigner
from wefirst.tlog.errors import LogFormatError, VerificationError
from wefirst.tlog.note import parse_note
from wefirst.tlog.policy import check_witnesses, parse_policy, require_quorum, simple_policy

from growing_log import LOG_SIGNER, GrowingLog

W1 = CosignatureSigner("charity.example/w", bytes(range(10, 42)))
W2 = CosignatureSigner("watchdog.example/w", bytes(range(50, 82)))
W3 = CosignatureSigner("other.example/w", bytes(range(90, 122)))
LOG_KEY = LOG_SIGNER.verifier.key_string
NOW = 1_800_000_000


def cosigned(*signers: CosignatureSigner, at: int = NOW) -> str:
    log = GrowingLog()
    log.grow(5)
    cp = log.checkpoint()
    body = parse_signed_checkpoint(cp).note.text
    return cp + "".join(s.cosign(body, at) for s in signers)


def policy(k: int, *, max_age: int | None = None) -> str:
    return simple_policy(LOG_KEY, [W1.verifier.key_string, W2.verifier.key_string], k, max_age=max_age)


def test_two_of_two_needs_both_and_names_the_missing_witness() -> None:
    p = parse_policy(policy(2))
    assert require_quorum(p, parse_note(cosigned(W1, W2)), NOW).ok
    with pytest.raises(VerificationError, match=r"no cosignature from watchdog\.example/w$"):
        require_quorum(p, parse_note(cosigned(W1)), NOW)


def test_one_of_two_passes_with_either() -> None:
    p = parse_policy(policy(1))
    for signer in (W1, W2):
        report = require_quorum(p, parse_note(cosigned(signer)), NOW)
        assert report.ok
        assert len(report.valid) == 1
    with pytest.raises(VerificationError, match=r"no cosignature from charity\.example/w"):
        require_quorum(p, parse_note(cosigned(W3)), NOW)


def test_cosignatures_of_unknown_witnesses_do_not_count() -> None:
    report = check_witnesses(parse_policy(policy(1)), parse_note(cosigned(W3)), NOW)
    assert not report.ok
    assert report.missing == ["charity.example/w", "watchdog.example/w"]


def test_future_timestamps_do_not_count_and_stale_ones_are_reported() -> None:
    p = parse_policy(policy(1, max_age=3600))
    with pytest.raises(VerificationError, match=r"in the future from charity\.example/w"):
        require_quorum(p, parse_note(cosigned(W1, at=NOW + 3600)), NOW)
    report = require_quorum(p, parse_note(cosigned(W1, at=NOW - 7200)), NOW)
    assert report.ok
    assert report.stale == ["charity.example/w"]


def test_a_known_witness_line_that_does_not_verify_rejects_the_note() -> None:
    text = cosigned(W1)
    other_body = "witness-test.example/log\n6\n" + "A" * 43 + "=\n"
    bad_line = W1.cosign(other_body, NOW)  # W1's key, but over another checkpoint
    with pytest.raises(VerificationError, match="does not verify"):
        check_witnesses(parse_policy(policy(1)), parse_note(cosigned() + bad_line), NOW)
    assert check_witnesses(parse_policy(policy(1)), parse_note(text), NOW).ok


def test_nested_groups_and_named_quorum() -> None:
    text = "\n".join(
        [
            "# two charities and one watchdog",
            f"log {LOG_KEY} https://example.org/log",
            f"witness c1 {W1.verifier.key_string} http://127.0.0.1:7380",
            f"witness c2 {W3.verifier.key_string}",
            f"witness dog {W2.verifier.key_string}",
            "group charities any c1 c2",
            "group both all charities dog",
            "quorum both",
        ]
    )
    p = parse_policy(text)
    assert p.logs[0].url == "https://example.org/log"
    assert require_quorum(p, parse_note(cosigned(W3, W2)), NOW).ok
    with pytest.raises(VerificationError):
        require_quorum(p, parse_note(cosigned(W1, W3)), NOW)


def test_semicolons_stand_for_newlines_and_quorum_none_needs_nothing() -> None:
    p = parse_policy(f"log {LOG_KEY}; quorum none")
    assert require_quorum(p, parse_note(cosigned()), NOW).ok


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("quorum none", "names no log"),
        (f"log {LOG_KEY}", "no quorum line"),
        (f"log {LOG_KEY}\nquorum w1", "quorum"),
        (
            f"log {LOG_KEY}\nwitness w1 {W1.verifier.key_string}\nwitness w1 {W1.verifier.key_string}",
            "already",
        ),
        (f"log {LOG_KEY}\nwitness w1 {W1.verifier.key_string}\ngroup g 2 w1\nquorum g", "threshold"),
        (f"log {LOG_KEY}\ngroup g any w9\nquorum g", "not a witness or group"),
        (f"log {LOG_KEY}\nwitness w1 {W1.verifier.key_string}\nquorum w1\nquorum w1", "more than one"),
        (f"log {LOG_KEY}\nquorum none\nmax-age soon", "max-age"),
        (f"log {LOG_KEY}\nquorum none\ntrust everything", "unknown keyword"),
        (f"log {W1.verifier.key_string}\nquorum none", "algorithm"),
        (f"log {LOG_KEY}\nwitness w1 {LOG_KEY}\nquorum w1", "algorithm"),
    ],
)
def test_bad_policies_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(LogFormatError, match=message):
        parse_policy(text)


def test_policy_log_lookup_by_origin() -> None:
    p = parse_policy(policy(1))
    assert p.log_for(LOG_SIGNER.name).verifier == LOG_SIGNER.verifier
    with pytest.raises(VerificationError, match="trusts no log"):
        p.log_for("elsewhere.example/log")
