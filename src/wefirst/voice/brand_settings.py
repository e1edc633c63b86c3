"""A brand's voice settings: the names, handles and hashtags that say a post is about it,
its live sources and its detector sensitivity."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, insert, select, update

from wefirst.domain.clock import rfc3339, utcnow
from wefirst.errors import FieldError, Invalid, NotFound
from wefirst.store.tables_core import brands
from wefirst.store.tables_voice import voice_brand_settings
from wefirst.voice.detector import DetectorConfig
from wefirst.voice.matching import BrandTerms

LIST_FIELDS = ("names", "aliases", "handles", "hashtags", "exclusions")


def brand_exists(conn: Connection, brand_id: str) -> Any:
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
    brand_exists(conn, brand_id)
    row = conn.execute(
        select(voice_brand_settings).where(voice_brand_settings.c.brand_id == brand_id)
    ).first()
    return settings_json(brand_id, row)


def put_voice_settings(conn: Connection, brand_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Replace a brand's voice settings (validated by the API model or the caller)."""
    brand_exists(conn, brand_id)
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


def brand_name(conn: Connection, brand_id: str) -> str:
    return str(brand_exists(conn, brand_id).name)
