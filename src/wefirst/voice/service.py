"""The voice service: wires the pipeline (matcher, language, sentiment, post store, detector)
to the database and the detector's events to episode rows and alerts.

Online path (``wefirst voice listen``): on start the detector is warmed by replaying the last
days of stored mentions (once per process), then every new post is an O(1) update. Batch path
(``importing.import_file``): a historical file cannot be detected "online" against a live
clock, so after storing the new posts the detector of each affected brand is rebuilt from that
brand's stored mentions in time order, and the episodes are upserted on their deterministic
key — importing the same file twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select

from wefirst.domain.clock import Clock, utcnow
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_voice import voice_brand_settings, voice_episodes
from wefirst.voice.brand_settings import detector_overrides, load_brand_terms
from wefirst.voice.detector import DetectorConfig, DetectorEvent, MobilizationDetector
from wefirst.voice.episodes import EpisodeSink
from wefirst.voice.matching import BrandMatcher, BrandTerms
from wefirst.voice.pipeline import BatchResult, EmbedBound, Pipeline, SentimentPredictor
from wefirst.voice.post_store import DbPostStore, stored_observations
from wefirst.voice.posts import Post

WARM_UP_DAYS = 14


def default_language_detector() -> Callable[[str], str]:
    from wefirst.voice import language

    return language.detect


def default_sentiment() -> SentimentPredictor:
    from wefirst.voice import sentiment

    model: SentimentPredictor = sentiment.load_default_model()
    return model


@dataclass
class VoiceService:
    db: Database
    settings: Settings
    detect_language: Callable[[str], str] | None = None
    sentiment: SentimentPredictor | None = None
    clock: Clock = utcnow
    #: called after alerts were queued (the process's webhook worker `wake`)
    on_alert: Callable[[], None] | None = None
    use_source_labels: bool = False
    config: DetectorConfig | None = None
    #: how the pipeline bounds a batch's embedding pass (None: ``EmbedBound()``, for `listen`)
    bound: EmbedBound | None = None
    pipeline: Pipeline = field(init=False)
    overrides: dict[str, dict[str, Any]] = field(init=False, default_factory=dict)
    _stamp: tuple[int, str] | None = field(init=False, default=None)
    sink: EpisodeSink = field(init=False)

    def __post_init__(self) -> None:
        max_age = timedelta(seconds=self.settings.voice_alert_max_age_seconds)
        self.sink = EpisodeSink(self.db, self.clock, max_age, self.on_alert)
        self.pipeline = Pipeline(
            BrandMatcher([]),
            self.detect_language or default_language_detector(),
            self.sentiment or default_sentiment(),
            DbPostStore(self.db, self.clock),
            None,
            self.sink,
            self.use_source_labels,
            bound=self.bound,
        )
        self.reload_brands()

    def detector_config(self) -> DetectorConfig:
        return self.config or DetectorConfig(alpha=self.settings.voice_alpha)

    def new_detector(self) -> MobilizationDetector:
        base = self.detector_config()
        overrides = {b: replace(base, **o) for b, o in self.overrides.items()}
        return MobilizationDetector(
            base, drop_terms=self.pipeline.matcher.brand_terms(), brand_configs=overrides
        )

    def reload_brands(self) -> list[BrandTerms]:
        with self.db.read() as conn:
            terms = load_brand_terms(conn)
            self.overrides = detector_overrides(conn)
        self.pipeline.matcher = BrandMatcher(terms)
        self.pipeline.detector = self.new_detector()
        return terms

    def refresh(self) -> bool:
        """Pick up brands' new settings (names, handles, sensitivity) while listening, keeping
        the detector's learned baselines; True when something changed."""
        with self.db.read() as conn:
            stamp = conn.execute(
                select(func.count(), func.max(voice_brand_settings.c.updated_at)).select_from(
                    voice_brand_settings
                )
            ).one()
        key = (int(stamp[0]), str(stamp[1]))
        if key == self._stamp:
            return False
        self._stamp = key
        with self.db.read() as conn:
            terms = load_brand_terms(conn)
            self.overrides = detector_overrides(conn)
        self.pipeline.matcher = BrandMatcher(terms)
        if self.pipeline.detector is not None:
            base = self.detector_config()
            self.pipeline.detector.configure(
                {b: replace(base, **o) for b, o in self.overrides.items()},
                self.pipeline.matcher.brand_terms(),
            )
        return True

    def ingest(self, posts: Iterable[Post]) -> BatchResult:
        return self.pipeline.process(posts)

    def tick(self) -> list[DetectorEvent]:
        return self.pipeline.tick(self.clock())

    def warm_up(self, days: int = WARM_UP_DAYS) -> int:
        """Replay recent stored mentions through a fresh detector (start of `listen`)."""
        since = self.clock() - timedelta(days=days)
        detector = self.pipeline.detector = self.new_detector()
        events: list[DetectorEvent] = []
        n = 0
        for obs in stored_observations(self.db, None, since):
            events.extend(detector.observe(obs))
            n += 1
        events.extend(detector.advance(self.clock()))
        if events:
            # upserts on the episode key; alerts only for what is recent and not yet alerted
            self.sink(events)
        return n

    def rebuild(self, brand_ids: Iterable[str]) -> list[DetectorEvent]:
        """Batch path: re-detect the brands' whole stored history, upsert their episodes,
        and drop earlier episodes of theirs that the new run no longer finds (never alerted)."""
        ids = sorted(set(brand_ids))
        if not ids:
            return []
        detector = self.new_detector()
        events: list[DetectorEvent] = []
        last: datetime | None = None
        for obs in stored_observations(self.db, ids, None):
            events.extend(detector.observe(obs))
            last = obs.created_at
        if last is not None:
            # close what the data closes (quiet hours after the last post, up to now)
            events.extend(detector.advance(min(self.clock(), last + timedelta(days=2))))
        self.sink.keys_seen.clear()
        if events:
            self.sink(events)
        with self.db.write() as conn:
            stale = [
                r.id
                for r in conn.execute(
                    select(voice_episodes.c.id, voice_episodes.c.key, voice_episodes.c.alerted).where(
                        voice_episodes.c.brand_id.in_(ids)
                    )
                )
                if r.key not in self.sink.keys_seen and not r.alerted
            ]
            if stale:
                conn.execute(delete(voice_episodes).where(voice_episodes.c.id.in_(stale)))
        return events
