import pytest

from wefirst.cases.rules import CaseRuleError
from wefirst.cases.text import char_grams, check_text, clean_text, jaccard, normal_words, shingles


def codes(value: str, *, multiline: bool = True, min_len: int = 1, max_len: int = 500) -> list[str]:
    _, problems = check_text("f", value, min_len=min_len, max_len=max_len, multiline=multiline)
    return [p.code for p in problems]


@pytest.mark.parametrize(
    "value",
    [
        "<script>alert(1)</script>",
        "hello <img src=x onerror=alert(1)>",
        "see </p> here",
        "<!-- hidden -->",
        "<svg/onload=alert(1)>",
        "<?xml version='1.0'?>",
        "text <a href='javascript:alert(1)'>x</a>",
        "<ScRiPt>",
    ],
)
def test_markup_is_refused(value: str) -> None:
    assert "markup_refused" in codes(value)


@pytest.mark.parametrize("value", ["&lt;script&gt;", "&#60;b&#62;", "&#x3c;i", "x &amp; y"])
def test_character_references_are_refused(value: str) -> None:
    assert "entity_refused" in codes(value)


@pytest.mark.parametrize(
    "value",
    [
        "a < b and c > d",
        "I <3 this brand",
        "AT&T and R&D",
        "5<6",
        "price < 10 €",
        "x -> y",
        "< script> is not a tag",
    ],
)
def test_plain_text_with_angle_brackets_and_ampersands_is_fine(value: str) -> None:
    assert codes(value) == []


@pytest.mark.parametrize("ch", ["\u202e", "\u2066", "\u200b", "\x00", "\x1b", "\ufeff"])
def test_invisible_and_control_characters_are_refused(ch: str) -> None:
    assert codes(f"abc{ch}def") == ["control_refused"]


def test_newlines_tabs_allowed_in_multiline_only() -> None:
    assert codes("line one\n\tline two") == []
    assert codes("line one\nline two", multiline=False) == ["single_line"]


def test_lengths_and_required() -> None:
    assert codes("   ") == ["required"]
    assert codes("abc", min_len=5) == ["too_short"]
    assert codes("x" * 11, max_len=10) == ["too_long"]


def test_clean_text_normalises_and_raises_with_all_problems() -> None:
    assert clean_text("f", "  e\u0301t\u00e9\r\nok  ", min_len=1, max_len=50, multiline=True) == (
        "\u00e9t\u00e9\nok"
    )
    with pytest.raises(CaseRuleError) as info:
        clean_text("title", "<b>" + "x" * 20, min_len=1, max_len=10, multiline=False)
    assert [p.code for p in info.value.problems] == ["markup_refused", "too_long"]
    assert all(p.field == "title" for p in info.value.problems)


def test_normal_words_fold_case_and_accents() -> None:
    assert normal_words("Évènement, L'USINE! déchets") == ["evenement", "l", "usine", "dechets"]


def test_shingles_and_jaccard() -> None:
    assert shingles("a b") == frozenset({"a b"})
    assert shingles("a b c d") == frozenset({"a b c", "b c d"})
    assert shingles("!!!") == frozenset()
    assert jaccard(frozenset(), frozenset()) == 0.0
    assert jaccard(frozenset({"a", "b"}), frozenset({"b", "c"})) == pytest.approx(1 / 3)
    assert char_grams("Ab") == frozenset({"ab"})
    assert jaccard(char_grams("Plastic in the sea"), char_grams("plastic in the sea!")) == 1.0
