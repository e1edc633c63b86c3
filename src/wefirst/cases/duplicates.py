"""Spotting a case that is already open against the same brand, so a second opener is
offered to co-sign it instead of splitting the voice in two.

Titles are short, so they compare on character 4-grams (one reworded word still matches);
bodies compare on word 3-gram shingles. Either a near-identical body, or a near-identical
title with a clearly overlapping body, is a duplicate. Thresholds were set on hand-made
pairs in tests/cases/test_cases_duplicates.py (reworded copy vs. different story about the
same product)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from wefirst.cases.text import char_grams, jaccard, shingles

BODY_ALONE: Final = 0.6
TITLE_WITH_BODY: Final = (0.7, 0.3)


@dataclass(frozen=True)
class Fingerprint:
    title: frozenset[str]
    body: frozenset[str]

    @classmethod
    def of(cls, title: str, what_happened: str, what_is_asked: str = "") -> Fingerprint:
        return cls(char_grams(title), shingles(f"{what_happened}\n{what_is_asked}"))


@dataclass(frozen=True)
class Match:
    case_id: str
    title_similarity: float
    body_similarity: float


def compare(a: Fingerprint, b: Fingerprint) -> tuple[float, float]:
    return jaccard(a.title, b.title), jaccard(a.body, b.body)


def is_duplicate(title_sim: float, body_sim: float) -> bool:
    title_min, body_min = TITLE_WITH_BODY
    return body_sim >= BODY_ALONE or (title_sim >= title_min and body_sim >= body_min)


def find_duplicates(new: Fingerprint, existing: Iterable[tuple[str, Fingerprint]]) -> list[Match]:
    """Matches among `existing` (case id, fingerprint), most similar first."""
    found = []
    for case_id, fp in existing:
        t, b = compare(new, fp)
        if is_duplicate(t, b):
            found.append(Match(case_id, round(t, 3), round(b, 3)))
    found.sort(key=lambda m: (m.body_similarity + m.title_similarity, m.case_id), reverse=True)
    return found
