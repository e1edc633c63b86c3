import pytest

from wefirst.cases.identity import (
    BadTokenError,
    email_hash,
    network_hash,
    new_opener_token,
    read_token,
    read_verification,
    sign_token,
    sign_verification,
    token_hash,
    token_matches,
)


def test_email_hash_counts_one_person_once_and_depends_on_secret() -> None:
    assert email_hash("s", "Alice+1@example.org") == email_hash("s", "alice@EXAMPLE.org")
    assert email_hash("s", "alice@example.org") != email_hash("s", "bob@example.org")
    assert email_hash("s", "alice@example.org") != email_hash("t", "alice@example.org")


def test_networks() -> None:
    assert network_hash("s", "203.0.113.1") == network_hash("s", "203.0.113.254")
    assert network_hash("s", "203.0.113.1") != network_hash("s", "203.0.114.1")


def test_opener_token_round_trip() -> None:
    token = new_opener_token()
    assert token.startswith("cot_")
    assert len(token) > 40
    stored = token_hash(token)
    assert token_matches(token, stored)
    assert not token_matches(token + "x", stored)
    assert new_opener_token() != token


def test_verification_token() -> None:
    tok = sign_verification("secret", "sup_1")
    assert read_verification("secret", tok, 60) == "sup_1"
    with pytest.raises(BadTokenError, match="not valid"):
        read_verification("other-secret", tok, 60)
    # one character of the signature changed (not the last one: its low bits are padding, so
    # some changes there decode to the same bytes and would be accepted, rightly)
    i = len(tok) - 10
    tampered = tok[:i] + ("A" if tok[i] != "A" else "B") + tok[i + 1 :]
    with pytest.raises(BadTokenError, match="not valid"):
        read_verification("secret", tampered, 60)
    with pytest.raises(BadTokenError, match="not valid"):
        read_verification("secret", "garbage", 60)
    with pytest.raises(BadTokenError, match="not valid"):
        read_token("secret", "erase", tok, 60)
    assert read_token("secret", "erase", sign_token("secret", "erase", "h"), 60) == "h"
    # A negative max age makes a fresh token already too old, without sleeping.
    with pytest.raises(BadTokenError, match="expired"):
        read_verification("secret", tok, -1)
