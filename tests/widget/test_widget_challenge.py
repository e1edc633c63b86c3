"""Challenge tokens: every way a token can be wrong is refused with its own failure."""

from __future__ import annotations

import base64
import json

import pytest

from wefirst.widget.challenge import (
    CLOCK_SKEW_MS,
    MAX_TOKEN_LENGTH,
    ChallengeError,
    ChallengeFailure,
    ChallengeSigner,
    derive_key,
)
from wefirst.widget.pow import leading_zero_bits, pow_ok, solve

V = "a" * 64
OTHER_V = "b" * 64
T0 = 1_790_000_000_000


@pytest.fixture
def signer() -> ChallengeSigner:
    return ChallengeSigner(derive_key("test-secret"), ttl_ms=60_000, min_delay_ms=500)


def _issue(signer: ChallengeSigner, **kw: object) -> str:
    args: dict[str, object] = {
        "campaign_id": "cmp_1",
        "publisher_id": "pub_1",
        "visitor": V,
        "now_ms": T0,
    }
    args.update(kw)
    return signer.issue(**args)  # type: ignore[arg-type]


def _failure(signer: ChallengeSigner, token: str | None, **kw: object) -> ChallengeFailure:
    args: dict[str, object] = {
        "campaign_id": "cmp_1",
        "publisher_id": "pub_1",
        "visitor": V,
        "now_ms": T0 + 1_000,
    }
    args.update(kw)
    with pytest.raises(ChallengeError) as info:
        signer.verify(token, **args)  # type: ignore[arg-type]
    return info.value.failure


def test_valid_token_verifies_and_carries_its_binding(signer: ChallengeSigner) -> None:
    token = _issue(signer)
    claims = signer.verify(token, campaign_id="cmp_1", publisher_id="pub_1", visitor=V, now_ms=T0 + 1_000)
    assert (claims.campaign_id, claims.publisher_id, claims.visitor) == ("cmp_1", "pub_1", V)
    assert claims.issued_ms == T0
    assert len(claims.nonce) >= 20


def test_each_token_has_its_own_nonce(signer: ChallengeSigner) -> None:
    nonces = {
        signer.verify(
            _issue(signer), campaign_id="cmp_1", publisher_id="pub_1", visitor=V, now_ms=T0 + 1_000
        ).nonce
        for _ in range(20)
    }
    assert len(nonces) == 20


@pytest.mark.parametrize("token", [None, ""])
def test_missing(signer: ChallengeSigner, token: str | None) -> None:
    assert _failure(signer, token) is ChallengeFailure.MISSING


@pytest.mark.parametrize(
    "token",
    ["garbage", "w1.a.b.c", "w2.e30.AAAA", "w1.!!!.AAAA", "w1." + "A" * MAX_TOKEN_LENGTH + ".x"],
)
def test_malformed(signer: ChallengeSigner, token: str) -> None:
    assert _failure(signer, token) in (ChallengeFailure.MALFORMED, ChallengeFailure.SIGNATURE)


def test_other_key_is_a_signature_failure(signer: ChallengeSigner) -> None:
    other = ChallengeSigner(derive_key("another-secret"), ttl_ms=60_000, min_delay_ms=500)
    assert _failure(signer, _issue(other)) is ChallengeFailure.SIGNATURE


def test_tampered_claims_are_a_signature_failure(signer: ChallengeSigner) -> None:
    version, payload, mac = _issue(signer).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["c"] = "cmp_2"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert _failure(signer, f"{version}.{forged}.{mac}", campaign_id="cmp_2") is (ChallengeFailure.SIGNATURE)


@pytest.mark.parametrize(
    ("field", "value"),
    [("campaign_id", "cmp_2"), ("publisher_id", "pub_2"), ("visitor", OTHER_V)],
)
def test_binding(signer: ChallengeSigner, field: str, value: str) -> None:
    assert _failure(signer, _issue(signer), **{field: value}) is ChallengeFailure.BINDING


def test_expiry_and_future(signer: ChallengeSigner) -> None:
    token = _issue(signer)
    signer.verify(token, campaign_id="cmp_1", publisher_id="pub_1", visitor=V, now_ms=T0 + 60_000)
    assert _failure(signer, token, now_ms=T0 + 60_001) is ChallengeFailure.EXPIRED
    assert _failure(signer, token, now_ms=T0 - CLOCK_SKEW_MS - 1) is ChallengeFailure.FUTURE


def test_too_fast(signer: ChallengeSigner) -> None:
    token = _issue(signer)
    assert _failure(signer, token, now_ms=T0 + 499) is ChallengeFailure.TOO_FAST
    signer.verify(token, campaign_id="cmp_1", publisher_id="pub_1", visitor=V, now_ms=T0 + 500)


def test_proof_of_work_is_required_when_asked(signer: ChallengeSigner) -> None:
    token = _issue(signer, pow_bits=8)
    assert _failure(signer, token) is ChallengeFailure.POW
    assert _failure(signer, token, pow_nonce="not-a-number") is ChallengeFailure.POW
    nonce = solve(token, 8)
    claims = signer.verify(
        token, campaign_id="cmp_1", publisher_id="pub_1", visitor=V, now_ms=T0 + 1_000, pow_nonce=nonce
    )
    assert claims.pow_bits == 8
    wrong = next(str(n) for n in range(10_000) if not pow_ok(token, str(n), 8))
    assert _failure(signer, token, pow_nonce=wrong) is ChallengeFailure.POW


def test_issue_refuses_a_raw_visitor_id(signer: ChallengeSigner) -> None:
    with pytest.raises(ValueError, match="commitment"):
        _issue(signer, visitor="reader@example.org")


def test_signer_rejects_weak_configuration() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        ChallengeSigner(b"short")
    with pytest.raises(ValueError, match="ttl"):
        ChallengeSigner(derive_key("x"), ttl_ms=100, min_delay_ms=100)


@pytest.mark.parametrize(
    ("digest", "bits"),
    [
        (b"\xff" + bytes(31), 0),
        (b"\x00\x80" + bytes(30), 8),
        (b"\x00\x01" + bytes(30), 15),
        (b"\x0f" + bytes(31), 4),
        (bytes(32), 256),
    ],
)
def test_leading_zero_bits(digest: bytes, bits: int) -> None:
    assert leading_zero_bits(digest) == bits
