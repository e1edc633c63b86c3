from typing import Any

import pytest

from wefirst.cases.model import CaseLimits, Category, Kind, Language, check_url, validate_draft
from wefirst.cases.rules import CaseRuleError


def good(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "kind": "complaint",
        "title": "Vaccine pledge not paid",
        "what_happened": "The campaign promised one vaccine per pack; the ledger shows a gap.",
        "what_is_asked": "Pay the missing doses.",
        "evidence": ["https://example.org/ad", "http://news.example.com/story?id=3"],
        "category": "campaign_honesty",
        "language": "en",
    }
    base.update(over)
    return base


def problems(**over: Any) -> list[tuple[str, str]]:
    with pytest.raises(CaseRuleError) as info:
        validate_draft(**good(**over))
    return [(p.field, p.code) for p in info.value.problems]


def test_good_draft_is_normalised() -> None:
    draft = validate_draft(**good(title="  Vaccine pledge not paid  "))
    assert draft.kind is Kind.complaint
    assert draft.category is Category.campaign_honesty
    assert draft.language is Language.en
    assert draft.title == "Vaccine pledge not paid"
    assert draft.evidence == ("https://example.org/ad", "http://news.example.com/story?id=3")


def test_praise_needs_no_request_but_complaint_does() -> None:
    draft = validate_draft(**good(kind="praise", what_is_asked=None))
    assert draft.what_is_asked == ""
    assert problems(what_is_asked=None) == [("what_is_asked", "required")]
    assert problems(what_is_asked="   ") == [("what_is_asked", "required")]


def test_bad_choices_are_all_reported() -> None:
    assert problems(kind="rant", category="politics", language="de") == [
        ("kind", "bad_choice"),
        ("category", "bad_choice"),
        ("language", "bad_choice"),
    ]


def test_markup_in_any_text_field() -> None:
    assert problems(what_is_asked="<script>x</script> please") == [("what_is_asked", "markup_refused")]
    assert problems(title="Hi <b>bold</b> title") == [("title", "markup_refused")]


def test_oversized_evidence_list_is_refused_with_count() -> None:
    urls = [f"https://example.org/{i}" for i in range(11)]
    with pytest.raises(CaseRuleError) as info:
        validate_draft(**good(evidence=urls))
    (p,) = info.value.problems
    assert (p.field, p.code, p.params) == ("evidence", "too_many_links", {"max": 10, "count": 11})
    assert "11" in p.reason("fr")
    small = CaseLimits(max_evidence=2)
    with pytest.raises(CaseRuleError):
        validate_draft(**good(evidence=urls[:3]), limits=small)
    assert validate_draft(**good(evidence=urls[:2]), limits=small).evidence == tuple(urls[:2])


def test_each_bad_link_is_named_by_index() -> None:
    got = problems(evidence=["https://ok.example.org", "javascript:alert(1)", "https://ok.example.org"])
    assert got == [("evidence[1]", "bad_url"), ("evidence[2]", "duplicate_link")]


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("javascript:alert(1)", "only http"),
        ("data:text/html,<b>", "spaces or characters"),
        ("ftp://example.org/x", "only http"),
        ("https://user:pw@example.org/", "user name"),
        ("https://bank.example@evil.example/", "user name"),
        ("https://localhost/x", "public host"),
        ("http://127.0.0.1/", "public address"),
        ("http://10.0.0.8/", "public address"),
        ("http://[::1]/", "public address"),
        ("https://exa mple.org", "spaces"),
        ("https:///nohost", "no host"),
        ("https://example.org:99999/", "malformed"),
        ("https://example.org/" + "a" * 2100, "longer than"),
        ("https://printer.local/", "public host"),
    ],
)
def test_check_url_refusals(url: str, why: str) -> None:
    reason = check_url(url, 2048)
    assert reason is not None
    assert why in reason


@pytest.mark.parametrize("url", ["https://example.org", "http://8.8.8.8/x", "https://xn--caf-dma.fr/a?b=c#d"])
def test_check_url_accepts_public_links(url: str) -> None:
    assert check_url(url, 2048) is None
