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
from typing import Any, Literal

from sqlalchemy import Connection, Row, func, insert, select, update

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
from wefirst.store.tables_core import (
    campaign_counters,
    campaign_day_units,
    campaigns,
    pledge_reversals,
    pledges,
)

Outcome = Literal[
    "pledged", "carried", "inactive", "over_cap", "no_rule", "duplicate", "test",
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
        out["money"] = (
            {"amount": self.money, "currency": self.currency} if self.currency else None
        )
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
    """The locked counter row of one campaign while an event is applied."""

    loaded: Loaded
    carry: Carry
    net_units: int
    net_money: int
    day_units: dict[date, int] = field(default_factory=dict)
    dirty_days: set[date] = field(default_factory=set)

    @property
    def campaign(self) -> Campaign:
        return self.loaded.campaign


def _lock(conn: Connection, loaded: Loaded) -> _CampaignState:
    row = conn.execute(
        select(campaign_counters)
        .where(campaign_counters.c.campaign_id == loaded.campaign.id)
        .with_for_update()
    ).one()
    return _CampaignState(
        loaded, Carry(row.units_rem, row.money_rem, row.pct_money_rem), row.net_units,
        row.net_money,
    )


def _day_units(conn: Connection, st: _CampaignState, day: date) -> int:
    if day not in st.day_units:
        st.day_units[day] = int(conn.execute(
            select(campaign_day_units.c.units).where(
                campaign_day_units.c.campaign_id == st.campaign.id,
                campaign_day_units.c.day == day,
            )
        ).scalar() or 0)
    return st.day_units[day]


def _save(conn: Connection, st: _CampaignState) -> None:
    conn.execute(
        update(campaign_counters)
        .where(campaign_counters.c.campaign_id == st.campaign.id)
        .values(net_units=st.net_units, net_money=st.net_money, units_rem=st.carry.units_rem,
                money_rem=st.carry.money_rem, pct_money_rem=st.carry.pct_money_rem)
    )
    for day in st.dirty_days:
        updated = conn.execute(
            update(campaign_day_units)
            .where(campaign_day_units.c.campaign_id == st.campaign.id,
                   campaign_day_units.c.day == day)
            .values(units=st.day_units[day])
        )
        if updated.rowcount == 0:
            conn.execute(insert(campaign_day_units).values(
                campaign_id=st.campaign.id, day=day, units=st.day_units[day]))
    st.dirty_days.clear()


def _room(conn: Connection, st: _CampaignState, day: date) -> CapRoom:
    caps = st.campaign.caps
    return CapRoom(
        units=None if caps.total_units is None else caps.total_units - st.net_units,
        day_units=None if caps.units_per_day is None
        else caps.units_per_day - _day_units(conn, st, day),
        money=None if caps.total_money is None else caps.total_money - st.net_money,
    )


def _exists(conn: Connection, campaign_id: str, line_key: str) -> bool:
    return conn.execute(
        select(pledges.c.id).where(pledges.c.campaign_id == campaign_id,
                                   pledges.c.line_key == line_key)
    ).first() is not None


def _spend(
    conn: Connection, st: _CampaignState, draft: Draft, carry: Carry, *, line_key: str,
    source: str, quantity: int, occurred_at: datetime, line_id: str | None, sku: str | None,
    order_hash_: str | None, with_receipt: bool,
) -> EventOutcome:
    c = st.campaign
    day = as_utc(occurred_at).date()
    capped = apply_caps(draft, _room(conn, st, day), c.unit.cost_per_unit.amount)
    st.carry = carry
    if capped.units <= 0 and capped.money <= 0:
        outcome: Outcome = "over_cap" if (draft.units > 0 or draft.money > 0) else "carried"
        return EventOutcome(outcome, c.id, line_id, currency=c.currency)
    receipt = new_receipt() if with_receipt else None
    rec = record_pledge(
        conn, c, units=capped.units, money=capped.money, rule=draft.rule, line_key=line_key,
        source=source, quantity=quantity, occurred_at=occurred_at, sku=sku,
        order_hash=order_hash_, commitment=receipt.commitment if receipt else None,
    )
    st.net_units += capped.units
    st.net_money += capped.money
    st.day_units[day] = _day_units(conn, st, day) + capped.units
    st.dirty_days.add(day)
    return EventOutcome(
        "pledged", c.id, line_id, capped.units, capped.money, c.currency, rec.id,
        capped=(capped.units, capped.money) != (draft.units, draft.money), receipt=receipt,
    )


def _brand_campaigns(
    conn: Connection, brand_id: str, livemode: bool, only: str | None
) -> list[Loaded]:
    query = select(campaigns.c.id).where(
        campaigns.c.brand_id == brand_id, campaigns.c.livemode == livemode,
        campaigns.c.status != "draft",
    )
    if only is not None:
        query = query.where(campaigns.c.id == only)
    ids = sorted(r[0] for r in conn.execute(query))  # one lock order everywhere: no deadlock
    return [load_campaign(conn, cid) for cid in ids]


def apply_purchase(
    conn: Connection, *, brand_id: str, purchase: PurchaseIn, livemode: bool = True
) -> list[EventOutcome]:
    brand = get_brand(conn, brand_id)
    if purchase.campaign_id is not None:
        loaded = load_campaign(conn, purchase.campaign_id)
        if loaded.row.brand_id != brand_id:
            raise NotFound(f"campaign {purchase.campaign_id} does not exist")
    ohash = order_hash(brand.order_salt, purchase.order_id)
    if purchase.test:
        return [EventOutcome("test", None, line.line_id) for line in purchase.lines]
    results: list[EventOutcome] = []
    matched: set[str] = set()
    when = as_utc(purchase.occurred_at)
    for loaded in _brand_campaigns(conn, brand_id, livemode, purchase.campaign_id):
        c = loaded.campaign
        st: _CampaignState | None = None
        for line in purchase.lines:
            draft, carry = pledge_for_line(
                c, PurchaseLine(line.sku, line.quantity, line.unit_price), Carry()
            )
            if draft is None:
                continue
            matched.add(line.line_id)
            if draft.rule == "percent_of_sale" and purchase.currency != c.currency:
                results.append(EventOutcome("currency_mismatch", c.id, line.line_id))
                continue
            if not c.is_open_at(when):
                results.append(EventOutcome("inactive", c.id, line.line_id))
                continue
            st = st or _lock(conn, loaded)
            key = line.line_key or f"{ohash}:{line.line_id}"
            if _exists(conn, c.id, key):
                results.append(EventOutcome("duplicate", c.id, line.line_id))
                continue
            draft, carry = pledge_for_line(
                c, PurchaseLine(line.sku, line.quantity, line.unit_price), st.carry
            )
            assert draft is not None
            results.append(_spend(
                conn, st, draft, carry, line_key=key, source=purchase.source,
                quantity=line.quantity, occurred_at=when, line_id=line.line_id, sku=line.sku,
                order_hash_=ohash, with_receipt=True,
            ))
        order_draft, _ = pledge_for_order(c, Carry())
        if order_draft is not None and c.is_open_at(when):
            st = st or _lock(conn, loaded)
            key = f"{ohash}:order"
            if _exists(conn, c.id, key):
                results.append(EventOutcome("duplicate", c.id, None))
            else:
                order_draft, carry = pledge_for_order(c, st.carry)
                assert order_draft is not None
                results.append(_spend(
                    conn, st, order_draft, carry, line_key=key, source=purchase.source,
                    quantity=1, occurred_at=when, line_id=None, sku=None, order_hash_=ohash,
                    with_receipt=True,
                ))
        if st is not None:
            _save(conn, st)
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


def apply_click(conn: Connection, click: ClickIn) -> EventOutcome:
    loaded = load_campaign(conn, click.campaign_id)
    c = loaded.campaign
    when = as_utc(click.occurred_at)
    draft, _ = pledge_for_click(c, Carry())
    if draft is None:
        return EventOutcome("no_rule", c.id)
    if not c.is_open_at(when):
        return EventOutcome("inactive", c.id)
    st = _lock(conn, loaded)
    key = "click:" + (click.dedupe_key or f"{click.visitor}:{when.date().isoformat()}")
    if _exists(conn, c.id, key):
        return EventOutcome("duplicate", c.id)
    draft, carry = pledge_for_click(c, st.carry)
    assert draft is not None
    out = _spend(
        conn, st, draft, carry, line_key=key, source="click", quantity=1, occurred_at=when,
        line_id=None, sku=None, order_hash_=None, with_receipt=True,
    )
    _save(conn, st)
    return out


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
            "outcome": self.outcome, "line_id": self.line_id, "campaign_id": self.campaign_id,
            "pledge_id": self.pledge_id, "units": self.units,
            "money": {"amount": self.money, "currency": self.currency} if self.currency else None,
        }


def _pledges_for(conn: Connection, brand_id: str, line_key: str) -> list[Row[Any]]:
    return list(conn.execute(
        select(pledges).join(campaigns, campaigns.c.id == pledges.c.campaign_id)
        .where(pledges.c.line_key == line_key, campaigns.c.brand_id == brand_id)
        .order_by(pledges.c.campaign_id)
    ))


def _reversed_so_far(conn: Connection, pledge_id: str) -> tuple[int, int, int]:
    row = conn.execute(
        select(func.coalesce(func.sum(pledge_reversals.c.quantity), 0),
               func.coalesce(func.sum(pledge_reversals.c.units), 0),
               func.coalesce(func.sum(pledge_reversals.c.money), 0))
        .where(pledge_reversals.c.pledge_id == pledge_id)
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


def order_known(conn: Connection, brand_id: str, order_id: str) -> bool:
    brand = get_brand(conn, brand_id)
    ohash = order_hash(brand.order_salt, order_id)
    return conn.execute(
        select(pledges.c.id).where(pledges.c.order_hash == ohash)
    ).first() is not None


def _reverse(
    conn: Connection, p: Row[Any], *, quantity: int, reversal_key: str, reason: str,
    when: datetime, line_id: str, locked: dict[str, _CampaignState],
) -> ReversalOutcome:
    if conn.execute(select(pledge_reversals.c.seq)
                    .where(pledge_reversals.c.reversal_key == reversal_key)).first():
        return ReversalOutcome("duplicate", line_id, p.campaign_id, p.id)
    if p.campaign_id not in locked:
        locked[p.campaign_id] = _lock(conn, load_campaign(conn, p.campaign_id))
    st = locked[p.campaign_id]
    rq, _ru, _rm = _reversed_so_far(conn, p.id)
    units = reversal_share(p.units, p.quantity, rq, quantity)
    money = reversal_share(p.money, p.quantity, rq, quantity)
    qty = min(quantity, p.quantity - rq)
    if qty <= 0:
        return ReversalOutcome("nothing_to_reverse", line_id, p.campaign_id, p.id)
    record_reversal(
        conn, campaign_id=p.campaign_id, currency=p.currency, pledge_id=p.id,
        reversal_key=reversal_key, quantity=qty, units=units, money=money, reason=reason,
        occurred_at=when,
    )
    st.net_units -= units
    st.net_money -= money
    day = as_utc(p.occurred_at).date()
    st.day_units[day] = _day_units(conn, st, day) - units
    st.dirty_days.add(day)
    return ReversalOutcome("reversed", line_id, p.campaign_id, p.id, units, money, p.currency)


def apply_refund(
    conn: Connection, *, brand_id: str, refund: RefundIn, now: datetime
) -> list[ReversalOutcome]:
    """Reverse what the refunded quantities pledged; never more than was counted."""
    brand = get_brand(conn, brand_id)
    ohash = order_hash(brand.order_salt, refund.order_id)
    when = as_utc(refund.occurred_at or now)
    locked: dict[str, _CampaignState] = {}
    results: list[ReversalOutcome] = []
    for line in refund.lines:
        key = line.line_key or f"{ohash}:{line.line_id}"
        found = _pledges_for(conn, brand_id, key)
        if not found:
            results.append(ReversalOutcome("not_found", line.line_id))
            continue
        for p in found:
            results.append(_reverse(
                conn, p, quantity=line.quantity, reason=refund.reason, when=when,
                reversal_key=f"{refund.refund_id}:{key}:{p.id}", line_id=line.line_id,
                locked=locked,
            ))
    if refund.reason == "cancel":
        for p in _pledges_for(conn, brand_id, f"{ohash}:order"):
            results.append(_reverse(
                conn, p, quantity=1, reason="cancel", when=when,
                reversal_key=f"{refund.refund_id}:order:{p.id}", line_id="order", locked=locked,
            ))
    for st in locked.values():
        _save(conn, st)
    return results


def outcomes_summary(results: Iterable[EventOutcome]) -> dict[str, int]:
    summary: dict[str, int] = {}
    for r in results:
        summary[r.outcome] = summary.get(r.outcome, 0) + 1
    return summary
