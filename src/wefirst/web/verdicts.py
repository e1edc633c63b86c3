"""The verdict (ledger/verdict.py) in words, in the page's language: the headline sentence, the
figures under it and the payment terms. The home page, the campaign page, its live counters
and the scorecard all take their words from here, so a promise reads the same everywhere.

Words match facts: a pledge is "promised", money is "paid" only once the beneficiary confirmed
it, and units are "delivered" only when the beneficiary reported them."""

from __future__ import annotations

from typing import Any

from wefirst.ledger.balances import Balance
from wefirst.ledger.verdict import Standing, Verdict
from wefirst.translations import N_
from wefirst.web.i18n import Translator
from wefirst.web.queries import CampaignView

STANDING_LABELS = {
    Standing.NOTHING_YET: N_("Nothing promised yet"),
    Standing.ON_TRACK: N_("On track"),
    Standing.AWAITING_CONFIRMATION: N_("Awaiting confirmation"),
    Standing.LATE: N_("Late"),
    Standing.KEPT: N_("Kept"),
}


def standing_label(v: Verdict, tr: Translator) -> str:
    return tr.gettext(STANDING_LABELS[v.standing])


def units(view: CampaignView, n: int, tr: Translator) -> str:
    return f"{tr.number(n)} {view.unit_label(tr.locale, n)}"


def outcome_text(view: CampaignView, n: int, tr: Translator) -> str | None:
    """Where the unit has an outcome conversion ("3 doses protect 1 child"): the whole
    outcomes the promised units make (floor) and the units towards the next, never rounded up."""
    o = view.unit.get("outcome") or {}
    per = o.get("units_per_outcome")
    if not isinstance(per, int) or per <= 0:
        return None
    count, rest = divmod(max(n, 0), per)
    labels = o.get("labels", {})
    forms = labels.get(tr.locale) or labels.get("en") or {}
    text = f"{tr.number(count)} {forms.get('singular' if count == 1 else 'plural', '')}".strip()
    if rest:
        text += " " + tr.gettext("(+{units} towards the next)").format(units=units(view, rest, tr))
    return text


def out_of(view: CampaignView, n: int, total: int, tr: Translator) -> str:
    """ "6 of 10 tetanus vaccines", "6 sur 10 vaccins contre le tétanos"."""
    return tr.gettext("{n} of {total}").format(n=tr.number(n), total=units(view, total, tr))


def headline(view: CampaignView, v: Verdict, tr: Translator) -> str:
    """One sentence that answers "is this promise being kept?"."""

    def m(amount: int) -> str:
        return tr.money(amount, v.currency)

    if v.standing is Standing.NOTHING_YET:
        return tr.gettext("Nothing has been promised yet: no eligible purchase or click so far.")
    if v.standing is Standing.LATE:
        return tr.gettext("Late: {amount} was due on {date} and is not reported paid.").format(
            amount=m(v.late_amount), date=tr.date(v.late_since)
        )
    if v.standing is Standing.AWAITING_CONFIRMATION:
        return tr.gettext(
            "Awaiting confirmation: {brand} reports paying {amount}; {beneficiary} has not confirmed it yet."
        ).format(brand=view.brand_name, amount=m(v.awaiting_confirmation), beneficiary=view.beneficiary_name)
    if v.standing is Standing.KEPT:
        return tr.gettext("Kept: {owed} paid and confirmed, {units} delivered.").format(
            owed=m(v.owed), units=units(view, v.delivered_units, tr)
        )
    paid = tr.gettext("On track: {paid} of {owed} owed is paid and confirmed.").format(
        paid=m(v.paid_confirmed), owed=m(v.owed)
    )
    if v.next_due is None:
        return paid
    return paid + " " + tr.gettext("Next payment due on {date}.").format(date=tr.date(v.next_due.on))


def terms(v: Verdict, tr: Translator) -> str:
    t = v.terms
    if not t.stated:
        return tr.gettext(
            "The campaign states no payment schedule: everything owed counts as due {days} days "
            "after the campaign ends."
        ).format(days=tr.number(t.within_days))
    if t.period == "campaign":
        return tr.gettext(
            "Payment schedule: everything owed is due {days} days after the campaign ends."
        ).format(days=tr.number(t.within_days))
    text = {
        "month": N_("Payment schedule: each month's pledges are due {days} days after the month ends."),
        "quarter": N_("Payment schedule: each quarter's pledges are due {days} days after the quarter ends."),
    }[t.period]
    return tr.gettext(text).format(days=tr.number(t.within_days))


def figures(view: CampaignView, balance: Balance, v: Verdict, tr: Translator) -> list[dict[str, str]]:
    """The figures a promise is judged by, as label/value pairs (also what live.js refreshes).
    Every share has the same denominator: what is owed."""

    def m(amount: int) -> str:
        return tr.money(amount, v.currency)

    owed = m(v.owed)
    if v.guaranteed_minimum > v.pledged:
        owed = tr.gettext("{amount} (guaranteed minimum)").format(amount=owed)
    paid = tr.gettext("{paid} of {owed} ({share})").format(
        paid=m(v.paid_confirmed), owed=m(v.owed), share=tr.percent(v.paid_confirmed, v.owed)
    )
    rows = [
        {"key": "standing", "label": tr.gettext("Verdict"), "value": standing_label(v, tr)},
        {
            "key": "pledged_units",
            "label": tr.gettext("Promised"),
            "value": f"{units(view, balance.pledged_units, tr)} ({m(balance.pledged_money)})",
        },
        {"key": "owed", "label": tr.gettext("Owed"), "value": owed},
        {"key": "paid_confirmed", "label": tr.gettext("Paid and confirmed"), "value": paid},
        {
            "key": "awaiting",
            "label": tr.gettext("Awaiting confirmation"),
            "value": m(v.awaiting_confirmation),
        },
        {
            "key": "delivered_units",
            "label": tr.gettext("Delivered"),
            "value": out_of(view, v.delivered_units, v.owed_units, tr),
        },
    ]
    outcome = outcome_text(view, balance.pledged_units, tr)
    if outcome is not None:
        rows.insert(2, {"key": "pledged_outcome", "label": tr.gettext("Outcome"), "value": outcome})
    if v.disputed:
        rows.insert(5, {"key": "disputed", "label": tr.gettext("Disputed"), "value": m(v.disputed)})
    if v.late_amount:
        rows.insert(1, {"key": "late", "label": tr.gettext("Late"), "value": m(v.late_amount)})
    return rows


def as_context(view: CampaignView, balance: Balance, v: Verdict, tr: Translator) -> dict[str, Any]:
    return {
        "verdict": v,
        "standing": v.standing.value,
        "standing_label": standing_label(v, tr),
        "headline": headline(view, v, tr),
        "terms": terms(v, tr),
        "figures": figures(view, balance, v, tr),
    }
