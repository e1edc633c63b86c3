"""The brand console's voice page: what people say about the brand, narrowed by language,
source, polarity and dates (the same filter as the voice API), the share of voice against the
competitors it names, and the alert rules that decide which episodes page which endpoint.

Every change goes through the services the API uses (voice/competitors.py,
voice/alert_rules.py, webhooks/endpoints.py), behind the same wall: the signed-in brand, or an
admin acting for the brand named in `?brand=`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from sqlalchemy import Connection, select
from starlette.requests import Request
from starlette.responses import Response

from wefirst.auth.walls import require
from wefirst.domain.clock import utcnow
from wefirst.errors import FieldError, Forbidden, Invalid, NotFound, WefirstError
from wefirst.services import services_of
from wefirst.store.tables_core import brands
from wefirst.store.tables_voice import voice_mentions
from wefirst.translations import N_
from wefirst.voice import alert_rules, competitors, filters
from wefirst.voice import episodes as voice_episodes
from wefirst.voice import series as voice_series
from wefirst.voice.brand_settings import refuse_unreachable
from wefirst.voice.daycache import VoiceDay
from wefirst.web import sessions, voice_view
from wefirst.web.console import NeedsSignIn, console_post, gate, refusal
from wefirst.web.console_brand import _owner_for
from wefirst.web.forms import error_messages, redirect
from wefirst.web.i18n import Translator
from wefirst.web.templating import render, translator
from wefirst.webhooks import endpoints as webhook_endpoints

router = APIRouter(include_in_schema=False)
DEFAULT_DAYS = 30
PAGE = "/console/brand/voice"

# what to type, per field of the page's forms (`forms.error_messages`); the services name a
# list's entries (`competitors[1].name`, `rules[0].min_posts`), the form the last part
FIELD_HELP = {
    "language": N_("Choose a language from the list."),
    "source": N_("Choose a source from the list."),
    "polarity": N_("Choose a sentiment from the list."),
    "from": N_("Write a date as YYYY-MM-DD."),
    "to": N_("The end date must be on or after the start date, at most a year later."),
    "url": N_("This address cannot receive alerts: it must be a public https address."),
    "min_posts": N_("Write a whole number of posts, 1 or more."),
    "endpoint_id": N_("Choose one of your alert endpoints."),
    "competitors": N_("At most 10 competitors, each named once."),
    "name": N_("A competitor's name: 1 to 100 characters, each name once."),
    "terms": N_("At most 20 terms of 100 characters each."),
    "brand_id": N_("Choose another brand from the list."),
}
RULE_WORDS = {"negative": N_("Backlash (negative)"), "positive": N_("Praise (positive)"), "any": N_("Both")}


def page_errors(exc: WefirstError, tr: Translator) -> dict[str, str]:
    """Field → message for the form, keyed by the form's field names."""
    named = [FieldError(e.field.split(".")[-1].split("[")[0], e.reason) for e in exc.errors]
    return error_messages(Invalid(exc.detail, named), tr, FIELD_HELP)


def _window(where: filters.VoiceFilter) -> filters.VoiceFilter:
    """Without dates, the last DEFAULT_DAYS days (today included)."""
    if where.start or where.end:
        return where
    start = datetime.combine(utcnow().date() - timedelta(days=DEFAULT_DAYS - 1), time(), UTC)
    return filters.VoiceFilter(where.language, where.source, where.polarity, start, None)


def _languages(conn: Connection, owner: str, tr: Translator) -> list[tuple[str, str]]:
    m = voice_mentions.c
    codes: list[str] = list(conn.execute(select(m.language).where(m.brand_id == owner).distinct()).scalars())
    return sorted(((c, voice_view.language_word(c, tr)) for c in codes), key=lambda x: x[1])


def _context(
    conn: Connection, request: Request, user: sessions.WebUser, owner: str, where: filters.VoiceFilter
) -> dict[str, Any]:
    tr = translator(request)
    brand = conn.execute(select(brands.c.id, brands.c.name).where(brands.c.id == owner)).first()
    if brand is None:
        raise NotFound(f"brand {owner} does not exist")
    shown = _window(where)
    data = voice_series.series(conn, owner, granularity="day", by="polarity", where=shown)
    days = [VoiceDay(date.fromisoformat(p["t"][:10]), dict(p["counts"])) for p in data["data"]]
    rows, _ = voice_episodes.list_episodes(
        conn, owner, limit=10, polarity=where.polarity if where.polarity != "neutral" else None
    )
    episodes = [voice_episodes.episode_json(r) for r in rows]
    if shown.start is not None:
        episodes = [e for e in episodes if (e["end"] or e["updated_at"]) >= shown.start.isoformat()[:19]]
    rivals = competitors.get_competitors(conn, owner)["competitors"]
    hooks = [h for h in webhook_endpoints.listed(conn, owner) if h["active"]]
    urls = {h["id"]: h["url"] for h in hooks}
    others = conn.execute(
        select(brands.c.id, brands.c.name)
        .where(brands.c.id != owner, brands.c.livemode.is_(True))
        .order_by(brands.c.name)
    ).all()
    chosen = {c["brand_id"] for c in rivals if "brand_id" in c}
    return {
        "brand": brand,
        "where": where,
        "shown_from": shown.start.date() if shown.start else None,
        "days": days,
        "chart": voice_view.chart(days, episodes, tr, "voice"),
        "episodes": [
            {
                **e,
                "kind_words": tr.gettext(voice_view.KIND_WORDS.get(e["kind"], "praise")).capitalize(),
                "start_day": date.fromisoformat(e["start"][:10]),
            }
            for e in episodes
        ],
        # the API's cached table (a minute, per brand, filter and competitor list): the
        # counting join over every listed brand's mentions is the page's costliest read
        "shares": voice_view.share_rows(services_of(request.app).voice_days.shares(conn, owner, shown), tr),
        "polarity_words": dict(voice_view.polarity_choices(tr)),
        "languages": _languages(conn, owner, tr),
        "sources": voice_view.source_choices(tr),
        "polarities": voice_view.polarity_choices(tr),
        "named_text": "\n".join(
            c["name"] + (": " + ", ".join(c["terms"]) if c["terms"] else "")
            for c in rivals
            if "brand_id" not in c
        ),
        "other_brands": [{"id": b.id, "name": b.name, "chosen": b.id in chosen} for b in others],
        "rules": [
            {
                **r.as_json(),
                "polarity_words": tr.gettext(RULE_WORDS[r.polarity]),
                "url": urls.get(r.endpoint_id, ""),
            }
            for r in alert_rules.rules_of(conn, owner)
        ],
        "rule_polarities": [(k, tr.gettext(v)) for k, v in RULE_WORDS.items()],
        "hooks": hooks,
        "brand_q": f"?{urlencode({'brand': owner})}" if user.role == "admin" else "",
        "brand_amp": f"&{urlencode({'brand': owner})}" if user.role == "admin" else "",
    }


def _page(
    request: Request,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    secret: str | None = None,
    status: int = 200,
) -> Response:
    tr = translator(request)
    query = dict(request.query_params)
    with services_of(request.app).db.read() as conn:
        try:
            user = gate(request, conn, "brand")
            owner = _owner_for(user, request)
        except (NeedsSignIn, WefirstError) as exc:
            return refusal(request, exc)
        filter_errors: dict[str, str] = {}
        try:
            where = filters.from_form(query)
        except Invalid as exc:
            filter_errors = page_errors(exc, tr)
            where = filters.VoiceFilter()
            status = 422
        try:
            context = _context(conn, request, user, owner, where)
        except WefirstError as exc:
            return refusal(request, exc)
    context.update(
        {
            "filter_errors": filter_errors,
            "errors": errors or {},
            "form": form or {},
            "query": query,
            "new_secret": secret,
            "saved": request.query_params.get("saved") == "1",
        }
    )
    return render(request, "console_voice.html", context, user=user, status=status)


@router.get(PAGE)
def voice_page(request: Request) -> Response:
    return _page(request)


def _again(request: Request, form: dict[str, str], errors: dict[str, str]) -> Response:
    return _page(request, errors=errors, form=form, status=422)


def _saved(request: Request, user: sessions.WebUser, owner: str, anchor: str) -> Response:
    query = {"saved": "1", **({"brand": owner} if user.role == "admin" else {})}
    return redirect(request, f"{PAGE}?{urlencode(query)}#{anchor}")


def _owner(request: Request, conn: Connection) -> tuple[sessions.WebUser, str]:
    user = gate(request, conn, "brand")
    owner = _owner_for(user, request)
    require(user.actor(), "brand", owner=owner)
    return user, owner


def _translated(request: Request, work: Any, form: dict[str, str]) -> Response:
    """Our refusals, with their fields in the reader's language."""
    try:
        result: Response = work(form)
        return result
    except Invalid as exc:
        return _again(request, form, page_errors(exc, translator(request)))


def parse_named(text: str) -> list[dict[str, Any]]:
    """One competitor a line: "Name" or "Name: term, @handle, #hashtag"."""
    out: list[dict[str, Any]] = []
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if not name.strip() and not rest.strip():
            continue
        out.append({"name": name.strip(), "terms": [t.strip() for t in rest.split(",") if t.strip()]})
    return out


@router.post(f"{PAGE}/competitors")
async def save_competitors(request: Request) -> Response:
    def work(form: dict[str, str]) -> Response:
        with services_of(request.app).db.write() as conn:
            user, owner = _owner(request, conn)
            chosen = [{"brand_id": k.removeprefix("brand_")} for k in form if k.startswith("brand_")]
            competitors.put_competitors(conn, owner, chosen + parse_named(form.get("names", "")))
        return _saved(request, user, owner, "rivals-h")

    return await console_post(
        request, partial(_translated, request, work), refused=(NeedsSignIn, Forbidden, NotFound)
    )


@router.post(f"{PAGE}/alert-rules")
async def add_rule(request: Request) -> Response:
    def work(form: dict[str, str]) -> Response:
        with services_of(request.app).db.write() as conn:
            user, owner = _owner(request, conn)
            kept = [r.as_json() for r in alert_rules.rules_of(conn, owner)]
            new = {
                "polarity": form.get("polarity", ""),
                "min_posts": form.get("min_posts", ""),
                "endpoint_id": form.get("endpoint_id", ""),
            }
            alert_rules.validate(conn, owner, [new])
            alert_rules.put_rules(conn, owner, [*kept, new])
        return _saved(request, user, owner, "rules-h")

    return await console_post(
        request, partial(_translated, request, work), refused=(NeedsSignIn, Forbidden, NotFound)
    )


@router.post(f"{PAGE}/alert-rules/{{rule_id}}/remove")
async def remove_rule(request: Request, rule_id: str) -> Response:
    def work(form: dict[str, str]) -> Response:
        with services_of(request.app).db.write() as conn:
            user, owner = _owner(request, conn)
            rules = [r.as_json() for r in alert_rules.rules_of(conn, owner)]
            if rule_id not in {r["id"] for r in rules}:
                raise NotFound(f"rule {rule_id} does not exist")
            alert_rules.put_rules(conn, owner, [r for r in rules if r["id"] != rule_id])
        return _saved(request, user, owner, "rules-h")

    return await console_post(request, work, refused=(NeedsSignIn, Forbidden, NotFound))


@router.post(f"{PAGE}/endpoints")
async def add_endpoint(request: Request) -> Response:
    """A webhook endpoint for the brand's alerts, as `POST …/voice/alert-endpoints` makes it;
    its signing secret is shown once, on the page that answers."""
    services = services_of(request.app)

    def work(form: dict[str, str]) -> Response:
        url = form.get("url", "").strip()
        if not url.startswith("https://") or len(url) > 1000 or any(c.isspace() for c in url):
            raise Invalid("url: an https address", [FieldError("url", "an https address")])
        refuse_unreachable(services.settings, [("url", url)])
        with services.db.write() as conn:
            _user, owner = _owner(request, conn)
            made = webhook_endpoints.create(conn, services.secret_box, owner, url, utcnow())
        return _page(request, secret=str(made["secret"]))

    return await console_post(
        request, partial(_translated, request, work), refused=(NeedsSignIn, Forbidden, NotFound)
    )
