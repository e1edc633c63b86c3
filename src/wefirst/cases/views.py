"""JSON shapes of cases for the API, the CLI and the pages. Supporter addresses and opener
token hashes never appear here; hidden cases show only their shell and the public reason
(moderators see everything)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from babel.numbers import format_currency, format_decimal, get_currency_precision
from sqlalchemy import Connection, select

from wefirst.cases.moderation import moderation_log
from wefirst.cases.signals import cosign_series
from wefirst.cases.signals_pure import recent_velocity
from wefirst.catalog.service import load_campaign
from wefirst.domain.clock import rfc3339
from wefirst.ledger.balances import campaign_balance
from wefirst.store.tables_cases import case_answers, case_commitments, case_verdicts


def _t(value: datetime | None) -> str | None:
    return rfc3339(value) if value is not None else None


def promise_gap(conn: Connection, campaign_id: str) -> dict[str, Any] | None:
    """The campaign's balance straight from the ledger, with one sentence per language:
    "pledged 1,200,000 doses, confirmed paid for 800,000"."""
    balance = campaign_balance(conn, campaign_id)
    if balance is None:
        return None
    unit = load_campaign(conn, campaign_id).campaign.unit
    cost = unit.cost_per_unit
    paid_units = balance.paid_confirmed // cost.amount if cost.currency == balance.currency else None
    gap = balance.as_json()
    gap["paid_confirmed_units"] = paid_units
    sentences = {}
    for lang, locale in (("en", "en_GB"), ("fr", "fr_FR")):
        pledged = format_decimal(balance.pledged_units, locale=locale)
        label = unit.label(lang, balance.pledged_units)
        minor = get_currency_precision(balance.currency)
        paid_money = format_currency(
            Decimal(balance.paid_confirmed).scaleb(-minor), balance.currency, locale=locale
        )
        if paid_units is not None:
            paid = format_decimal(paid_units, locale=locale)
            sentences[lang] = (
                f"pledged {pledged} {label}, confirmed paid for {paid} ({paid_money})"
                if lang == "en"
                else f"promis : {pledged} {label}, paiement confirmé pour {paid} ({paid_money})"
            )
        else:
            sentences[lang] = (
                f"pledged {pledged} {label}, confirmed paid {paid_money}"
                if lang == "en"
                else f"promis : {pledged} {label}, paiement confirmé : {paid_money}"
            )
    gap["summary"] = sentences
    return gap


def answers_json(conn: Connection, case_id: str) -> list[dict[str, Any]]:
    answers = conn.execute(
        select(case_answers).where(case_answers.c.case_id == case_id).order_by(case_answers.c.seq)
    ).all()
    commitments = conn.execute(
        select(case_commitments).where(case_commitments.c.case_id == case_id).order_by(case_commitments.c.seq)
    ).all()
    by_answer: dict[str, list[dict[str, Any]]] = {}
    for c in commitments:
        by_answer.setdefault(c.answer_id, []).append(
            {"text": c.text, "due_on": c.due_on.isoformat() if c.due_on else None}
        )
    return [
        {
            "id": a.id,
            "body": a.body,
            "language": a.language,
            "created_at": rfc3339(a.created_at),
            "commitments": by_answer.get(a.id, []),
        }
        for a in answers
    ]


def verdicts_json(conn: Connection, case_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(case_verdicts).where(case_verdicts.c.case_id == case_id).order_by(case_verdicts.c.seq)
    ).all()
    return [
        {"answer_id": v.answer_id, "verdict": v.verdict, "note": v.note, "at": rfc3339(v.at)} for v in rows
    ]


def case_summary(row: Any, *, moderator: bool = False) -> dict[str, Any]:
    """The list form: no answers, no ledger lookups."""
    shown = moderator or not row.hidden
    out: dict[str, Any] = {
        "id": row.id,
        "object": "case",
        "kind": row.kind,
        "brand_id": row.brand_id,
        "campaign_id": row.campaign_id,
        "category": row.category,
        "language": row.language,
        "state": row.state,
        "hidden": bool(row.hidden),
        "hidden_reason": row.hidden_reason,
        "unanswered": row.unanswered_at is not None and row.state == "open",
        "unanswered_at": _t(row.unanswered_at),
        "cosigns": row.cosign_count,
        "opened_at": rfc3339(row.opened_at),
        "answered_at": _t(row.answered_at),
        "closed_at": _t(row.closed_at),
    }
    if shown:
        out.update(
            title=row.title,
            what_happened=row.what_happened,
            what_is_asked=row.what_is_asked,
            evidence=list(row.evidence),
        )
    return out


def case_json(conn: Connection, row: Any, *, now: datetime, moderator: bool = False) -> dict[str, Any]:
    out = case_summary(row, moderator=moderator)
    shown = moderator or not row.hidden
    out["answers"] = answers_json(conn, row.id) if shown else []
    out["verdicts"] = verdicts_json(conn, row.id) if shown else []
    out["moderation"] = moderation_log(conn, row.id)
    out["promise_gap"] = promise_gap(conn, row.campaign_id) if row.campaign_id else None
    series = cosign_series(conn, row.brand_id, now - timedelta(hours=24), case_id=row.id)
    out["cosign_velocity"] = {
        "last_hour": recent_velocity(series, now, 1),
        "last_24_hours": recent_velocity(series, now, 24),
    }
    return out
