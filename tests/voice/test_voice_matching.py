from __future__ import annotations

import re
from collections.abc import Iterator

from wefirst.voice.matching import BrandMatcher, BrandTerms, normalize

BRANDS = [
    BrandTerms(
        "dove",
        names=["Dove"],
        handles=["Dove"],
        hashtags=["dovebeauty"],
        exclusions=["mourning dove", "dove bird", "birdwatching", "colombe"],
    ),
    BrandTerms("nestle", names=["Nestlé"], aliases=["Nestle Waters"], hashtags=["nestle"]),
    BrandTerms("pg", names=["P&G", "Procter & Gamble"], handles=["ProcterGamble"]),
    BrandTerms("va", names=["Virgin America"], handles=["VirginAmerica"]),
    BrandTerms("pampers", names=["Pampers"], hashtags=["1pack1vaccine"]),
]
M = BrandMatcher(BRANDS)


def brands(text: str, tags: tuple[str, ...] = ()) -> set[str]:
    return {m.brand_id for m in M.match(text, tags)}


def test_case_and_accent_insensitive() -> None:
    assert brands("NESTLE again") == {"nestle"}
    assert brands("nestlé, encore") == {"nestle"}
    assert brands("NESTLÉ") == {"nestle"}
    assert normalize("Ça Crée") == "ca cree"


def test_whole_words_only() -> None:
    assert brands("Pampersland is a theme park") == set()
    assert brands("my dovetail joint") == set()
    assert brands("Pampers.") == {"pampers"}
    assert brands("(Pampers)") == {"pampers"}
    assert brands("#Pampers") == {"pampers"}


def test_multiword_names_tolerate_whitespace_and_punctuation_terms() -> None:
    assert brands("flew Virgin\n  America today") == {"va"}
    assert brands("P&G and Procter & Gamble") == {"pg"}
    assert brands("PG tips") == set()


def test_handles_and_hashtags() -> None:
    assert brands("@VirginAmerica thanks!") == {"va"}
    assert brands("@virginamerica_fan hello") == set()
    assert brands("bought two packs #1pack1vaccine") == {"pampers"}
    assert brands("no tag in text", tags=("1Pack1Vaccine",)) == {"pampers"}


def test_exclusions_drop_ambiguous_names_but_not_handles() -> None:
    assert brands("A mourning dove sat on my fence") == set()
    assert brands("Dove soap is great") == {"dove"}
    assert brands("birdwatching today, saw a dove") == set()
    # a handle or hashtag is unambiguous even when an exclusion term is present
    assert brands("birdwatching with @Dove products") == {"dove"}
    assert brands("Une colombe, pas du Dove #dovebeauty") == {"dove"}


def test_several_brands_per_post_and_terms_reported() -> None:
    found = {m.brand_id: m.terms for m in M.match("Pampers by P&G, not Nestlé #nestle")}
    assert set(found) == {"pampers", "pg", "nestle"}
    assert found["nestle"] == ("nestle", "#nestle")


def test_empty_matcher_and_empty_terms() -> None:
    assert BrandMatcher([]).match("anything") == []
    assert BrandMatcher([BrandTerms("x", names=["", " "], handles=["@"])]).match("@ x") == []


def test_one_regex_pass_per_post_whatever_the_number_of_brands() -> None:
    """The matcher compiles every brand into one regex built from a trie of the terms, so its
    cost per post barely grows with the number of brands (one `re.search` per brand would make
    2,000 brands ~100 times slower than 20). Checked by structure, not by the clock (a timed
    assert fails on a busy machine); the figures are in bench/bench_voice_pipeline.py."""
    brands = [
        BrandTerms(f"b{i}", names=[f"brandname{i}", f"other brand {i}"], handles=[f"handle{i}"])
        for i in range(2000)
    ]
    many = BrandMatcher(brands)
    text = "Just flew with brandname1999 and @handle7, never again, other brand 42! " * 3

    class Counting:
        def __init__(self, inner: re.Pattern[str]) -> None:
            self.inner, self.passes = inner, 0

        def finditer(self, s: str) -> Iterator[re.Match[str]]:
            self.passes += 1
            return self.inner.finditer(s)

    counting = Counting(many._regex)  # type: ignore[arg-type]
    many._regex = counting  # type: ignore[assignment]
    assert {m.brand_id for m in many.match(text)} == {"b1999", "b7", "b42"}
    assert counting.passes == 1
    # the trie shares prefixes: the pattern is far shorter than the 6,000 terms written out
    written_out = sum(len(n) + 1 for b in brands for n in (*b.names, *b.handles))
    assert len(counting.inner.pattern) < written_out / 2
