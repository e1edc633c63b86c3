"""Cases on the web: the list with its search (brand, state, kind, words), one page per case
(the story, the ask, the evidence, signatures against the next milestone, the brand's answers
with their commitments and due dates, the opener's verdict, the response clock), a form that
opens a complaint or praise case without JavaScript, and co-signing by e-mail. Everything goes
through the cases domain (`wefirst.cases`), exactly as the API does."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from wefirst.cases import followers, service, supporters, views
from wefirst.cases.identity import network_hash
from wefirst.cases.messages import Lang
from wefirst.cases.model import CaseLimits, validate_draft
from wefirst.cases.rules import CaseRuleError
from wefirst.cases.signals_pure import MILESTONES
from wefirst.domain.clock import as_utc, utcnow
from wefirst.errors import Conflict, NotFound, WefirstError
from wefirst.mail import MailError
from wefirst.services import Services, ServicesDep
from wefirst.store.tables_cases import cases
from wefirst.translations import N_
from wefirst.web import labels, queries
from wefirst.web.case_forms import COMMITMENT_SLOTS, may_answer, report_reasons
from wefirst.web.forms import CsrfRefused, csrf_refused, read_form, redirect
from wefirst.web.i18n import Translator
from wefirst.web.routes_static import not_found
from wefirst.web.sessions import current_user
from wefirst.web.templating import render, translator

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
KINDS = ("complaint", "praise")
STATES = ("open", "answered", "resolved", "not_accepted")
CATEGORIES = ("campaign_honesty", "environment", "health", "labour", "other")


def next_goal(count: int) -> int:
    """The next milestone (10, 100, 1,000 …): the signature goal a case page shows."""
    return next((m for m in MILESTONES if m > count), count + 1)


def _when(value: Any) -> datetime | None:
    return as_utc(value) if isinstance(value, datetime) else None


def _card(
    row: Any, brand_names: dict[str, str], tr: Translator, now: datetime, within: timedelta
) -> dict[str, Any]:
    opened = as_utc(row.opened_at)
    late = row.unanswered_at is not None and row.state == "open"
    return {
        "id": row.id,
        "title": row.title if not row.hidden else tr.gettext("Hidden by moderation"),
        "hidden": bool(row.hidden),
        "hidden_reason": row.hidden_reason,
        "kind": labels.case_kind(row.kind, tr),
        "state": labels.case_state(row.state, tr),
        "state_code": row.state,
        "late": late,
        "brand_id": row.brand_id,
        "brand": brand_names.get(row.brand_id, ""),
        "cosigns": int(row.cosign_count),
        "goal": next_goal(int(row.cosign_count)),
        "opened": opened.date(),
        "answer_due": (opened + within).date() if row.kind == "complaint" and row.state == "open" else None,
        "overdue": row.kind == "complaint" and row.state == "open" and now - opened >= within,
    }


@router.get("/cases")
def cases_index(
    services: ServicesDep,
    request: Request,
    brand: str = "",
    state: str = "",
    kind: str = "",
    q: str = "",
) -> Response:
    tr = translator(request)
    now = utcnow()
    within = timedelta(hours=services.settings.cases_answer_within_hours)
    query = select(cases)
    if brand:
        query = query.where(cases.c.brand_id == brand)
    if state in STATES:
        query = query.where(cases.c.state == state)
    if kind in KINDS:
        query = query.where(cases.c.kind == kind)
    words = q.strip()[:100]
    if words:
        like = f"%{words.replace('%', '').replace('_', '')}%"
        query = query.where(cases.c.hidden.is_(False), cases.c.title.ilike(like))
    with services.db.read() as conn:
        rows = conn.execute(query.order_by(cases.c.seq.desc()).limit(200)).all()
        brand_list = queries.all_brands(conn)
        user = current_user(request, conn)
    names = {b.id: b.name for b in brand_list}
    context = {
        "cases": [_card(r, names, tr, now, within) for r in rows],
        "brands": brand_list,
        "chosen": {
            "brand": brand,
            "state": state if state in STATES else "",
            "kind": kind if kind in KINDS else "",
            "q": words,
        },
        "states": [(s, labels.case_state(s, tr)) for s in STATES],
        "kinds": [(k, labels.case_kind(k, tr)) for k in KINDS],
        "og_description": tr.gettext(
            "Complaints and praise that people hold brands to, with the brands' answers."
        ),
    }
    return render(request, "cases.html", context, user=user)


def _case_context(services: Services, conn: Any, case_id: str, tr: Translator) -> dict[str, Any] | None:
    try:
        row = service.get_case(conn, case_id)
    except NotFound:
        return None
    now = utcnow()
    within = timedelta(hours=services.settings.cases_answer_within_hours)
    brand_names = {b.id: b.name for b in queries.all_brands(conn)}
    card = _card(row, brand_names, tr, now, within)
    answers = views.answers_json(conn, case_id) if not row.hidden else []
    verdicts = {v["answer_id"]: v for v in views.verdicts_json(conn, case_id)} if not row.hidden else {}
    today = now.date()
    for a in answers:
        a["at"] = datetime.fromisoformat(a["created_at"].replace("Z", "+00:00")).date()
        for c in a["commitments"]:
            due = date.fromisoformat(c["due_on"]) if c.get("due_on") else None
            c["due"] = due
            c["past_due"] = due is not None and due < today and row.state != "resolved"
        found = verdicts.get(a["id"])
        a["verdict"] = labels.case_verdict(found["verdict"], tr) if found else None
        a["verdict_note"] = found.get("note") if found else None
    campaign = queries.campaign_view(conn, row.campaign_id) if row.campaign_id else None
    return {
        "case": card,
        "row": row,
        "answers": answers,
        "campaign": campaign if campaign is not None and campaign.row.status != "draft" else None,
        "evidence": list(row.evidence) if not row.hidden else [],
        "category": labels.case_category(row.category, tr),
        "can_cosign": not row.hidden and row.state != "resolved",
        "can_follow": followers.can_follow(row),
        "share_url": services.settings.base_url.rstrip("/") + f"/cases/{row.id}",
        "og_description": (row.what_is_asked or row.what_happened)[:200] if not row.hidden else None,
    }


@router.get("/cases/new")
def case_form(
    services: ServicesDep, request: Request, brand: str = "", campaign: str = "", kind: str = "complaint"
) -> Response:
    return _form_page(
        services,
        request,
        {"brand_id": brand, "campaign_id": campaign, "kind": kind if kind in KINDS else "complaint"},
        {},
    )


def _form_page(
    services: Services,
    request: Request,
    form: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
    duplicate: str | None = None,
) -> Response:
    tr = translator(request)
    with services.db.read() as conn:
        brand_list = queries.all_brands(conn)
        user = current_user(request, conn)
    context = {
        "form": form,
        "errors": errors,
        "brands": brand_list,
        "kinds": [(k, labels.case_kind(k, tr)) for k in KINDS],
        "categories": [(c, labels.case_category(c, tr)) for c in CATEGORIES],
        "duplicate": duplicate,
        "max_evidence": services.settings.cases_max_evidence_links,
    }
    return render(request, "case_new.html", context, user=user, status=status)


@router.post("/cases/new")
async def case_submit(services: ServicesDep, request: Request) -> Response:
    tr = translator(request)
    lang: Lang = "fr" if tr.locale == "fr" else "en"
    try:
        form = await read_form(request)
    except CsrfRefused as bad_form:
        return csrf_refused(request, bad_form)
    except WefirstError as exc:
        return _form_page(services, request, {}, {"": exc.detail}, status=422)
    evidence = [line.strip() for line in form.get("evidence", "").splitlines() if line.strip()]
    try:
        draft = validate_draft(
            kind=form.get("kind", ""),
            title=form.get("title", ""),
            what_happened=form.get("what_happened", ""),
            what_is_asked=form.get("what_is_asked") or None,
            evidence=evidence,
            category=form.get("category", ""),
            language=form.get("language") or lang,
            limits=CaseLimits(max_evidence=services.settings.cases_max_evidence_links),
        )
    except CaseRuleError as exc:
        errors = {p.field: p.reason(lang) for p in exc.problems}
        return _form_page(services, request, form, errors, status=422)
    host = request.client.host if request.client else "unknown"
    try:
        with services.db.write() as conn:
            opened = service.open_case(
                conn,
                services.settings,
                brand_id=form.get("brand_id", ""),
                campaign_id=form.get("campaign_id") or None,
                draft=draft,
                network_hash=network_hash(services.settings.secret_key, host),
                now=utcnow(),
            )
    except Conflict as exc:
        duplicate = exc.extra.get("duplicate_of")
        message = tr.gettext("A case very like this one is already open: co-sign it instead.")
        return _form_page(services, request, form, {"": message}, status=409, duplicate=duplicate)
    except WefirstError as exc:
        errors = {fe.field: tr.gettext(_FIELD_HELP.get(fe.field, fe.reason)) for fe in exc.errors}
        errors.setdefault("", tr.gettext(_STATUS_HELP.get(exc.status, _NOT_OPENED)))
        return _form_page(services, request, form, errors, status=exc.status)
    send_mails(services, opened.mails)
    tr_context = {
        "case_id": opened.case_id,
        "opener_link": services.settings.base_url.rstrip("/")
        + f"/cases/{opened.case_id}?opener={opened.opener_token}",
        "opener_token": opened.opener_token,
    }
    response = render(request, "case_opened.html", tr_context)
    response.headers["Cache-Control"] = "no-store"
    return response


_FIELD_HELP = {
    "brand_id": N_("Choose the brand from the list."),
    "campaign_id": N_("Choose one of this brand's campaigns, or none."),
}
_NOT_OPENED = N_("The case could not be opened.")
_STATUS_HELP = {429: N_("Too many cases were opened from your network just now; try again in an hour.")}


def send_mails(services: Services, mails: list[Any]) -> bool:
    """Mails a person waits for (a confirmation link) go now, so the page can say when one
    could not be sent; False if any could not be handed over."""
    ok = True
    for mail in mails:
        try:
            services.mailer.send(mail)
        except MailError as exc:
            ok = False
            log.warning("mail not sent", extra={"fields": {"error": str(exc)[:200]}})
    return ok


@router.get("/cases/{case_id}")
def case_page(services: ServicesDep, request: Request, case_id: str) -> Response:
    return case_page_response(services, request, case_id)


def case_page_response(
    services: Services,
    request: Request,
    case_id: str,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The case page, with what the reader just did said at the top of its section (a
    co-sign asked, an answer published, a report received) and the forms' messages."""
    tr = translator(request)
    with services.db.read() as conn:
        context = _case_context(services, conn, case_id, tr)
        user = current_user(request, conn)
    if context is None:
        return not_found(request)
    done = request.query_params
    context["notice"] = (
        tr.gettext("Check your mail: your signature counts once you open the link we sent.")
        if done.get("cosign") == "sent" and not errors
        else None
    )
    context["follow_notice"] = (
        tr.gettext("Check your mail: you follow the case once you open the link we sent.")
        if done.get("follow") == "sent" and not errors
        else None
    )
    context["answered"] = done.get("answered") == "1" and not errors
    context["reported"] = done.get("reported") == "1" and not errors
    context["can_answer"] = may_answer(user, context["row"])
    context["answer_slots"] = COMMITMENT_SLOTS
    context["report_reasons"] = report_reasons(tr)
    context["today"] = utcnow().date().isoformat()
    context["errors"] = errors or {}
    context["form"] = form or {}
    return render(request, "case.html", context, user=user, status=status)


async def ask_by_mail(
    services: Services,
    request: Request,
    case_id: str,
    *,
    ask: Callable[..., Any],
    sent: str,
    field: str,
    messages: Callable[[Translator], tuple[dict[int, str], str]],
) -> Response:
    """One form flow for every request confirmed by an e-mailed link (co-sign, follow): read
    the address, ask in one transaction, mail the link, and answer with the same page either
    way; a refusal comes back on the case page under ``field`` in the page's language."""
    tr = translator(request)
    try:
        form = await read_form(request)
    except CsrfRefused as bad_form:
        return csrf_refused(request, bad_form)
    except WefirstError:
        form = {}
    host = request.client.host if request.client else "unknown"
    status = 0
    try:
        with services.db.write() as conn:
            asked = ask(
                conn,
                services.settings,
                case_id=case_id,
                email=form.get("email", ""),
                language="fr" if tr.locale == "fr" else "en",
                network_hash=network_hash(services.settings.secret_key, host),
                now=utcnow(),
            )
    except NotFound:
        return not_found(request)
    except WefirstError as exc:
        status = exc.status
    if status == 0:
        if send_mails(services, asked.mails):
            return redirect(request, f"/cases/{case_id}?{sent}")
        status = 503
    by_status, fallback = messages(tr)
    return case_page_response(
        services,
        request,
        case_id,
        errors={field: by_status.get(status, fallback)},
        form={field: form.get("email", "")[:320]},
        status=status,
    )


def _cosign_messages(tr: Translator) -> tuple[dict[int, str], str]:
    return {
        422: tr.gettext("Type an e-mail address such as name@example.org."),
        409: tr.gettext("This case takes no more signatures."),
        429: tr.gettext(
            "Too many signatures were asked from this address or network just now; try again in an hour."
        ),
        503: tr.gettext(
            "The confirmation e-mail could not be sent; nothing is counted yet. Try again in a few minutes."
        ),
    }, tr.gettext("Your signature could not be asked for.")


@router.post("/cases/{case_id}/cosign")
async def case_cosign(services: ServicesDep, request: Request, case_id: str) -> Response:
    """Ask to co-sign: the signature counts only once the e-mailed link is opened, and the
    answer is the same whether or not the address had signed before."""
    return await ask_by_mail(
        services,
        request,
        case_id,
        ask=supporters.request_cosign,
        sent="cosign=sent#cosign",
        field="email",
        messages=_cosign_messages,
    )
