"""Writes to the ledger. Each function is one balanced, append-only transaction plus its
transparency-log entry, in the caller's database transaction, so the ledger and the log queue
can never disagree about what happened."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from wefirst import commitments
from wefirst.domain.campaigns import Campaign, CampaignStatus
from wefirst.domain.clock import rfc3339, utcnow
from wefirst.domain.ids import new_id
from wefirst.errors import Conflict, invalid
from wefirst.ledger import accounts
from wefirst.ledger.accounts import Posting
from wefirst.ledger.balances import Balance, campaign_balance
from wefirst.ledger.verdict import owed_units
from wefirst.ledger.writer import DirectWriter, Writer
from wefirst.store.tables_core import (
    campaign_counters,
    deliveries,
    ledger_postings,
    ledger_transactions,
    pledge_reversals,
    pledges,
    settlements,
)


def _money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


@dataclass(frozen=True)
class LedgerTxn:
    """One balanced transaction to write, with what its log entry says beyond the common keys.
    `occurred_at` is what the event claims, `received_at` when wefirst heard of it (default:
    now); a campaign that is not `public` (a draft, test mode) keeps it out of the log."""

    kind: str
    campaign_id: str
    ref_id: str
    occurred_at: datetime
    postings: list[Posting]
    entry: dict[str, Any]
    commitment: str | None = None
    received_at: datetime | None = None
    public: bool = True


def write_transaction(w: Writer, t: LedgerTxn) -> str:
    """One balanced transaction and its log entry. The entry carries both times: `at` is what
    the event claims, `received` is when wefirst heard of it (default: now)."""
    if not accounts.is_balanced(t.postings):
        raise AssertionError(f"unbalanced {t.kind} transaction")  # a bug, never user input
    txn_id = new_id("txn")
    received = t.received_at or utcnow()
    w.add(
        ledger_transactions,
        [
            {
                "id": txn_id,
                "kind": t.kind,
                "campaign_id": t.campaign_id,
                "ref_id": t.ref_id,
                "occurred_at": t.occurred_at,
                "received_at": received,
                "created_at": utcnow(),
            }
        ],
    )
    w.add(
        ledger_postings,
        [
            {
                "txn_id": txn_id,
                "campaign_id": t.campaign_id,
                "account": p.account,
                "commodity": p.commodity,
                "amount": p.amount,
            }
            for p in t.postings
        ],
    )
    if not t.public:
        return txn_id  # a test-mode campaign (drafts hold no ledger entries): never logged
    w.log(
        {
            "v": 1,
            "kind": t.kind,
            "txn": txn_id,
            "campaign": t.campaign_id,
            "at": rfc3339(t.occurred_at),
            "received": rfc3339(received),
            **t.entry,
        },
        t.commitment,
    )
    return txn_id


@dataclass(frozen=True)
class PledgeRecord:
    id: str
    txn_id: str
    units: int
    money: int


@dataclass(frozen=True)
class PledgeFacts:
    """The event a pledge is for, as the engine received it (the amounts are the engine's)."""

    line_key: str  # unique per campaign: what makes a replay a duplicate
    source: str
    quantity: int
    occurred_at: datetime
    received_at: datetime
    sku: str | None = None
    order_hash: str | None = None
    publisher: str | None = None  # a blogger can prove their readers' clicks from the log


def record_pledge(
    w: Writer,
    campaign: Campaign,
    facts: PledgeFacts,
    *,
    units: int,
    money: int,
    rule: str,
    commitment: str | None = None,
) -> PledgeRecord:
    f = facts
    pledge_id = new_id("plg")
    entry: dict[str, Any] = {
        "pledge": pledge_id,
        "brand": campaign.brand_id,
        "beneficiary": campaign.beneficiary_id,
        "source": f.source,
        "rule": rule,
        "quantity": f.quantity,
        "units": units,
        "money": _money(money, campaign.currency),
        "unit": {"id": campaign.unit.id, "version": campaign.unit.version},
    }
    if f.sku is not None:
        entry["sku"] = f.sku
    if f.order_hash is not None:
        entry["order_hash"] = f.order_hash
    if commitment is not None:
        entry["commitment"] = commitment
    if f.publisher is not None:
        entry["publisher"] = f.publisher
    txn_id = write_transaction(
        w,
        LedgerTxn(
            kind="pledge",
            campaign_id=campaign.id,
            ref_id=pledge_id,
            occurred_at=f.occurred_at,
            postings=accounts.pledge(campaign.currency, money, units),
            entry=entry,
            commitment=commitment,
            received_at=f.received_at,
            public=campaign.public,
        ),
    )
    w.add(
        pledges,
        [
            {
                "id": pledge_id,
                "campaign_id": campaign.id,
                "line_key": f.line_key,
                "source": f.source,
                "rule": rule,
                "order_hash": f.order_hash,
                "sku": f.sku,
                "quantity": f.quantity,
                "units": units,
                "money": money,
                "currency": campaign.currency,
                "impact_unit_version": campaign.unit.version,
                "commitment": commitment,
                "txn_id": txn_id,
                "occurred_at": f.occurred_at,
                "received_at": f.received_at,
                "created_at": utcnow(),
            }
        ],
    )
    return PledgeRecord(pledge_id, txn_id, units, money)


@dataclass(frozen=True)
class ReversalFacts:
    """One reversal of (part of) a pledge, as the engine worked it out: the amounts are its
    share of what the pledge counted, never more than is left."""

    pledge_id: str
    campaign_id: str
    currency: str
    reversal_key: str  # unique: what makes a replay a duplicate
    quantity: int
    units: int
    money: int
    reason: str
    occurred_at: datetime
    received_at: datetime | None = None


def record_reversal(w: Writer, r: ReversalFacts, *, public: bool = True) -> str:
    txn_id = write_transaction(
        w,
        LedgerTxn(
            kind="pledge_reversal",
            campaign_id=r.campaign_id,
            ref_id=r.pledge_id,
            occurred_at=r.occurred_at,
            postings=accounts.pledge_reversal(r.currency, r.money, r.units),
            entry={
                "pledge": r.pledge_id,
                "reason": r.reason,
                "quantity": r.quantity,
                "units": r.units,
                "money": _money(r.money, r.currency),
            },
            received_at=r.received_at,
            public=public,
        ),
    )
    w.add(
        pledge_reversals,
        [
            {
                "pledge_id": r.pledge_id,
                "reversal_key": r.reversal_key,
                "quantity": r.quantity,
                "units": r.units,
                "money": r.money,
                "reason": r.reason,
                "txn_id": txn_id,
                "created_at": utcnow(),
            }
        ],
    )
    return txn_id


def _not_a_draft(campaign: Campaign) -> None:
    """A draft has promised nothing yet: nothing can be paid or delivered against it (and it
    is not public, so its ledger would be missing from the log once it is)."""
    if campaign.status == CampaignStatus.draft:
        raise Conflict(
            f"campaign {campaign.id} is a draft: activate it before recording payments or deliveries"
        )


def _locked_balance(conn: Connection, campaign_id: str) -> Balance:
    """The campaign's balance, read under its counter row's lock so that two concurrent claims
    cannot both fit in the same room."""
    conn.execute(
        select(campaign_counters.c.campaign_id)
        .where(campaign_counters.c.campaign_id == campaign_id)
        .with_for_update()
    ).first()
    balance = campaign_balance(conn, campaign_id)
    assert balance is not None
    return balance


def report_settlement(
    conn: Connection,
    campaign: Campaign,
    *,
    amount: int,
    external_reference: str,
    paid_at: datetime,
    beyond_owed_reason: str | None = None,
) -> str:
    """A payment the brand reports. What exceeds what is still owed (pledges or the guaranteed
    minimum, less payments reported and not disputed) needs a reason, and is shown apart."""
    _not_a_draft(campaign)
    balance = _locked_balance(conn, campaign.id)
    room = max(balance.owed - balance.paid_unconfirmed - balance.paid_confirmed, 0)
    beyond = max(amount - room, 0)
    if beyond and not beyond_owed_reason:
        raise invalid(
            "amount.amount",
            f"{beyond} {campaign.currency} minor units beyond the {room} still owed; a payment above "
            "what is owed needs beyond_owed_reason (it is then shown as paid beyond what is owed)",
        )
    reason = beyond_owed_reason if beyond else None
    settlement_id = new_id("stl")
    conn.execute(
        insert(settlements).values(
            id=settlement_id,
            campaign_id=campaign.id,
            amount=amount,
            currency=campaign.currency,
            external_reference=external_reference,
            paid_at=paid_at,
            reported_at=utcnow(),
            status="reported",
            beyond_owed_amount=beyond,
            beyond_owed_reason=reason,
        )
    )
    now = utcnow()
    text = functools.partial(commitments.commit, conn, table="settlements", row_id=settlement_id, now=now)
    entry: dict[str, Any] = {
        "settlement": settlement_id,
        "brand": campaign.brand_id,
        "beneficiary": campaign.beneficiary_id,
        "money": _money(amount, campaign.currency),
        # free text reaches the public log only as a commitment (wefirst/commitments.py)
        "external_reference_sha256": text(external_reference, field="external_reference"),
    }
    if beyond:
        entry["beyond_owed"] = {
            "money": _money(beyond, campaign.currency),
            "reason_sha256": text(reason or "", field="beyond_owed_reason"),
        }
    write_transaction(
        DirectWriter(conn),
        LedgerTxn(
            kind="settlement_reported",
            campaign_id=campaign.id,
            ref_id=settlement_id,
            occurred_at=paid_at,
            postings=accounts.settlement_reported(campaign.currency, amount),
            entry=entry,
            public=campaign.public,
        ),
    )
    return settlement_id


@dataclass(frozen=True)
class SettlementDecision:
    """The beneficiary's word on one reported payment (`decide_settlement` says the rules)."""

    settlement_id: str
    campaign_id: str
    currency: str
    amount: int  # as reported
    confirmed: bool
    note: str | None
    received_amount: int | None = None  # a partial confirmation: what arrived
    bank_reference: str | None = None
    public: bool = True


def decide_settlement(conn: Connection, d: SettlementDecision) -> None:
    """The beneficiary's word on a reported payment. A dispute says why. A confirmation may
    be of part of the amount (`received_amount`, with the bank's reference): that part is
    confirmed and the rest disputed, as two log entries. The row's status is a projection;
    the ledger transactions are the record."""
    settlement_id, currency, amount, confirmed, note = (
        d.settlement_id,
        d.currency,
        d.amount,
        d.confirmed,
        d.note,
    )
    received_amount, bank_reference = d.received_amount, d.bank_reference
    now = utcnow()
    decided = conn.execute(select(settlements.c.status).where(settlements.c.id == settlement_id)).scalar()
    if decided != "reported":
        raise Conflict(f"settlement {settlement_id} was already confirmed or disputed")
    if not confirmed and not (note and note.strip()):
        raise invalid("note", "a dispute says why (what is missing or wrong), for the brand and the public")
    received = amount if (not confirmed or received_amount is None) else received_amount
    if confirmed and not 0 < received <= amount:
        raise invalid("amount.amount", f"must be between 1 and the {amount} minor units reported")
    partial = confirmed and received < amount
    if partial and not bank_reference:
        raise invalid(
            "bank_reference", "a partial confirmation names the bank statement line it is read from"
        )
    status = ("partially_confirmed" if partial else "confirmed") if confirmed else "disputed"
    result = conn.execute(
        update(settlements)
        .where(settlements.c.id == settlement_id, settlements.c.status == "reported")
        .values(
            status=status,
            decided_at=now,
            decision_note=note,
            confirmed_amount=received if confirmed else None,
            bank_reference=bank_reference,
        )
    )
    if result.rowcount != 1:
        raise Conflict(f"settlement {settlement_id} was already confirmed or disputed")
    parts: list[tuple[str, int, str | None]] = []
    if confirmed:
        parts.append(("settlement_confirmed", received, None if partial else note))
    if partial:
        parts.append(("settlement_disputed", amount - received, note or f"received {received} of {amount}"))
    if not confirmed:
        parts.append(("settlement_disputed", amount, note))
    text = functools.partial(commitments.commit, conn, table="settlements", row_id=settlement_id, now=now)
    for kind, part, why in parts:
        postings = (
            accounts.settlement_confirmed if kind == "settlement_confirmed" else accounts.settlement_disputed
        )(currency, part)
        entry: dict[str, Any] = {"settlement": settlement_id, "money": _money(part, currency)}
        if why:
            entry["note_sha256"] = text(why, field="decision_note")
        if bank_reference and kind == "settlement_confirmed":
            entry["bank_reference_sha256"] = text(bank_reference, field="bank_reference")
        write_transaction(
            DirectWriter(conn),
            LedgerTxn(
                kind=kind,
                campaign_id=d.campaign_id,
                ref_id=d.settlement_id,
                occurred_at=now,
                postings=postings,
                entry=entry,
                public=d.public,
            ),
        )


def _beyond_funded(conn: Connection, campaign: Campaign, units: int, reason: str | None) -> int:
    """How many of `units` go beyond what the campaign's pledges fund and is not yet delivered
    (read under the counter's lock); a number above 0 needs a reason."""
    balance = _locked_balance(conn, campaign.id)
    room = max(owed_units(balance, campaign.unit.cost_per_unit.amount) - balance.delivered_units, 0)
    beyond = max(units - room, 0)
    if beyond and not reason:
        raise invalid(
            "units",
            f"{beyond} units beyond the {room} this campaign's pledges fund and are not yet delivered; "
            "units delivered beyond them need beyond_funded_reason (they are then shown as funded otherwise)",
        )
    return beyond


def report_delivery(
    conn: Connection,
    campaign: Campaign,
    *,
    units: int,
    period_start: date,
    period_end: date,
    evidence_url: str,
    note: str | None,
    beyond_funded_reason: str | None = None,
) -> str:
    """Units the beneficiary delivered over a period that has begun and ended. Units beyond
    what this campaign's pledges fund and are not yet delivered need a reason and are kept
    apart ("delivered beyond this campaign's pledges: funded otherwise")."""
    now = utcnow()
    today = now.date()
    if period_start > today:
        raise invalid("period_start", "is in the future: report a delivery once it has happened")
    if period_end > today:
        raise invalid("period_end", "is in the future: report a delivery once its period has ended")
    _not_a_draft(campaign)
    beyond = _beyond_funded(conn, campaign, units, beyond_funded_reason)
    reason = beyond_funded_reason if beyond else None
    delivery_id = new_id("dlv")
    conn.execute(
        insert(deliveries).values(
            id=delivery_id,
            campaign_id=campaign.id,
            units=units,
            period_start=period_start,
            period_end=period_end,
            evidence_url=evidence_url,
            note=note,
            reported_at=now,
            beyond_funded_units=beyond,
            beyond_funded_reason=reason,
        )
    )
    text = functools.partial(commitments.commit, conn, table="deliveries", row_id=delivery_id, now=now)
    entry: dict[str, Any] = {
        "delivery": delivery_id,
        "beneficiary": campaign.beneficiary_id,
        "units": units,
        "unit": {"id": campaign.unit.id, "version": campaign.unit.version},
        "period_start": period_start.isoformat(),
        "period_end": period_end.isoformat(),
        "evidence_url_sha256": text(evidence_url, field="evidence_url"),
    }
    if beyond:
        reason_sha256 = text(reason or "", field="beyond_funded_reason")
        entry["beyond_funded"] = {"units": beyond, "reason_sha256": reason_sha256}
    write_transaction(
        DirectWriter(conn),
        LedgerTxn(
            kind="delivery_reported",
            campaign_id=campaign.id,
            ref_id=delivery_id,
            occurred_at=now,
            postings=accounts.delivery_reported(units, beyond),
            entry=entry,
            public=campaign.public,
        ),
    )
    return delivery_id
