"""Public pages for every party a person meets: the campaigns index, the brands index, the
beneficiaries index and one page per beneficiary (its campaigns with their verdicts, the
payments it confirmed or disputed, the deliveries it reported with their evidence). Read-only;
drafts and test mode never appear."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from wefirst.ledger.rollups import Rollups
from wefirst.services import ServicesDep
from wefirst.web import labels, queries, verdicts
from wefirst.web.i18n import Translator
from wefirst.web.routes_static import not_found
from wefirst.web.sessions import current_user
from wefirst.web.templating import render, translator

router = APIRouter(include_in_schema=False)
STATUSES = ("active", "paused", "ended")


def cards(
    conn: Any, rollups: Rollups, views: list[queries.CampaignView], tr: Translator
) -> list[dict[str, Any]]:
    """Each campaign with its verdict in words (the same reading as the campaign page)."""
    out = []
    for view in views:
        balance, found = queries.promise(view, rollups.days(conn, view.id))
        out.append(
            {
                "view": view,
                "status": labels.status(view.row.status, tr),
                **verdicts.as_context(view, balance, found, tr),
            }
        )
    return out


@router.get("/campaigns")
def campaigns_index(services: ServicesDep, request: Request, status: str | None = None) -> Response:
    tr = translator(request)
    chosen = status if status in STATUSES else None
    with services.db.read() as conn:
        rows = cards(conn, services.rollups, queries.public_campaigns(conn, status=chosen), tr)
        user = current_user(request, conn)
    context = {
        "cards": rows,
        "status": chosen,
        "statuses": [(s, labels.status(s, tr)) for s in STATUSES],
        "og_description": tr.gettext("Every campaign's promise, and whether it is kept."),
    }
    return render(request, "campaigns.html", context, user=user)


@router.get("/brands")
def brands_index(services: ServicesDep, request: Request) -> Response:
    tr = translator(request)
    with services.db.read() as conn:
        rows = queries.brand_directory(conn)
        user = current_user(request, conn)
    context = {"brands": rows, "og_description": tr.gettext("How well each brand keeps its promises.")}
    return render(request, "brands.html", context, user=user)


@router.get("/beneficiaries")
def beneficiaries_index(services: ServicesDep, request: Request) -> Response:
    tr = translator(request)
    with services.db.read() as conn:
        rows = queries.beneficiary_directory(conn)
        user = current_user(request, conn)
    context = {
        "beneficiaries": rows,
        "og_description": tr.gettext("The charities that brands' promises fund."),
    }
    return render(request, "beneficiaries.html", context, user=user)


@router.get("/beneficiaries/{ben_id}")
def beneficiary_page(services: ServicesDep, request: Request, ben_id: str) -> Response:
    tr = translator(request)
    with services.db.read() as conn:
        ben = queries.beneficiary_row(conn, ben_id)
        if ben is None:
            return not_found(request)
        views = queries.public_beneficiary_campaigns(conn, ben_id)
        ids = [v.id for v in views]
        by_id = {v.id: v for v in views}
        context = {
            "ben": ben,
            "cards": cards(conn, services.rollups, views, tr),
            "settlements": [
                {"row": s, "view": by_id[s.campaign_id], "status": labels.status(s.status, tr)}
                for s in queries.settlements_of(conn, ids)
            ],
            "deliveries": [
                {"row": d, "view": by_id[d.campaign_id]} for d in queries.deliveries_of(conn, ids)
            ],
            "og_description": tr.gettext(
                "What brands promised {name}, what they paid and what it delivered."
            ).format(name=ben.name),
        }
        user = current_user(request, conn)
    return render(request, "beneficiary.html", context, user=user)
