"""Purchases, clicks and refunds → pledges and reversals.

Exactly once: every pledge is unique on (campaign, line key) and every reversal on its
reversal key, checked after the campaign's counter row is locked, so replays and concurrent
duplicates both come back as `duplicate`. Caps are exact for the same reason: the room left is
read and spent under that lock (a row lock on PostgreSQL, `BEGIN IMMEDIATE` on SQLite)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, cast

from sqlalchemy import Connection, Row, bindparam, func, insert, select, update

from wefirst.catalog.service import Loaded, get_brand, load_campaign
from wefirst.domain.campaigns import Campaign
from wefirst.domain.clock import as_utc
from wefirst.domain.rules import (
    CapRoom,
    Carry,
    Draft,
    PurchaseLine,
    apply_caps,
    pledge_for_click,
    pledge_for_line,
    pledge_for_order,
    reversal_share,
)
from wefirst.errors import NotFound
from wefirst.ledger.service import record_pledge, record_reversal
from wefirst.ledger.writer import BufferedWriter
from wefirst.store.tables_core import (
    campaign_counters,
    campaign_day_units,
    campaigns,
    pledge_reversals,
    pledges,
)

Outcome = Literal[
    "pledged",
    "carried",
    "inactive",
    "over_cap",
    "no_rule",
    "duplicate",
    "test",
    "currency_mismatch",
]


@dataclass(frozen=True)
class Receipt:
    secret: str
    commitment: str


def new_receipt() -> Receipt:
    """The consumer keeps the secret; only its SHA-256 commitment goes into the public log."""
    secret = "rcpt_" + secrets.token_urlsafe(24)
    return Receipt(secret, hashlib.sha256(secret.encode()).hexdigest())


def commitment_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def order_hash(salt: bytes, order_id: str) -> str:
    """Order numbers never appear in clear in the log: HMAC with the brand's secret salt."""
    return hmac.new(salt, order_id.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class LineIn:
    sku: str
    quantity: int
    unit_price: int
    line_id: str
    line_key: str | None = None  # business key from a connector; default order_hash:line_id


@dataclass(frozen=True)
class PurchaseIn:
    order_id: str
    currency: str
    occurred_at: datetime
    lines: list[LineIn]
    campaign_id: str | None = None
    test: bool = False
    source: str = "api"


@dataclass(frozen=True)
class EventOutcome:
    outcome: Outcome
    campaign_id: str | None = None
    line_id: str | None = None
    units: int = 0
    money: int = 0
    currency: str | None = None
    pledge_id: str | None = None
    capped: bool = False
    receipt: Receipt | None = None

    def as_json(self, base_url: str) -> dict[str, Any]:
        out: dict[str, Any] = {"outcome": self.outcome, "campaign_id": self.campaign_id}
        if self.line_id is not None:
            out["line_id"] = self.line_id
        out["units"] = self.units
        out["money"] = {"amount": self.money, "currency": self.currency} if self.currency else None
        out["pledge_id"] = self.pledge_id
        out["capped"] = self.capped
        if self.receipt is not None:
            out["receipt"] = {
                "secret": self.receipt.secret,
                "commitment": self.receipt.commitment,
                "url": f"{base_url.rstrip('/')}/receipts/{self.receipt.secret}",
                "api_url": f"{base_url.rstrip('/')}/v1/receipts/{self.receipt.secret}",
            }
        return out


@dataclass
class _CampaignState:
    """The locked counter row of one campaign while a batch is applied."""

    loaded: Loaded
    carry: Carry
    net_units: int
    net_money: int
    day_units: dict[date, int] = field(default_factory=dict)
    dirty_days: set[date] = field(default_factory=set)

    @property
    def campaign(self) -> Campaign:
        return self.loaded.campaign


_EXISTS = select(pledges.c.id).where(
    pledges.c.campaign_id == bindparam("c"), pledges.c.line_key == bindparam("k")
)
_DAY_UNITS = select(campaign_day_units.c.units).where(
    campaign_day_units.c.campaign_id == bindparam("c"), campaign_day_units.c.day == bindparam("d")
)
_LOCK = select(campaign_counters).where(campaign_counters.c.campaign_id == bindparam("c")).with_for_update()


class Batch:
    """One unit of work inside one database transaction.

    Campaign definitions, brands and locked counter rows are read once per batch; ledger rows
    and log entries are buffered and written with one multi-row INSERT per table at `flush`.
    A single API request is a batch of one; bulk intake (reports, benchmarks) passes a bigger
    one. Counter rows stay locked until the transaction ends, which is what keeps caps exact."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.writer = BufferedWriter()
        self._brands: dict[str, Row[Any]] = {}
        self._brand_campaigns: dict[tuple[str, bool, str | None], list[str]] = {}
        self._loaded: dict[str, Loaded] = {}
        self.states: dict[str, _CampaignState] = {}
        self._new_keys: set[tuple[str, str]] = set()
        self._reversal_keys: set[str] = set()
        self._reversed: dict[str, tuple[int, int, int]] = {}
        self._absent: set[tuple[str, str]] = set()

    def brand(self, brand_id: str) -> Row[Any]:
        if brand_id not in self._brands:
            self._brands[brand_id] = get_brand(self.conn, brand_id)
        return self._brands[brand_id]

    def campaign(self, campaign_id: str) -> Loaded:
        if campaign_id not in self._loaded:
            self._loaded[campaign_id] = load_campaign(self.conn, campaign_id)
        return self._loaded[campaign_id]

    def brand_campaigns(self, brand_id: str, livemode: bool, only: str | None) -> list[Loaded]:
        key = (brand_id, livemode, only)
        if key not in self._brand_campaigns:
            query = select(campaigns.c.id).where(
                campaigns.c.brand_id == brand_id,
                campaigns.c.livemode == livemode,
                campaigns.c.status != "draft",
            )
            if only is not None:
                query = query.where(campaigns.c.id == only)
            # one lock order everywhere: no deadlock between concurrent batches
            self._brand_campaigns[key] = sorted(r[0] for r in self.conn.execute(query))
        return [self.campaign(cid) for cid in self._brand_campaigns[key]]

    def lock(self, loaded: Loaded) -> _CampaignState:
        cid = loaded.campaign.id
        if cid not in self.states:
            row = self.conn.execute(_LOCK, {"c": cid}).one()
            self.states[cid] = _CampaignState(
                loaded,
                Carry(row.units_rem, row.money_rem, row.pct_money_rem),
                row.net_units,
                row.net_money,
            )
        return self.states[cid]

    def day_units(self, st: _CampaignState, day: date) -> int:
        if day not in st.day_units:
            found = self.conn.execute(_DAY_UNITS, {"c": st.campaign.id, "d": day}).scalar()
            st.day_units[day] = int(found or 0)
        return st.day_units[day]

    def exists(self, campaign_id: str, line_key: str) -> bool:
        if (campaign_id, line_key) in self._new_keys:
            return True
        if (campaign_id, line_key) in self._absent:
            return False
        return self.conn.execute(_EXISTS, {"c": campaign_id, "k": line_key}).first() is not None

    def prefetch_purchases(self, brand_id: str, purchases: list[PurchaseIn], livemode: bool = True) -> None:
        """One query instead of one per line: which of these orders' line keys already hold
        a pledge. Bulk intake calls this before applying the purchases one by one."""
        salt = self.brand(brand_id).order_salt
        keys = {
            line.line_key or f"{order_hash(salt, p.order_id)}:{line.line_id}"
            for p in purchases
            for line in p.lines
        }
        ids = [c.campaign.id for c in self.brand_campaigns(brand_id, livemode, None)]
        if not keys or not ids:
            return
        found = {
            (r[0], r[1])
            for r in self.conn.execute(
                select(pledges.c.campaign_id, pledges.c.line_key).where(
                    pledges.c.campaign_id.in_(ids), pledges.c.line_key.in_(keys)
                )
            )
        }
        self._absent |= {(cid, k) for cid in ids for k in keys} - found

    def claim(self, campaign_id: str, line_key: str) -> None:
        self._new_keys.add((campaign_id, line_key))

    def flush(self) -> None:
        self.writer.flush(self.conn)
        for st in self.states.values():
            _save(self.conn, st)


def _save(conn: Connection, st: _CampaignState) -> None:
    conn.execute(
        update(campaign_counters)
        .where(campaign_counters.c.campaign_id == st.campaign.id)
        .values(
            net_units=st.net_units,
            net_money=st.net_money,
            units_rem=st.carry.units_rem,
            money_rem=st.carry.money_rem,
            pct_money_rem=st.carry.pct_money_rem,
        )
    )
    for day in st.dirty_days:
        updated = conn.execute(
            update(campaign_day_units)
            .where(campaign_day_units.c.campaign_id == st.campaign.id, campaign_day_units.c.day == day)
            .values(units=st.day_units[day])
        )
        if updated.rowcount == 0:
            conn.execute(
                insert(campaign_day_units).values(
                    campaign_id=st.campaign.id, day=day, units=st.day_units[day]
                )
            )
    st.dirty_days.clear()


def _room(batch: Batch, st: _CampaignState, day: date) -> CapRoom:
    caps = st.campaign.caps
    return CapRoom(
        units=None if caps.total_units is None else caps.total_units - st.net_units,
        day_units=None if caps.units_per_day is None else caps.units_per_day - batch.day_units(st, day),
        money=None if caps.total_money is None else caps.total_money - st.net_money,
    )


def _spend(
    batch: Batch,
    st: _CampaignState,
    draft: Draft,
    carry: Carry,
    *,
    line_key: str,
    source: str,
    quantity: int,
    occurred_at: datetime,
    line_id: str | None,
    sku: str | None,
    order_hash_: str | None,
) -> EventOutcome:
    c = st.campaign
    day = as_utc(occurred_at).date()
    capped = apply_caps(draft, _room(batch, st, day), c.unit.cost_per_unit.amount)
    st.carry = carry
    if capped.units <= 0 and capped.money <= 0:
        outcome: Outcome = "over_cap" if (draft.units > 0 or draft.money > 0) else "carried"
        return EventOutcome(outcome, c.id, line_id, currency=c.currency)
    receipt = new_receipt()
    rec = record_pledge(
        batch.writer,
        c,
        units=capped.units,
        money=capped.money,
        rule=draft.rule,
        line_key=line_key,
        source=source,
        quantity=quantity,
        occurred_at=occurred_at,
        sku=sku,
        order_hash=order_hash_,
        commitment=receipt.commitment,
    )
    batch.claim(c.id, line_key)
    st.net_units += capped.units
    st.net_money += capped.money
    st.day_units[day] = batch.day_units(st, day) + capped.units
    st.dirty_days.add(day)
    return EventOutcome(
        "pledged",
        c.id,
        line_id,
        capped.units,
        capped.money,
        c.currency,
        rec.id,
        capped=(capped.units, capped.money) != (draft.units, draft.money),
        receipt=receipt,
    )


def _run(conn: Connection, batch: Batch | None, fn: Any) -> Any:
    """Run `fn(batch)`; a batch made here is flushed here."""
    own = batch is None
    b = batch or Batch(conn)
    result = fn(b)
    if own:
        b.flush()
    return result


def apply_purchase(
    conn: Connection,
    *,
    brand_id: str,
    purchase: PurchaseIn,
    livemode: bool = True,
    batch: Batch | None = None,
) -> list[EventOutcome]:
    return cast(
        list[EventOutcome], _run(conn, batch, lambda b: _apply_purchase(b, brand_id, purchase, livemode))
    )


def _apply_purchase(batch: Batch, brand_id: str, purchase: PurchaseIn, livemode: bool) -> list[EventOutcome]:
    brand = batch.brand(brand_id)
    if purchase.campaign_id is not None:
        loaded = batch.campaign(purchase.campaign_id)
        if loaded.row.brand_id != brand_id:
            raise NotFound(f"campaign {purchase.campaign_id} does not exist")
    ohash = order_hash(brand.order_salt, purchase.order_id)
    if purchase.test:
        return [EventOutcome("test", None, line.line_id) for line in purchase.lines]
    results: list[EventOutcome] = []
    matched: set[str] = set()
    when = as_utc(purchase.occurred_at)
    for loaded in batch.brand_campaigns(brand_id, livemode, purchase.campaign_id):
        c = loaded.campaign
        for line in purchase.lines:
            item = PurchaseLine(line.sku, line.quantity, line.unit_price)
            probe, _ = pledge_for_line(c, item, Carry())
            if probe is None:
                continue
            matched.add(line.line_id)
            if probe.rule == "percent_of_sale" and purchase.currency != c.currency:
                results.append(EventOutcome("currency_mismatch", c.id, line.line_id))
                continue
            if not c.is_open_at(when):
                results.append(EventOutcome("inactive", c.id, line.line_id))
                continue
            st = batch.lock(loaded)
            key = line.line_key or f"{ohash}:{line.line_id}"
            if batch.exists(c.id, key):
                results.append(EventOutcome("duplicate", c.id, line.line_id))
                continue
            draft, carry = pledge_for_line(c, item, st.carry)
            assert draft is not None
            results.append(
                _spend(
                    batch,
                    st,
                    draft,
                    carry,
                    line_key=key,
                    source=purchase.source,
                    quantity=line.quantity,
                    occurred_at=when,
                    line_id=line.line_id,
                    sku=line.sku,
                    order_hash_=ohash,
                )
            )
        if pledge_for_order(c, Carry())[0] is not None and c.is_open_at(when):
            st = batch.lock(loaded)
            key = f"{ohash}:order"
            if batch.exists(c.id, key):
                results.append(EventOutcome("duplicate", c.id, None))
            else:
                order_draft, carry = pledge_for_order(c, st.carry)
                assert order_draft is not None
                results.append(
                    _spend(
                        batch,
                        st,
                        order_draft,
                        carry,
                        line_key=key,
                        source=purchase.source,
                        quantity=1,
                        occurred_at=when,
                        line_id=None,
                        sku=None,
                        order_hash_=ohash,
                    )
                )
    for line in purchase.lines:
        if line.line_id not in matched:
            results.append(EventOutcome("no_rule", None, line.line_id))
    return results


@dataclass(frozen=True)
class ClickIn:
    campaign_id: str
    visitor: str  # a pseudonymous visitor commitment, never an IP or cookie in clear
    occurred_at: datetime
    publisher_id: str | None = None
    dedupe_key: str | None = None  # default: one click per visitor per UTC day


def apply_click(conn: Connection, click: ClickIn, batch: Batch | None = None) -> EventOutcome:
    return cast(EventOutcome, _run(conn, batch, lambda b: _apply_click(b, click)))


def _apply_click(batch: Batch, click: ClickIn) -> EventOutcome:
    loaded = batch.campaign(click.campaign_id)
    c = loaded.campaign
    when = as_utc(click.occurred_at)
    if pledge_for_click(c, Carry())[0] is None:
        return EventOutcome("no_rule", c.id)
    if not c.is_open_at(when):
        return EventOutcome("inactive", c.id)
    st = batch.lock(loaded)
    key = "click:" + (click.dedupe_key or f"{click.visitor}:{when.date().isoformat()}")
    if batch.exists(c.id, key):
        return EventOutcome("duplicate", c.id)
    draft, carry = pledge_for_click(c, st.carry)
    assert draft is not None
    return _spend(
        batch,
        st,
        draft,
        carry,
        line_key=key,
        source="click",
        quantity=1,
        occurred_at=when,
        line_id=None,
        sku=None,
        order_hash_=None,
    )


@dataclass(frozen=True)
class RefundLineIn:
    line_id: str
    quantity: int
    line_key: str | None = None


@dataclass(frozen=True)
class RefundIn:
    order_id: str
    refund_id: str
    lines: list[RefundLineIn]
    reason: Literal["refund", "cancel"] = "refund"
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class ReversalOutcome:
    outcome: Literal["reversed", "duplicate", "nothing_to_reverse", "not_found"]
    line_id: str
    campaign_id: str | None = None
    pledge_id: str | None = None
    units: int = 0
    money: int = 0
    currency: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "line_id": self.line_id,
            "campaign_id": self.campaign_id,
            "pledge_id": self.pledge_id,
            "units": self.units,
            "money": {"amount": self.money, "currency": self.currency} if self.currency else None,
        }


def _pledges_for(conn: Connection, brand_id: str, line_key: str) -> list[Row[Any]]:
    return list(
        conn.execute(
            select(pledges)
            .join(campaigns, campaigns.c.id == pledges.c.campaign_id)
            .where(pledges.c.line_key == line_key, campaigns.c.brand_id == brand_id)
            .order_by(pledges.c.campaign_id)
        )
    )


def _reversed_so_far(batch: Batch, pledge_id: str) -> tuple[int, int, int]:
    row = batch.conn.execute(
        select(
            func.coalesce(func.sum(pledge_reversals.c.quantity), 0),
            func.coalesce(func.sum(pledge_reversals.c.units), 0),
            func.coalesce(func.sum(pledge_reversals.c.money), 0),
        ).where(pledge_reversals.c.pledge_id == pledge_id)
    ).one()
    bq, bu, bm = batch._reversed.get(pledge_id, (0, 0, 0))
    return int(row[0]) + bq, int(row[1]) + bu, int(row[2]) + bm


def order_known(conn: Connection, brand_id: str, order_id: str) -> bool:
    brand = get_brand(conn, brand_id)
    ohash = order_hash(brand.order_salt, order_id)
    return conn.execute(select(pledges.c.id).where(pledges.c.order_hash == ohash)).first() is not None


def _reverse(
    batch: Batch,
    p: Row[Any],
    *,
    quantity: int,
    reversal_key: str,
    reason: str,
    when: datetime,
    line_id: str,
) -> ReversalOutcome:
    conn = batch.conn
    if (
        reversal_key in batch._reversal_keys
        or conn.execute(
            select(pledge_reversals.c.seq).where(pledge_reversals.c.reversal_key == reversal_key)
        ).first()
    ):
        return ReversalOutcome("duplicate", line_id, p.campaign_id, p.id)
    st = batch.lock(batch.campaign(p.campaign_id))
    rq, _ru, _rm = _reversed_so_far(batch, p.id)
    units = reversal_share(p.units, p.quantity, rq, quantity)
    money = reversal_share(p.money, p.quantity, rq, quantity)
    qty = min(quantity, p.quantity - rq)
    if qty <= 0:
        return ReversalOutcome("nothing_to_reverse", line_id, p.campaign_id, p.id)
    record_reversal(
        batch.writer,
        campaign_id=p.campaign_id,
        currency=p.currency,
        pledge_id=p.id,
        reversal_key=reversal_key,
        quantity=qty,
        units=units,
        money=money,
        reason=reason,
        occurred_at=when,
    )
    batch._reversal_keys.add(reversal_key)
    bq, bu, bm = batch._reversed.get(p.id, (0, 0, 0))
    batch._reversed[p.id] = (bq + qty, bu + units, bm + money)
    st.net_units -= units
    st.net_money -= money
    day = as_utc(p.occurred_at).date()
    st.day_units[day] = batch.day_units(st, day) - units
    st.dirty_days.add(day)
    return ReversalOutcome("reversed", line_id, p.campaign_id, p.id, units, money, p.currency)


def apply_refund(
    conn: Connection,
    *,
    brand_id: str,
    refund: RefundIn,
    now: datetime,
    batch: Batch | None = None,
) -> list[ReversalOutcome]:
    """Reverse what the refunded quantities pledged; never more than was counted."""
    return cast(list[ReversalOutcome], _run(conn, batch, lambda b: _apply_refund(b, brand_id, refund, now)))


def _apply_refund(batch: Batch, brand_id: str, refund: RefundIn, now: datetime) -> list[ReversalOutcome]:
    batch.writer.flush(batch.conn)  # pledges and reversals buffered so far become visible
    batch._reversed.clear()
    conn = batch.conn
    ohash = order_hash(batch.brand(brand_id).order_salt, refund.order_id)
    when = as_utc(refund.occurred_at or now)
    work: list[tuple[Row[Any] | None, RefundLineIn | None, str]] = []
    for refund_line in refund.lines:
        key = refund_line.line_key or f"{ohash}:{refund_line.line_id}"
        found = _pledges_for(conn, brand_id, key)
        work += [(p, refund_line, key) for p in found] or [(None, refund_line, key)]
    if refund.reason == "cancel":
        work += [(p, None, "order") for p in _pledges_for(conn, brand_id, f"{ohash}:order")]
    # lock campaigns in one global order before touching any of them
    for cid in sorted({p.campaign_id for p, _, _ in work if p is not None}):
        batch.lock(batch.campaign(cid))
    results: list[ReversalOutcome] = []
    for p, line, key in work:
        line_id = line.line_id if line is not None else "order"
        if p is None:
            results.append(ReversalOutcome("not_found", line_id))
            continue
        results.append(
            _reverse(
                batch,
                p,
                quantity=line.quantity if line is not None else 1,
                when=when,
                reason=refund.reason if line is not None else "cancel",
                reversal_key=f"{refund.refund_id}:{key}:{p.id}",
                line_id=line_id,
            )
        )
    return results


def outcomes_summary(results: Iterable[EventOutcome]) -> dict[str, int]:
    summary: dict[str, int] = {}
    for r in results:
        summary[r.outcome] = summary.get(r.outcome, 0) + 1
    return summary
