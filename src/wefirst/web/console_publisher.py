"""The publisher console: a publisher's widget clicks per day and what was refused, and why."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from wefirst.domain.clock import utcnow
from wefirst.errors import Invalid, WefirstError
from wefirst.services import services_of
from wefirst.web import charts, queries
from wefirst.web.console import NeedsSignIn, gate, refusal
from wefirst.web.templating import render, translator

router = APIRouter(include_in_schema=False)


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
            snippets = []
            for cid in pub["campaigns"]:
                view = queries.campaign_view(conn, cid)
                snippets.append(
                    {
                        "view": view,
                        "html": pubs.snippet(
                            conn, user.owner_id, cid, base_url=settings.base_url, lang=tr.locale
                        )["html"],
                    }
                )
            end = utcnow().date()
            stats = pubs.daily_stats(conn, user.owner_id, start=end - timedelta(days=29), end=end)
        except (NeedsSignIn, WefirstError) as exc:
            return refusal(request, exc)
    per_day: dict[date, int] = {}
    for row in stats["data"]:
        d = date.fromisoformat(row["day"])
        per_day[d] = per_day.get(d, 0) + int(row["clicks"])
    chart = charts.voice_chart(
        [charts.DayBar(d, n) for d, n in sorted(per_day.items())],
        [],
        title=tr.gettext("Clicks and impact per day"),
        desc=f"{tr.gettext('Clicks')}: {tr.number(stats['totals']['clicks'])}",
        fmt_day=tr.date,
        fmt=tr.number,
        chart_id="clicks",
    )
    return render(
        request,
        "console_publisher.html",
        {
            "pub": pub,
            "snippets": snippets,
            "stats": stats,
            "chart": chart,
        },
        user=user,
    )
