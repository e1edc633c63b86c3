"""One e-mail module, two normal forms: the deliverable mailbox (login, contacts) and the key
that counts one person once (signatures)."""

from __future__ import annotations

import pytest

from wefirst.emails import BadEmailError, mailbox, person_key


@pytest.mark.parametrize(
    ("raw", "box", "person"),
    [
        ("  Alice@Example.ORG ", "alice@example.org", "alice@example.org"),
        ("alice+cases@example.org", "alice+cases@example.org", "alice@example.org"),
        ("A.Li.Ce+x@googlemail.com", "a.li.ce+x@googlemail.com", "alice@gmail.com"),
        ("a.lice@example.org", "a.lice@example.org", "a.lice@example.org"),
        ("bob@exämple.de", "bob@exämple.de", "bob@xn--exmple-cua.de"),
    ],
)
def test_two_normal_forms(raw: str, box: str, person: str) -> None:
    assert mailbox(raw) == box
    assert person_key(raw) == person


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
        "a@-bad-.org",
        "a@1.2.3.4",
        "<script>@example.org",
        "x" * 65 + "@example.org",
        "a@" + "b" * 250 + ".org",
    ],
)
def test_one_syntax_rule_for_both(raw: str) -> None:
    with pytest.raises(BadEmailError):
        mailbox(raw)
    with pytest.raises(BadEmailError):
        person_key(raw)


def test_a_tag_alone_is_no_person() -> None:
    assert mailbox("+tag@example.org") == "+tag@example.org"
    with pytest.raises(BadEmailError):
        person_key("+tag@example.org")
