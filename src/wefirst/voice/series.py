"""Mention counts per hour or day for a brand's chart, narrowed by a `VoiceFilter`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, func, select

from wefirst.domain.clock import as_utc, rfc3339
from wefirst.errors import FieldError, Invalid
from wefirst.store.tables_voice import voice_mentions, voice_posts
from wefirst.voice.brand_settings import brand_exists
from wefirst.voice.filters import VoiceFilter
from wefirst.voice.post_store import floor_hour


def narrowed(query: Select[Any], where: VoiceFilter) -> Select[Any]:
    """The filter's conditions on a query over mentions joined to their posts."""
    m, p = voice_mentions, voice_posts
    if where.language:
        query = query.where(m.c.language == where.language)
    if where.source:
        query = query.where(p.c.source == where.source)
    if where.polarity:
        query = query.where(m.c.polarity == where.polarity)
    if where.start is not None:
        query = query.where(m.c.hour >= floor_hour(where.start))
    if where.end is not None:
        query = query.where(m.c.hour < as_utc(where.end))
    return query


def series(
    conn: Connection,
    brand_id: str,
    *,
    granularity: str = "hour",
    by: str | None = "polarity",
    start: datetime | None = None,
    end: datetime | None = None,
    where: VoiceFilter | None = None,
) -> dict[str, Any]:
    """Mention counts per hour or day, split by polarity or language (or not at all)."""
    if granularity not in ("hour", "day"):
        raise Invalid("granularity must be hour or day", [FieldError("granularity", "hour|day")])
    if by not in (None, "polarity", "language"):
        raise Invalid("by must be polarity or language", [FieldError("by", "polarity|language")])
    brand_exists(conn, brand_id)
    where = where or VoiceFilter()
    if start is not None or end is not None:
        where = VoiceFilter(where.language, where.source, where.polarity, start, end)
    m, p = voice_mentions, voice_posts
    cols: list[Any] = [m.c.hour]
    if by:
        cols.append(m.c[by])
    query = narrowed(
        select(*cols, func.count().label("n"))
        .select_from(m.join(p, p.c.seq == m.c.post_seq))
        .where(m.c.brand_id == brand_id, p.c.hidden.is_(False))
        .group_by(*cols)
        .order_by(m.c.hour),
        where,
    )
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
