"""The one rate limiter: "at most N per sliding window" per scope and key, kept in the database
so that every API process on every host shares the same budgets.

Each accepted request leaves one row per limit (`rate_limit_hits`); a refused one leaves
nothing, so an attacker hammering a closed door costs no storage. The check and the record run
in the caller's write transaction: when the caller's own work fails and rolls back, the budget
it took comes back with it, and an accepted request is recorded atomically with its effect.

No overshoot under concurrency: on SQLite a write transaction holds the database's write lock
(`BEGIN IMMEDIATE`, see `store/db.py`); on PostgreSQL each (scope, key) takes a transaction
advisory lock before counting, so two transactions spending the same budget queue up instead of
both reading "one left". Locks are taken in one global order, so two requests sharing several
budgets cannot deadlock on them.

The window is exact (a log of hits, not fixed buckets): "5 per hour" never lets 10 through
around a bucket boundary, and the refusal says exactly when the oldest hit leaves the window.
Live rows are bounded by the limits themselves (at most N per key): `take` deletes the expired
rows of the keys it touches, and `prune` (run by the periodic sweeps) those of keys that never
came back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, insert, select, text

from wefirst.domain.clock import as_utc
from wefirst.errors import TooManyRequests
from wefirst.store.tables_shared import rate_limit_hits

_ADVISORY = text("SELECT pg_advisory_xact_lock(:k)")


@dataclass(frozen=True)
class Limit:
    """One budget: at most `limit` hits per `window` for `key` in `scope`.

    `key` is a pseudonym (see `wefirst.pseudonyms`), never an address in clear; `what` names
    the holder in the refusal ("this e-mail address", "your network")."""

    scope: str
    key: str
    limit: int
    window: timedelta
    what: str


def _lock_id(lim: Limit) -> int:
    """A signed 64-bit advisory lock id per (scope, key); a collision only serialises two
    unrelated budgets, it never merges them (the count reads exact rows)."""
    digest = hashlib.sha256(f"wefirst.ratelimit\x00{lim.scope}\x00{lim.key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _window_words(window: timedelta) -> str:
    seconds = int(window.total_seconds())
    if seconds % 86400 == 0:
        return f"{seconds // 86400} day(s)" if seconds != 86400 else "day"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} hours" if seconds != 3600 else "hour"
    if seconds % 60 == 0:
        return f"{seconds // 60} minutes" if seconds != 60 else "minute"
    return f"{seconds} seconds"


def take(conn: Connection, limits: Sequence[Limit], now: datetime, *, action: str = "") -> None:
    """Spend one hit from every budget in `limits`, or none: raises `TooManyRequests` (with the
    seconds until the first refusing budget has room again) and records nothing. Must run in a
    write transaction (`Database.write()`), before or with the work it guards."""
    now = as_utc(now)
    if conn.dialect.name == "postgresql":
        for lock in sorted({_lock_id(lim) for lim in limits}):
            conn.execute(_ADVISORY, {"k": lock})
    h = rate_limit_hits.c
    for lim in limits:
        conn.execute(
            delete(rate_limit_hits).where(h.scope == lim.scope, h.key == lim.key, h.expires_at <= now)
        )
        since = now - lim.window
        row = conn.execute(
            select(func.count(), func.min(h.at)).where(h.scope == lim.scope, h.key == lim.key, h.at > since)
        ).one()
        count: int = row[0]
        oldest: datetime | None = row[1]
        if count >= lim.limit:
            retry = int((as_utc(oldest) + lim.window - now).total_seconds()) + 1 if oldest else 1
            raise TooManyRequests(
                f"too many {action or lim.scope} requests from {lim.what}: at most {lim.limit} per "
                f"{_window_words(lim.window)}; try again later",
                retry_after=max(retry, 1),
            )
    conn.execute(
        insert(rate_limit_hits),
        [{"scope": lim.scope, "key": lim.key, "at": now, "expires_at": now + lim.window} for lim in limits],
    )


def remaining(conn: Connection, lim: Limit, now: datetime) -> int:
    """How many hits `lim` still allows now (a read: spends nothing, locks nothing)."""
    h = rate_limit_hits.c
    used = conn.execute(
        select(func.count()).where(h.scope == lim.scope, h.key == lim.key, h.at > as_utc(now) - lim.window)
    ).scalar_one()
    return max(lim.limit - int(used), 0)


def give_back(conn: Connection, lim: Limit, now: datetime) -> int:
    """Undo the hit `take` recorded for `lim` at `now` (e.g. a sign-in attempt that turned out
    to be the owner's right password); returns how many rows went."""
    h = rate_limit_hits.c
    newest = (
        select(h.seq)
        .where(h.scope == lim.scope, h.key == lim.key, h.at == as_utc(now))
        .order_by(h.seq.desc())
        .limit(1)
        .scalar_subquery()
    )
    return int(conn.execute(delete(rate_limit_hits).where(h.seq == newest)).rowcount or 0)


def prune(conn: Connection, now: datetime) -> int:
    """Delete hits no window can see any more; returns how many."""
    result = conn.execute(delete(rate_limit_hits).where(rate_limit_hits.c.expires_at <= as_utc(now)))
    return int(result.rowcount or 0)
