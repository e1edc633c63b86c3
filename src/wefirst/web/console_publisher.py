"""The publisher console: the campaigns a publisher shows (whether their clicks count yet, and
the snippet to paste), the running campaigns it may join, and its widget clicks per day."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from wefirst.domain.clock import utcnow
from wefirst.errors import Conflict, Forbidden, Invalid, NotFound, WefirstError
from wefirst.services import services_of
from wefirst.web import charts, queries
from wefirst.web.console import NeedsSignIn, confirm_page, console_post, gate, refusal
from wefirst.web.forms import redirect
from wefirst.web.templating import render, translator

router = APIRouter(include_in_schema=False)


def _per_click(view: queries.CampaignView) -> int | None:
    for rule in view.row.definition.get("rules", []):
        if rule.get("kind") == "per_click":
            return int(rule["units_per_click"])
    return None


def _joinable(conn: Any, joined: list[str]) -> list[dict[str, Any]]:
    """Running public campaigns that fund clicks, which this publisher has not joined."""
    out = []
    for view in queries.public_campaigns(conn, status="active"):
        per_click = _per_click(view)
        if per_click is not None and view.id not in joined:
            out.append({"view": view, "per_click": per_click})
    return out


@router.get("/console/publisher")
def publisher_console(request: Request) -> Response:
    from wefirst.widget import publishers as pubs

    tr = translator(request)
    settings = services_of(request.app).settings
    with services_of(request.app).db.read() as conn:
        try:
            user = gate(request, conn, "publisher")
            if user.owner_id is None:
                raise Invalid("admins use the API to act for a publisher")
            pub = pubs.get_publisher(conn, user.owner_id)
            counting = set(pub.get("counting_campaigns", pub["campaigns"]))
            shown: list[dict[str, Any]] = []
            views: dict[str, queries.CampaignView] = {}
            for cid in pub["campaigns"]:
                view = queries.campaign_view(conn, cid)
                if view is None:
                    continue
                views[cid] = view
                tag = pubs.snippet(conn, user.owner_id, cid, base_url=settings.base_url, lang=tr.locale)
                shown.append({"view": view, "html": tag["html"], "counts": cid in counting})
            joinable = _joinable(conn, pub["campaigns"]) if pub["livemode"] else []
            end = utcnow().date()
            stats = pubs.daily_stats(conn, user.owner_id, start=end - timedelta(days=29), end=end)
        except (NeedsSignIn, WefirstError) as exc:
            return refusal(request, exc)
    per_day: dict[date, int] = {}
    rows = []
    for row in stats["data"]:
        d = date.fromisoformat(row["day"])
        per_day[d] = per_day.get(d, 0) + int(row["clicks"])
        view = views.get(row["campaign_id"])
        rows.append(
            {
                "day": d,
                "campaign": view.row.definition["name"] if view else tr.gettext("Other"),
                "clicks": int(row["clicks"]),
                "units": int(row["units"]),
                "unit": view.unit_label(tr.locale, int(row["units"])) if view else "",
            }
        )
    chart = charts.voice_chart(
        [charts.DayBar(d, n) for d, n in sorted(per_day.items())],
        [],
        title=tr.gettext("Clicks and impact per day"),
        desc=f"{tr.gettext('Clicks')}{tr.colon} {tr.number(stats['totals']['clicks'])}",
        fmt_day=tr.date,
        fmt=tr.number,
        colon=tr.colon,
        chart_id="clicks",
    )
    return render(
        request,
        "console_publisher.html",
        {
            "pub": pub,
            "snippets": shown,
            "joinable": joinable,
            "stats": stats,
            "rows": rows,
            "chart": chart,
            "saved": request.query_params.get("saved") == "1",
            "left": request.query_params.get("left") == "1",
            "errors": {},
        },
        user=user,
    )


@router.post("/console/publisher/campaigns")
async def join(request: Request) -> Response:
    """Ask to show a campaign: what `POST /v1/publishers/{id}/campaigns` does (its clicks count
    once the brand approves, or at once if the brand opened the campaign)."""
    from wefirst.widget import publishers as pubs

    def work(form: dict[str, str]) -> Response:
        with services_of(request.app).db.write() as conn:
            user = gate(request, conn, "publisher")
            if user.owner_id is None:
                raise Invalid("admins use the API to act for a publisher")
            pubs.join_campaign(conn, user.owner_id, form.get("campaign_id", ""))
        return redirect(request, "/console/publisher?saved=1#snip-h")

    return await console_post(request, work, refused=(NeedsSignIn, Forbidden, NotFound, Conflict, Invalid))


@router.post("/console/publisher/campaigns/{campaign_id}/leave")
async def leave(request: Request, campaign_id: str) -> Response:
    """Stop showing a campaign (`DELETE /v1/publishers/{id}/campaigns/{campaign_id}`): clicks on
    the site stop counting for it, and joining again may need the brand's approval again, so the
    post first shows a page that asks (`confirmed=yes` then leaves; no script needed)."""
    from wefirst.widget import publishers as pubs

    tr = translator(request)

    def work(form: dict[str, str]) -> Response:
        with services_of(request.app).db.write() as conn:
            user = gate(request, conn, "publisher")
            if user.owner_id is None:
                raise Invalid("admins use the API to act for a publisher")
            if form.get("confirmed") != "yes":
                if campaign_id not in pubs.get_publisher(conn, user.owner_id)["campaigns"]:
                    raise NotFound("you do not show this campaign")
                view = queries.campaign_view(conn, campaign_id)
                return confirm_page(
                    request,
                    heading=tr.gettext("Leave this campaign?"),
                    message=tr.gettext(
                        "Clicks on your site will stop counting for it at once. To show it again you "
                        "would join it again, and the brand may have to approve your site again."
                    ),
                    subject=view.row.definition["name"] if view else "",
                    action=f"/console/publisher/campaigns/{campaign_id}/leave",
                    fields={},
                    button=tr.gettext("Leave the campaign"),
                    back="/console/publisher#snip-h",
                    user=user,
                )
            pubs.leave_campaign(conn, user.owner_id, campaign_id)
        return redirect(request, "/console/publisher?left=1#snip-h")

    return await console_post(request, work, refused=(NeedsSignIn, Forbidden, NotFound, Invalid))
