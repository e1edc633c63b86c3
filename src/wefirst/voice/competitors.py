"""The brands a brand compares itself with (share of voice): other brands of the platform,
counted from their own mentions, or plain names and handles, matched in the stream under a key
of their own (``vcmp_…``) from the moment they are named.

A plain-name competitor is listened to as a pseudo-brand: its mentions are stored like a
brand's (one row per post) so its daily counts cost what a brand's cost; the key is derived
from the naming brand and the name, so renaming nothing keeps its history and two brands naming
the same rival count it separately (each owns its list)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from wefirst.errors import FieldError, Invalid
from wefirst.store.tables_core import brands
from wefirst.store.tables_voice import voice_brand_settings, voice_mentions, voice_posts
from wefirst.voice.brand_settings import brand_exists, ensure_settings_row, touch
from wefirst.voice.filters import POLARITIES, VoiceFilter
from wefirst.voice.matching import BrandTerms, normalize

MAX_COMPETITORS = 10
MAX_TERMS = 20
KEY_PREFIX = "vcmp_"


def competitor_key(brand_id: str, name: str) -> str:
    digest = hashlib.sha256(f"{brand_id}\0{normalize(name.strip())}".encode()).hexdigest()
    return KEY_PREFIX + digest[:24]


def _terms(given: Sequence[str], name: str) -> BrandTerms:
    handles = [t for t in given if t.startswith("@")]
    hashtags = [t for t in given if t.startswith("#")]
    names = [t for t in given if not t.startswith(("@", "#"))] or ([] if handles or hashtags else [name])
    return BrandTerms("", names, (), handles, hashtags, ())


def validate(conn: Connection, brand_id: str, items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The stored form of a competitor list; every wrong entry is named (`competitors[i]…`)."""
    problems: list[FieldError] = []
    out: list[dict[str, Any]] = []
    if len(items) > MAX_COMPETITORS:
        too_many = FieldError("competitors", f"at most {MAX_COMPETITORS}")
        raise Invalid(f"at most {MAX_COMPETITORS} competitors", [too_many])
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = f"competitors[{i}]"
        other = item.get("brand_id")
        if other:
            other = str(other)
            exists = conn.execute(
                select(brands.c.id).where(brands.c.id == other, brands.c.livemode.is_(True))
            ).first()
            if other == brand_id:
                problems.append(FieldError(f"{where}.brand_id", "a brand is not its own competitor"))
            elif exists is None:
                problems.append(FieldError(f"{where}.brand_id", "no such brand"))
            elif other in seen:
                problems.append(FieldError(f"{where}.brand_id", "named twice"))
            else:
                seen.add(other)
                out.append({"brand_id": other})
            continue
        name = str(item.get("name") or "").strip()
        terms = [str(t).strip() for t in item.get("terms") or () if str(t).strip()]
        if not name or len(name) > 100:
            problems.append(FieldError(f"{where}.name", "1 to 100 characters"))
            continue
        if len(terms) > MAX_TERMS or any(len(t) > 100 for t in terms):
            problems.append(FieldError(f"{where}.terms", f"at most {MAX_TERMS} terms of 100 characters"))
            continue
        key = competitor_key(brand_id, name)
        if key in seen:
            problems.append(FieldError(f"{where}.name", "named twice"))
            continue
        seen.add(key)
        out.append({"name": name, "terms": terms, "key": key})
    if problems:
        raise Invalid("; ".join(f"{p.field}: {p.reason}" for p in problems), problems)
    return out


def put_competitors(conn: Connection, brand_id: str, items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    brand_exists(conn, brand_id)
    stored = validate(conn, brand_id, items)
    ensure_settings_row(conn, brand_id)
    touch(conn, brand_id, competitors=stored)  # a running listener picks the names up
    return get_competitors(conn, brand_id)


def stored(conn: Connection, brand_id: str) -> list[dict[str, Any]]:
    row = conn.execute(
        select(voice_brand_settings.c.competitors).where(voice_brand_settings.c.brand_id == brand_id)
    ).first()
    return list(row.competitors or []) if row else []


def get_competitors(conn: Connection, brand_id: str) -> dict[str, Any]:
    brand_exists(conn, brand_id)
    items = stored(conn, brand_id)
    names = _brand_names(conn, [c["brand_id"] for c in items if "brand_id" in c])
    data = [
        {"brand_id": c["brand_id"], "name": names.get(c["brand_id"], c["brand_id"])}
        if "brand_id" in c
        else {"name": c["name"], "terms": list(c.get("terms") or [])}
        for c in items
    ]
    return {"brand_id": brand_id, "competitors": data}


def _brand_names(conn: Connection, ids: Sequence[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = conn.execute(select(brands.c.id, brands.c.name).where(brands.c.id.in_(sorted(set(ids)))))
    return {r.id: r.name for r in rows}


def listened_terms(conn: Connection) -> list[BrandTerms]:
    """Every brand's plain-name competitors, as the matcher's pseudo-brands."""
    out: list[BrandTerms] = []
    for row in conn.execute(select(voice_brand_settings.c.competitors)):
        for c in row.competitors or ():
            if "key" in c:
                t = _terms(list(c.get("terms") or []), str(c["name"]))
                out.append(BrandTerms(str(c["key"]), t.names, (), t.handles, t.hashtags, ()))
    return out


@dataclass(frozen=True)
class Share:
    """One row of the share-of-voice table: a brand (or rival) and its mentions by polarity."""

    label: str
    own: bool
    counts: dict[str, int]
    share: float  # of all mentions in the table, 0..1

    @property
    def mentions(self) -> int:
        return sum(self.counts.values())

    def part(self, polarity: str) -> float:
        """This polarity's share of the row's own mentions, 0..1."""
        return self.counts.get(polarity, 0) / self.mentions if self.mentions else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.label,
            "own": self.own,
            "mentions": self.mentions,
            **{p: self.counts.get(p, 0) for p in POLARITIES},
            "share_of_voice": round(self.share, 4),
            **{f"{p}_share": round(self.part(p), 4) for p in POLARITIES},
        }


def share_of_voice(conn: Connection, brand_id: str, where: VoiceFilter) -> list[Share]:
    """The brand and its competitors over the filter's period: mentions, their split by
    polarity, and each one's share of all the mentions in the table (the brand first)."""
    from wefirst.voice.series import narrowed

    own = brand_exists(conn, brand_id)
    items = stored(conn, brand_id)
    names = _brand_names(conn, [c["brand_id"] for c in items if "brand_id" in c])
    rows: list[tuple[str, str, bool]] = [(brand_id, str(own.name), True)]
    for c in items:
        if "brand_id" in c:
            rows.append((c["brand_id"], names.get(c["brand_id"], c["brand_id"]), False))
        else:
            rows.append((str(c["key"]), str(c["name"]), False))
    m, p = voice_mentions, voice_posts
    query = narrowed(
        select(m.c.brand_id, m.c.polarity, func.count().label("n"))
        .select_from(m.join(p, p.c.seq == m.c.post_seq))
        .where(m.c.brand_id.in_([r[0] for r in rows]), p.c.hidden.is_(False))
        .group_by(m.c.brand_id, m.c.polarity),
        where,
    )
    counts: dict[str, dict[str, int]] = {}
    for r in conn.execute(query):
        counts.setdefault(r.brand_id, {})[str(r.polarity)] = int(r.n)
    total = sum(sum(c.values()) for c in counts.values())
    return [
        Share(label, is_own, counts.get(key, {}), sum(counts.get(key, {}).values()) / total if total else 0.0)
        for key, label, is_own in rows
    ]
