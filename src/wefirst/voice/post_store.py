"""Posts and their brand mentions in the database: idempotent writes, hides, and the stored
history read back as detector observations."""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from wefirst.domain.clock import Clock, as_utc, utcnow
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_voice import voice_mentions, voice_posts
from wefirst.voice.detector import Observation
from wefirst.voice.episodes import forget_samples
from wefirst.voice.pipeline import Analysed, detector_probabilities
from wefirst.voice.posts import Deletion


def author_salt(settings: Settings) -> bytes:
    if settings.voice_author_salt:
        return settings.voice_author_salt.encode()
    return hmac.new(settings.secret_key.encode(), b"voice-author-salt", hashlib.sha256).digest()


def floor_hour(t: datetime) -> datetime:
    return as_utc(t).replace(minute=0, second=0, microsecond=0)


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
        "reason": p.reason,
        "hidden": False,
        "ingested_at": now,
        "p_negative": a.p_negative,
        "p_positive": a.p_positive,
        "estimated": a.estimated,
        "irony": a.irony,
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
    """Deletes and deactivated accounts hide posts (kept out of series, samples and exports),
    and their text leaves the episodes' stored samples in the same transaction."""
    p = voice_posts
    cond = [p.c.source == deletion.source, p.c.hidden.is_(False)]
    if deletion.external_id:
        cond.append(p.c.external_id == deletion.external_id)
    elif deletion.author_hash:
        cond.append(p.c.author_hash == deletion.author_hash)
    else:
        return 0
    with db.write() as conn:
        gone = conn.execute(select(p.c.url, p.c.external_id).where(*cond)).all()
        if not gone:
            return 0
        m = voice_mentions
        brands = {
            r.brand_id
            for r in conn.execute(
                select(m.c.brand_id).distinct().join(p, p.c.seq == m.c.post_seq).where(*cond)
            )
        }
        n = conn.execute(update(p).where(*cond).values(hidden=True)).rowcount
        refs = {ref for g in gone for ref in (g.url, g.external_id) if ref}
        forget_samples(conn, brands, refs)
        return int(n)


def stored_observations(
    db: Database, brand_ids: Sequence[str] | None, since: datetime | None
) -> Iterable[Observation]:
    """The stored mentions as the detector saw them live (``pipeline.observation``): the
    model's probabilities after the irony discount, the author, whether the probabilities were
    an estimate — so `voice import`'s re-detection and `listen`'s warm-up find the episodes the
    live path finds. Rows stored before migration 0030 have no probabilities: their polarity
    counts whole, as it always did. In time order: the same episodes as the live path where
    posts arrived in time order (live, a post older than its brand's open hour is stored but
    skipped by the detector, ``late_posts``; here it counts in its hour)."""
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
            p.c.author_hash,
            p.c.p_negative,
            p.c.p_positive,
            p.c.estimated,
            p.c.irony,
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
        p_neg, p_pos = detector_probabilities(r.p_negative, r.p_positive, bool(r.irony))
        yield Observation(
            r.brand_id,
            r.polarity,
            as_utc(r.created_at),
            r.url or r.external_id,
            r.text,
            r.reason,
            int(r.eng or 0),
            r.author_hash or "",
            p_neg,
            p_pos,
            bool(r.estimated),
        )
