"""A brand's voice settings: the names, handles and hashtags that say a post is about it,
its live sources and its detector sensitivity.

A Mastodon source may carry the brand's own access token (streaming needs one). It is sealed
like connector secrets (AES-GCM, bound to the brand and the server), stored only sealed, and
never returned. A brand never names what the server reads: the old `token_env` (the name of an
environment variable of `wefirst voice listen`) let a brand send WEFIRST_SECRET_KEY, the
database URL or the SMTP password as a Bearer token to a server of its choosing."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, Protocol

from sqlalchemy import Connection, insert, select, update

from wefirst.domain.clock import rfc3339, utcnow
from wefirst.errors import FieldError, Invalid, NotFound
from wefirst.settings import Settings
from wefirst.store.tables_core import brands
from wefirst.store.tables_voice import voice_brand_settings
from wefirst.voice.detector import DetectorConfig
from wefirst.voice.matching import BrandTerms

LIST_FIELDS = ("names", "aliases", "handles", "hashtags", "exclusions")
SEALED = "token_sealed"


class Sealer(Protocol):
    def seal(self, plaintext: str, *, bound_to: str) -> bytes: ...

    def open(self, blob: bytes, *, bound_to: str) -> str: ...


def token_binding(brand_id: str, server: str) -> str:
    """Associated data of a sealed token: copied onto another brand or server, it does not open."""
    return f"voice-mastodon-token:{brand_id}:{server}"


def open_token(box: Sealer, brand_id: str, source: Mapping[str, Any]) -> str | None:
    sealed = source.get(SEALED)
    if not sealed:
        return None
    return box.open(base64.b64decode(sealed), bound_to=token_binding(brand_id, str(source["server"])))


def _public_sources(sources: Mapping[str, Any]) -> dict[str, Any]:
    """What the brand may read back: a sealed token shows as `has_token`, never in any form."""
    out = dict(sources)
    out["mastodon"] = [
        {**{k: v for k, v in m.items() if k != SEALED}, "has_token": bool(m.get(SEALED))}
        for m in sources.get("mastodon") or ()
    ]
    return out


def _sealed_sources(
    brand_id: str, given: Mapping[str, Any], before: Mapping[str, Any], box: Sealer | None
) -> dict[str, Any]:
    """Seal given tokens; a source given without a `token` key keeps the sealed token it had
    for the same server; `"token": null` removes it."""
    kept = {str(m["server"]): m.get(SEALED) for m in before.get("mastodon") or () if m.get(SEALED)}
    out = dict(given)
    mastodon = []
    for m in given.get("mastodon") or ():
        entry = {k: v for k, v in m.items() if k not in ("token", SEALED, "token_env")}
        server = str(m["server"])
        if "token" not in m:
            if kept.get(server):
                entry[SEALED] = kept[server]
        elif m["token"]:
            if box is None:
                raise Invalid("tokens need the secret box", [FieldError("sources.mastodon", "unavailable")])
            blob = box.seal(str(m["token"]), bound_to=token_binding(brand_id, server))
            entry[SEALED] = base64.b64encode(blob).decode("ascii")
        mastodon.append(entry)
    out["mastodon"] = mastodon
    return out


def refuse_unreachable(settings: Settings, urls: list[tuple[str, str]]) -> None:
    """Early answers from the outbound guard for the addresses a brand gives (its sources,
    its alert endpoints); the guard itself decides again at send time."""
    from wefirst.outbound import OutboundPolicy

    policy = OutboundPolicy.from_settings(settings)
    problems = [FieldError(field, why) for field, url in urls if (why := policy.refused_at_registration(url))]
    if problems:
        raise Invalid("; ".join(f"{p.field}: {p.reason}" for p in problems), problems)


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
        "sources": _public_sources(row.sources or {}),
        "detector": row.detector,
        "updated_at": rfc3339(row.updated_at),
    }


def get_voice_settings(conn: Connection, brand_id: str) -> dict[str, Any]:
    brand_exists(conn, brand_id)
    row = conn.execute(
        select(voice_brand_settings).where(voice_brand_settings.c.brand_id == brand_id)
    ).first()
    return settings_json(brand_id, row)


def put_voice_settings(
    conn: Connection, brand_id: str, data: Mapping[str, Any], box: Sealer | None = None
) -> dict[str, Any]:
    """Replace a brand's voice settings (validated by the API model or the caller); Mastodon
    tokens are sealed with `box` (see the module docstring)."""
    brand_exists(conn, brand_id)
    values: dict[str, Any] = {f: [str(x) for x in data.get(f, [])] for f in LIST_FIELDS}
    before = conn.execute(
        select(voice_brand_settings.c.sources).where(voice_brand_settings.c.brand_id == brand_id)
    ).scalar()
    values["sources"] = _sealed_sources(
        brand_id, data.get("sources") or {"mastodon": [], "bluesky": False, "rss": []}, before or {}, box
    )
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


def ensure_settings_row(conn: Connection, brand_id: str) -> None:
    """An empty settings row, so competitors or alert rules can be set before any name."""
    exists = conn.execute(
        select(voice_brand_settings.c.brand_id).where(voice_brand_settings.c.brand_id == brand_id)
    ).first()
    if exists is None:
        conn.execute(
            insert(voice_brand_settings).values(
                brand_id=brand_id,
                **{f: [] for f in LIST_FIELDS},
                sources={"mastodon": [], "bluesky": False, "rss": []},
                detector={},
                updated_at=utcnow(),
            )
        )


def touch(conn: Connection, brand_id: str, **values: Any) -> None:
    """Change some columns of a brand's settings and its `updated_at` (what a running
    listener watches to reload the brands)."""
    conn.execute(
        update(voice_brand_settings)
        .where(voice_brand_settings.c.brand_id == brand_id)
        .values(**values, updated_at=utcnow())
    )


def load_brand_terms(conn: Connection) -> list[BrandTerms]:
    """Every brand's terms, and the plain-name competitors brands listen for (voice/competitors.py)."""
    from wefirst.voice.competitors import listened_terms

    rows = conn.execute(select(voice_brand_settings)).all()
    own = [BrandTerms(r.brand_id, r.names, r.aliases, r.handles, r.hashtags, r.exclusions) for r in rows]
    return own + listened_terms(conn)


def detector_overrides(conn: Connection) -> dict[str, dict[str, Any]]:
    rows = conn.execute(select(voice_brand_settings.c.brand_id, voice_brand_settings.c.detector))
    return {r.brand_id: dict(r.detector) for r in rows if r.detector}


def brand_name(conn: Connection, brand_id: str) -> str:
    return str(brand_exists(conn, brand_id).name)
