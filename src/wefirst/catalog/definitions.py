"""Campaign definitions and brands kept per process, exact across processes.

Why: every event needs its campaign's definition (rules, caps, unit, dates) and its brand's
order salt; reading them in every transaction cost three statements per event, a third of the
write path's round trips (issue 18).

Why it stays exact: every change to a campaign, its status included, makes a new version
(`catalog.service._change`), so the definition stored for (campaign, version) never changes.
A caller asks for the version it already read in its own transaction (one small query, or a
column of a query it makes anyway) and gets the definition of exactly that version; a change
made by another process is seen as soon as its version is. Brands' order salts are set once
at creation and never change.

Keys include the engine's identity, so two databases in one process (tests, CLI commands)
never share an entry."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, bindparam, select

from wefirst.catalog.service import Loaded, get_brand, load_campaign
from wefirst.errors import NotFound
from wefirst.store.tables_core import campaigns

_MAX = 4096  # entries; the whole map is dropped when full (old versions are never asked again)
_loaded: dict[tuple[int, str, int], Loaded] = {}
_brands: dict[tuple[int, str], Row[Any]] = {}
_VERSION = select(campaigns.c.version).where(campaigns.c.id == bindparam("c"))


def at_version(conn: Connection, campaign_id: str, version: int) -> Loaded:
    """The definition of `campaign_id` as of `version`, read at most once per process."""
    key = (id(conn.engine), campaign_id, version)
    loaded = _loaded.get(key)
    if loaded is None:
        loaded = load_campaign(conn, campaign_id)
        if int(loaded.row.version) != version:  # changed since the caller's read: not cached
            return loaded
        if len(_loaded) >= _MAX:
            _loaded.clear()
        _loaded[key] = loaded
    return loaded


def current(conn: Connection, campaign_id: str) -> Loaded:
    """The campaign's definition as this transaction sees it: one one-column query."""
    version = conn.execute(_VERSION, {"c": campaign_id}).scalar()
    if version is None:
        raise NotFound(f"campaign {campaign_id} does not exist")
    return at_version(conn, campaign_id, int(version))


def brand(conn: Connection, brand_id: str) -> Row[Any]:
    """A brand's row as created (the engine reads its immutable order salt)."""
    key = (id(conn.engine), brand_id)
    row = _brands.get(key)
    if row is None:
        row = get_brand(conn, brand_id)
        if len(_brands) >= _MAX:
            _brands.clear()
        _brands[key] = row
    return row
