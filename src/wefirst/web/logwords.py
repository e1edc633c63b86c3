"""Log entries in words ("Doudou Diapers promised 3 tetanus vaccines (€0.90) to Vaccines
Without Borders"), for the log explorer and the campaign page. The entry's JSON stays next to
the sentence: the words are a reading aid, the bytes are what the log proves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from wefirst.store.tables_core import beneficiaries, brands
from wefirst.web import labels, queries
from wefirst.web.i18n import Translator


@dataclass
class Names:
    """Campaigns, brands and beneficiaries named by the entries of one page, read once."""

    campaigns: dict[str, queries.CampaignView | None]
    brands: dict[str, str]
    beneficiaries: dict[str, str]

    @classmethod
    def for_entries(cls, conn: Connection, entries: list[dict[str, Any]]) -> Names:
        campaign_ids = {str(e["campaign"]) for e in entries if isinstance(e.get("campaign"), str)}
        campaign_ids |= {str(e["campaign_id"]) for e in entries if isinstance(e.get("campaign_id"), str)}
        views = {cid: queries.campaign_view(conn, cid) for cid in sorted(campaign_ids)}
        brand_ids = {
            str(e.get("brand") or e.get("brand_id")) for e in entries if e.get("brand") or e.get("brand_id")
        }
        ben_ids = {str(e["beneficiary"]) for e in entries if isinstance(e.get("beneficiary"), str)}
        found_brands: dict[str, str] = {
            str(r.id): str(r.name)
            for r in conn.execute(select(brands.c.id, brands.c.name).where(brands.c.id.in_(brand_ids)))
        }
        found_bens: dict[str, str] = {
            str(r.id): str(r.name)
            for r in conn.execute(
                select(beneficiaries.c.id, beneficiaries.c.name).where(beneficiaries.c.id.in_(ben_ids))
            )
        }
        for view in views.values():
            if view is not None:
                found_brands.setdefault(str(view.row.brand_id), view.brand_name)
                found_bens.setdefault(str(view.row.beneficiary_id), view.beneficiary_name)
        return cls(views, found_brands, found_bens)


def describe(entry: dict[str, Any], names: Names, tr: Translator) -> str:
    """One sentence for one entry, in the page's language; unknown kinds get their label."""
    kind = str(entry.get("kind", ""))
    view = names.campaigns.get(str(entry.get("campaign") or entry.get("campaign_id") or ""))
    brand = names.brands.get(str(entry.get("brand") or entry.get("brand_id") or ""), "")
    if not brand and view is not None:
        brand = view.brand_name
    beneficiary = names.beneficiaries.get(str(entry.get("beneficiary") or ""), "")
    if not beneficiary and view is not None:
        beneficiary = view.beneficiary_name
    money = entry.get("money")
    amount = (
        tr.money(int(money["amount"]), str(money.get("currency", "EUR")))
        if isinstance(money, dict) and isinstance(money.get("amount"), int)
        else ""
    )
    n = entry.get("units")
    units = (
        f"{tr.number(n)} {view.unit_label(tr.locale, n)}" if isinstance(n, int) and view is not None else ""
    )
    name = str(view.row.definition.get("name", "")) if view is not None else ""
    sentences: dict[str, Callable[[], str]] = {
        "campaign_defined": lambda: tr.gettext("{brand} published the campaign “{name}”.").format(
            brand=brand, name=name
        ),
        "campaign_changed": lambda: tr.gettext("{brand} changed the campaign “{name}”.").format(
            brand=brand, name=name
        ),
        "pledge": lambda: tr.gettext("{brand} promised {units} ({amount}) to {beneficiary}.").format(
            brand=brand, units=units, amount=amount, beneficiary=beneficiary
        ),
        "pledge_reversal": lambda: tr.gettext(
            "Refund ({reason}): {units} ({amount}) no longer promised."
        ).format(reason=labels.refund_reason(entry.get("reason"), tr), units=units, amount=amount),
        "settlement_reported": lambda: tr.gettext(
            "{brand} reported paying {amount} to {beneficiary}."
        ).format(brand=brand, amount=amount, beneficiary=beneficiary),
        "settlement_confirmed": lambda: tr.gettext("{beneficiary} confirmed receiving {amount}.").format(
            beneficiary=beneficiary, amount=amount
        ),
        "settlement_disputed": lambda: tr.gettext("{beneficiary} disputed a payment of {amount}.").format(
            beneficiary=beneficiary, amount=amount
        ),
        "delivery_reported": lambda: tr.gettext("{beneficiary} reported delivering {units}.").format(
            beneficiary=beneficiary, units=units
        ),
        "case_opened": lambda: tr.gettext("A case about {brand} was opened.").format(brand=brand),
        "case_cosign_milestone": lambda: tr.gettext("A case about {brand} reached {n} co-signatures.").format(
            brand=brand, n=tr.number(int(entry.get("cosigns", 0) or 0))
        ),
        "case_answered": lambda: tr.gettext("{brand} answered a case.").format(brand=brand),
        "case_resolved": lambda: tr.gettext("A case about {brand} was resolved.").format(brand=brand),
        "case_unanswered": lambda: tr.gettext(
            "A case about {brand} went unanswered past its deadline."
        ).format(brand=brand),
    }
    found = sentences.get(kind)
    if found is None or (kind in ("pledge", "pledge_reversal", "delivery_reported") and not units):
        return labels.log_kind(kind, tr)
    return found()


def link(entry: dict[str, Any]) -> str | None:
    """Where a person reads more about the entry: its campaign or its case."""
    if isinstance(entry.get("case_id"), str):
        return f"/cases/{entry['case_id']}"
    campaign = entry.get("campaign") or entry.get("campaign_id")
    return f"/campaigns/{campaign}" if isinstance(campaign, str) else None
