"""The pledge engine: purchases, clicks and refunds become pledges and reversals.

This is the product's centre; everything a brand promises is counted here and only here
(connectors, the widget and the API call these functions; none of them writes ledger rows).
What it guarantees, and where each guarantee is tested:

- **Exactly once per line key.** A pledge is unique on (campaign, line key) and a reversal on
  its reversal key, checked under the campaign's counter row: locked first (a row lock on
  PostgreSQL, `BEGIN IMMEDIATE` on SQLite), or read optimistically and checked by the
  compare-and-set that writes it (`batch.py`: a concurrent duplicate makes the transaction
  fail and be applied again with the lock taken first), so a replay and a concurrent
  duplicate both come back as `duplicate`.
  Tests: `tests/pledges/test_pledges_engine.py::test_a_line_key_pledges_once*`,
  `tests/ledger/test_batch_intake.py`, `tests/api/test_api_concurrency.py`.
- **Caps are never exceeded.** The room left (total units, units per day, money) is read and
  spent under the same lock or the same checked version, and a draft is clamped by
  `domain.rules.apply_caps`. Tests:
  `tests/domain/test_domain_rules.py::test_caps_never_exceeded` (property),
  `tests/pledges/test_pledges_engine.py::test_caps_hold_inside_one_batch`,
  `tests/api/test_api_concurrency.py::test_cap_is_exact_with_two_server_processes`.
- **Remainders are carried.** Fractions of a unit or of a cent are kept in the campaign's
  counter row (`Carry`) and count toward the next event, so the sum of pledges equals the rule
  applied to the total. Tests: `tests/domain/test_domain_rules.py::test_per_unit_with_matching*`
  and `::test_percent_of_sale_sum*` (properties),
  `tests/pledges/test_pledges_engine.py::test_remainders_carry_across_events`.
- **Day caps count the day an event was received**, not the day it claims: a sender cannot
  fill a past day's cap by back-dating. Both times are recorded and logged (`at`, `received`).
  The day is a day of the campaign's time zone (`time_zone`, default UTC), as its disclosure
  says. Tests: `tests/api/test_api_claims.py`, `tests/pledges/test_pledges_time_zone_tax.py`.
- **A percentage is of the price the disclosure names.** With a `price_basis` of `with_tax` or
  `without_tax`, a line on the other basis is converted with its tax amount, and a line whose
  basis is not known counts nothing (`tax_unknown`). Tests:
  `tests/pledges/test_pledges_time_zone_tax.py`.
- **Reversals never exceed what was counted.** A refund takes back the cumulative-floored share
  of the refunded quantity, bounded by the quantity still counted. Tests:
  `tests/domain/test_domain_rules.py::test_reversals_never_exceed_what_was_counted` (property),
  `tests/pledges/test_pledges_engine.py::test_refunds_never_reverse_more_than_was_counted`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Row, func, select

from wefirst.catalog.service import get_brand
from wefirst.domain.campaigns import Campaign
from wefirst.domain.clock import as_utc, utcnow
from wefirst.domain.rules import (
    TAX_UNKNOWN,
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
from wefirst.ledger.service import PledgeFacts, ReversalFacts, record_pledge, record_reversal
from wefirst.pledges.batch import Batch, CampaignState
from wefirst.pledges.model import (
    ClickIn,
    EventOutcome,
    Outcome,
    PurchaseIn,
    RefundIn,
    RefundLineIn,
    ReversalOutcome,
    new_receipt,
    order_hash,
)
from wefirst.store.tables_core import campaigns, pledge_reversals, pledges

T = TypeVar("T")


def _room(batch: Batch, st: CampaignState, day: date) -> CapRoom:
    caps = st.campaign.caps
    return CapRoom(
        units=None if caps.total_units is None else caps.total_units - st.net_units,
        day_units=None if caps.units_per_day is None else caps.units_per_day - batch.day_units(st, day),
        money=None if caps.total_money is None else caps.total_money - st.net_money,
    )


@functools.lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def campaign_day(c: Campaign, at: datetime) -> date:
    """The day of the campaign's time zone that `at` falls on: the day its day caps count."""
    return as_utc(at).astimezone(_zone(c.time_zone)).date()


def _spend(
    batch: Batch,
    st: CampaignState,
    draft: Draft,
    carry: Carry,
    facts: PledgeFacts,
    *,
    line_id: str | None,
    narrow: Callable[[CapRoom], CapRoom] | None = None,
    commitment: str | None = None,
) -> EventOutcome:
    """Pledge `draft` within the caps. `narrow` tightens the room (a rule's own cap); a given
    `commitment` (a public action's) is logged instead of a new receipt's."""
    c = st.campaign
    day = campaign_day(c, facts.received_at)
    room = _room(batch, st, day)
    capped = apply_caps(draft, narrow(room) if narrow else room, c.unit.cost_per_unit.amount)
    st.carry = carry
    if capped.units <= 0 and capped.money <= 0:
        outcome: Outcome = "over_cap" if (draft.units > 0 or draft.money > 0) else "carried"
        return EventOutcome(outcome, c.id, line_id, currency=c.currency)
    receipt = new_receipt() if commitment is None else None
    rec = record_pledge(
        batch.writer,
        c,
        facts,
        units=capped.units,
        money=capped.money,
        rule=draft.rule,
        commitment=receipt.commitment if receipt is not None else commitment,
    )
    batch.claim(c.id, facts.line_key)
    st.recorded = True
    st.net_units += capped.units
    st.net_money += capped.money
    batch.add_day_units(st, day, capped.units)
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


def _received(at: datetime | None) -> datetime:
    """When wefirst heard of the event: given by intake that queued it, else now."""
    return as_utc(at) if at is not None else utcnow()


def _run(conn: Connection, batch: Batch | None, fn: Callable[[Batch], T]) -> T:
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
    return _run(conn, batch, lambda b: _apply_purchase(b, brand_id, purchase, livemode))


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
    received = _received(purchase.received_at)
    for loaded in batch.brand_campaigns(brand_id, livemode, purchase.campaign_id):
        c = loaded.campaign
        for line in purchase.lines:
            includes_tax = line.includes_tax if line.includes_tax is not None else purchase.prices_include_tax
            item = PurchaseLine(line.sku, line.quantity, line.unit_price, line.tax, includes_tax)
            probe, _ = pledge_for_line(c, item, Carry())
            if probe is None:
                continue
            matched.add(line.line_id)
            if probe.rule == TAX_UNKNOWN:
                results.append(EventOutcome("tax_unknown", c.id, line.line_id))
                continue
            if probe.rule == "percent_of_sale" and purchase.currency != c.currency:
                results.append(EventOutcome("currency_mismatch", c.id, line.line_id))
                continue
            if not c.is_open_at(when):
                results.append(EventOutcome("inactive", c.id, line.line_id))
                continue
            key = line.line_key or f"{ohash}:{line.line_id}"
            st = batch.lock(loaded, key)
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
                    PledgeFacts(key, purchase.source, line.quantity, when, received, line.sku, ohash),
                    line_id=line.line_id,
                )
            )
        if pledge_for_order(c, Carry())[0] is not None and c.is_open_at(when):
            key = f"{ohash}:order"
            st = batch.lock(loaded, key)
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
                        PledgeFacts(key, purchase.source, 1, when, received, order_hash=ohash),
                        line_id=None,
                    )
                )
    for line in purchase.lines:
        if line.line_id not in matched:
            results.append(EventOutcome("no_rule", None, line.line_id))
    return results


def apply_click(conn: Connection, click: ClickIn, batch: Batch | None = None) -> EventOutcome:
    return _run(conn, batch, lambda b: _apply_click(b, click))


def _apply_click(batch: Batch, click: ClickIn) -> EventOutcome:
    loaded = batch.campaign(click.campaign_id)
    c = loaded.campaign
    when = as_utc(click.occurred_at)
    if pledge_for_click(c, Carry())[0] is None:
        return EventOutcome("no_rule", c.id)
    if not c.is_open_at(when):
        return EventOutcome("inactive", c.id)
    key = "click:" + (click.dedupe_key or f"{click.visitor}:{when.date().isoformat()}")
    st = batch.lock(loaded, key)
    if batch.exists(c.id, key):
        return EventOutcome("duplicate", c.id)
    draft, carry = pledge_for_click(c, st.carry)
    assert draft is not None
    facts = PledgeFacts(key, "click", 1, when, _received(click.received_at), publisher=click.publisher_id)
    return _spend(batch, st, draft, carry, facts, line_id=None)


def _pledges_for(conn: Connection, brand_id: str, line_key: str) -> list[Row[Any]]:
    return list(
        conn.execute(
            select(pledges)
            .join(campaigns, campaigns.c.id == pledges.c.campaign_id)
            .where(pledges.c.line_key == line_key, campaigns.c.brand_id == brand_id)
            .order_by(pledges.c.campaign_id)
        )
    )


def _order_line_pledges(conn: Connection, brand_id: str, ohash: str) -> list[Row[Any]]:
    """Every per-line pledge of one order (not its order-level pledge), in a stable order."""
    return list(
        conn.execute(
            select(pledges)
            .join(campaigns, campaigns.c.id == pledges.c.campaign_id)
            .where(
                pledges.c.order_hash == ohash,
                campaigns.c.brand_id == brand_id,
                pledges.c.line_key != f"{ohash}:order",
            )
            .order_by(pledges.c.campaign_id, pledges.c.seq)
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
    bq, bu, bm = batch.reversed.get(pledge_id, (0, 0, 0))
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
    received: datetime,
    line_id: str,
) -> ReversalOutcome:
    conn = batch.conn
    if (
        reversal_key in batch.reversal_keys
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
        ReversalFacts(
            pledge_id=p.id,
            campaign_id=p.campaign_id,
            currency=p.currency,
            reversal_key=reversal_key,
            quantity=qty,
            units=units,
            money=money,
            reason=reason,
            occurred_at=when,
            received_at=received,
        ),
        public=st.campaign.public,
    )
    batch.reversal_keys.add(reversal_key)
    st.recorded = True
    bq, bu, bm = batch.reversed.get(p.id, (0, 0, 0))
    batch.reversed[p.id] = (bq + qty, bu + units, bm + money)
    st.net_units -= units
    st.net_money -= money
    day = campaign_day(st.campaign, p.received_at)  # the day whose cap the pledge was counted on
    batch.add_day_units(st, day, -units)
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
    return _run(conn, batch, lambda b: _apply_refund(b, brand_id, refund, now))


def _apply_refund(batch: Batch, brand_id: str, refund: RefundIn, now: datetime) -> list[ReversalOutcome]:
    batch.writer.flush(batch.conn)  # pledges and reversals buffered so far become visible
    batch.reversed.clear()
    conn = batch.conn
    ohash = order_hash(batch.brand(brand_id).order_salt, refund.order_id)
    when = as_utc(refund.occurred_at or now)
    received = as_utc(refund.received_at or now)
    work: list[tuple[Row[Any] | None, RefundLineIn | None, str]] = []
    for refund_line in refund.lines:
        key = refund_line.line_key or f"{ohash}:{refund_line.line_id}"
        found = _pledges_for(conn, brand_id, key)
        work += [(p, refund_line, key) for p in found] or [(None, refund_line, key)]
    if refund.whole_order:
        for whole in _order_line_pledges(conn, brand_id, ohash):
            line_id = whole.line_key.removeprefix(f"{ohash}:")
            work.append((whole, RefundLineIn(line_id, whole.quantity, whole.line_key), whole.line_key))
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
                received=received,
                reason=refund.reason if line is not None else "cancel",
                reversal_key=f"{refund.refund_id}:{key}:{p.id}",
                line_id=line_id,
            )
        )
    return results
