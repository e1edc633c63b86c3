"""A receipt told to the person who holds it: what their click or purchase funded, promised by
whom to whom, and where that promise stands — paid (and confirmed), delivered, or refunded —
with the proof below for those who want it.

Payments and deliveries are pooled per campaign, so they are matched to pledges in the order
the pledges were made, day by day (first in, first covered): a pledge is paid once the
confirmed payments add up to everything pledged up to the end of its day, and delivered once
the delivered units do. The page says so. This module reads; it never writes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from sqlalchemy import Connection, func, select

from wefirst.domain.clock import as_utc
from wefirst.ledger import accounts
from wefirst.ledger.rollups import Rollups
from wefirst.ledger.verdict import due_for, payment_terms
from wefirst.store.tables_core import deliveries, ledger_transactions, pledge_reversals, pledges, settlements
from wefirst.translations import N_
from wefirst.web.i18n import Translator
from wefirst.web.queries import CampaignView, campaign_view

T = TypeVar("T")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{8,200}$")
_COMMITMENT = re.compile(r"^[0-9a-f]{64}$")
REPORTED = "{brand} reports paying it on {date}; {beneficiary} has not confirmed it yet."


@dataclass(frozen=True)
class ReceiptInput:
    """What a person pasted into /verify: the receipt's secret (from the code itself or a
    receipt link), or the receipt JSON (which carries only the public commitment)."""

    secret: str | None = None
    json: dict[str, Any] | None = None
    commitment: str | None = None


def parse_input(text: str) -> ReceiptInput | None:
    """`rcpt_…`, `https://…/receipts#rcpt_…` (or `/receipts/rcpt_…`, `/v1/receipts/…`), or the
    receipt JSON;
    None for anything else."""
    text = text.strip()
    if not text:
        return None
    if text.startswith("{"):
        try:
            obj = json.loads(text)
        except ValueError:
            return None
        if not isinstance(obj, dict):
            return None
        if isinstance(obj.get("receipt"), dict):
            obj = obj["receipt"]
        entry = obj.get("entry_json")
        if not isinstance(entry, dict) and isinstance(obj.get("entry"), str):
            try:
                entry = json.loads(obj["entry"])
            except ValueError:
                entry = None
        found = entry.get("commitment") if isinstance(entry, dict) else obj.get("commitment")
        commitment = found if isinstance(found, str) and _COMMITMENT.match(found) else None
        return ReceiptInput(json=obj, commitment=commitment)
    held = re.search(r"/receipts(?:/c/[0-9a-f]{64})?#(?:secret=)?([^&#/?]+)", text)
    if held is not None:  # a link that keeps the secret in its fragment
        return ReceiptInput(secret=unquote(held.group(1))) if _SECRET.match(unquote(held.group(1))) else None
    if "/" in text:
        path = urlsplit(text).path if "://" in text else text
        match = re.search(r"/receipts/([^/?#]+)", path)
        if match is None:
            return None
        text = unquote(match.group(1))
    return ReceiptInput(secret=text) if _SECRET.match(text) else None


@dataclass(frozen=True)
class Story:
    view: CampaignView
    source: str  # "click" or a shop source: the person clicked or bought
    units: int  # what the pledge funded
    money: int
    reversed_units: int
    reversed_quantity: int
    quantity: int
    refunded_on: date | None
    made_on: date
    paid_on: date | None  # confirmed by the beneficiary
    reported_on: date | None  # reported by the brand, not yet confirmed
    due_on: date | None
    delivered: Any | None  # the delivery row that covered it

    @property
    def refunded(self) -> bool:
        return self.quantity > 0 and self.reversed_quantity >= self.quantity

    @property
    def standing_units(self) -> int:
        return max(self.units - self.reversed_units, 0)


def _first_covering(needed: int, running: Iterable[tuple[T, int]]) -> T | None:
    total = 0
    for item, amount in running:
        total += amount
        if total >= needed:
            return item
    return None


def _day(value: Any) -> date:
    return as_utc(value).date() if isinstance(value, datetime) else date.fromisoformat(str(value)[:10])


def story_for(conn: Connection, rollups: Rollups, commitment: str) -> Story | None:
    p = conn.execute(select(pledges).where(pledges.c.commitment == commitment)).first()
    if p is None:
        return None
    view = campaign_view(conn, p.campaign_id)
    if view is None:
        return None
    r = pledge_reversals
    mine = conn.execute(
        select(
            func.coalesce(func.sum(r.c.units), 0),
            func.coalesce(func.sum(r.c.quantity), 0),
            func.max(ledger_transactions.c.occurred_at),
        )
        .select_from(r.join(ledger_transactions, ledger_transactions.c.id == r.c.txn_id))
        .where(r.c.pledge_id == p.id)
    ).one()
    # What must be covered before this pledge is: everything pledged up to the end of its
    # day, net of refunds recorded by then, read from the pages' per-day roll-up (a sum over
    # the campaign's pledges would cost ~100 ms for a campaign of 100,000 of them).
    made_day = _day(p.occurred_at)
    need_money = need_units = 0
    for day, sums in rollups.days(conn, p.campaign_id).items():
        if day <= made_day:
            need_money += sums.get(accounts.COMMITMENTS, 0)
            need_units += sums.get(accounts.FUNDED, 0)
    paid = conn.execute(
        select(settlements.c.paid_at, settlements.c.amount, settlements.c.status)
        .where(settlements.c.campaign_id == p.campaign_id, settlements.c.status != "disputed")
        .order_by(settlements.c.paid_at, settlements.c.seq)
    ).all()
    confirmed = [(_day(s.paid_at), int(s.amount)) for s in paid if s.status == "confirmed"]
    paid_on = _first_covering(need_money, ((d, a) for d, a in confirmed)) if need_money > 0 else None
    reported_on = None
    if paid_on is None and need_money > 0:
        reported_on = _first_covering(need_money, ((_day(s.paid_at), int(s.amount)) for s in paid))
    rows = conn.execute(
        select(deliveries)
        .where(deliveries.c.campaign_id == p.campaign_id)
        .order_by(deliveries.c.period_end, deliveries.c.seq)
    ).all()
    delivered = _first_covering(need_units, ((d, int(d.units)) for d in rows)) if need_units > 0 else None
    definition = view.row.definition
    end = definition.get("ends_at")
    made_on = made_day
    return Story(
        view=view,
        source=str(p.source),
        units=int(p.units),
        money=int(p.money),
        reversed_units=int(mine[0]),
        reversed_quantity=int(mine[1]),
        quantity=int(p.quantity),
        refunded_on=_day(mine[2]) if mine[2] is not None else None,
        made_on=made_on,
        paid_on=paid_on,
        reported_on=reported_on,
        due_on=due_for(made_on, payment_terms(definition), _day(end) if end else None),
        delivered=delivered,
    )


def headline(s: Story, tr: Translator) -> str:
    v = s.view
    what = f"{tr.number(s.units)} {v.unit_label(tr.locale, s.units)}"
    if s.refunded:
        text = (
            N_("Your purchase was refunded on {date}: the promise it carried ({what}) is cancelled.")
            if s.source != "click"
            else N_("Your click was cancelled on {date}: the promise it carried ({what}) is cancelled.")
        )
        return tr.gettext(text).format(date=tr.date(s.refunded_on), what=what)
    text = (
        N_("Your click funded {what}, promised by {brand} to {beneficiary}.")
        if s.source == "click"
        else N_("Your purchase funded {what}, promised by {brand} to {beneficiary}.")
    )
    return tr.gettext(text).format(what=what, brand=v.brand_name, beneficiary=v.beneficiary_name)


def facts(s: Story, tr: Translator) -> list[dict[str, Any]]:
    """The promise's progress, one line each: refunds, payment, delivery."""
    v = s.view
    out: list[dict[str, Any]] = []
    if s.refunded:
        return out
    if s.reversed_units:
        out.append(
            {
                "state": "refunded",
                "text": tr.gettext("Partly refunded on {date}: {what} still promised.").format(
                    date=tr.date(s.refunded_on),
                    what=f"{tr.number(s.standing_units)} {v.unit_label(tr.locale, s.standing_units)}",
                ),
            }
        )
    if s.paid_on is not None:
        text = tr.gettext("Paid on {date}, and {beneficiary} confirmed receiving it.").format(
            date=tr.date(s.paid_on), beneficiary=v.beneficiary_name
        )
        out.append({"state": "done", "text": text})
    elif s.reported_on is not None:
        text = tr.gettext(
            "{brand} reports paying it on {date}; {beneficiary} has not confirmed it yet."
        ).format(brand=v.brand_name, date=tr.date(s.reported_on), beneficiary=v.beneficiary_name)
        out.append({"state": "waiting", "text": text})
    elif s.due_on is not None:
        text = tr.gettext("Awaiting payment: {brand} has until {date} to pay it.").format(
            brand=v.brand_name, date=tr.date(s.due_on)
        )
        out.append({"state": "waiting", "text": text})
    else:
        out.append({"state": "waiting", "text": tr.gettext("Awaiting payment.")})
    if s.delivered is not None:
        d = s.delivered
        text = tr.gettext("Delivered between {start} and {end}.").format(
            start=tr.date(d.period_start), end=tr.date(d.period_end)
        )
        out.append({"state": "done", "text": text, "evidence": d.evidence_url})
    else:
        out.append({"state": "waiting", "text": tr.gettext("Not delivered yet.")})
    return out
