"""Which unsure posts a bounded embedding pass reads when a flood brings more than the limit.

A batch over ``EMBED_LIMIT`` used to embed the least sure posts of the whole batch, wherever
they were: a flood of vague everyday posts about one brand took the whole budget, and the few
posts of another brand's rising hour kept the fast model's misreading, so its backlash was
missed (the airline week replayed in floods found 2 of issue 17's 3 surges). The pipeline now
ranks unsure posts by how close their brand, polarity and hour are to an alarm.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import numpy as np
import numpy.typing as npt
import pytest

from wefirst.voice.detector import DetectorEvent, MobilizationDetector, Observation
from wefirst.voice.matching import BrandMatcher, BrandTerms
from wefirst.voice.pipeline import EMBED_LIMIT, EmbedBound, MemoryStore, Pipeline, observation
from wefirst.voice.posts import Post

T0 = datetime(2026, 3, 2, tzinfo=UTC)
#: negative, neutral, positive
SURGE_FAST = (0.11, 0.78, 0.11)  # the fast model reads the complaints as vague (unsure, 0.78)
SURGE_TRUE = (0.9, 0.05, 0.05)  # what the embedding pass reads
FLOOD_FAST = (0.3, 0.4, 0.3)  # everyday posts, vaguer still (the least sure of the batch)


class CascadeModel:
    """A sentiment model with a cascade, as ``SentimentModel`` shapes it: the fast reading per
    text, and a second reading for unsure texts when ``embeddings`` is on (at most
    ``embed_limit``, the least sure first). Records what it embedded."""

    labels = ("negative", "neutral", "positive")

    def __init__(self) -> None:
        self.head = SimpleNamespace(cascade=0.8)
        self.embedded: list[str] = []

    def predict(self, texts: Sequence[str], languages: Sequence[str]) -> list[tuple[str, float]]:
        raise AssertionError("the pipeline reads probabilities")

    def probabilities(
        self,
        texts: Sequence[str],
        languages: Sequence[str],
        *,
        embeddings: bool = False,
        embed_limit: int | None = None,
    ) -> npt.NDArray[np.float64]:
        p = np.array([SURGE_FAST if "cancelled" in t else FLOOD_FAST for t in texts], dtype=np.float64)
        if embeddings:
            top = p.max(axis=1)
            unsure = np.flatnonzero(top < self.head.cascade)
            if embed_limit is not None:
                unsure = unsure[np.argsort(top[unsure], kind="stable")[:embed_limit]]
            for i in (int(j) for j in unsure):
                self.embedded.append(texts[i])
                if "cancelled" in texts[i]:
                    p[i] = SURGE_TRUE
        return p


def _warm(detector: MobilizationDetector, hours: int) -> None:
    """Three days of ordinary hours: Surgeco 2 complaints and 2 thanks an hour, Quietco 50 of
    each (a brand with a big everyday volume)."""
    for h in range(hours):
        at = T0 + timedelta(hours=h, minutes=10)
        for brand, n in (("surgeco", 2), ("quietco", 50)):
            for k in range(n):
                for polarity in ("negative", "positive"):
                    detector.observe(
                        Observation(brand, polarity, at, f"{brand}{h}-{k}", author=f"{polarity}{k}")
                    )


def _flood(hour: datetime) -> list[Post]:
    """One drain of `listen`: 60 Surgeco complaints (distinct authors) amid 150 vague Quietco
    posts, all in the same hour."""
    posts = [
        Post(
            "mastodon",
            f"s{i}",
            f"angry{i}",
            f"Surgeco cancelled my flight again {i}",
            hour + timedelta(minutes=5),
        )
        for i in range(60)
    ]
    posts += [
        Post("mastodon", f"q{i}", f"calm{i}", f"Quietco store visit {i}", hour + timedelta(minutes=6))
        for i in range(150)
    ]
    return posts


def _two_brands(
    model: CascadeModel,
    detector: MobilizationDetector,
    bound: EmbedBound,
    sink: Callable[[list[DetectorEvent]], None] | None = None,
) -> Pipeline:
    """A pipeline over the flood's two brands, English, embeddings on under ``bound``."""
    brands = BrandMatcher([BrandTerms("surgeco", ["Surgeco"]), BrandTerms("quietco", ["Quietco"])])
    return Pipeline(
        brands, lambda _text: "en", model, MemoryStore(), detector, sink, embeddings=True, bound=bound
    )


def _run(order: str) -> tuple[CascadeModel, Pipeline, list[DetectorEvent]]:
    detector = MobilizationDetector()
    hours = 72
    _warm(detector, hours)
    model = CascadeModel()
    events: list[DetectorEvent] = []
    pipe = _two_brands(model, detector, EmbedBound(order=order), events.extend)
    pipe.process(_flood(T0 + timedelta(hours=hours)))
    return model, pipe, events


def test_a_flood_embeds_the_rising_brand_hour_first_and_finds_its_backlash() -> None:
    model, pipe, events = _run("rising")
    assert len(model.embedded) == EMBED_LIMIT  # the bound holds
    # by closeness to an alarm: every complaint of the rising hour, then the least sure others
    assert sum(t.startswith("Surgeco") for t in model.embedded) == 60
    assert pipe.deferred == 60 + 150 - EMBED_LIMIT  # every other unsure post kept its fast reading
    started = [e.episode for e in events if e.kind == "started"]
    assert [(e.brand_id, e.polarity) for e in started] == [("surgeco", "negative")]


def test_the_least_sure_first_order_spends_the_budget_on_the_flood_and_misses_it() -> None:
    """The order before this change (kept as ``EmbedBound(order="least_sure")`` to measure against):
    the same batch, the same limit, no episode."""
    model, pipe, events = _run("least_sure")
    assert len(model.embedded) == EMBED_LIMIT
    assert pipe.deferred == 60 + 150 - EMBED_LIMIT
    assert not any(t.startswith("Surgeco") for t in model.embedded)
    assert not events


def test_the_bound_holds_when_the_rising_hour_alone_exceeds_it() -> None:
    """More unsure posts in the rising hour than the limit: exactly the limit is embedded,
    all from that hour (its least sure first), the rest counted as deferred."""
    detector = MobilizationDetector()
    _warm(detector, 72)
    model = CascadeModel()
    pipe = _two_brands(model, detector, EmbedBound(limit=16))
    result = pipe.process(_flood(T0 + timedelta(hours=72)))
    assert result.new == 210
    assert len(model.embedded) == 16
    assert all(t.startswith("Surgeco") for t in model.embedded)
    assert pipe.deferred == 210 - 16


def test_posts_left_out_get_the_correction_the_pass_made_on_their_brand() -> None:
    """The pass reads 8 of 40 unsure complaints; the other 32 keep the fast model's label and
    score (what is stored), but the detector gets their fast reading moved by the mean
    correction measured on the sampled ones of the same brand — not the fast misreading."""
    model = CascadeModel()
    pipe = Pipeline(
        BrandMatcher([BrandTerms("surgeco", ["Surgeco"])]),
        lambda _text: "en",
        model,
        MemoryStore(),
        embeddings=True,
        bound=EmbedBound(limit=8, fill=True),
    )
    posts = [
        Post("mastodon", f"s{i}", f"a{i}", f"Surgeco cancelled my flight {i}", T0 + timedelta(minutes=i))
        for i in range(40)
    ]
    _seen, items = pipe.analyse(posts)
    read = set(model.embedded)
    left = [a for a in items if a.post.text not in read]
    assert len(left) == 32
    assert pipe.deferred == 32
    for a in left:
        assert a.sentiment == "neutral"  # the stored reading stays the fast model's
        assert a.p_negative == pytest.approx(SURGE_TRUE[0], abs=0.01)
        assert a.estimated  # counts for the detector, never shown as a sample
        assert observation(a, "surgeco").estimated
    assert not any(a.estimated for a in items if a.post.text in read)
    no_fill = Pipeline(
        BrandMatcher([BrandTerms("surgeco", ["Surgeco"])]),
        lambda _text: "en",
        CascadeModel(),
        MemoryStore(),
        embeddings=True,
        bound=EmbedBound(limit=8, fill=False),
    )
    _seen, plain = no_fill.analyse(posts)
    assert sum(a.p_negative == pytest.approx(SURGE_FAST[0]) for a in plain) == 32


def test_an_unknown_embed_order_is_refused() -> None:
    with pytest.raises(ValueError, match="embed order"):
        EmbedBound(order="random")


def test_an_estimated_post_counts_but_is_never_a_sample() -> None:
    """An episode's samples are posts that were read as its polarity, not fill estimates."""
    detector = MobilizationDetector()
    _warm(detector, 72)
    at = T0 + timedelta(hours=72, minutes=5)
    events: list[DetectorEvent] = []
    for i in range(30):
        text = f"estimated post {i}"
        obs = Observation(
            "surgeco", "neutral", at, f"est{i}", text, author=f"e{i}", p_negative=0.9, p_positive=0.05
        )
        events.extend(detector.observe(replace(obs, estimated=True)))
    for i in range(3):
        text = f"read post {i}"
        obs = Observation(
            "surgeco", "negative", at, f"read{i}", text, author=f"r{i}", p_negative=0.95, p_positive=0.0
        )
        events.extend(detector.observe(obs))
    started = [e.episode for e in events if e.kind == "started"]
    assert [(e.brand_id, e.polarity) for e in started] == [("surgeco", "negative")]
    samples = detector.open_episodes()[0].samples
    assert samples
    assert {s.ref for s in samples} <= {f"read{i}" for i in range(3)}
