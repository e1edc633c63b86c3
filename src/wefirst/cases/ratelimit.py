"""Sliding-window limits keyed by hashed address or network, stored in the database so they
hold across API processes. A refused request records nothing (it changed nothing); an
accepted one records its event in the same transaction as its effect."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, insert, select

from wefirst.domain.clock import as_utc
from wefirst.errors import TooManyRequests
from wefirst.store.tables_cases import case_rate_events


@dataclass(frozen=True)
class Limit:
    key_hash: str
    limit: int
    what: str  # "this e-mail address" / "your network", for the message


def check_and_record(
    conn: Connection, action: str, limits: list[Limit], window: timedelta, now: datetime
) -> None:
    since = now - window
    for lim in limits:
        row = conn.execute(
            select(func.count(), func.min(case_rate_events.c.at)).where(
                case_rate_events.c.action == action,
                case_rate_events.c.key_hash == lim.key_hash,
                case_rate_events.c.at > since,
            )
        ).one()
        count: int = row[0]
        oldest: datetime | None = row[1]
        if count >= lim.limit:
            retry = int((as_utc(oldest) + window - now).total_seconds()) + 1 if oldest else 60
            raise TooManyRequests(
                f"too many {action} requests from {lim.what}: at most {lim.limit} per "
                f"{int(window.total_seconds() // 60)} minutes; try again later",
                retry_after=max(retry, 1),
            )
    for lim in limits:
        conn.execute(insert(case_rate_events).values(action=action, key_hash=lim.key_hash, at=now))


def prune(conn: Connection, older_than: datetime) -> int:
    """Rate events are working data, not history: drop those no window can see any more."""
    result = conn.execute(delete(case_rate_events).where(case_rate_events.c.at < older_than))
    return int(result.rowcount or 0)
