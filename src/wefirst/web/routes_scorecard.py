"""The brand scorecard: how well a brand keeps its promises (per campaign: share paid and
confirmed, share delivered, how long the oldest unpaid pledge and undelivered unit have been
waiting), what the public says about it (posts per day with sentiment, mobilization episodes,
sample posts) and the accountability cases still open — with the data as CSV and JSON.

The figures come from the ledger (through the page roll-ups), the voice service and the cases
service; this module only arranges them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter
from sqlalchemy import Connection, select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from wefirst.domain.clock import as_utc, utcnow
from wefirst.errors import NotFound
from wefirst.ledger import accounts
from wefirst.ledger.rollups import Rollups
from wefirst.ledger.verdict import Verdict
from wefirst.services import ServicesDep
from wefirst.store.tables_core import brands
from wefirst.voice.daycache import VoiceCache, VoiceDay
from wefirst.web import charts, queries, verdicts
from wefirst.web.i18n import Translator
from wefirst.web.routes_exports import _send
from wefirst.web.routes_static import not_found
from wefirst.web.security import apply_security_headers
from wefirst.web.sessions import current_user
from wefirst.web.templating import render, translator

router = APIRouter(include_in_schema=False)
OPEN = {"Access-Control-Allow-Origin": "*"}
VOICE_FIELDS = ["date", "posts", "positive", "negative", "neutral", "net_sentiment"]


@dataclass(frozen=True)
class Promise:
    view: queries.CampaignView
    balance: Any
    verdict: Verdict  # the same reading as the campaign page, the widget and the exports
    unpaid_days: int | None  # age of the oldest pledge not covered by confirmed payments
    undelivered_days: int | None  # age of the oldest funded unit not yet delivered

    @property
    def paid_share(self) -> tuple[int, int]:  # confirmed paid, owed
        return self.verdict.paid_share

    @property
    def delivered_share(self) -> tuple[int, int]:  # delivered units, owed units
        return self.verdict.delivered_share

    def as_json(self) -> dict[str, Any]:
        return {
            "campaign_id": self.view.id,
            "name": self.view.row.definition.get("name"),
            "status": self.view.row.status,
            "currency": self.balance.currency,
            "owed": self.balance.owed,
            "paid_confirmed": self.balance.paid_confirmed,
            "pledged_units": self.balance.pledged_units,
            "owed_units": self.verdict.owed_units,
            "delivered_units": self.balance.delivered_units,
            "delivered_beyond_pledges_units": self.balance.delivered_beyond_units,
            "oldest_unpaid_pledge_days": self.unpaid_days,
            "oldest_undelivered_unit_days": self.undelivered_days,
            "verdict": self.verdict.as_json(),
        }


def _age(points: list[queries.SeriesPoint], covered: int, attr: str, today: date) -> int | None:
    """Days since the first day whose running total exceeds what has been covered (FIFO)."""
    for p in points:
        if getattr(p, attr) > covered:
            return max((today - p.day).days, 0)
    return None


def promises(conn: Connection, roll: Rollups, brand_id: str) -> list[Promise]:
    today = utcnow().date()
    out = []
    for view in queries.brand_campaigns(conn, brand_id):
        days = roll.days(conn, view.id)
        balance, found = queries.promise(view, days, today)
        points = queries.cumulative(days)
        funded = 0
        funded_points = []
        for d in sorted(days):  # cumulative funded units, for the delivery age
            funded += days[d].get(accounts.FUNDED, 0)
            funded_points.append(queries.SeriesPoint(d, funded, 0, 0, 0))
        out.append(
            Promise(
                view=view,
                balance=balance,
                verdict=found,
                unpaid_days=_age(points, balance.paid_confirmed, "pledged", today),
                undelivered_days=_age(funded_points, balance.delivered_units, "pledged", today),
            )
        )
    return out


def voice(
    conn: Connection, voice_days: VoiceCache, brand_id: str
) -> tuple[list[VoiceDay], list[dict[str, Any]]]:
    """Posts per day over the last VOICE_DAYS days, and the brand's latest episodes."""
    from wefirst.voice import episodes as voice_episodes

    days = voice_days.days(conn, brand_id)
    rows, _ = voice_episodes.list_episodes(conn, brand_id, limit=10)
    return days, [voice_episodes.episode_json(r) for r in rows]


def open_cases(conn: Connection, brand_id: str) -> list[dict[str, Any]]:
    try:
        from wefirst.cases.views import case_summary
        from wefirst.store.tables_cases import cases
    except ImportError:  # pragma: no cover
        return []
    rows = conn.execute(
        select(cases)
        .where(cases.c.brand_id == brand_id, cases.c.hidden.is_(False), cases.c.state == "open")
        .order_by(cases.c.opened_at.desc())
        .limit(50)
    ).all()
    return [case_summary(r) for r in rows]


def _brand(conn: Connection, brand_id: str) -> Any:
    row = conn.execute(select(brands).where(brands.c.id == brand_id, brands.c.livemode.is_(True))).first()
    if row is None:
        raise NotFound(f"brand {brand_id} does not exist")
    return row


def _voice_chart(days: list[VoiceDay], episodes: list[dict[str, Any]], tr: Translator) -> Any:
    bars = [charts.DayBar(d.day, d.total, d.net) for d in days]
    marks = []
    for ep in episodes:
        start = as_utc(datetime.fromisoformat(ep["start"].replace("Z", "+00:00"))).date()
        end_text = str(ep.get("end") or ep.get("updated_at") or ep["start"])
        end = as_utc(datetime.fromisoformat(end_text.replace("Z", "+00:00"))).date()
        marks.append(charts.Episode(start, end, tr.gettext(ep["kind"]), ep["kind"]))
    total = sum(d.total for d in days)
    return charts.voice_chart(
        bars,
        marks,
        title=tr.gettext("Posts and sentiment per day"),
        desc=f"{tr.gettext('Posts')}: {tr.number(total)}; "
        f"{tr.gettext('Mobilization episodes')}: {tr.number(len(episodes))}.",
        fmt_day=tr.date,
        fmt=tr.number,
        chart_id="voice",
    )


@router.get("/brands/{brand_id}")
def scorecard(services: ServicesDep, request: Request, brand_id: str) -> Response:
    tr = translator(request)
    with services.db.read() as conn:
        try:
            brand = _brand(conn, brand_id)
        except NotFound:
            return not_found(request)
        kept = promises(conn, services.rollups, brand_id)
        days, episodes = voice(conn, services.voice_days, brand_id)
        cases_open = open_cases(conn, brand_id)
        user = current_user(request, conn)
    return render(
        request,
        "scorecard.html",
        {
            "brand": brand,
            "promises": kept,
            "verdicts": {p.view.id: verdicts.as_context(p.view, p.balance, p.verdict, tr) for p in kept},
            "days": days,
            "episodes": episodes,
            "chart": _voice_chart(days, episodes, tr),
            "cases": cases_open,
            "samples": [s for ep in episodes for s in ep.get("samples", [])][:6],
        },
        user=user,
    )


@router.get("/brands/{brand_id}/voice.{fmt}")
def voice_export(services: ServicesDep, request: Request, brand_id: str, fmt: str) -> Response:
    with services.db.read() as conn:
        try:
            _brand(conn, brand_id)
        except NotFound:
            return not_found(request)
        if fmt not in ("csv", "json"):
            return not_found(request)
        days, _ = voice(conn, services.voice_days, brand_id)
    return _send(request, fmt, f"{brand_id}-voice", VOICE_FIELDS, [d.as_json() for d in days])


@router.get("/brands/{brand_id}/scorecard.json")
def scorecard_json(services: ServicesDep, request: Request, brand_id: str) -> Response:
    with services.db.read() as conn:
        try:
            brand = _brand(conn, brand_id)
        except NotFound:
            return not_found(request)
        kept = promises(conn, services.rollups, brand_id)
        days, episodes = voice(conn, services.voice_days, brand_id)
        cases_open = open_cases(conn, brand_id)
    body = {
        "brand_id": brand.id,
        "name": brand.name,
        "campaigns": [p.as_json() for p in kept],
        "voice": [d.as_json() for d in days],
        "episodes": episodes,
        "open_cases": cases_open,
    }
    headers = {**OPEN, "Content-Disposition": f'attachment; filename="{brand_id}-scorecard.json"'}
    return apply_security_headers(JSONResponse(body, headers=headers), request)
