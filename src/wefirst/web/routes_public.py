"""Public pages anyone can open without an account: the home page with the active campaigns,
one page per campaign, and the open-data index."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from wefirst.catalog.disclosure import disclosure
from wefirst.catalog.service import load_campaign
from wefirst.commitments import shown_for
from wefirst.pledges.social import social_report
from wefirst.services import ServicesDep
from wefirst.store.tables_widget import publishers
from wefirst.web import charts, labels, logview, logwords, queries, verdicts
from wefirst.web.i18n import Translator
from wefirst.web.routes_static import not_found
from wefirst.web.security import apply_security_headers
from wefirst.web.sessions import current_user
from wefirst.web.templating import render, translator

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(services: ServicesDep, request: Request) -> Response:
    tr = translator(request)
    with services.db.read() as conn:
        views = queries.active_campaigns(conn)
        roll = services.rollups
        cards = []
        for view in views:
            balance, found = queries.promise(view, roll.days(conn, view.id))
            cards.append({"view": view, **verdicts.as_context(view, balance, found, tr)})
        brand_list = queries.all_brands(conn)
        user = current_user(request, conn)
    return render(request, "home.html", {"cards": cards, "brands": brand_list}, user=user)


def _chart(view: queries.CampaignView, points: list[queries.SeriesPoint], tr: Translator) -> Any:
    cur = view.currency
    cost = view.unit_cost
    series = [
        charts.Series(tr.gettext("Promised"), [(p.day, p.pledged) for p in points]),
        charts.Series(tr.gettext("Paid and confirmed"), [(p.day, p.confirmed) for p in points]),
        charts.Series(tr.gettext("Delivered (at cost)"), [(p.day, p.delivered_units * cost) for p in points]),
    ]
    last = points[-1] if points else None
    desc = ""
    if last is not None:
        desc = (
            f"{tr.gettext('Promised')}{tr.colon} {tr.money(last.pledged, cur)}, "
            f"{tr.gettext('Paid and confirmed')}{tr.colon} {tr.money(last.confirmed, cur)}, "
            f"{tr.gettext('Delivered (at cost)')}{tr.colon} {tr.money(last.delivered_units * cost, cur)}."
        )
    return charts.line_chart(
        series,
        title=tr.gettext("Promised, paid and delivered over time"),
        desc=desc,
        fmt=lambda v: tr.money(v, cur),
        fmt_day=tr.date,
        chart_id="ppd",
    )


def _entries(conn: Any, rows: list[queries.LogRow], tr: Translator) -> list[dict[str, Any]]:
    """The campaign's latest log entries in words, with the recorded JSON beside them."""
    names = logwords.Names.for_entries(conn, [r.entry for r in rows])
    return [
        {
            "index": r.index,
            "kind": labels.log_kind(r.kind, tr),
            "at": _day(r.at),
            "words": logwords.describe(r.entry, names, tr),
            "text": r.text,
        }
        for r in rows
    ]


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


@router.get("/campaigns/{campaign_id}")
def campaign_page(services: ServicesDep, request: Request, campaign_id: str) -> Response:
    tr = translator(request)
    with services.db.read() as conn:
        view = queries.campaign_view(conn, campaign_id)
        if view is None or view.row.status == "draft" or not view.row.livemode:
            return not_found(request)
        promise = disclosure(
            load_campaign(conn, campaign_id).campaign, view.brand_name, view.beneficiary_name, tr.locale
        )
        days = services.rollups.days(conn, campaign_id)
        balance, found = queries.promise(view, days)
        points = queries.cumulative(days, queries.starts_on(view.row))
        context = {
            "view": view,
            "promise": promise,
            "balance": balance,
            **verdicts.as_context(view, balance, found, tr),
            "chart": _chart(view, points, tr),
            "og_description": f"{verdicts.headline(view, found, tr)} {promise}"[:300],
            "points": queries.month_ends(points),
            "settlements": queries.settlement_rows(conn, campaign_id),
            "deliveries": queries.delivery_rows(conn, campaign_id),
            "entries": _entries(conn, queries.latest_entries(conn, campaign_id), tr),
            "social": social_report(conn, campaign_id)["rules"],
        }
        # the free texts beside the commitments the log holds (wefirst/commitments.py)
        context["logged"] = shown_for(
            conn, [r.id for r in context["settlements"]] + [r.id for r in context["deliveries"]]
        )
        user = current_user(request, conn)
    context["trust_policy"] = logview.published_policy(request)
    return render(request, "campaign.html", context, user=user)


@router.get("/campaigns/{campaign_id}/live.json")
def campaign_live(services: ServicesDep, request: Request, campaign_id: str) -> Response:
    """What live.js polls: the same figures as the page, already formatted for its locale."""
    tr = translator(request)
    with services.db.read() as conn:
        view = queries.campaign_view(conn, campaign_id)
        if view is None or view.row.status == "draft" or not view.row.livemode:
            return not_found(request)
        balance, found = queries.promise(view, services.rollups.days(conn, view.id))
    body = {f["key"]: f["value"] for f in verdicts.figures(view, balance, found, tr)}
    response = JSONResponse(body, headers={"Cache-Control": "no-cache"})
    return apply_security_headers(response, request)


def _public_publisher(conn: Any, publisher_id: str) -> bool:
    row = conn.execute(select(publishers.c.livemode).where(publishers.c.id == publisher_id)).first()
    return row is not None and bool(row.livemode)


@router.get("/publishers/{publisher_id}.json")
def publisher_clicks_json(services: ServicesDep, request: Request, publisher_id: str) -> Response:
    """A publisher's counted clicks per campaign, derived from the log's entries."""
    with services.db.read() as conn:
        if not _public_publisher(conn, publisher_id):
            return not_found(request)
        derived = queries.publisher_clicks(conn, publisher_id)
        size = queries.log_size(conn)
    body = {**derived.as_json(), "log_size": size}
    response = JSONResponse(body, headers={"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"})
    return apply_security_headers(response, request)


@router.get("/publishers/{publisher_id}")
def publisher_page(services: ServicesDep, request: Request, publisher_id: str) -> Response:
    with services.db.read() as conn:
        if not _public_publisher(conn, publisher_id):
            return not_found(request)
        derived = queries.publisher_clicks(conn, publisher_id)
        size = queries.log_size(conn)
        names = {cid: (queries.campaign_view(conn, cid)) for cid in derived.campaigns}
        user = current_user(request, conn)
    rows = [
        {"id": cid, "name": view.row.definition.get("name", cid) if view else cid, **vars(c)}
        for cid, c in sorted(derived.campaigns.items())
        for view in [names[cid]]
    ]
    context = {
        "publisher_id": publisher_id,
        "rows": rows,
        "total": derived.total,
        "log_size": size,
        "log_url": f"{services.settings.base_url.rstrip('/')}/log",
    }
    return render(request, "publisher.html", context, user=user)


@router.get("/data")
def open_data(services: ServicesDep, request: Request) -> Response:
    with services.db.read() as conn:
        brand_list = queries.all_brands(conn)
        views = queries.active_campaigns(conn, limit=200)
        user = current_user(request, conn)
    return render(request, "data.html", {"brands": brand_list, "campaigns": views}, user=user)
