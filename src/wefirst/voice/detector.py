"""Online detection of mobilizations: a backlash (negative posts about a brand surging well
above that brand's own baseline) or a wave of praise (the same for positive posts).

Model, per brand and polarity, updated once per closed hour and O(1) per post:

* **Baseline.** Expected posts in hour *t* = ``level × f_hour(t) × f_weekday(t)``. ``level`` is an
  EWMA of hourly counts; the hour-of-day and day-of-week factors are EWMAs of the counts seen
  in each slot, relative to the level, shrunk towards 1 by a pseudo-count so sparse streams do
  not invent seasons. Counts enter the baseline winsorised (capped at the "elevated" threshold)
  and at a quarter of the rate while an episode is open, so a surge does not teach the baseline
  that surges are normal — but a lasting change (more coverage, a bigger brand) is eventually
  learned and the episode ends.
* **Tail.** Counts are negative-binomial with mean μ and variance ``μ + φμ²``; φ (overdispersion)
  is an EWMA of the excess squared residual. At the start of each hour the detector computes
  the smallest count ``T`` whose upper tail ``P(X ≥ T)`` is below ``alpha``; then each post is
  one integer comparison. Crossing ``T`` *during* the hour opens the episode at once (the alert
  must not wait for the hour to close), judged against the whole hour's expectation — a
  conservative test.
* **Polarity share.** Optionally (``share_alpha``), the polarity's share of the brand's posts in
  the hour must also be improbably high under a binomial test against the brand's usual share.
  This is what tells a backlash from more posts of every kind (a coverage or sampling change, a
  news item, an ad): the airline data's American Airlines sampling jump raises every polarity.
* **Hysteresis.** An episode stays open while hours are "elevated" (tail below ``end_alpha``)
  and ends after ``cooldown_hours`` quiet hours. Its start is the first hour of the elevated run
  that led to the alarm.
* **Warm-up.** No alarm before a stream has seen ``min_posts`` posts and then ``warmup_hours``
  more hours: a baseline from four tweets is not a baseline.

Sensitivity is ``alpha``: under the null (no mobilization, the model right) an hour opens an
episode with probability ≤ ``alpha``; docs/voice-detection.md measures the actual rate on
synthetic and on label-shuffled data.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from wefirst.voice.matching import normalize
from wefirst.voice.stopwords import stopwords

HOUR = timedelta(hours=1)
#: a post joins a stream's evidence (terms, samples) when its polarity is at least this likely
EVIDENCE_WEIGHT = 0.5
#: samples shown for an episode are taken from posts at least this sure of its polarity first
SAMPLE_CONFIDENCE = 0.7
MAX_GAP_HOURS = 14 * 24
WATCHED = ("negative", "positive")


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    alpha: float = 1e-4
    end_alpha: float = 0.05
    share_alpha: float | None = None
    #: "elevated" or "alarm": suppress an alarm when the opposite polarity is surging too in
    #: the same hour (a coverage or volume change, not a mobilization); None disables.
    #: "auto" (the default): for whole-post labels "elevated" with ``coverage_ratio``; while the
    #: brand's posts carry a model's probabilities, "elevated" with ``model_coverage_ratio``. A
    #: model spreads a real surge's posts over both polarities (JetBlue's mixed "fleek" replies:
    #: P(neg) 19 beside P(pos) 17), so the opposite stream of a real surge is routinely
    #: "elevated" and the plain guard held JetBlue's praise; holding only when the opposite
    #: polarity rose nearly as much lets such a surge through and still holds a surge of
    #: everything (docs/voice-detection.md)
    coverage_guard: str | None = "auto"
    #: the ``coverage_ratio`` of guard "auto" for posts with a model's probabilities. 0.7 finds
    #: the three airline surges with the shipped model and lowers the labels-shuffled null from
    #: 1.41 (guard "alarm") to 1.03 per 1,000 stream-hours; 0.6 and below miss JetBlue's "fleek"
    #: praise (tuned on that one week: docs/voice-detection.md)
    model_coverage_ratio: float = 0.7
    #: the coverage guard holds an alarm only when the opposite polarity rose at least this
    #: fraction as much (count/expected); 0 = any elevated rise holds it. 1.0 finds JetBlue's
    #: mixed "fleek" praise with the shipped model but doubles day-shuffled false alarms with
    #: human labels (docs/voice-detection.md), so the default stays 0
    coverage_ratio: float = 0.0
    #: posts of one author that count in one stream and hour (their surest ones)
    author_cap: int = 1000
    #: distinct authors a stream needs in the hour before it can alarm: one person posting a
    #: thread is never a mobilization, but their thread still counts once others join
    min_authors: int = 3
    #: probability below which a model's call adds nothing; above it the weight is rescaled,
    #: (p - floor) / (1 - floor) (0: plain sum of probabilities)
    probability_floor: float = 0.0
    cooldown_hours: int = 2
    min_count: int = 5
    min_ratio: float = 2.0
    level_rate: float = 0.05
    season_rate: float = 0.15
    weekday_rate: float = 0.02
    dispersion_rate: float = 0.05
    max_dispersion: float = 1.0
    warmup_hours: int = 12
    min_posts: int = 50
    top_terms: int = 10
    samples: int = 5
    buffer_cap: int = 2000

    def __post_init__(self) -> None:
        if not 0 < self.alpha < self.end_alpha < 1:
            raise ValueError("need 0 < alpha < end_alpha < 1")
        if self.share_alpha is not None and not 0 < self.share_alpha < 1:
            raise ValueError("share_alpha must be in (0, 1) or None")
        if self.coverage_guard not in (None, "auto", "elevated", "alarm"):
            raise ValueError("coverage_guard must be None, 'auto', 'elevated' or 'alarm'")
        if self.author_cap < 1 or min(self.coverage_ratio, self.model_coverage_ratio) < 0:
            raise ValueError("author_cap >= 1, coverage_ratio >= 0 and model_coverage_ratio >= 0")
        if not 0 <= self.probability_floor < 1:
            raise ValueError("probability_floor must be in [0, 1)")
        if self.cooldown_hours < 1 or self.min_count < 1 or self.min_ratio < 1:
            raise ValueError("cooldown_hours, min_count >= 1 and min_ratio >= 1")


@dataclass(frozen=True, slots=True)
class Observation:
    """One post, as the detector sees it (already matched to a brand and scored)."""

    brand_id: str
    polarity: str
    created_at: datetime
    ref: str
    text: str = ""
    reason: str | None = None
    engagement: int = 0
    #: salted author id; an author counts once per stream and hour (one angry customer
    #: posting ten times is not ten customers). Empty: every post counts.
    author: str = ""
    #: the model's calibrated P(negative), P(positive) (after irony discount); None means the
    #: polarity is certain (a human label). With them a post adds its probability to each
    #: stream instead of a whole post to one, so a model's uncertain calls stop deciding alarms.
    p_negative: float | None = None
    p_positive: float | None = None
    #: the probabilities are an estimate, not this post's own reading (a post the bounded
    #: embedding pass left out, ``Pipeline._fill``): it counts, but is never evidence (terms,
    #: samples) — an episode shows what posts were read to say
    estimated: bool = False

    def weight(self, polarity: str, floor: float = 0.0) -> float:
        """How much of this post counts for ``polarity`` (0..1)."""
        p = self.p_negative if polarity == "negative" else self.p_positive
        if p is None:
            return 1.0 if polarity == self.polarity else 0.0
        if p <= floor:
            return 0.0
        return (p - floor) / (1.0 - floor)


@dataclass(frozen=True, slots=True)
class SamplePost:
    ref: str
    text: str
    created_at: datetime
    engagement: int


@dataclass(frozen=True, slots=True)
class Episode:
    key: str
    brand_id: str
    polarity: str
    start: datetime
    detected_at: datetime
    peak_hour: datetime
    peak_count: int
    peak_expected: float
    posts: float  # weighted by the probability of the polarity when a model decides it
    expected: float
    end: datetime | None = None
    top_terms: tuple[tuple[str, int], ...] = ()
    top_reasons: tuple[tuple[str, int], ...] = ()
    samples: tuple[SamplePost, ...] = ()

    @property
    def kind(self) -> str:
        return "backlash" if self.polarity == "negative" else "praise"

    @property
    def excess(self) -> float:
        """Posts above the baseline over the episode: the size people can picture."""
        return max(self.posts - self.expected, 0.0)

    @property
    def ratio(self) -> float:
        return self.posts / max(self.expected, 0.5)


@dataclass(frozen=True, slots=True)
class DetectorEvent:
    kind: str  # "started" | "updated" | "ended"
    episode: Episode


# --------------------------------------------------------------------------- tail maths


def nb_threshold(mu: float, phi: float, alpha: float) -> int:
    """Smallest count T with P(X >= T) < alpha for X ~ NB(mean mu, var mu + phi*mu^2)."""
    return nb_thresholds(mu, phi, (alpha,))[0]


def nb_thresholds(mu: float, phi: float, alphas: tuple[float, ...]) -> list[int]:
    """``nb_threshold`` for several alphas in one pass over the pmf (largest alpha first).

    The pmf is evaluated once in log space where the walk starts (far below the mean) and then
    by its ratio recurrence, one multiplication per count."""
    mu = max(mu, 1e-9)
    sd = math.sqrt(mu + phi * mu * mu)
    k = max(0, math.floor(mu - 12 * sd))
    poisson = phi < 1e-6
    if poisson:
        pmf = math.exp(_poisson_log_pmf(k, mu, 0.0))
    else:
        r = 1.0 / phi
        q = mu / (r + mu)
        pmf = math.exp(_nb_log_pmf(k, mu, phi))
    order = sorted(range(len(alphas)), key=lambda i: -alphas[i])
    out = [0] * len(alphas)
    j = 0
    cdf = 0.0
    limit = k + int(60 * sd) + 200
    while k < limit and j < len(order):
        cdf += pmf
        pmf *= mu / (k + 1) if poisson else (k + r) / (k + 1) * q
        k += 1
        while j < len(order) and 1.0 - cdf < alphas[order[j]]:
            out[order[j]] = k
            j += 1
    while j < len(order):
        out[order[j]] = k
        j += 1
    return out


def _poisson_log_pmf(k: int, mu: float, phi: float) -> float:
    return k * math.log(mu) - mu - math.lgamma(k + 1)


def _nb_log_pmf(k: int, mu: float, phi: float) -> float:
    r = 1.0 / phi
    return (
        math.lgamma(k + r)
        - math.lgamma(r)
        - math.lgamma(k + 1)
        + r * math.log(r / (r + mu))
        + k * math.log(mu / (r + mu))
    )


def binom_sf(k: int, n: int, p: float) -> float:
    """P(K >= k) for K ~ Binomial(n, p), summed in log space from k upwards."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    p = min(max(p, 1e-9), 1 - 1e-9)
    lp, lq = math.log(p), math.log1p(-p)
    total = 0.0
    base = math.lgamma(n + 1)
    for i in range(k, n + 1):
        term = math.exp(base - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * lp + (n - i) * lq)
        total += term
        if term < total * 1e-12 and i > n * p:
            break
    return min(total, 1.0)


# --------------------------------------------------------------------------- terms

_TOKEN = re.compile(r"(?<![@#\w])[^\W\d_][\w'’-]{2,}")
_URL = re.compile(r"https?://\S+|www\.\S+")


def tokens(text: str, drop: frozenset[str] = frozenset()) -> list[str]:
    low = normalize(text)
    if "http" in low or "www." in low:
        low = _URL.sub(" ", low)
    skip = _skip(drop)
    return [t for t in _TOKEN.findall(low) if t not in skip]


@lru_cache(maxsize=8)
def _skip(drop: frozenset[str]) -> frozenset[str]:
    """Stop words and a detector's brand words in one set (one lookup per token)."""
    return stopwords() | drop


# --------------------------------------------------------------------------- state


@dataclass(slots=True)
class _Accumulator:
    """What an open episode gathers as posts arrive (bounded memory)."""

    terms: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    samples: list[tuple[int, int, float, str, str, datetime]] = field(default_factory=list)
    n_docs: int = 0

    def add(self, obs: Observation, toks: list[str], cap: int, weight: float = 1.0) -> None:
        self.n_docs += 1
        self.terms.update(set(toks))
        if obs.reason:
            self.reasons[obs.reason] += 1
        # a sample must read as the episode's polarity: confident posts first, then engagement
        sure = int(weight >= SAMPLE_CONFIDENCE)
        item = (sure, obs.engagement, -obs.created_at.timestamp(), obs.ref, obs.text, obs.created_at)
        if len(self.samples) < cap:
            heapq.heappush(self.samples, item)
        elif item > self.samples[0]:
            heapq.heapreplace(self.samples, item)


@dataclass(slots=True)
class _Stream:
    polarity: str
    level: float = 0.0
    slot_hour: list[float] = field(default_factory=lambda: [0.0] * 24)
    seen_hour: list[int] = field(default_factory=lambda: [0] * 24)
    slot_day: list[float] = field(default_factory=lambda: [0.0] * 7)
    seen_day: list[int] = field(default_factory=lambda: [0] * 7)
    phi: float = 0.1
    share_num: float = 0.0
    share_den: float = 0.0
    posts_seen: float = 0.0
    hours_seen: int = 0
    hours_warm: int = -1  # -1 until min_posts posts were seen
    count: float = 0.0  # posts this hour, weighted by probability, one per author at most
    authors: dict[str, list[float]] = field(default_factory=dict)
    anonymous: int = 0
    mu: float = 0.0
    threshold: int = 0
    end_threshold: int = 0
    elevated_since: datetime | None = None
    run_posts: float = 0.0
    run_expected: float = 0.0
    episode: Episode | None = None
    quiet: int = 0
    quiet_posts: float = 0.0
    quiet_expected: float = 0.0
    acc: _Accumulator | None = None
    buffer: list[tuple[Observation, list[str], float]] = field(default_factory=list)

    def credit(self, author: str, weight: float, cap: int) -> float:
        """What a post adds to this hour's count: an author's ``cap`` surest posts count."""
        if not author:
            self.anonymous += 1  # a source without authors: every post is its own voice
            return weight
        kept = self.authors.setdefault(author, [])
        old = sum(kept)
        kept.append(weight)
        kept.sort(reverse=True)
        del kept[cap:]
        return sum(kept) - old

    def warm(self, cfg: DetectorConfig) -> bool:
        return self.hours_warm >= cfg.warmup_hours

    def expected(self, hour: datetime) -> float:
        f_h = _factor(self.slot_hour, self.seen_hour, hour.hour)
        f_d = _factor(self.slot_day, self.seen_day, hour.weekday())
        return max(self.level * f_h * f_d, 0.01)

    def share(self) -> float:
        return (self.share_num + 1.0) / (self.share_den + 3.0)

    def restart_baseline(self) -> None:
        """Forget the seasonal slots learned on too little data (a stream that was nearly
        empty and is now busy must learn its new normal, not compare with the empty one)."""
        self.slot_hour = [self.level] * 24
        self.seen_hour = [0] * 24
        self.slot_day = [self.level] * 7
        self.seen_day = [0] * 7


def _factor(slots: list[float], seen: list[int], i: int) -> float:
    """Slot mean relative to the mean of the slots seen so far, shrunk towards 1 (one
    pseudo-observation at the overall mean) so a slot seen once or twice cannot make a
    season; a slot never seen has factor 1."""
    total = n_seen = 0.0
    for value, n in zip(slots, seen, strict=True):
        if n:
            total += value
            n_seen += 1
    n = seen[i]
    if not n or total <= 1e-9:
        return 1.0
    mean = total / n_seen
    return ((slots[i] * n + mean) / (n + 1) + 1e-3) / (mean + 1e-3)


class _Brand:
    __slots__ = ("cfg", "hour", "soft", "streams", "terms_bg", "total", "total_bg_docs")

    def __init__(self, cfg: DetectorConfig) -> None:
        self.cfg = cfg
        self.hour: datetime | None = None
        self.total = 0
        self.streams = {p: _Stream(p) for p in WATCHED}
        self.terms_bg: Counter[str] = Counter()
        self.total_bg_docs = 0
        #: the brand's latest post carried probabilities (a model), not a whole-post label
        self.soft = False


def _floor_hour(t: datetime) -> datetime:
    t = t.astimezone(UTC)
    return t.replace(minute=0, second=0, microsecond=0)


class MobilizationDetector:
    """Feed it posts in (roughly) time order with ``observe``; call ``advance(now)`` from a
    clock so quiet hours are counted too. Both return the episode events they caused."""

    def __init__(
        self,
        config: DetectorConfig | None = None,
        drop_terms: Iterable[str] = (),
        brand_configs: Mapping[str, DetectorConfig] | None = None,
    ) -> None:
        self.config = config or DetectorConfig()
        #: per-brand sensitivity overrides (a brand's own settings)
        self.brand_configs = dict(brand_configs or {})
        self.drop_terms = frozenset(drop_terms)
        self._brands: dict[str, _Brand] = {}
        self.late_posts = 0

    # ---------------------------------------------------------------- public API

    def observe(self, obs: Observation) -> list[DetectorEvent]:
        brand = self._brands.get(obs.brand_id)
        if brand is None:
            cfg = self.brand_configs.get(obs.brand_id, self.config)
            brand = self._brands[obs.brand_id] = _Brand(cfg)
        hour = _floor_hour(obs.created_at)
        events: list[DetectorEvent] = []
        if brand.hour is None:
            self._open_hour(brand, hour)
        elif hour > brand.hour:
            events.extend(self._roll(obs.brand_id, brand, hour))
        elif hour < brand.hour:
            self.late_posts += 1  # its hour is closed; the series in the store still counts it
            return events
        brand.total += 1
        brand.soft = obs.p_negative is not None or obs.p_positive is not None
        toks: list[str] | None = None
        for stream in brand.streams.values():
            weight = obs.weight(stream.polarity, brand.cfg.probability_floor)
            if weight <= 0.0:
                continue
            stream.count += stream.credit(obs.author, weight, brand.cfg.author_cap)
            if weight >= EVIDENCE_WEIGHT and not obs.estimated:
                if toks is None:
                    toks = tokens(obs.text, self.drop_terms) if obs.text else []
                if stream.acc is not None:
                    stream.acc.add(obs, toks, brand.cfg.samples, weight)
                elif len(stream.buffer) < brand.cfg.buffer_cap:
                    stream.buffer.append((obs, toks, weight))
            if (
                stream.episode is None
                and stream.count >= stream.threshold
                and stream.warm(brand.cfg)
                and len(stream.authors) + stream.anonymous >= brand.cfg.min_authors
                and self._share_ok(stream, brand)
                and not self._coverage_change(stream, brand)
            ):
                events.append(self._start(obs.brand_id, brand, stream, obs.created_at))
        return events

    def advance(self, now: datetime) -> list[DetectorEvent]:
        """Close every hour that ended before ``now`` (no posts in an hour is data too)."""
        events: list[DetectorEvent] = []
        target = _floor_hour(now)
        for brand_id, brand in self._brands.items():
            if brand.hour is not None and target > brand.hour:
                events.extend(self._roll(brand_id, brand, target))
        return events

    def open_episodes(self) -> list[Episode]:
        return [
            self._snapshot(s, b, live=True)
            for b in self._brands.values()
            for s in b.streams.values()
            if s.episode is not None
        ]

    def configure(
        self, brand_configs: Mapping[str, DetectorConfig], drop_terms: Iterable[str] | None = None
    ) -> None:
        """New per-brand settings (and brand words) without losing any learned state."""
        self.brand_configs = dict(brand_configs)
        if drop_terms is not None:
            self.drop_terms = frozenset(drop_terms)
        for brand_id, brand in self._brands.items():
            brand.cfg = self.brand_configs.get(brand_id, self.config)

    def baseline(self, brand_id: str, polarity: str) -> float | None:
        """Expected posts in the current hour (None for an unknown brand or polarity)."""
        brand = self._brands.get(brand_id)
        if brand is None or polarity not in brand.streams:
            return None
        return brand.streams[polarity].mu

    def headroom(self, brand_id: str, polarity: str, hour: datetime) -> tuple[float, int] | None:
        """``(count so far, alarm threshold)`` of a stream for ``hour``: the current hour's
        live figures, or for a later hour the threshold its baseline gives now (the count is
        then 0). None where no alarm can follow: an unknown brand or polarity, an hour already
        closed, an open episode (the stream has alarmed). The pipeline ranks unsure posts by
        how close their stream is to alarming (``Pipeline`` with an ``embed_limit``)."""
        brand = self._brands.get(brand_id)
        if brand is None or polarity not in brand.streams or brand.hour is None:
            return None
        hour = _floor_hour(hour)
        s = brand.streams[polarity]
        if hour < brand.hour or s.episode is not None:
            return None
        if hour == brand.hour:
            return s.count, s.threshold
        cfg = brand.cfg
        mu = s.expected(hour)
        return 0.0, max(nb_threshold(mu, s.phi, cfg.alpha), cfg.min_count, math.ceil(cfg.min_ratio * mu))

    # ---------------------------------------------------------------- hour mechanics

    def _open_hour(self, brand: _Brand, hour: datetime) -> None:
        cfg = brand.cfg
        brand.hour = hour
        brand.total = 0
        for s in brand.streams.values():
            s.count = 0.0
            s.authors.clear()
            s.anonymous = 0
            s.buffer.clear()
            s.mu = s.expected(hour)
            t_alarm, t_end = nb_thresholds(s.mu, s.phi, (cfg.alpha, cfg.end_alpha))
            s.threshold = max(t_alarm, cfg.min_count, math.ceil(cfg.min_ratio * s.mu))
            s.end_threshold = max(t_end, 2)

    def _roll(self, brand_id: str, brand: _Brand, new_hour: datetime) -> list[DetectorEvent]:
        events: list[DetectorEvent] = []
        assert brand.hour is not None
        events.extend(self._close_hour(brand_id, brand))
        hour = brand.hour + HOUR
        # empty hours in between are data (zeros): O(1) per elapsed hour. A gap longer than
        # MAX_GAP_HOURS is an outage of the source, not silence: after closing what the
        # cooldown closes, the rest is skipped as missing data.
        gap_end = new_hour
        if (new_hour - hour) / HOUR > MAX_GAP_HOURS:
            gap_end = hour + HOUR * (brand.cfg.cooldown_hours + 1)
        while hour < gap_end:
            self._open_hour(brand, hour)
            events.extend(self._close_hour(brand_id, brand))
            hour += HOUR
        self._open_hour(brand, new_hour)
        return events

    def _close_hour(self, brand_id: str, brand: _Brand) -> list[DetectorEvent]:
        cfg = brand.cfg
        assert brand.hour is not None
        hour = brand.hour
        events: list[DetectorEvent] = []
        for s in brand.streams.values():
            c = s.count
            elevated = c >= s.end_threshold and c > s.mu
            if s.episode is not None:
                ep = replace(s.episode, posts=s.episode.posts + c, expected=s.episode.expected + s.mu)
                if c > ep.peak_count or ep.peak_hour == hour:
                    ep = replace(ep, peak_hour=hour, peak_count=round(c), peak_expected=s.mu)
                s.episode = ep
                if elevated:
                    s.quiet = s.quiet_posts = 0
                    s.quiet_expected = 0.0
                    events.append(DetectorEvent("updated", self._snapshot(s, brand)))
                else:
                    s.quiet += 1
                    s.quiet_posts += c
                    s.quiet_expected += s.mu
                    if s.quiet >= cfg.cooldown_hours:
                        # the episode ended where the quiet run began; those hours' posts
                        # are not the episode's
                        s.episode = replace(
                            ep,
                            end=hour - HOUR * (cfg.cooldown_hours - 1),
                            posts=ep.posts - s.quiet_posts,
                            expected=ep.expected - s.quiet_expected,
                        )
                        events.append(DetectorEvent("ended", self._snapshot(s, brand)))
                        s.episode = None
                        s.acc = None
                        s.quiet = s.quiet_posts = 0
                        s.quiet_expected = 0.0
            else:
                for _obs, toks, _w in s.buffer:
                    brand.terms_bg.update(set(toks))
                brand.total_bg_docs += len(s.buffer)
            if elevated:
                if s.elevated_since is None:
                    s.elevated_since, s.run_posts, s.run_expected = hour, 0, 0.0
                s.run_posts += c
                s.run_expected += s.mu
            else:
                s.elevated_since = None
            self._learn(s, cfg, hour, c, brand.total)
        if len(brand.terms_bg) > 50_000:
            brand.terms_bg = Counter(dict(brand.terms_bg.most_common(25_000)))
        return events

    def _learn(self, s: _Stream, cfg: DetectorConfig, hour: datetime, c: float, total: int) -> None:
        s.hours_seen += 1
        s.posts_seen += c
        if s.hours_warm < 0:
            if s.posts_seen >= cfg.min_posts:
                s.hours_warm = 0
                s.level = float(c)
                s.restart_baseline()
            else:
                s.level += (c - s.level) / s.hours_seen  # running mean while nearly empty
                return
        s.hours_warm += 1
        # winsorise: one surge hour must not drag the baseline up
        x = min(float(c), float(max(s.threshold, s.mu)))
        rate = max(cfg.level_rate, 1.0 / (s.hours_warm + 1))
        if s.episode is not None:
            rate /= 4
        h, d = hour.hour, hour.weekday()
        # deseasonalise before updating the level (Holt-Winters, multiplicative): otherwise a
        # 20-hour EWMA rides the daily cycle and the seasonal factors count it twice
        f_h = _factor(s.slot_hour, s.seen_hour, h)
        f_d = _factor(s.slot_day, s.seen_day, d)
        s.level += rate * (x / max(f_h * f_d, 0.05) - s.level)
        # each slot learns with the other effect taken out, so a weekday first seen at night
        # does not look like a quiet weekday
        s.seen_hour[h] += 1
        x_h = x / max(f_d, 0.05)
        s.slot_hour[h] += max(cfg.season_rate, 1.0 / s.seen_hour[h]) * (x_h - s.slot_hour[h])
        s.seen_day[d] += 1
        x_d = x / max(f_h, 0.05)
        s.slot_day[d] += max(cfg.weekday_rate, 1.0 / s.seen_day[d]) * (x_d - s.slot_day[d])
        if s.mu >= 2 and s.episode is None:
            resid = ((c - s.mu) ** 2 - s.mu) / (s.mu * s.mu)
            s.phi += cfg.dispersion_rate * (resid - s.phi)
            s.phi = min(max(s.phi, 0.0), cfg.max_dispersion)
        share_rate = max(cfg.level_rate, 1.0 / (s.hours_warm + 1))
        s.share_num += share_rate * (c - s.share_num)
        s.share_den += share_rate * (total - s.share_den)

    def _coverage_change(self, s: _Stream, brand: _Brand) -> bool:
        guard = brand.cfg.coverage_guard
        if guard is None:
            return False
        ratio = brand.cfg.coverage_ratio
        if guard == "auto":
            guard = "elevated"
            ratio = brand.cfg.model_coverage_ratio if brand.soft else ratio
        other = brand.streams["positive" if s.polarity == "negative" else "negative"]
        limit = other.end_threshold if guard == "elevated" else other.threshold
        if other.count < limit or other.count <= other.mu:
            return False
        rise, other_rise = s.count / max(s.mu, 0.5), other.count / max(other.mu, 0.5)
        return other_rise >= ratio * rise

    def _share_ok(self, s: _Stream, brand: _Brand) -> bool:
        alpha = brand.cfg.share_alpha
        if alpha is None:
            return True
        return binom_sf(math.ceil(s.count), brand.total, s.share()) < alpha

    # ---------------------------------------------------------------- episodes

    def _start(self, brand_id: str, brand: _Brand, s: _Stream, at: datetime) -> DetectorEvent:
        assert brand.hour is not None
        start = s.elevated_since or brand.hour
        run_posts = s.run_posts if s.elevated_since else 0
        run_expected = s.run_expected if s.elevated_since else 0.0
        key = f"{brand_id}:{s.polarity}:{start.isoformat()}"
        s.acc = _Accumulator()
        for obs, toks, weight in s.buffer:
            s.acc.add(obs, toks, brand.cfg.samples, weight)
        s.buffer.clear()
        s.quiet = s.quiet_posts = 0
        s.quiet_expected = 0.0
        s.episode = Episode(
            key=key,
            brand_id=brand_id,
            polarity=s.polarity,
            start=start,
            detected_at=at.astimezone(UTC),
            peak_hour=brand.hour,
            peak_count=round(s.count),
            peak_expected=s.mu,
            posts=run_posts,
            expected=run_expected,
        )
        return DetectorEvent("started", self._snapshot(s, brand, live=True))

    def _snapshot(self, s: _Stream, brand: _Brand, live: bool = False) -> Episode:
        assert s.episode is not None
        ep = s.episode
        if live and ep.end is None:
            # the current hour's posts count as soon as they arrive
            ep = replace(
                ep,
                posts=ep.posts + s.count,
                expected=ep.expected + s.mu,
                peak_count=max(ep.peak_count, round(s.count)),
            )
        acc = s.acc
        if acc is None:
            return ep
        samples = tuple(
            SamplePost(ref, text, at, eng)
            for _sure, eng, _neg_ts, ref, text, at in sorted(acc.samples, reverse=True)
        )
        return replace(
            ep,
            top_terms=_top_terms(acc, brand, brand.cfg.top_terms),
            top_reasons=tuple(acc.reasons.most_common(5)),
            samples=samples,
        )


def _top_terms(acc: _Accumulator, brand: _Brand, n: int) -> tuple[tuple[str, int], ...]:
    """Terms over-represented in the episode against the brand's usual posts (log-odds lift
    weighted by count), so "flight" does not top every airline backlash."""
    if not acc.terms:
        return ()
    bg = brand.terms_bg
    n_bg = max(brand.total_bg_docs, 1)
    n_ep = max(acc.n_docs, 1)
    scored = []
    for term, c in acc.terms.items():
        if c < 2 and n_ep >= 10:
            continue
        lift = math.log(((c + 0.5) / n_ep) / ((bg.get(term, 0) + 0.5) / n_bg))
        if lift <= 0:
            continue
        scored.append((c * lift, term, c))
    scored.sort(reverse=True)
    return tuple((term, c) for _score, term, c in scored[:n])
