"""The six airlines of the shared airline data set, as brands (demo, import preset, evaluation)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from wefirst.store.db import Database
from wefirst.store.tables_core import brands
from wefirst.voice.brand_settings import LIST_FIELDS, put_voice_settings

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
