"""Per-campaign daily sums of the ledger accounts the pages show, kept per process and
updated incrementally: the ledger is append-only, so the sums of transactions up to a
watermark never change, and a page view only reads the transactions after it. Rows younger
than `SETTLE_SECONDS` are re-read on every view instead of being folded in, because on
PostgreSQL a sequence number can become visible after a larger one (two writers committing
out of order).

`Warmup` fills the roll-ups in the background when the app starts: a campaign's first view
otherwise reads its whole ledger (seconds for half a million pledges, see
docs/benchmarks.md), and the first visitor after a deploy should not wait for it. A view that
arrives while its campaign is warming waits for that work instead of repeating it."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, bindparam, func, or_, select

from wefirst.background import BackgroundThread
from wefirst.domain.clock import utcnow
from wefirst.ledger import accounts
from wefirst.store.db import Database
from wefirst.store.tables_core import campaigns, ledger_postings, ledger_transactions

log = logging.getLogger("wefirst.ledger.rollups")

SETTLE_SECONDS = 60
SERIES_ACCOUNTS = (
    accounts.COMMITMENTS,
    accounts.FUNDED,
    accounts.PAID_UNCONFIRMED,
    accounts.PAID_CONFIRMED,
    accounts.PAID_DISPUTED,
    accounts.DELIVERED,
    accounts.DELIVERED_BEYOND,
)
DaySums = dict[date, dict[str, int]]


def as_day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


@dataclass
class _Rolled:
    watermark: int = 0
    days: DaySums = field(default_factory=dict)
    # what views get: a copy made only when a fold changed something (callers only read it)
    snapshot: DaySums = field(default_factory=dict)


@lru_cache(maxsize=1)
def _first_young() -> Any:
    """Built once with bind parameters: building a SQLAlchemy statement costs more CPU than
    running it on a warm roll-up, and the pages of 20 campaign cards ran it 20 times a view."""
    t = ledger_transactions
    return select(func.min(t.c.seq)).where(
        t.c.campaign_id == bindparam("campaign_id"),
        t.c.seq > bindparam("after"),
        t.c.created_at >= bindparam("settled_before"),
    )


@lru_cache(maxsize=4)
def _aggregate_statement(dialect: str, bounded: bool) -> Any:
    t, p = ledger_transactions, ledger_postings
    if dialect == "postgresql":
        day: Any = func.to_char(func.timezone("UTC", t.c.occurred_at), "YYYY-MM-DD")
    else:  # SQLite keeps UTC times as ISO text
        day = func.substr(t.c.occurred_at, 1, 10)
    query = (
        select(
            day.label("day"),
            p.c.account,
            func.sum(p.c.amount).label("total"),
            func.max(t.c.seq).label("top"),
        )
        .join(p, p.c.txn_id == t.c.id)
        .where(
            t.c.campaign_id == bindparam("campaign_id"),
            t.c.seq > bindparam("after"),
            # plain comparisons, not IN: an IN list is an "expanding" parameter that
            # SQLAlchemy re-renders into the SQL text on every execution (~2 ms of CPU each,
            # 20 times per page of cards)
            or_(*(p.c.account == a for a in SERIES_ACCOUNTS)),
        )
        .group_by(day, p.c.account)
    )
    if bounded:
        query = query.where(t.c.seq < bindparam("before"))
    return query


class Rollups:
    """Per-campaign daily sums of the ledger accounts the pages show, kept up to date
    incrementally. One instance per app (`Services.rollups`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_campaign: dict[str, _Rolled] = {}
        self._locks: dict[str, threading.Lock] = {}

    def _read(self, conn: Connection, campaign_id: str, after: int) -> list[Any]:
        """Rows one by one: only for the young tail, which is small."""
        t, p = ledger_transactions, ledger_postings
        return list(
            conn.execute(
                select(t.c.seq, t.c.occurred_at, p.c.account, p.c.amount)
                .join(p, p.c.txn_id == t.c.id)
                .where(t.c.campaign_id == campaign_id, t.c.seq > after, p.c.account.in_(SERIES_ACCOUNTS))
            )
        )

    def _aggregate(self, conn: Connection, campaign_id: str, after: int, before: int | None) -> list[Any]:
        """Sums per day and account of the transactions in (after, before), added up by the
        database: a campaign's first view reads its whole ledger, and only ~1,000 rows come
        back instead of one per posting."""
        params: dict[str, Any] = {"campaign_id": campaign_id, "after": after}
        if before is not None:
            params["before"] = before
        return list(conn.execute(_aggregate_statement(conn.dialect.name, before is not None), params))

    def days(self, conn: Connection, campaign_id: str) -> DaySums:
        """The campaign's sums per day. Read-only: without young rows every view shares one
        copy (copying a year of days for each of 20 cards was a good part of a page's CPU)."""
        with self._lock:
            rolled = self._by_campaign.setdefault(campaign_id, _Rolled())
            lock = self._locks.setdefault(campaign_id, threading.Lock())
        with lock:  # one reader per campaign folds; the others wait for its result
            settled_before = utcnow() - timedelta(seconds=SETTLE_SECONDS)
            # fold into the cache only what precedes the first transaction still too young
            first_young = conn.execute(
                _first_young(),
                {"campaign_id": campaign_id, "after": rolled.watermark, "settled_before": settled_before},
            ).scalar()
            folded = self._aggregate(conn, campaign_id, rolled.watermark, first_young)
            for row in folded:
                day = rolled.days.setdefault(as_day(row.day), {})
                day[row.account] = day.get(row.account, 0) + int(row.total)
                rolled.watermark = max(rolled.watermark, int(row.top))
            if folded or (rolled.days and not rolled.snapshot):
                rolled.snapshot = {d: dict(s) for d, s in rolled.days.items()}
            if first_young is None:
                return rolled.snapshot
            merged = {d: dict(s) for d, s in rolled.snapshot.items()}
            tail = self._read(conn, campaign_id, int(first_young) - 1)
        for r in tail:
            day = merged.setdefault(as_day(r.occurred_at), {})
            day[r.account] = day.get(r.account, 0) + int(r.amount)
        return merged


class Warmup(BackgroundThread):
    """Background thread that rolls up the newest active campaigns once, at start (the one
    start/stop of background.py; it stays here, beside the roll-ups it fills)."""

    thread_name = "wefirst-rollup-warmup"

    def __init__(self, db: Database, rollups: Rollups, limit: int = 1000) -> None:
        super().__init__()
        self.db = db
        self.rollups = rollups
        self.limit = limit

    def _run(self) -> None:
        try:
            with self.db.read() as conn:
                ids: list[str] = list(
                    conn.execute(
                        select(campaigns.c.id)
                        .where(campaigns.c.status == "active", campaigns.c.livemode.is_(True))
                        .order_by(campaigns.c.seq.desc())
                        .limit(self.limit)
                    ).scalars()
                )
            for campaign_id in ids:
                if self._stop.is_set():
                    return
                with self.db.read() as conn:
                    self.rollups.days(conn, campaign_id)
        except Exception:  # a failed warm-up only means slower first views
            log.warning("page roll-up warm-up stopped", exc_info=True)
