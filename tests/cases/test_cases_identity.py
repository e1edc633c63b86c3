import pytest

from wefirst.cases.identity import (
    BadEmailError,
    BadTokenError,
    email_hash,
    network_hash,
    network_of,
    new_opener_token,
    normalise_email,
    read_token,
    read_verification,
    sign_token,
    sign_verification,
    token_hash,
    token_matches,
)


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("  Alice@Example.ORG ", "alice@example.org"),
        ("alice+cases@example.org", "alice@example.org"),
        ("A.Li.Ce+x@googlemail.com", "alice@gmail.com"),
        ("a.lice@example.org", "a.lice@example.org"),
        ("bob@exämple.de", "bob@xn--exmple-cua.de"),
    ],
)
def test_normalise_email(raw: str, norm: str) -> None:
    assert normalise_email(raw) == norm


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "no-at-sign",
        "two@@example.org",
        "a@b@example.org",
        "a@localhost",
        "a@example",
        "a b@example.org",
        ".a@example.org",
        "a..b@example.org",
        "+tag@example.org",
        "a@-bad-.org",
        "a@1.2.3.4",
        "<script>@example.org",
        "x" * 65 + "@example.org",
        "a@" + "b" * 250 + ".org",
    ],
)
def test_unusable_addresses_are_refused(raw: str) -> None:
    with pytest.raises(BadEmailError):
        normalise_email(raw)


def test_email_hash_counts_one_person_once_and_depends_on_secret() -> None:
    assert email_hash("s", "Alice+1@example.org") == email_hash("s", "alice@EXAMPLE.org")
    assert email_hash("s", "alice@example.org") != email_hash("s", "bob@example.org")
    assert email_hash("s", "alice@example.org") != email_hash("t", "alice@example.org")


def test_networks() -> None:
    assert network_of("203.0.113.77") == "203.0.113.0/24"
    assert network_of("::ffff:203.0.113.9") == "203.0.113.0/24"
    assert network_of("2001:db8:1234:5678::1") == "2001:db8:1234::/48"
    assert network_of("garbage") == "unknown"
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
