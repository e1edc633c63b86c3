"""Read models for the pages: campaign cards, per-day ledger series, the latest log entries of
a campaign, settlements and deliveries. Writes go through the ledger and catalog services; this
module only reads. The per-day series comes from the ledger's roll-ups
(`wefirst.ledger.rollups`, one per app on `Services.rollups`)."""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Any

from sqlalchemy import Connection, func, select

from wefirst.domain.clock import utcnow
from wefirst.ledger import accounts
from wefirst.ledger.balances import Balance, balance_from_sums
from wefirst.ledger.rollups import DaySums, as_day
from wefirst.ledger.verdict import Verdict, payment_terms, verdict
from wefirst.store.tables_core import (
    beneficiaries,
    brands,
    campaigns,
    deliveries,
    impact_units,
    settlements,
)
from wefirst.store.tables_tlog import tlog_entries, tlog_index
from wefirst.tlog.publishers import PublisherClicks


def _sum_days(days: DaySums) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for sums in days.values():
        for account, amount in sums.items():
            out[account] += amount
    return dict(out)


_TOTALS: dict[int, tuple[DaySums, dict[str, int]]] = {}
_TOTALS_LOCK = threading.Lock()
_TOTALS_MAX = 512


def totals(days: DaySums) -> dict[str, int]:
    """Sums over every day. The roll-up hands every view of a settled campaign the same
    snapshot object until new transactions fold in, and summing a year of days for each of 20
    cards was the largest part of a page's CPU: the sums are kept per snapshot, found by
    identity (the entry holds the snapshot, so its id cannot be reused while it is cached).
    A merged dict (young rows) is a new object: summed afresh. Callers only read both."""
    key = id(days)
    with _TOTALS_LOCK:
        found = _TOTALS.get(key)
    if found is not None and found[0] is days:
        return found[1]
    summed = _sum_days(days)
    with _TOTALS_LOCK:
        if len(_TOTALS) >= _TOTALS_MAX:
            _TOTALS.pop(next(iter(_TOTALS)))
        _TOTALS[key] = (days, summed)
    return summed


def balance_from_days(row: Any, days: DaySums) -> Balance:
    """The ledger's own Balance, fed with the rolled-up sums instead of a full SUM."""
    return balance_from_sums(row, totals(days))


@dataclass(frozen=True)
class SeriesPoint:
    day: date
    pledged: int
    paid: int
    confirmed: int
    delivered_units: int


def starts_on(row: Any) -> date:
    return as_day(row.definition["starts_at"])


def cumulative(days: DaySums, since: date | None = None) -> list[SeriesPoint]:
    """Running totals per day: pledged money, paid (reported, any state) and confirmed money,
    delivered units. Signs follow the ledger (credits are negative). Nothing is plotted before
    `since` (the campaign's start): anything dated earlier is folded into that first day, so
    the totals still match the figures."""
    points: list[SeriesPoint] = []
    pledged = paid = confirmed = delivered = 0
    for raw_day in sorted(days):
        s = days[raw_day]
        d = raw_day if since is None else max(raw_day, since)
        pledged += s.get(accounts.COMMITMENTS, 0)
        paid -= (
            s.get(accounts.PAID_UNCONFIRMED, 0)
            + s.get(accounts.PAID_CONFIRMED, 0)
            + s.get(accounts.PAID_DISPUTED, 0)
        )
        confirmed -= s.get(accounts.PAID_CONFIRMED, 0)
        delivered -= s.get(accounts.DELIVERED, 0)
        if points and points[-1].day == d:
            points.pop()
        points.append(SeriesPoint(d, pledged, paid, confirmed, delivered))
    return points


def promise(view: CampaignView, days: DaySums, today: date | None = None) -> tuple[Balance, Verdict]:
    """The balance and the verdict every page shows for one campaign (ledger/verdict.py)."""
    balance = balance_from_days(view.row, days)
    # the running pledges only matter to a schedule by month or quarter; without one (the
    # common case) everything falls due at the end, and the day-by-day walk is skipped
    by_day: list[tuple[date, int]] = []
    if payment_terms(view.row.definition).period != "campaign":
        by_day = [(p.day, p.pledged) for p in cumulative(days, starts_on(view.row))]
    found = verdict(
        balance,
        by_day,
        definition=view.row.definition,
        unit_cost=view.unit_cost,
        today=today or utcnow().date(),
        ended=view.row.status == "ended",
    )
    return balance, found


def month_ends(points: list[SeriesPoint], most: int = 31) -> list[SeriesPoint]:
    """The running totals as a table a person can read: every day when there are few, else
    the last day of each month (and the latest day)."""
    if len(points) <= most:
        return points
    out = [p for p, nxt in pairwise(points) if (p.day.year, p.day.month) != (nxt.day.year, nxt.day.month)]
    return [*out, points[-1]]


@dataclass(frozen=True)
class CampaignView:
    row: Any
    brand_name: str
    beneficiary_name: str
    unit: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.row.id)

    @property
    def currency(self) -> str:
        return str(self.row.definition["currency"])

    def unit_label(self, lang: str, n: int) -> str:
        labels = self.unit.get("labels", {})
        label = labels.get(lang) or labels.get("en") or {"singular": "unit", "plural": "units"}
        return str(label["singular"] if abs(n) == 1 else label["plural"])

    @property
    def unit_cost(self) -> int:
        return int(self.unit.get("cost_per_unit", {}).get("amount", 0))


def _views(conn: Connection, query: Any) -> list[CampaignView]:
    c, b, n, u = campaigns, brands, beneficiaries, impact_units
    rows = conn.execute(
        query.add_columns(
            b.c.name.label("brand_name"), n.c.name.label("ben_name"), u.c.definition.label("unit_def")
        )
        .join(b, b.c.id == c.c.brand_id)
        .join(n, n.c.id == c.c.beneficiary_id)
        .join(u, (u.c.id == c.c.impact_unit_id) & (u.c.version == c.c.impact_unit_version))
    ).all()
    return [CampaignView(r, r.brand_name, r.ben_name, r.unit_def) for r in rows]


def active_campaigns(conn: Connection, limit: int = 24) -> list[CampaignView]:
    query = (
        select(campaigns)
        .where(campaigns.c.status == "active", campaigns.c.livemode.is_(True))
        .order_by(campaigns.c.seq.desc())
        .limit(limit)
    )
    return _views(conn, query)


def brand_campaigns(conn: Connection, brand_id: str, *, public: bool = True) -> list[CampaignView]:
    query = select(campaigns).where(campaigns.c.brand_id == brand_id)
    if public:
        query = query.where(campaigns.c.status != "draft", campaigns.c.livemode.is_(True))
    return _views(conn, query.order_by(campaigns.c.seq))


def beneficiary_campaigns(conn: Connection, ben_id: str) -> list[CampaignView]:
    query = select(campaigns).where(campaigns.c.beneficiary_id == ben_id)
    return _views(conn, query.order_by(campaigns.c.seq))


def campaign_view(conn: Connection, campaign_id: str) -> CampaignView | None:
    found = _views(conn, select(campaigns).where(campaigns.c.id == campaign_id))
    return found[0] if found else None


def all_brands(conn: Connection) -> list[Any]:
    return list(
        conn.execute(
            select(brands.c.id, brands.c.name).where(brands.c.livemode.is_(True)).order_by(brands.c.name)
        )
    )


def settlement_rows(conn: Connection, campaign_id: str) -> list[Any]:
    return list(
        conn.execute(
            select(settlements)
            .where(settlements.c.campaign_id == campaign_id)
            .order_by(settlements.c.paid_at.desc(), settlements.c.seq.desc())
        )
    )


def delivery_rows(conn: Connection, campaign_id: str) -> list[Any]:
    return list(
        conn.execute(
            select(deliveries)
            .where(deliveries.c.campaign_id == campaign_id)
            .order_by(deliveries.c.period_end.desc(), deliveries.c.seq.desc())
        )
    )


@dataclass(frozen=True)
class LogRow:
    index: int
    kind: str
    at: str
    entry: dict[str, Any]
    text: str


def latest_entries(conn: Connection, campaign_id: str, limit: int = 10, scan: int = 5000) -> list[LogRow]:
    """The newest published entries of one campaign, looked for among the newest `scan`
    entries of the log (a bounded cost whatever the log's size; older ones are in the
    export)."""
    rows = conn.execute(
        select(tlog_index.c.idx, tlog_entries.c.data)
        .join_from(tlog_index, tlog_entries, tlog_entries.c.id == tlog_index.c.entry_id)
        .order_by(tlog_index.c.idx.desc())
        .limit(scan)
    )
    needle = f'"campaign":"{campaign_id}"'.encode()
    out: list[LogRow] = []
    for row in rows:
        idx: int = row.idx
        raw = bytes(row.data)
        if needle not in raw:
            continue
        entry = json.loads(raw)
        out.append(
            LogRow(int(idx), str(entry.get("kind", "")), str(entry.get("at", "")), entry, raw.decode("utf-8"))
        )
        if len(out) >= limit:
            break
    return out


@dataclass
class _Tally:
    derived: PublisherClicks
    after: int  # the last log index read
    mark: bytes  # sha256 of that entry's bytes: the log it was read from is still this one


_TALLIES: dict[str, _Tally] = {}
_TALLIES_LOCK = threading.Lock()
_TALLIES_MAX = 4096
scanned_entries = 0  # entries read by publisher_clicks since start (tests watch it)


def publisher_clicks(conn: Connection, publisher_id: str, chunk: int = 5000) -> PublisherClicks:
    """A publisher's counted clicks re-derived from the published entries themselves (the
    bytes the log serves), not from the ledger tables: the same count `wefirst verify
    publisher` makes from the downloaded log. The log is append-only, so each publisher's tally
    is kept per process and a view reads only the entries published since the last one (it
    read the whole log on every view); the tally starts again from scratch when the entry it
    stopped at is not the same any more (another database, a rotated log)."""
    global scanned_entries
    with _TALLIES_LOCK:
        tally = _TALLIES.get(publisher_id)
        if tally is not None:
            row = conn.execute(
                select(tlog_entries.c.data)
                .join_from(tlog_index, tlog_entries, tlog_entries.c.id == tlog_index.c.entry_id)
                .where(tlog_index.c.idx == tally.after)
            ).first()
            if row is None or hashlib.sha256(bytes(row.data)).digest() != tally.mark:
                tally = None
        if tally is None:
            tally = _Tally(PublisherClicks(publisher_id), -1, b"")
        needle = f'"publisher":"{publisher_id}"'.encode()
        reversal = b'"kind":"pledge_reversal"'
        while True:
            rows = conn.execute(
                select(tlog_index.c.idx, tlog_entries.c.data)
                .join_from(tlog_index, tlog_entries, tlog_entries.c.id == tlog_index.c.entry_id)
                .where(tlog_index.c.idx > tally.after)
                .order_by(tlog_index.c.idx)
                .limit(chunk)
            ).all()
            scanned_entries += len(rows)
            for row in rows:
                raw = bytes(row.data)
                if needle in raw or reversal in raw:
                    tally.derived.add(json.loads(raw))
            if rows:
                tally.after = int(rows[-1].idx)
                tally.mark = hashlib.sha256(bytes(rows[-1].data)).digest()
            if len(rows) < chunk:
                break
        if len(_TALLIES) >= _TALLIES_MAX:
            _TALLIES.clear()
        _TALLIES[publisher_id] = tally
        return copy.deepcopy(tally.derived)


def log_size(conn: Connection) -> int:
    value = conn.execute(select(func.max(tlog_index.c.idx))).scalar()
    return 0 if value is None else int(value) + 1


def public_campaigns(conn: Connection, *, status: str | None = None, limit: int = 500) -> list[CampaignView]:
    """Campaigns anyone may read (never drafts or test mode), the running ones first."""
    query = select(campaigns).where(campaigns.c.status != "draft", campaigns.c.livemode.is_(True))
    if status is not None:
        query = query.where(campaigns.c.status == status)
    views = _views(conn, query.order_by(campaigns.c.seq.desc()).limit(limit))
    order = {"active": 0, "paused": 1, "ended": 2}
    return sorted(views, key=lambda v: order.get(str(v.row.status), 3))


def brand_directory(conn: Connection) -> list[Any]:
    """Live brands with how many public campaigns each runs."""
    public = (campaigns.c.status != "draft") & campaigns.c.livemode.is_(True)
    count = func.count(campaigns.c.id).filter(public)
    return list(
        conn.execute(
            select(brands.c.id, brands.c.name, brands.c.website, count.label("campaigns"))
            .outerjoin(campaigns, campaigns.c.brand_id == brands.c.id)
            .where(brands.c.livemode.is_(True))
            .group_by(brands.c.id, brands.c.name, brands.c.website)
            .order_by(brands.c.name)
        )
    )


def beneficiary_directory(conn: Connection) -> list[Any]:
    public = (campaigns.c.status != "draft") & campaigns.c.livemode.is_(True)
    count = func.count(campaigns.c.id).filter(public)
    return list(
        conn.execute(
            select(
                beneficiaries.c.id, beneficiaries.c.name, beneficiaries.c.website, count.label("campaigns")
            )
            .outerjoin(campaigns, campaigns.c.beneficiary_id == beneficiaries.c.id)
            .where(beneficiaries.c.livemode.is_(True))
            .group_by(beneficiaries.c.id, beneficiaries.c.name, beneficiaries.c.website)
            .order_by(beneficiaries.c.name)
        )
    )


def beneficiary_row(conn: Connection, ben_id: str) -> Any | None:
    return conn.execute(
        select(beneficiaries).where(beneficiaries.c.id == ben_id, beneficiaries.c.livemode.is_(True))
    ).first()


def public_beneficiary_campaigns(conn: Connection, ben_id: str) -> list[CampaignView]:
    query = select(campaigns).where(
        campaigns.c.beneficiary_id == ben_id, campaigns.c.status != "draft", campaigns.c.livemode.is_(True)
    )
    return _views(conn, query.order_by(campaigns.c.seq))


def settlements_of(conn: Connection, campaign_ids: list[str], limit: int = 200) -> list[Any]:
    """Payments to a beneficiary across its campaigns, newest first, with the brand's name."""
    if not campaign_ids:
        return []
    s = settlements
    return list(
        conn.execute(
            select(s, brands.c.name.label("brand_name"), campaigns.c.definition.label("definition"))
            .join(campaigns, campaigns.c.id == s.c.campaign_id)
            .join(brands, brands.c.id == campaigns.c.brand_id)
            .where(s.c.campaign_id.in_(campaign_ids))
            .order_by(s.c.paid_at.desc(), s.c.seq.desc())
            .limit(limit)
        )
    )


def deliveries_of(conn: Connection, campaign_ids: list[str], limit: int = 200) -> list[Any]:
    if not campaign_ids:
        return []
    d = deliveries
    return list(
        conn.execute(
            select(d, campaigns.c.definition.label("definition"))
            .join(campaigns, campaigns.c.id == d.c.campaign_id)
            .where(d.c.campaign_id.in_(campaign_ids))
            .order_by(d.c.period_end.desc(), d.c.seq.desc())
            .limit(limit)
        )
    )
