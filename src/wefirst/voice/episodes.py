"""Mobilization episodes in the database, their public JSON, and the sink that turns detector
events into episode rows and signed alerts."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, insert, or_, select, update

from wefirst.domain.clock import Clock, rfc3339
from wefirst.domain.ids import new_id
from wefirst.errors import FieldError, Invalid, NotFound
from wefirst.store.db import Database
from wefirst.store.tables_voice import voice_episodes, voice_posts
from wefirst.voice.alert_rules import AlertRule, rules_of
from wefirst.voice.brand_settings import brand_exists
from wefirst.voice.detector import DetectorEvent, Episode
from wefirst.webhooks import outbox


def _sample_json(s: Any) -> dict[str, Any]:
    return {"ref": s.ref, "text": s.text, "created_at": rfc3339(s.created_at), "engagement": s.engagement}


def hidden_refs(conn: Connection, refs: set[str]) -> set[str]:
    """Which of these sample refs (a post's URL, or its id when it has none) name a post that
    was deleted or whose author left: never shown again, even by a detector that still holds
    the post in memory."""
    if not refs:
        return set()
    p = voice_posts
    wanted = sorted(refs)
    rows = conn.execute(
        select(p.c.url, p.c.external_id).where(
            p.c.hidden.is_(True), or_(p.c.url.in_(wanted), p.c.external_id.in_(wanted))
        )
    )
    return {ref for r in rows for ref in (r.url, r.external_id) if ref in refs}


def forget_samples(conn: Connection, brand_ids: set[str], refs: set[str]) -> int:
    """Take these posts out of the brands' stored episode samples (the public evidence): a
    deleted post's text leaves the database, not only the page. Returns episodes changed."""
    if not brand_ids or not refs:
        return 0
    changed = 0
    rows = conn.execute(
        select(voice_episodes.c.id, voice_episodes.c.samples).where(
            voice_episodes.c.brand_id.in_(sorted(brand_ids))
        )
    ).all()
    for row in rows:
        kept = [x for x in row.samples if str(x.get("ref", "")) not in refs]
        if len(kept) != len(row.samples):
            conn.execute(update(voice_episodes).where(voice_episodes.c.id == row.id).values(samples=kept))
            changed += 1
    return changed


def upsert_episode(conn: Connection, ep: Episode, now: datetime) -> Any:
    gone = hidden_refs(conn, {s.ref for s in ep.samples})
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
        "posts": round(ep.posts),
        "expected": round(ep.expected, 3),
        "top_terms": [[t, c] for t, c in ep.top_terms],
        "top_reasons": [[r, c] for r, c in ep.top_reasons],
        "samples": [_sample_json(s) for s in ep.samples if s.ref not in gone],
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
    """Detector events → episode rows → webhooks (once per episode start and end), queued in
    the same transaction as the episode row, so an alert is never lost nor sent twice."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        max_age: timedelta,
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.max_age = max_age
        #: called after a commit that queued alerts (wakes the webhook worker)
        self.on_queued = on_queued
        self.keys_seen: set[str] = set()

    def __call__(self, events: list[DetectorEvent]) -> None:
        now = self.clock()
        queued = 0
        rules: dict[str, list[AlertRule]] = {}
        with self.db.write() as conn:
            for event in events:
                self.keys_seen.add(event.episode.key)
                row = upsert_episode(conn, event.episode, now)
                brand = event.episode.brand_id
                if brand not in rules:
                    rules[brand] = rules_of(conn, brand)
                if rules[brand]:
                    queued += self._by_rules(conn, event, row, rules[brand], now)
                    continue
                if event.kind == "updated":
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
                alerted[kind] = rfc3339(now)
                conn.execute(
                    update(voice_episodes).where(voice_episodes.c.id == row.id).values(alerted=alerted)
                )
                body = {"episode": episode_json(row)}
                queued += len(outbox.enqueue(conn, row.brand_id, f"voice.episode.{kind}", body, now))
        if queued and self.on_queued is not None:
            self.on_queued()

    def _by_rules(
        self, conn: Connection, event: DetectorEvent, row: Any, rules: list[AlertRule], now: datetime
    ) -> int:
        """The brand's alert rules decide (voice/alert_rules.py): each rule's `started` alert
        once the episode is big enough and still recent, its `ended` one after that."""
        ep = event.episode
        alerted = dict(row.alerted or {})
        recent = now - max(ep.detected_at, ep.peak_hour) <= self.max_age
        ended_recently = ep.end is not None and now - ep.end <= self.max_age
        sends: dict[str, list[str]] = {"started": [], "ended": []}
        for rule in rules:
            if not rule.wants(row.polarity, int(row.posts)):
                continue
            began, over = f"started:{rule.id}", f"ended:{rule.id}"
            if began not in alerted and recent and event.kind in ("started", "updated"):
                alerted[began] = rfc3339(now)
                sends["started"].append(rule.endpoint_id)
            elif began in alerted and over not in alerted and event.kind == "ended" and ended_recently:
                alerted[over] = rfc3339(now)
                sends["ended"].append(rule.endpoint_id)
        if not any(sends.values()):
            return 0
        conn.execute(update(voice_episodes).where(voice_episodes.c.id == row.id).values(alerted=alerted))
        body = {"episode": episode_json(row)}
        return sum(
            len(outbox.enqueue(conn, row.brand_id, f"voice.episode.{kind}", body, now, only=set(targets)))
            for kind, targets in sends.items()
            if targets
        )


def list_episodes(
    conn: Connection,
    brand_id: str,
    *,
    limit: int = 50,
    starting_after: str | None = None,
    polarity: str | None = None,
) -> tuple[list[Any], bool]:
    brand_exists(conn, brand_id)
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
