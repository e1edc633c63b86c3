"""Balances read from the postings: pledged, paid (reported, confirmed, disputed), delivered,
and the gaps between them — the figures a promise is judged by."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from wefirst.ledger import accounts
from wefirst.store.tables_core import campaigns, ledger_postings


@dataclass(frozen=True)
class Balance:
    campaign_id: str
    currency: str
    pledged_units: int
    pledged_money: int
    paid_unconfirmed: int
    paid_confirmed: int
    paid_disputed: int
    delivered_units: int  # within what the pledges fund
    guaranteed_minimum: int
    delivered_beyond_units: int = 0  # acknowledged as funded otherwise

    @property
    def paid_beyond_owed(self) -> int:
        """Payments (reported, not disputed) above what is owed, acknowledged with a reason."""
        return max(self.paid_unconfirmed + self.paid_confirmed - self.owed, 0)

    @property
    def paid_reported(self) -> int:
        return self.paid_unconfirmed + self.paid_confirmed + self.paid_disputed

    @property
    def owed(self) -> int:
        """What the brand must pay in the end: its pledges, or the guaranteed minimum."""
        return max(self.pledged_money, self.guaranteed_minimum)

    def as_json(self) -> dict[str, Any]:
        def m(amount: int) -> dict[str, Any]:
            return {"amount": amount, "currency": self.currency}

        return {
            "campaign_id": self.campaign_id,
            "pledged": {"units": self.pledged_units, "money": m(self.pledged_money)},
            "guaranteed_minimum": m(self.guaranteed_minimum),
            "owed": m(self.owed),
            "paid_reported": m(self.paid_reported),
            "paid_confirmed": m(self.paid_confirmed),
            "paid_disputed": m(self.paid_disputed),
            "paid_awaiting_confirmation": m(self.paid_unconfirmed),
            "paid_beyond_owed": m(self.paid_beyond_owed),
            "delivered": {"units": self.delivered_units, "beyond_pledges_units": self.delivered_beyond_units},
            "gaps": {
                "unpaid": m(max(self.owed - self.paid_confirmed, 0)),
                "unreported": m(max(self.owed - self.paid_reported, 0)),
                "unconfirmed": m(self.paid_unconfirmed),
                "undelivered_units": max(self.pledged_units - self.delivered_units, 0),
            },
        }


def _sums(conn: Connection, campaign_ids: list[str]) -> dict[str, dict[str, int]]:
    rows = conn.execute(
        select(
            ledger_postings.c.campaign_id,
            ledger_postings.c.account,
            func.sum(ledger_postings.c.amount).label("total"),
        )
        .where(ledger_postings.c.campaign_id.in_(campaign_ids))
        .group_by(ledger_postings.c.campaign_id, ledger_postings.c.account)
    )
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for row in rows:
        out[str(row.campaign_id)][str(row.account)] = int(row.total or 0)
    return out


def balance_from_sums(row: Any, sums: dict[str, int]) -> Balance:
    """A campaign's balance from per-account sums (`row` has `id` and `definition`); the pages
    use it with their own incremental roll-up of the same postings."""
    gmin = (row.definition.get("guaranteed_minimum") or {}).get("amount", 0)
    return Balance(
        campaign_id=row.id,
        currency=row.definition["currency"],
        pledged_units=sums.get(accounts.FUNDED, 0),
        pledged_money=sums.get(accounts.COMMITMENTS, 0),
        paid_unconfirmed=-sums.get(accounts.PAID_UNCONFIRMED, 0),
        paid_confirmed=-sums.get(accounts.PAID_CONFIRMED, 0),
        paid_disputed=-sums.get(accounts.PAID_DISPUTED, 0),
        delivered_units=-sums.get(accounts.DELIVERED, 0),
        guaranteed_minimum=gmin,
        delivered_beyond_units=-sums.get(accounts.DELIVERED_BEYOND, 0),
    )


def campaign_balances(conn: Connection, campaign_ids: list[str]) -> list[Balance]:
    rows = conn.execute(
        select(campaigns.c.id, campaigns.c.definition).where(campaigns.c.id.in_(campaign_ids))
    ).all()
    sums = _sums(conn, campaign_ids)
    by_id = {r.id: balance_from_sums(r, sums.get(r.id, {})) for r in rows}
    return [by_id[c] for c in campaign_ids if c in by_id]


def campaign_balance(conn: Connection, campaign_id: str) -> Balance | None:
    found = campaign_balances(conn, [campaign_id])
    return found[0] if found else None


def brand_balance(conn: Connection, brand_id: str) -> dict[str, Any]:
    """Public totals per currency over a brand's live, non-draft campaigns (units of different
    kinds are not added)."""
    ids = [
        r[0]
        for r in conn.execute(
            select(campaigns.c.id)
            .where(
                campaigns.c.brand_id == brand_id,
                # public figures: live campaigns that have been activated (never drafts or tests)
                campaigns.c.livemode.is_(True),
                campaigns.c.status != "draft",
            )
            .order_by(campaigns.c.seq)
        )
    ]
    per_campaign = campaign_balances(conn, ids)
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for b in per_campaign:
        t = totals[b.currency]
        t["pledged"] += b.pledged_money
        t["owed"] += b.owed
        t["paid_reported"] += b.paid_reported
        t["paid_confirmed"] += b.paid_confirmed
        t["paid_disputed"] += b.paid_disputed
    return {
        "brand_id": brand_id,
        "campaigns": [b.as_json() for b in per_campaign],
        "totals": [
            {"currency": cur, **{k: {"amount": v, "currency": cur} for k, v in t.items()}}
            for cur, t in sorted(totals.items())
        ],
    }
