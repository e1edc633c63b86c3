"""Voice service: wires the pipeline to the database, episodes to alerts, and answers the
API's questions (settings, series, episodes).

Online path (``wefirst voice listen``): on start the detector is warmed by replaying the last
days of stored mentions (once per process), then every new post is an O(1) update. Batch path
(``import_file``): a historical file cannot be detected "online" against a live clock, so after
storing the new posts the detector of each affected brand is rebuilt from that brand's stored
mentions in time order, and the episodes are upserted on their deterministic key — importing
the same file twice changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, select, update

from wefirst.domain.clock import as_utc, rfc3339, utcnow
from wefirst.domain.ids import new_id
from wefirst.errors import FieldError, Invalid, NotFound
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_core import brands
from wefirst.store.tables_voice import (
    voice_alert_attempts,
    voice_alert_endpoints,
    voice_brand_settings,
    voice_episodes,
    voice_mentions,
    voice_posts,
)
from wefirst.voice.alerts import (
    AlertEvent,
    Attempt,
    Dispatcher,
    Endpoint,
    HttpxTransport,
    MemoryTransport,
    Transport,
)
from wefirst.voice.detector import (
    DetectorConfig,
    DetectorEvent,
    Episode,
    MobilizationDetector,
    Observation,
)
from wefirst.voice.matching import BrandMatcher, BrandTerms
from wefirst.voice.pipeline import Analysed, BatchResult, Pipeline, SentimentPredictor
from wefirst.voice.posts import Deletion, Post
from wefirst.voice.sources.files import ColumnMapping, read_file

Clock = Callable[[], datetime]
LIST_FIELDS = ("names", "aliases", "handles", "hashtags", "exclusions")
WARM_UP_DAYS = 14


def author_salt(settings: Settings) -> bytes:
    if settings.voice_author_salt:
        return settings.voice_author_salt.encode()
    return hmac.new(settings.secret_key.encode(), b"voice-author-salt", hashlib.sha256).digest()


def floor_hour(t: datetime) -> datetime:
    return as_utc(t).replace(minute=0, second=0, microsecond=0)


# --------------------------------------------------------------------------- settings


def _brand_exists(conn: Connection, brand_id: str) -> Any:
    row = conn.execute(select(brands.c.id, brands.c.name).where(brands.c.id == brand_id)).first()
    if row is None:
        raise NotFound(f"brand {brand_id} does not exist")
    return row


def settings_json(brand_id: str, row: Any | None) -> dict[str, Any]:
    if row is None:
        return {
            "brand_id": brand_id,
            **{f: [] for f in LIST_FIELDS},
            "sources": {"mastodon": [], "bluesky": False, "rss": []},
            "detector": {},
            "updated_at": None,
        }
    return {
        "brand_id": brand_id,
        **{f: list(row._mapping[f]) for f in LIST_FIELDS},
        "sources": row.sources,
        "detector": row.detector,
        "updated_at": rfc3339(row.updated_at),
    }


def get_voice_settings(conn: Connection, brand_id: str) -> dict[str, Any]:
    _brand_exists(conn, brand_id)
    row = conn.execute(
        select(voice_brand_settings).where(voice_brand_settings.c.brand_id == brand_id)
    ).first()
    return settings_json(brand_id, row)


def put_voice_settings(conn: Connection, brand_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Replace a brand's voice settings (validated by the API model or the caller)."""
    _brand_exists(conn, brand_id)
    values: dict[str, Any] = {f: [str(x) for x in data.get(f, [])] for f in LIST_FIELDS}
    values["sources"] = dict(data.get("sources") or {"mastodon": [], "bluesky": False, "rss": []})
    values["detector"] = dict(data.get("detector") or {})
    if values["detector"]:
        try:
            DetectorConfig(**values["detector"])
        except (TypeError, ValueError) as exc:
            raise Invalid(f"detector: {exc}", [FieldError("detector", str(exc))]) from exc
    now = utcnow()
    exists = conn.execute(
        select(voice_brand_settings.c.brand_id).where(voice_brand_settings.c.brand_id == brand_id)
    ).first()
    if exists:
        conn.execute(
            update(voice_brand_settings)
            .where(voice_brand_settings.c.brand_id == brand_id)
            .values(**values, updated_at=now)
        )
    else:
        conn.execute(insert(voice_brand_settings).values(brand_id=brand_id, **values, updated_at=now))
    return get_voice_settings(conn, brand_id)


def load_brand_terms(conn: Connection) -> list[BrandTerms]:
    rows = conn.execute(select(voice_brand_settings)).all()
    return [BrandTerms(r.brand_id, r.names, r.aliases, r.handles, r.hashtags, r.exclusions) for r in rows]


def detector_overrides(conn: Connection) -> dict[str, dict[str, Any]]:
    rows = conn.execute(select(voice_brand_settings.c.brand_id, voice_brand_settings.c.detector))
    return {r.brand_id: dict(r.detector) for r in rows if r.detector}


# --------------------------------------------------------------------------- alert endpoints


def endpoint_json(row: Any, secret: str | None = None) -> dict[str, Any]:
    out = {
        "id": row.id,
        "brand_id": row.brand_id,
        "url": row.url,
        "active": row.active,
        "created_at": rfc3339(row.created_at),
    }
    if secret is not None:
        out["secret"] = secret  # shown once
    return out


def create_endpoint(conn: Connection, brand_id: str, url: str) -> dict[str, Any]:
    _brand_exists(conn, brand_id)
    secret = "whsec_" + secrets.token_urlsafe(32)
    endpoint_id = new_id("hook")
    conn.execute(
        insert(voice_alert_endpoints).values(
            id=endpoint_id, brand_id=brand_id, url=url, secret=secret, active=True, created_at=utcnow()
        )
    )
    row = conn.execute(select(voice_alert_endpoints).where(voice_alert_endpoints.c.id == endpoint_id)).one()
    return endpoint_json(row, secret)


def list_endpoints(conn: Connection, brand_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(voice_alert_endpoints)
        .where(voice_alert_endpoints.c.brand_id == brand_id)
        .order_by(voice_alert_endpoints.c.seq)
    ).all()
    return [endpoint_json(r) for r in rows]


def delete_endpoint(conn: Connection, brand_id: str, endpoint_id: str) -> None:
    done = conn.execute(
        update(voice_alert_endpoints)
        .where(voice_alert_endpoints.c.id == endpoint_id, voice_alert_endpoints.c.brand_id == brand_id)
        .values(active=False)
    )
    if done.rowcount == 0:
        raise NotFound(f"alert endpoint {endpoint_id} does not exist")


def active_endpoints(conn: Connection, brand_id: str) -> list[Endpoint]:
    rows = conn.execute(
        select(voice_alert_endpoints).where(
            voice_alert_endpoints.c.brand_id == brand_id, voice_alert_endpoints.c.active.is_(True)
        )
    ).all()
    return [Endpoint(r.id, r.brand_id, r.url, (r.secret,)) for r in rows]


def list_attempts(conn: Connection, brand_id: str, limit: int = 100) -> list[dict[str, Any]]:
    j = voice_alert_attempts.join(
        voice_alert_endpoints, voice_alert_endpoints.c.id == voice_alert_attempts.c.endpoint_id
    )
    rows = conn.execute(
        select(voice_alert_attempts)
        .select_from(j)
        .where(voice_alert_endpoints.c.brand_id == brand_id)
        .order_by(voice_alert_attempts.c.seq.desc())
        .limit(limit)
    ).all()
    return [
        {
            "delivery_id": r.delivery_id,
            "endpoint_id": r.endpoint_id,
            "event_id": r.event_id,
            "event_type": r.event_type,
            "attempt": r.attempt,
            "attempted_at": rfc3339(r.attempted_at),
            "status": r.status,
            "error": r.error,
            "ok": r.ok,
            "next_at": rfc3339(r.next_at) if r.next_at else None,
        }
        for r in rows
    ]


# --------------------------------------------------------------------------- storage


class DbPostStore:
    """Idempotent on (source, external_id); one transaction per batch."""

    def __init__(self, db: Database, clock: Clock = utcnow) -> None:
        self.db = db
        self.clock = clock

    def save(self, items: Sequence[Analysed]) -> list[bool]:
        if not items:
            return []
        now = self.clock()
        with self.db.write() as conn:
            existing = _existing_keys(conn, [a.post.key for a in items])
            fresh: list[bool] = []
            rows: list[dict[str, Any]] = []
            for a in items:
                key = a.post.key
                is_new = key not in existing
                fresh.append(is_new)
                if is_new:
                    existing.add(key)
                    rows.append(_post_row(a, now))
            if rows:
                conn.execute(insert(voice_posts), rows)
                seqs = _seqs(conn, [(r["source"], r["external_id"]) for r in rows])
                mentions = [
                    {
                        "post_seq": seqs[a.post.key],
                        "brand_id": m.brand_id,
                        "hour": floor_hour(a.post.created_at),
                        "language": a.language,
                        "polarity": a.sentiment,
                    }
                    for a, is_new in zip(items, fresh, strict=True)
                    if is_new
                    for m in a.matches
                ]
                if mentions:
                    conn.execute(insert(voice_mentions), mentions)
        return fresh


def _post_row(a: Analysed, now: datetime) -> dict[str, Any]:
    p = a.post
    return {
        "source": p.source,
        "external_id": p.external_id[:500],
        "author_hash": p.author_hash,
        "text": p.text,
        "language": a.language[:8],
        "created_at": p.created_at,
        "url": (p.url or None) and p.url[:1000],
        "replies": p.engagement.replies,
        "reposts": p.engagement.reposts,
        "likes": p.engagement.likes,
        "sentiment": a.sentiment,
        "sentiment_score": a.score,
        "reason": p.reason[:64] if p.reason else None,
        "hidden": False,
        "ingested_at": now,
    }


def _chunks(items: Sequence[Any], n: int = 400) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


def _existing_keys(conn: Connection, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    by_source: dict[str, list[str]] = defaultdict(list)
    for source, ext in keys:
        by_source[source].append(ext[:500])
    for source, exts in by_source.items():
        for chunk in _chunks(sorted(set(exts))):
            rows = conn.execute(
                select(voice_posts.c.external_id).where(
                    voice_posts.c.source == source, voice_posts.c.external_id.in_(chunk)
                )
            )
            found.update((source, r.external_id) for r in rows)
    return found


def _seqs(conn: Connection, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    by_source: dict[str, list[str]] = defaultdict(list)
    for source, ext in keys:
        by_source[source].append(ext)
    for source, exts in by_source.items():
        for chunk in _chunks(exts):
            rows = conn.execute(
                select(voice_posts.c.seq, voice_posts.c.external_id).where(
                    voice_posts.c.source == source, voice_posts.c.external_id.in_(chunk)
                )
            )
            out.update({(source, r.external_id): r.seq for r in rows})
    return out


def hide(db: Database, deletion: Deletion) -> int:
    """Deletes and deactivated accounts hide posts (kept out of series, samples and exports)."""
    cond = [voice_posts.c.source == deletion.source, voice_posts.c.hidden.is_(False)]
    if deletion.external_id:
        cond.append(voice_posts.c.external_id == deletion.external_id)
    elif deletion.author_hash:
        cond.append(voice_posts.c.author_hash == deletion.author_hash)
    else:
        return 0
    with db.write() as conn:
        return conn.execute(update(voice_posts).where(*cond).values(hidden=True)).rowcount


# --------------------------------------------------------------------------- episodes


def _sample_json(s: Any) -> dict[str, Any]:
    return {"ref": s.ref, "text": s.text, "created_at": rfc3339(s.created_at), "engagement": s.engagement}


def upsert_episode(conn: Connection, ep: Episode, now: datetime) -> Any:
    values = {
        "brand_id": ep.brand_id,
        "polarity": ep.polarity,
        "status": "ended" if ep.end else "open",
        "start": ep.start,
        "detected_at": ep.detected_at,
        "end": ep.end,
        "peak_hour": ep.peak_hour,
        "peak_count": ep.peak_count,
        "peak_expected": round(ep.peak_expected, 3),
        "posts": ep.posts,
        "expected": round(ep.expected, 3),
        "top_terms": [[t, c] for t, c in ep.top_terms],
        "top_reasons": [[r, c] for r, c in ep.top_reasons],
        "samples": [_sample_json(s) for s in ep.samples],
        "updated_at": now,
    }
    row = conn.execute(select(voice_episodes).where(voice_episodes.c.key == ep.key)).first()
    if row is None:
        conn.execute(insert(voice_episodes).values(id=new_id("ep"), key=ep.key, alerted={}, **values))
    else:
        if not ep.samples:  # an update without new evidence keeps the evidence it had
            for k in ("top_terms", "top_reasons", "samples"):
                values.pop(k)
        conn.execute(update(voice_episodes).where(voice_episodes.c.key == ep.key).values(**values))
    return conn.execute(select(voice_episodes).where(voice_episodes.c.key == ep.key)).one()


_MENTION = re.compile(r"(?<![\w@])@[\w.]+(?:@[\w.-]+)?")


def mask_mentions(text: str) -> str:
    """Sample posts are public evidence, but the people they @mention did not write them:
    their handles are masked in what we republish (the link to the original remains)."""
    return _MENTION.sub("@…", text)


def episode_json(row: Any) -> dict[str, Any]:
    ratio = row.peak_count / max(row.peak_expected, 0.5)
    return {
        "id": row.id,
        "brand_id": row.brand_id,
        "polarity": row.polarity,
        "kind": "backlash" if row.polarity == "negative" else "praise",
        "status": row.status,
        "start": rfc3339(row.start),
        "detected_at": rfc3339(row.detected_at),
        "end": rfc3339(row.end) if row.end else None,
        "peak_hour": rfc3339(row.peak_hour),
        "peak_count": row.peak_count,
        "peak_expected": row.peak_expected,
        "peak_ratio": round(ratio, 2),
        "posts": row.posts,
        "expected": row.expected,
        "excess": round(max(row.posts - row.expected, 0.0), 1),
        "top_terms": [{"term": t, "posts": c} for t, c in row.top_terms],
        "top_reasons": [{"reason": r, "posts": c} for r, c in row.top_reasons],
        "samples": [{**x, "text": mask_mentions(str(x.get("text", "")))} for x in row.samples],
        "updated_at": rfc3339(row.updated_at),
    }


class EpisodeSink:
    """Detector events → episode rows → signed alerts (once per episode start and end)."""

    def __init__(self, db: Database, dispatcher: Dispatcher | None, clock: Clock, max_age: timedelta) -> None:
        self.db = db
        self.dispatcher = dispatcher
        self.clock = clock
        self.max_age = max_age
        self.keys_seen: set[str] = set()

    def __call__(self, events: list[DetectorEvent]) -> None:
        now = self.clock()
        outgoing: list[tuple[AlertEvent, list[Endpoint]]] = []
        with self.db.write() as conn:
            for event in events:
                self.keys_seen.add(event.episode.key)
                row = upsert_episode(conn, event.episode, now)
                if self.dispatcher is None or event.kind == "updated":
                    continue
                alerted = dict(row.alerted or {})
                kind = event.kind
                if kind in alerted:
                    continue
                when = event.episode.detected_at if kind == "started" else event.episode.end
                if when is None or now - when > self.max_age:
                    continue  # history (an import): stored, not paged
                if kind == "ended" and "started" not in alerted:
                    continue
                endpoints = active_endpoints(conn, row.brand_id)
                alerted[kind] = rfc3339(now)
                conn.execute(
                    update(voice_episodes).where(voice_episodes.c.id == row.id).values(alerted=alerted)
                )
                if endpoints:
                    body = {"episode": episode_json(row)}
                    outgoing.append(
                        (AlertEvent(new_id("evt"), f"voice.episode.{kind}", now, body), endpoints)
                    )
        if self.dispatcher is not None:
            for alert, endpoints in outgoing:
                self.dispatcher.submit(alert, endpoints)


def attempt_recorder(db: Database) -> Callable[[Attempt], None]:
    def record(a: Attempt) -> None:
        with db.write() as conn:
            conn.execute(
                insert(voice_alert_attempts).values(
                    delivery_id=a.delivery_id,
                    endpoint_id=a.endpoint_id,
                    event_id=a.event_id,
                    event_type=_event_types.get(a.event_id, "voice.episode"),
                    body=_bodies.get(a.event_id, ""),
                    attempt=a.attempt,
                    attempted_at=a.at,
                    status=a.status,
                    error=a.error,
                    ok=a.ok,
                    next_at=a.next_at,
                )
            )

    return record


def _endpoint(conn: Connection, endpoint_id: str) -> Endpoint | None:
    row = conn.execute(select(voice_alert_endpoints).where(voice_alert_endpoints.c.id == endpoint_id)).first()
    if row is None or not row.active:
        return None
    return Endpoint(row.id, row.brand_id, row.url, (row.secret,))


def resume_pending(db: Database, dispatcher: Dispatcher) -> int:
    """Re-queue deliveries whose last logged attempt failed and had a retry planned (the
    retry schedule survives a restart of `listen`)."""
    a = voice_alert_attempts
    latest = select(a.c.delivery_id, func.max(a.c.attempt).label("n")).group_by(a.c.delivery_id).subquery()
    with db.read() as conn:
        rows = conn.execute(
            select(a)
            .join(latest, and_(a.c.delivery_id == latest.c.delivery_id, a.c.attempt == latest.c.n))
            .where(a.c.ok.is_(False), a.c.next_at.is_not(None))
        ).all()
        resumed = 0
        for r in rows:
            endpoint = _endpoint(conn, r.endpoint_id)
            if endpoint is None or not r.body:
                continue
            event = AlertEvent.from_body(r.body)
            _bodies[event.id] = r.body
            _event_types[event.id] = event.type
            dispatcher.schedule(event, endpoint, r.delivery_id, r.attempt, as_utc(r.next_at))
            resumed += 1
    return resumed


def replay_delivery(db: Database, dispatcher: Dispatcher, brand_id: str, delivery_id: str) -> dict[str, Any]:
    """Send a logged delivery again now (the brand's "replay" button), freshly signed, as a
    new delivery of the same event; every attempt is logged like the first ones."""
    a = voice_alert_attempts
    with db.read() as conn:
        row = conn.execute(
            select(a).where(a.c.delivery_id == delivery_id).order_by(a.c.attempt.desc())
        ).first()
        endpoint = _endpoint(conn, row.endpoint_id) if row is not None else None
    if row is None or endpoint is None or endpoint.brand_id != brand_id:
        raise NotFound(f"delivery {delivery_id} does not exist (or its endpoint was removed)")
    event = AlertEvent.from_body(row.body)
    [attempt] = dispatcher.submit(event, [endpoint])
    return {
        "delivery_id": attempt.delivery_id,
        "event_id": attempt.event_id,
        "attempt": attempt.attempt,
        "ok": attempt.ok,
        "status": attempt.status,
        "error": attempt.error,
        "attempted_at": rfc3339(attempt.at),
        "next_at": rfc3339(attempt.next_at) if attempt.next_at else None,
    }


# the body and type of each event, for the attempt log (bounded: recent events only)
_bodies: dict[str, str] = {}
_event_types: dict[str, str] = {}


class _LoggingDispatcher(Dispatcher):
    def submit(self, event: AlertEvent, endpoints: Iterable[Endpoint]) -> list[Attempt]:
        if len(_bodies) > 10_000:
            _bodies.clear()
            _event_types.clear()
        _bodies[event.id] = event.body().decode()
        _event_types[event.id] = event.type
        return super().submit(event, endpoints)


def default_transport(settings: Settings) -> Transport:
    return MemoryTransport() if settings.voice_alert_transport == "memory" else HttpxTransport()


def alert_dispatcher(db: Database, transport: Transport, clock: Clock = utcnow) -> Dispatcher:
    """A dispatcher whose every attempt lands in `voice_alert_attempts`."""
    return _LoggingDispatcher(
        transport, clock, record=attempt_recorder(db), new_delivery_id=lambda: new_id("dly")
    )


# --------------------------------------------------------------------------- the service


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
    transport: Transport | None = None
    use_source_labels: bool = False
    config: DetectorConfig | None = None
    pipeline: Pipeline = field(init=False)
    overrides: dict[str, dict[str, Any]] = field(init=False, default_factory=dict)
    _stamp: tuple[int, str] | None = field(init=False, default=None)
    dispatcher: Dispatcher = field(init=False)
    sink: EpisodeSink = field(init=False)

    def __post_init__(self) -> None:
        if self.transport is None:
            self.transport = default_transport(self.settings)
        self.dispatcher = alert_dispatcher(self.db, self.transport, self.clock)
        self.sink = EpisodeSink(
            self.db, self.dispatcher, self.clock, timedelta(seconds=self.settings.voice_alert_max_age_seconds)
        )
        self.pipeline = Pipeline(
            BrandMatcher([]),
            self.detect_language or default_language_detector(),
            self.sentiment or default_sentiment(),
            DbPostStore(self.db, self.clock),
            None,
            self.sink,
            self.use_source_labels,
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

    def close(self) -> None:
        close = getattr(self.transport, "close", None)
        if close is not None:
            close()

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
        events = self.pipeline.tick(self.clock())
        self.dispatcher.run_due()
        return events

    def warm_up(self, days: int = WARM_UP_DAYS) -> int:
        """Replay recent stored mentions through a fresh detector (start of `listen`)."""
        since = self.clock() - timedelta(days=days)
        detector = self.pipeline.detector = self.new_detector()
        events: list[DetectorEvent] = []
        n = 0
        for obs in _stored_observations(self.db, None, since):
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
        for obs in _stored_observations(self.db, ids, None):
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


def _stored_observations(
    db: Database, brand_ids: Sequence[str] | None, since: datetime | None
) -> Iterable[Observation]:
    p, m = voice_posts, voice_mentions
    query = (
        select(
            m.c.brand_id,
            m.c.polarity,
            p.c.created_at,
            p.c.text,
            p.c.reason,
            p.c.url,
            p.c.external_id,
            (p.c.likes + p.c.reposts + p.c.replies).label("eng"),
        )
        .select_from(m.join(p, p.c.seq == m.c.post_seq))
        .where(p.c.hidden.is_(False))
        .order_by(p.c.created_at, p.c.seq)
    )
    if brand_ids is not None:
        query = query.where(m.c.brand_id.in_(brand_ids))
    if since is not None:
        query = query.where(p.c.created_at >= since)
    with db.read() as conn:
        rows = conn.execute(query).all()
    for r in rows:
        yield Observation(
            r.brand_id,
            r.polarity,
            as_utc(r.created_at),
            r.url or r.external_id,
            r.text,
            r.reason,
            int(r.eng or 0),
        )


# --------------------------------------------------------------------------- import


@dataclass
class ImportReport:
    path: str
    preset: str
    rows: int
    posts: int
    matched: int
    new: int
    errors: list[tuple[int, str]]
    episodes: int
    brands: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.__dict__,
            "errors": [list(e) for e in self.errors[:50]],
            "error_count": len(self.errors),
        }


def import_file(
    db: Database,
    path: str | Path,
    *,
    settings: Settings | None = None,
    mapping: ColumnMapping | None = None,
    preset: str | None = None,
    use_source_labels: bool = False,
    detect_language: Callable[[str], str] | None = None,
    sentiment: SentimentPredictor | None = None,
    progress: bool = True,
    batch_size: int = 2000,
    clock: Clock = utcnow,
    shift_to: datetime | None = None,
) -> ImportReport:
    """Import a CSV/JSONL file of posts for every brand with voice settings; idempotent.

    The posts go through the whole pipeline (match, language, sentiment, store); then the
    affected brands' episodes are re-detected from their stored history. ``shift_to`` moves
    every post by a whole number of weeks so the last one falls in the week before it (the
    demo shows 2015 tweets as recent ones, with their hours and weekdays kept as they were).
    """
    settings = settings or Settings()
    path = Path(path)
    read = read_file(path, author_salt(settings), mapping=mapping, preset=preset)
    if shift_to is not None and read.posts:
        weeks = (as_utc(shift_to) - read.posts[-1].created_at) // timedelta(days=7)
        delta = timedelta(days=7 * weeks)
        read.posts = [replace(p, created_at=p.created_at + delta) for p in read.posts]
    service = VoiceService(
        db,
        settings,
        detect_language=detect_language,
        sentiment=sentiment,
        clock=clock,
        use_source_labels=use_source_labels,
    )
    service.pipeline.detector = None  # batch path: detection runs once, after storage
    total = BatchResult()
    touched: set[str] = set()

    def run_batches(advance: Callable[[int], None]) -> None:
        for i in range(0, len(read.posts), batch_size):
            chunk = read.posts[i : i + batch_size]
            seen, analysed = service.pipeline.analyse(chunk)
            fresh = service.pipeline.store.save(analysed)
            total.seen += seen
            total.matched += len(analysed)
            for a, is_new in zip(analysed, fresh, strict=True):
                if is_new:
                    total.new += 1
                    touched.update(m.brand_id for m in a.matches)
            advance(len(chunk))

    if progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=False,
        ) as bar:
            task = bar.add_task(f"importing {path.name}", total=len(read.posts))
            run_batches(lambda n: bar.advance(task, n))
    else:
        run_batches(lambda _n: None)
    events = service.rebuild(touched) if touched else []
    service.close()
    return ImportReport(
        path=str(path),
        preset=read.preset,
        rows=read.rows,
        posts=len(read.posts),
        matched=total.matched,
        new=total.new,
        errors=[(e.line, e.reason) for e in read.errors],
        episodes=len({e.episode.key for e in events}),
        brands=sorted(touched),
    )


# --------------------------------------------------------------------------- reads


def series(
    conn: Connection,
    brand_id: str,
    *,
    granularity: str = "hour",
    by: str | None = "polarity",
    start: datetime | None = None,
    end: datetime | None = None,
) -> dict[str, Any]:
    """Mention counts per hour or day, split by polarity or language (or not at all)."""
    if granularity not in ("hour", "day"):
        raise Invalid("granularity must be hour or day", [FieldError("granularity", "hour|day")])
    if by not in (None, "polarity", "language"):
        raise Invalid("by must be polarity or language", [FieldError("by", "polarity|language")])
    _brand_exists(conn, brand_id)
    m, p = voice_mentions, voice_posts
    cols: list[Any] = [m.c.hour]
    if by:
        cols.append(m.c[by])
    query = (
        select(*cols, func.count().label("n"))
        .select_from(m.join(p, p.c.seq == m.c.post_seq))
        .where(m.c.brand_id == brand_id, p.c.hidden.is_(False))
        .group_by(*cols)
        .order_by(m.c.hour)
    )
    if start is not None:
        query = query.where(m.c.hour >= floor_hour(start))
    if end is not None:
        query = query.where(m.c.hour < as_utc(end))
    buckets: dict[datetime, dict[str, int]] = {}
    for row in conn.execute(query):
        t = as_utc(row.hour)
        if granularity == "day":
            t = t.replace(hour=0)
        key = str(row[1]) if by else "all"
        slot = buckets.setdefault(t, {})
        slot[key] = slot.get(key, 0) + int(row.n)
    points = [{"t": rfc3339(t), "counts": c, "total": sum(c.values())} for t, c in sorted(buckets.items())]
    return {"brand_id": brand_id, "granularity": granularity, "by": by, "data": points}


def list_episodes(
    conn: Connection,
    brand_id: str,
    *,
    limit: int = 50,
    starting_after: str | None = None,
    polarity: str | None = None,
) -> tuple[list[Any], bool]:
    _brand_exists(conn, brand_id)
    e = voice_episodes
    query = select(e).where(e.c.brand_id == brand_id)
    if polarity:
        query = query.where(e.c.polarity == polarity)
    if starting_after:
        anchor = conn.execute(
            select(e.c.start, e.c.seq).where(e.c.id == starting_after, e.c.brand_id == brand_id)
        ).first()
        if anchor is None:
            raise Invalid(
                "starting_after is not an episode of this brand", [FieldError("starting_after", "unknown id")]
            )
        query = query.where(
            (e.c.start < anchor.start) | and_(e.c.start == anchor.start, e.c.seq < anchor.seq)
        )
    rows = list(conn.execute(query.order_by(e.c.start.desc(), e.c.seq.desc()).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


def get_episode(conn: Connection, brand_id: str, episode_id: str) -> Any:
    row = conn.execute(
        select(voice_episodes).where(voice_episodes.c.id == episode_id, voice_episodes.c.brand_id == brand_id)
    ).first()
    if row is None:
        raise NotFound(f"episode {episode_id} does not exist")
    return row


def brand_name(conn: Connection, brand_id: str) -> str:
    return str(_brand_exists(conn, brand_id).name)


# --------------------------------------------------------------------------- demo data

#: The six airlines of the shared airline data set (the README's "Delta" rows are @JetBlue).
#: Handles are what the tweets address; names alone ("United", "American") are too ambiguous.
AIRLINES: dict[str, dict[str, Any]] = {
    "United": {
        "brand": "United Airlines",
        "website": "https://www.united.com",
        "names": ["United Airlines"],
        "handles": ["united"],
        "hashtags": ["unitedairlines", "flyunited"],
    },
    "US Airways": {
        "brand": "US Airways",
        "website": "https://www.usairways.com",
        "names": ["US Airways", "USAirways"],
        "handles": ["USAirways"],
        "hashtags": ["usairways"],
    },
    "American": {
        "brand": "American Airlines",
        "website": "https://www.aa.com",
        "names": ["American Airlines"],
        "handles": ["AmericanAir"],
        "hashtags": ["americanairlines"],
    },
    "Southwest": {
        "brand": "Southwest Airlines",
        "website": "https://www.southwest.com",
        "names": ["Southwest Airlines"],
        "handles": ["SouthwestAir"],
        "hashtags": ["southwestair", "southwestairlines"],
    },
    "JetBlue": {
        "brand": "JetBlue",
        "website": "https://www.jetblue.com",
        "names": ["JetBlue", "Jet Blue"],
        "handles": ["JetBlue"],
        "hashtags": ["jetblue"],
    },
    "Virgin America": {
        "brand": "Virgin America",
        "website": "https://www.virginamerica.com",
        "names": ["Virgin America"],
        "handles": ["VirginAmerica"],
        "hashtags": ["virginamerica"],
    },
}


def ensure_airline_brands(db: Database, detector: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Create (once) the airline brands and their voice settings; {airline: brand_id}.

    For the demo and the detection evaluation on ``../shared/data/voice/airline_*.csv``."""
    from wefirst.catalog.models import BrandIn
    from wefirst.catalog.service import create_brand

    out: dict[str, str] = {}
    with db.write() as conn:
        for airline, spec in AIRLINES.items():
            row = conn.execute(select(brands.c.id).where(brands.c.name == spec["brand"])).first()
            brand_id = (
                row.id
                if row
                else create_brand(conn, BrandIn(name=spec["brand"], website=spec["website"]))["id"]
            )
            put_voice_settings(
                conn,
                brand_id,
                {**{k: spec.get(k, []) for k in LIST_FIELDS}, "detector": dict(detector or {})},
            )
            out[airline] = brand_id
    return out


# --------------------------------------------------------------------------- live listening


def live_sources(conn: Connection) -> dict[str, Any]:
    """The union of every brand's configured live sources (one connection per source, the
    matcher then assigns posts to brands)."""
    mastodon: dict[tuple[str, bool], set[str]] = defaultdict(set)
    streams: set[tuple[str, bool, tuple[str, ...], str]] = set()
    rss: set[str] = set()
    bluesky = False
    for row in conn.execute(select(voice_brand_settings.c.sources)):
        src = row.sources or {}
        for m in src.get("mastodon") or ():
            tags = tuple(sorted(h.lstrip("#") for h in m.get("hashtags") or ()))
            if m.get("token_env"):
                # streaming needs a user token (Mastodon >= 4.2); the settings only name the
                # environment variable that holds it, the token itself is never stored
                streams.add((str(m["server"]), bool(m.get("public")), tags, str(m["token_env"])))
            else:
                mastodon[(str(m["server"]), bool(m.get("public")))].update(tags)
        rss.update(src.get("rss") or ())
        bluesky = bluesky or bool(src.get("bluesky"))
    return {
        "mastodon": [(server, public, sorted(tags)) for (server, public), tags in sorted(mastodon.items())],
        "mastodon_streams": sorted(streams),
        "rss": sorted(rss),
        "bluesky": bluesky,
    }


def listen(
    db: Database,
    settings: Settings,
    *,
    once: bool = False,
    duration: float | None = None,
    console: Any = None,
    service: VoiceService | None = None,
) -> dict[str, int]:
    """`wefirst voice listen`: poll Mastodon timelines and RSS feeds every
    ``voice_poll_seconds``, stream Bluesky Jetstream in a thread, and push what arrives through
    the pipeline about once a second (a group commit, not one per post)."""
    import os
    import queue
    import threading
    import time

    from wefirst.voice.sources.mastodon import MastodonSource
    from wefirst.voice.sources.rss import FeedFetcher

    svc = service or VoiceService(db, settings)
    svc.warm_up()
    resume_pending(db, svc.dispatcher)
    salt = author_salt(settings)
    with db.read() as conn:
        sources = live_sources(conn)
    inbox: queue.Queue[Post | Deletion] = queue.Queue()
    stop = threading.Event()
    stats = {"posts": 0, "matched": 0, "new": 0, "deletions": 0, "events": 0, "errors": 0}
    mastodons = [
        MastodonSource(server, salt, hashtags=tags, public=public)
        for server, public, tags in sources["mastodon"]
    ]
    feeds = FeedFetcher(salt)
    for server, public, tags, token_env in sources["mastodon_streams"]:
        token = os.environ.get(token_env)
        if token is None:
            stats["errors"] += 1
            if console is not None:
                console.print(f"mastodon {server}: ${token_env} is not set; not streaming")
            continue
        streamer = MastodonSource(server, salt, hashtags=list(tags), public=public, access_token=token)
        threading.Thread(
            target=_mastodon_worker,
            args=(streamer, inbox, stop),
            daemon=True,
            name=f"voice-mastodon-{server}",
        ).start()
    if sources["bluesky"] and not once:
        threading.Thread(
            target=_bluesky_worker, args=(settings, salt, inbox, stop), daemon=True, name="voice-jetstream"
        ).start()

    def poll() -> None:
        if svc.refresh():  # a brand changed its settings: new terms, maybe new sources
            with db.read() as conn:
                fresh = live_sources(conn)
            known = {(m.api_base_url, m.public, tuple(m.hashtags)) for m in mastodons}
            for server, public, tags in fresh["mastodon"]:
                if (server.rstrip("/"), public, tuple(tags)) not in known:
                    mastodons.append(MastodonSource(server, salt, hashtags=tags, public=public))
            sources["rss"] = fresh["rss"]
        for source in mastodons:
            try:
                for p in source.poll():
                    inbox.put(p)
            except Exception as exc:  # a server down must not stop the others
                stats["errors"] += 1
                if console is not None:
                    console.print(f"mastodon {source.api_base_url}: {exc}", highlight=False)
        for url in sources["rss"]:
            for p in feeds.fetch(url):
                inbox.put(p)

    def flush(batch: list[Post]) -> None:
        if batch:
            result = svc.ingest(batch)
            stats["posts"] += result.seen
            stats["matched"] += result.matched
            stats["new"] += result.new
            stats["events"] += len(result.events)
            batch.clear()

    def drain() -> None:
        batch: list[Post] = []
        while True:
            try:
                item = inbox.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, Deletion):
                flush(batch)  # a delete may concern a post of this very batch
                stats["deletions"] += hide(db, item)
            else:
                batch.append(item)
        flush(batch)
        stats["events"] += len(svc.tick())

    started = time.monotonic()
    next_poll = 0.0
    try:
        while True:
            now = time.monotonic()
            if now >= next_poll:
                poll()
                next_poll = now + settings.voice_poll_seconds
            drain()
            if once or (duration is not None and now - started >= duration):
                break
            time.sleep(1.0)
    finally:
        stop.set()
        feeds.close()
        if service is None:
            svc.close()
    return stats


def _mastodon_worker(source: Any, inbox: Any, stop: Any) -> None:
    """Stream until told to stop; reconnect with backoff when the server closes or fails."""
    delay = 1.0
    while not stop.is_set():
        try:
            source.stream(inbox.put)
            delay = 1.0
        except Exception:  # network errors of any kind: wait, then reconnect
            delay = min(delay * 2, 60.0)
        stop.wait(delay)


def _bluesky_worker(settings: Settings, salt: bytes, inbox: Any, stop: Any) -> None:
    import asyncio

    from wefirst.voice.sources.bluesky import JetstreamSource

    async def consume() -> None:
        source = JetstreamSource(salt, url=settings.voice_jetstream_url)
        async for item in source.events(reconnect=True):
            if stop.is_set():
                return
            inbox.put(item)

    asyncio.run(consume())


DEMO_DATA = (
    Path(__file__).resolve().parents[3].parent / "shared" / "data" / "voice" / ("airline_tweets_2015_dev.csv")
)


def demo_step(ctx: Any) -> None:
    """Adapter for `wefirst.demo.EXTRA_STEPS` (takes the demo's `DemoContext`): when the shared
    airline data is present, create the six airline brands and import it, moved to the last
    weeks, so a newcomer sees real series and episodes without connecting anything. The data
    is read in place (its licence forbids shipping it) and nothing is alerted."""
    import os

    path = Path(os.environ.get("WEFIRST_VOICE_DEMO_DATA", str(DEMO_DATA)))
    if not path.exists():
        return
    # brands get alpha 1e-3: the demo should show the smaller episodes too (docs/voice-detection.md)
    ids = ensure_airline_brands(ctx.db, detector={"alpha": 1e-3})
    import_file(ctx.db, path, settings=ctx.settings, shift_to=utcnow(), progress=True)
    ctx.ids.update({f"voice_{name}": brand_id for name, brand_id in ids.items()})
    base = f"{ctx.base_url}/v1/brands/{ids['JetBlue']}/voice"
    ctx.urls["Voice episodes (API)"] = f"{base}/episodes"
    ctx.urls["Voice episodes (Atom)"] = f"{base}/episodes.atom"
