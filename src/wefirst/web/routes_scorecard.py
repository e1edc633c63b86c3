"""The brand scorecard: how well a brand keeps its promises (per campaign: share paid and
confirmed, share delivered, how long the oldest unpaid pledge and undelivered unit have been
waiting), what the public says about it (posts per day with sentiment, mobilization episodes,
sample posts) and the accountability cases still open — with the data as CSV and JSON.

The figures come from the ledger (through the page roll-ups), the voice service and the cases
service; this module only arranges them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter
from sqlalchemy import Connection, select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from wefirst.cases.service import brand_case_summary
from wefirst.domain.clock import utcnow
from wefirst.errors import NotFound
from wefirst.ledger import accounts
from wefirst.ledger.rollups import Rollups
from wefirst.ledger.verdict import Verdict
from wefirst.services import Services, ServicesDep
from wefirst.store.tables_core import brands
from wefirst.voice.daycache import VoiceCache, VoiceDay
from wefirst.web import labels, queries, verdicts, voice_view
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


def brand_cases(conn: Connection, brand_id: str) -> list[dict[str, Any]]:
    """Every case a brand faced that moderation did not hide, newest first: open ones, and
    answered, resolved and praise ones with their outcome (an answered case must not vanish
    from the record)."""
    from wefirst.cases.views import case_summary
    from wefirst.store.tables_cases import cases

    rows = conn.execute(
        select(cases)
        .where(cases.c.brand_id == brand_id, cases.c.hidden.is_(False))
        .order_by(cases.c.opened_at.desc())
        .limit(100)
    ).all()
    return [case_summary(r) for r in rows]


def summary(brand: Any, kept: list[Promise], case_counts: dict[str, Any], tr: Translator) -> str:
    """One paragraph a journalist can quote: money paid against money owed (one currency at
    a time), and what became of the cases."""
    parts: list[str] = []
    by_currency: dict[str, list[int]] = {}
    for p in kept:
        owed_paid = by_currency.setdefault(p.balance.currency, [0, 0])
        owed_paid[0] += p.verdict.owed
        owed_paid[1] += p.verdict.paid_confirmed
    late = sum(1 for p in kept if p.verdict.late_amount)
    for currency, (owed, paid) in sorted(by_currency.items()):
        parts.append(
            tr.gettext(
                "{brand} owes {owed} across its campaigns; {paid} ({share}) is paid and confirmed."
            ).format(
                brand=brand.name,
                owed=tr.money(owed, currency),
                paid=tr.money(paid, currency),
                share=tr.percent(paid, owed),
            )
        )
    if late:
        parts.append(tr.gettext("Campaigns with a late payment: {n}.").format(n=tr.number(late)))
    c = case_counts["complaints"]
    complaints = sum(c[s] for s in ("open", "answered", "resolved", "not_accepted"))
    if complaints:
        parts.append(
            tr.gettext(
                "Complaints: {n}; answered: {answered}; left unanswered past the deadline: {late}."
            ).format(
                n=tr.number(complaints),
                answered=tr.number(c["answered"] + c["resolved"] + c["not_accepted"]),
                late=tr.number(c["unanswered"]),
            )
        )
    praise = sum(case_counts["praise"].values())
    if praise:
        parts.append(tr.gettext("Praise cases: {n}.").format(n=tr.number(praise)))
    if not parts:
        return tr.gettext("{brand} has made no public promise and faced no case yet.").format(
            brand=brand.name
        )
    return " ".join(parts)


def _brand(conn: Connection, brand_id: str) -> Any:
    row = conn.execute(select(brands).where(brands.c.id == brand_id, brands.c.livemode.is_(True))).first()
    if row is None:
        raise NotFound(f"brand {brand_id} does not exist")
    return row


def _days_of(episode: dict[str, Any]) -> tuple[date, date]:
    """An episode's first and last day (UTC), for the page to write in its language."""
    return date.fromisoformat(episode["start"][:10]), date.fromisoformat(
        (episode["end"] or episode["start"])[:10]
    )


def share_of_voice(conn: Connection, brand_id: str) -> list[Any]:
    """The brand beside the competitors it names, over the chart's days (none named: empty)."""
    from wefirst.voice.competitors import share_of_voice as shares
    from wefirst.voice.daycache import VOICE_DAYS
    from wefirst.voice.filters import VoiceFilter

    start = datetime.combine(utcnow().date() - timedelta(days=VOICE_DAYS), time(), UTC)
    rows = shares(conn, brand_id, VoiceFilter(start=start))
    return rows if len(rows) > 1 else []


@dataclass(frozen=True)
class Scorecard:
    """What a brand's scorecard shows, read in one transaction: the page and its JSON alike."""

    brand: Any
    promises: list[Promise]
    days: list[VoiceDay]
    episodes: list[dict[str, Any]]
    rivals: list[Any]
    cases: list[dict[str, Any]]


def read_scorecard(conn: Connection, services: Services, brand_id: str) -> Scorecard:
    """NotFound for a brand that is not public."""
    brand = _brand(conn, brand_id)
    kept = promises(conn, services.rollups, brand_id)
    days, episodes = voice(conn, services.voice_days, brand_id)
    return Scorecard(brand, kept, days, episodes, share_of_voice(conn, brand_id), brand_cases(conn, brand_id))


@router.get("/brands/{brand_id}")
def scorecard(services: ServicesDep, request: Request, brand_id: str) -> Response:
    tr = translator(request)
    with services.db.read() as conn:
        try:
            card = read_scorecard(conn, services, brand_id)
        except NotFound:
            return not_found(request)
        counts = brand_case_summary(conn, brand_id)
        user = current_user(request, conn)
    brand, kept, days, episodes = card.brand, card.promises, card.days, card.episodes
    tr_cases = [
        {
            **c,
            "kind_label": labels.case_kind(c["kind"], tr),
            "state_label": labels.case_state(c["state"], tr),
            "opened": date.fromisoformat(c["opened_at"][:10]),
        }
        for c in card.cases
    ]
    return render(
        request,
        "scorecard.html",
        {
            "brand": brand,
            "promises": kept,
            "verdicts": {p.view.id: verdicts.as_context(p.view, p.balance, p.verdict, tr) for p in kept},
            "days": days,
            "episodes": episodes,
            "episode_days": {ep["id"]: _days_of(ep) for ep in episodes},
            "chart": voice_view.chart(days, episodes, tr, "voice"),
            "polarity_words": {
                p: voice_view.polarity_word(p, tr) for p in ("negative", "neutral", "positive")
            },
            "shares": voice_view.share_rows(card.rivals, tr),
            "cases": tr_cases,
            "summary": summary(brand, kept, counts, tr),
            "og_description": summary(brand, kept, counts, tr)[:300],
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
            card = read_scorecard(conn, services, brand_id)
        except NotFound:
            return not_found(request)
    body = {
        "brand_id": card.brand.id,
        "name": card.brand.name,
        "campaigns": [p.as_json() for p in card.promises],
        "voice": [d.as_json() for d in card.days],
        "share_of_voice": [r.as_json() for r in card.rivals],
        "episodes": card.episodes,
        "open_cases": [c for c in card.cases if c["state"] == "open"],
        "cases": card.cases,
    }
    headers = {**OPEN, "Content-Disposition": f'attachment; filename="{brand_id}-scorecard.json"'}
    return apply_security_headers(JSONResponse(body, headers=headers), request)
