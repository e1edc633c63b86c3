"""Issue 17: detection with a noisy model — probabilities instead of labels, distinct authors,
irony discount, samples that match the episode's polarity, top terms without stop words."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from wefirst.voice.detector import DetectorConfig, MobilizationDetector, Observation, tokens
from wefirst.voice.irony import discount, has_irony_cue

from voice.voice_helpers import T0, diurnal, poisson


def _background(det: MobilizationDetector, hours: int, rng: random.Random) -> list[str]:
    kinds = []
    n = 0
    for h in range(hours):
        start = T0 + timedelta(hours=h)
        for polarity, share in (("negative", 0.3), ("neutral", 0.5), ("positive", 0.2)):
            for _ in range(poisson(rng, diurnal(start.hour) * share * 3)):
                n += 1
                at = start + timedelta(seconds=rng.randrange(3600))
                for e in det.observe(Observation("acme", polarity, at, f"b{n}", "ok", author=f"a{n}")):
                    kinds.append(e.kind)
    return kinds


def _surge(det: MobilizationDetector, hour: int, posts: list[Observation]) -> list[str]:
    kinds = []
    for o in posts:
        kinds += [e.kind for e in det.observe(o)]
    kinds += [e.kind for e in det.advance(T0 + timedelta(hours=hour + 6))]
    return kinds


def _posts(hour: int, n: int, **kw: object) -> list[Observation]:
    at = T0 + timedelta(hours=hour, minutes=10)
    return [
        Observation("acme", "negative", at + timedelta(seconds=i), f"s{i}", "refund outrage", **kw)  # type: ignore[arg-type]
        for i in range(n)
    ]


def test_one_author_posting_thirty_times_is_not_a_backlash() -> None:
    det = MobilizationDetector(DetectorConfig())
    assert "started" not in _background(det, 24 * 5 + 14, random.Random(3))
    assert "started" not in _surge(det, 24 * 5 + 14, _posts(24 * 5 + 14, 30, author="same-person"))


def test_thirty_authors_are_a_backlash() -> None:
    det = MobilizationDetector(DetectorConfig())
    _background(det, 24 * 5 + 14, random.Random(3))
    posts = [
        Observation("acme", "negative", o.created_at, o.ref, o.text, author=f"x{i}")
        for i, o in enumerate(_posts(24 * 5 + 14, 30))
    ]
    assert "started" in _surge(det, 24 * 5 + 14, posts)


def test_uncertain_calls_add_their_probability_not_a_whole_post() -> None:
    """Thirty posts the model calls negative at 0.4 are twelve posts of evidence, not thirty."""
    sure = MobilizationDetector(DetectorConfig())
    unsure = MobilizationDetector(DetectorConfig())
    _background(sure, 24 * 5 + 14, random.Random(3))
    _background(unsure, 24 * 5 + 14, random.Random(3))
    hour = 24 * 5 + 14
    assert "started" in _surge(sure, hour, _posts(hour, 30, p_negative=0.95, p_positive=0.01))
    assert "started" not in _surge(unsure, hour, _posts(hour, 30, p_negative=0.2, p_positive=0.1))


def test_samples_are_sure_of_the_episode_polarity() -> None:
    det = MobilizationDetector(DetectorConfig(samples=3))
    _background(det, 24 * 5 + 14, random.Random(3))
    hour = 24 * 5 + 14
    at = T0 + timedelta(hours=hour, minutes=5)
    posts = [
        Observation("acme", "negative", at, f"n{i}", f"refund outrage {i}", engagement=1, author=f"n{i}")
        for i in range(40)
    ]
    # very engaged, but the model barely calls it negative: not a sample while sure posts exist
    posts.append(
        Observation(
            "acme",
            "negative",
            at,
            "viral",
            "viral ambiguous",
            engagement=999,
            author="v",
            p_negative=0.55,
            p_positive=0.3,
        )
    )
    episodes = []
    for o in posts:
        episodes += [e.episode for e in det.observe(o)]
    episodes += [e.episode for e in det.advance(T0 + timedelta(hours=hour + 6))]
    assert episodes
    assert "viral" not in {s.ref for s in episodes[-1].samples}


def test_irony_moves_praise_to_complaint() -> None:
    assert has_irony_cue("Thanks for nothing @acme, 3 hours on hold")
    assert has_irony_cue("great job losing my bag AGAIN 🙄")
    assert has_irony_cue("I love how my flight is delayed again")
    assert not has_irony_cue("Thanks for the great flight, crew was lovely")
    assert not has_irony_cue("Great service today, no complaints")
    assert discount("great job losing my bag", 0.1, 0.8) == pytest.approx((0.74, 0.16))
    assert discount("great flight", 0.1, 0.8) == (0.1, 0.8)


def test_top_terms_drop_stop_words() -> None:
    toks = tokens("We found ourselves stranded first in line, nous sommes bloqués encore")
    assert "ourselves" not in toks
    assert "first" not in toks
    assert "sommes" not in toks
    assert "stranded" in toks
    assert "bloques" in toks


def test_the_irony_shortcut_gives_the_full_regex_answers() -> None:
    """The substring pre-check may only skip posts the cue regex would not match: checked on
    every cue's own text, on hand-written near misses, and on the shared dev tweets when present."""
    from pathlib import Path

    from wefirst.voice import irony
    from wefirst.voice.matching import normalize

    samples = [
        "#sarcasm at its best",
        "love the #not service",
        "perfect flight /s",
        "thank you so much for nothing",
        "thanks for losing my bag",
        "yeah right, on time",
        "oh great another delay",
        "just what i needed, a cancel",
        "nothing says fun like a 3 hour delay",
        "so much for customer service",
        "love how you never answer",
        "stellar work, you broke my stroller",
        "merci pour rien",
        "bravo pour le retard",
        "bien joué pour l'annulation",
        "🙄",
        "😒 fine",
        "🙃",
        "great crew, thank you",
        "Oh, and the seat was fine",
    ]
    data = Path(__file__).resolve().parents[3] / "shared" / "data" / "voice"
    for name in ("airline_tweets_2015_dev.csv", "fr_tweets_deft2017_dev.csv"):
        if (data / name).exists():
            import csv

            with (data / name).open(encoding="utf-8", newline="") as fh:
                samples += [r["text"] for r in csv.DictReader(fh)]
    for text in samples:
        assert irony.has_irony_cue(text) == (irony._IRONY.search(normalize(text)) is not None), text
