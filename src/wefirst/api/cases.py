"""Accountability cases: open, read, co-sign (with e-mailed confirmation), answer (the
brand), accept or not (the opener, with its secret token). Reports and moderation are in
api/moderation.py. Routes are
thin: each runs one service function in one write transaction and sends mail after commit."""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import AwareDatetime, Field
from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from wefirst.api.deps import ActorDep, DbDep, IdempotencyKey, OptionalActorDep, RawBody, SettingsDep, page
from wefirst.api.writes import idempotent_post
from wefirst.auth.walls import require
from wefirst.cases import confirm_pages, feeds, moderation, service, supporters, views, webhooks
from wefirst.cases.identity import (
    BadTokenError,
    network_hash,
    read_token,
    token_hash,
)
from wefirst.cases.model import CaseLimits, validate_draft
from wefirst.cases.rules import CaseRuleError
from wefirst.cases.signals import cosign_series
from wefirst.cases.states import State
from wefirst.cases.sweep import run_sweep
from wefirst.catalog.models import Day, Strict
from wefirst.domain.clock import rfc3339, utcnow
from wefirst.emails import BadEmailError, mailbox
from wefirst.errors import NotFound, WefirstError, invalid
from wefirst.ingest.idempotency import request_fingerprint, run_idempotent
from wefirst.mail import Mail, Mailer, MailError
from wefirst.services import Services, ServicesDep
from wefirst.settings import Settings
from wefirst.store.tables_cases import cases
from wefirst.store.tables_core import brands

log = logging.getLogger("wefirst.cases")
router = APIRouter(prefix="/v1", tags=["cases"])

Limit = Annotated[int, Query(ge=1, le=100)]
Lang = Literal["fr", "en"]


# ---- edges: mailer, client network ---------------------------------------------------


class MailUnavailable(WefirstError):
    status = 503
    title = "Mail unavailable"
    slug = "mail-unavailable"


def client_network(request: Request, settings: Settings) -> str:
    host = request.client.host if request.client else "unknown"
    return network_hash(settings.secret_key, host)


def send_all(mailer: Mailer, mails: list[Mail], *, required: bool) -> None:
    """After commit. A confirmation link that cannot be sent is the person's problem to
    know about (503, try again); a brand alert that fails is logged, the case stands."""
    for mail in mails:
        try:
            mailer.send(mail)
        except MailError as exc:
            log.warning("mail not sent", extra={"fields": {"error": str(exc)[:200]}})
            if required:
                raise MailUnavailable(
                    "the confirmation e-mail could not be sent; nothing is counted yet, "
                    "please try again in a few minutes"
                ) from None


def _page_response(page: str) -> HTMLResponse:
    """A confirmation page, with the headers its token in the URL calls for."""
    return HTMLResponse(page, headers=confirm_pages.HEADERS)


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


# ---- bodies ----------------------------------------------------------------------------


class CaseIn(Strict):
    kind: Literal["complaint", "praise"]
    brand_id: Annotated[str, Field(min_length=1, max_length=40)]
    campaign_id: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    title: Annotated[str, Field(max_length=1000)]
    what_happened: Annotated[str, Field(max_length=20000)]
    what_is_asked: Annotated[str, Field(max_length=10000)] | None = None
    evidence: Annotated[
        list[Annotated[str, Field(max_length=4000)]], Field(max_length=200, default_factory=list)
    ]
    category: str
    language: str


class CosignIn(Strict):
    email: Annotated[str, Field(min_length=3, max_length=320)]
    language: Lang = "en"


class ErasureIn(CosignIn):
    pass


class CommitmentBody(Strict):
    text: Annotated[str, Field(max_length=2000)]
    due_on: Day | None = None


class AnswerIn(Strict):
    body: Annotated[str, Field(max_length=20000)]
    language: Lang
    commitments: Annotated[list[CommitmentBody], Field(max_length=100, default_factory=list)]


class VerdictIn(Strict):
    opener_token: Annotated[str, Field(min_length=1, max_length=200)]
    note: Annotated[str, Field(max_length=5000)] = ""


class ContactIn(Strict):
    alert_email: Annotated[str, Field(min_length=3, max_length=320)]


# ---- cases -----------------------------------------------------------------------------


def _limits(settings: Settings) -> CaseLimits:
    return CaseLimits(max_evidence=settings.cases_max_evidence_links)


@router.post("/cases", status_code=201)
def open_case(
    services: ServicesDep,
    request: Request,
    data: CaseIn,
    db: DbDep,
    settings: SettingsDep,
    body: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Public: anyone can open a case. The answer holds `opener_token`, shown once: it is
    the only way to accept or reject the brand's answer later."""
    try:
        draft = validate_draft(
            kind=data.kind,
            title=data.title,
            what_happened=data.what_happened,
            what_is_asked=data.what_is_asked,
            evidence=data.evidence,
            category=data.category,
            language=data.language,
            limits=_limits(settings),
        )
    except CaseRuleError as exc:
        raise service.rule_error(exc) from None
    net = client_network(request, settings)
    mails: list[Mail] = []

    def work(conn: Connection) -> tuple[int, Any]:
        now = utcnow()
        opened = service.open_case(
            conn,
            settings,
            brand_id=data.brand_id,
            campaign_id=data.campaign_id,
            draft=draft,
            network_hash=net,
            now=now,
        )
        mails.extend(opened.mails)
        row = service.get_case(conn, opened.case_id)
        webhooks.publish(conn, settings, row, "case.opened", now)
        out = views.case_json(conn, row, now=now)
        out["opener_token"] = opened.opener_token
        return 201, out

    # Anonymous callers share no key scope: keyed by network so one person's key can never
    # replay another person's answer (and with it the opener token).
    response = public_post(request, db, f"cases:{net}", body, idempotency_key, work)
    if "Idempotent-Replayed" not in response.headers:
        send_all(services.mailer, mails, required=False)
        services.wake_webhooks()
    return response


@router.get("/cases")
def list_cases(
    db: DbDep,
    actor: OptionalActorDep,
    brand_id: str | None = None,
    kind: Literal["complaint", "praise"] | None = None,
    state: Literal["open", "answered", "resolved", "not_accepted"] | None = None,
    unanswered: bool | None = None,
    limit: Limit = 50,
    starting_after: str | None = None,
) -> dict[str, Any]:
    """Public, newest first. Hidden cases are listed with their public reason only."""
    moderator = moderation.is_moderator(actor)
    query = select(cases)
    if brand_id:
        query = query.where(cases.c.brand_id == brand_id)
    if kind:
        query = query.where(cases.c.kind == kind)
    if state:
        query = query.where(cases.c.state == state)
    if unanswered is not None:
        late = cases.c.unanswered_at.is_not(None) & (cases.c.state == State.open.value)
        query = query.where(late if unanswered else ~late)
    with db.read() as conn:
        if starting_after:
            seq = conn.execute(select(cases.c.seq).where(cases.c.id == starting_after)).scalar()
            if seq is None:
                raise invalid("starting_after", "unknown cursor")
            query = query.where(cases.c.seq < seq)
        rows = conn.execute(query.order_by(cases.c.seq.desc()).limit(limit + 1)).all()
    return page(list(rows[:limit]), len(rows) > limit, lambda r: views.case_summary(r, moderator=moderator))


@router.get("/cases/{case_id}")
def get_case(case_id: str, db: DbDep, actor: OptionalActorDep) -> dict[str, Any]:
    with db.read() as conn:
        row = service.get_case(conn, case_id)
        return views.case_json(conn, row, now=utcnow(), moderator=moderation.is_moderator(actor))


# ---- supporters ------------------------------------------------------------------------


@router.post("/cases/{case_id}/cosign", status_code=202)
def cosign(
    services: ServicesDep, request: Request, case_id: str, data: CosignIn, db: DbDep, settings: SettingsDep
) -> dict[str, Any]:
    """Ask to co-sign; nothing counts until the e-mailed link is confirmed. The answer is
    the same whether or not this address had signed before."""
    net = client_network(request, settings)
    for attempt in (1, 2):
        try:
            with db.write() as conn:
                req = supporters.request_cosign(
                    conn,
                    settings,
                    case_id=case_id,
                    email=data.email,
                    language=data.language,
                    network_hash=net,
                    now=utcnow(),
                )
            break
        except IntegrityError:
            # Two first requests for one address raced (PostgreSQL); the second attempt
            # finds the row the first one wrote and takes the "ask again" path.
            if attempt == 2:
                raise
    send_all(services.mailer, req.mails, required=True)
    return {
        "case_id": case_id,
        "status": "check_your_mail",
        "detail": "If this address has not co-signed this case yet, a confirmation link is on "
        "its way; the signature counts once it is confirmed.",
    }


@router.get("/cosign-confirmations/{token}", response_model=None)
def cosign_preview(request: Request, token: str, db: DbDep, settings: SettingsDep) -> Response:
    with db.read() as conn:
        preview = supporters.preview_cosign(conn, settings, token)
    if wants_html(request):
        lang: Lang = "fr" if preview["language"] == "fr" else "en"
        return _page_response(confirm_pages.cosign_form(lang, preview["title"], request.url.path))
    return JSONResponse(preview)


@router.post("/cosign-confirmations/{token}", response_model=None)
def cosign_confirm(request: Request, token: str, db: DbDep, settings: SettingsDep) -> Response:
    with db.write() as conn:
        done = supporters.confirm_cosign(conn, settings, token, utcnow())
        lang_row = supporters.preview_cosign(conn, settings, token)
    if wants_html(request) or "form" in request.headers.get("content-type", ""):
        lang: Lang = "fr" if lang_row["language"] == "fr" else "en"
        return _page_response(confirm_pages.cosign_result(lang, done.newly_counted, done.cosigns))
    return JSONResponse(
        {
            "case_id": done.case_id,
            "counted": True,
            "newly_counted": done.newly_counted,
            "cosigns": done.cosigns,
            "milestones": done.milestones,
        }
    )


@router.post("/supporter-erasures", status_code=202)
def request_erasure(
    services: ServicesDep, request: Request, data: ErasureIn, db: DbDep, settings: SettingsDep
) -> dict[str, Any]:
    net = client_network(request, settings)
    with db.write() as conn:
        mails = supporters.request_erasure(
            conn, settings, email=data.email, language=data.language, network_hash=net, now=utcnow()
        )
    send_all(services.mailer, mails, required=True)
    return {
        "status": "check_your_mail",
        "detail": "If this address co-signed any case, a link to erase it is on its way.",
    }


@router.get("/supporter-erasures/{token}", response_model=None)
def erasure_preview(request: Request, token: str, settings: SettingsDep) -> Response:
    try:
        read_token(settings.secret_key, "erase", token, settings.cases_verify_link_hours * 3600)
    except BadTokenError as exc:
        raise invalid("token", str(exc)) from None
    lang: Lang = "fr" if request.query_params.get("lang") == "fr" else "en"
    if wants_html(request):
        action = request.url.path + ("?lang=fr" if lang == "fr" else "")
        return _page_response(confirm_pages.erase_form(lang, action))
    return JSONResponse({"status": "valid", "action": "POST this URL to erase the address"})


@router.post("/supporter-erasures/{token}", response_model=None)
def erasure_confirm(request: Request, token: str, db: DbDep, settings: SettingsDep) -> Response:
    with db.write() as conn:
        count = supporters.confirm_erasure(conn, settings, token, utcnow())
    if wants_html(request) or "form" in request.headers.get("content-type", ""):
        lang: Lang = "fr" if request.query_params.get("lang") == "fr" else "en"
        return _page_response(confirm_pages.erase_result(lang, count))
    return JSONResponse({"erased": count})


# ---- brand answers and the opener's verdict --------------------------------------------


@router.post("/cases/{case_id}/answers", status_code=201)
def answer(
    services: ServicesDep,
    request: Request,
    case_id: str,
    data: AnswerIn,
    actor: ActorDep,
    db: DbDep,
    body: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    def work(conn: Connection) -> tuple[int, Any]:
        now = utcnow()
        service.answer_case(
            conn,
            actor,
            case_id,
            body=data.body,
            language=data.language,
            commitments=[service.CommitmentIn(c.text, c.due_on) for c in data.commitments],
            now=now,
        )
        row = service.get_case(conn, case_id)
        webhooks.publish(conn, services.settings, row, "case.answered", now)
        return 201, views.case_json(conn, row, now=now)

    response = idempotent_post(request, db, actor, body, idempotency_key, work)
    services.wake_webhooks()
    return response


def public_post(
    request: Request, db: DbDep, scope: str, body: bytes, key: str | None, work: Any
) -> JSONResponse:
    """An anonymous POST, exactly once per Idempotency-Key within `scope` (never shared
    between callers: the scope names the network or the secret the caller proved)."""
    result = run_idempotent(
        db,
        scope=scope[:64],
        key=key,
        fingerprint=request_fingerprint(request.method, request.url.path, body),
        work=work,
    )
    headers = {"Idempotent-Replayed": "true"} if result.replayed else None
    return JSONResponse(result.body, status_code=result.status_code, headers=headers)


def _verdict(
    services: Services,
    request: Request,
    case_id: str,
    data: VerdictIn,
    db: DbDep,
    body: bytes,
    key: str | None,
    accept: bool,
) -> JSONResponse:
    def work(conn: Connection) -> tuple[int, Any]:
        now = utcnow()
        service.verdict(conn, case_id, opener_token=data.opener_token, accept=accept, note=data.note, now=now)
        return 200, views.case_json(conn, service.get_case(conn, case_id), now=now)

    scope = "opener:" + token_hash(data.opener_token)[:50]
    response = public_post(request, db, scope, body, key, work)
    services.wake_webhooks()  # an acceptance queued the resolution mail to the case's followers
    return response


@router.post("/cases/{case_id}/accept")
def accept(
    services: ServicesDep,
    request: Request,
    case_id: str,
    data: VerdictIn,
    db: DbDep,
    body: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """The opener accepts the brand's latest answer: the case is resolved."""
    return _verdict(services, request, case_id, data, db, body, idempotency_key, True)


@router.post("/cases/{case_id}/reject")
def reject(
    services: ServicesDep,
    request: Request,
    case_id: str,
    data: VerdictIn,
    db: DbDep,
    body: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """The opener does not accept the answer; the brand may answer again."""
    return _verdict(services, request, case_id, data, db, body, idempotency_key, False)


# ---- brand-level views and settings ----------------------------------------------------


def _brand_exists(conn: Connection, brand_id: str) -> None:
    if conn.execute(select(brands.c.id).where(brands.c.id == brand_id)).first() is None:
        raise NotFound(f"brand {brand_id} does not exist")


@router.get("/brands/{brand_id}/case-summary")
def case_summary(brand_id: str, db: DbDep) -> dict[str, Any]:
    """Public: what the scorecard shows about the brand's cases."""
    with db.read() as conn:
        _brand_exists(conn, brand_id)
        return {"brand_id": brand_id, **service.brand_case_summary(conn, brand_id)}


@router.get("/brands/{brand_id}/cosign-series")
def brand_cosign_series(
    brand_id: str, db: DbDep, since: AwareDatetime, case_id: str | None = None
) -> dict[str, Any]:
    """Public: verified co-signs per UTC hour since `since` (hours with none are left out)."""
    if (utcnow() - since).days > 366:
        raise invalid("since", "at most one year back")
    with db.read() as conn:
        _brand_exists(conn, brand_id)
        series = cosign_series(conn, brand_id, since, case_id=case_id)
    return {
        "brand_id": brand_id,
        "data": [{"hour": rfc3339(h), "cosigns": c} for h, c in series],
    }


@router.get("/brands/{brand_id}/cases.atom", response_class=Response)
def brand_cases_atom(brand_id: str, db: DbDep, settings: SettingsDep) -> Response:
    """Public Atom feed of the brand's 100 most recently changed cases."""
    with db.read() as conn:
        name = conn.execute(select(brands.c.name).where(brands.c.id == brand_id)).scalar()
        if name is None:
            raise NotFound(f"brand {brand_id} does not exist")
        rows = conn.execute(
            select(cases).where(cases.c.brand_id == brand_id).order_by(cases.c.updated_at.desc()).limit(100)
        ).all()
    body = feeds.brand_cases_feed(
        brand_id=brand_id, brand_name=name, base_url=settings.base_url, rows=rows, now=utcnow()
    )
    return Response(body, media_type="application/atom+xml; charset=utf-8")


@router.get("/cases/{case_id}/history.atom", response_class=Response)
def case_history_atom(case_id: str, db: DbDep, settings: SettingsDep) -> Response:
    """Public Atom feed of one case's history: opened, answers, verdicts, moderation."""
    with db.read() as conn:
        data = views.case_json(conn, service.get_case(conn, case_id), now=utcnow())
    return Response(
        feeds.case_history_feed(case=data, base_url=settings.base_url),
        media_type="application/atom+xml; charset=utf-8",
    )


@router.put("/brands/{brand_id}/case-contact")
def set_contact(brand_id: str, data: ContactIn, actor: ActorDep, db: DbDep) -> dict[str, Any]:
    """Where case alerts are e-mailed; visible to the brand and admins only."""
    require(actor, "brand", owner=brand_id)
    try:
        mailbox(data.alert_email)
    except BadEmailError as exc:
        raise invalid("alert_email", str(exc)) from None
    with db.write() as conn:
        _brand_exists(conn, brand_id)
        service.set_brand_contact(conn, brand_id, data.alert_email, utcnow())
    return {"brand_id": brand_id, "alert_email": data.alert_email}


@router.get("/brands/{brand_id}/case-contact")
def get_contact(brand_id: str, actor: ActorDep, db: DbDep) -> dict[str, Any]:
    require(actor, "brand", owner=brand_id)
    with db.read() as conn:
        email = service.brand_contact(conn, brand_id)
    if email is None:
        raise NotFound("no case alert contact set for this brand")
    return {"brand_id": brand_id, "alert_email": email}


@router.post("/cases/sweep")
def sweep(
    services: ServicesDep, request: Request, actor: ActorDep, db: DbDep, settings: SettingsDep
) -> dict[str, Any]:
    """Admin: mark overdue complaints unanswered (also `wefirst cases sweep`, for cron)."""
    require(actor, "admin")
    with db.write() as conn:
        swept = run_sweep(conn, settings, utcnow())
    services.wake_webhooks()
    return swept.as_json()
