"""Publishers: sign up (or be created by an admin), register domains, join campaigns, get the
snippet, read their own per-day figures. A publisher key sees only its own publisher."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy import Connection

from wefirst.api.cases import MailUnavailable
from wefirst.api.deps import ActorDep, DbDep, IdempotencyKey, OptionalActorDep, RawBody, SettingsDep
from wefirst.api.writes import idempotent_post
from wefirst.auth.keys import Actor, create_key
from wefirst.auth.walls import require
from wefirst.catalog.models import Strict
from wefirst.domain.clock import utcnow
from wefirst.emails import BadEmailError, mailbox, person_key
from wefirst.errors import FieldError, Forbidden, Invalid, NotFound
from wefirst.mail import Mail, MailError
from wefirst.pseudonyms import keyed_hash, network_key, server_key
from wefirst.ratelimit import Limit, take
from wefirst.services import ServicesDep
from wefirst.settings import Settings
from wefirst.translations import negotiate
from wefirst.widget import approval, verification
from wefirst.widget import publishers as pubs

router = APIRouter(prefix="/v1/publishers", tags=["publishers"])

Domain = Annotated[str, Field(min_length=1, max_length=260)]


class PublisherIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    domains: Annotated[list[Domain], Field(min_length=1, max_length=pubs.MAX_DOMAINS)]
    #: open sign-up only: the link that makes the key work is sent there (not stored)
    email: Annotated[str, Field(min_length=3, max_length=254)] | None = None
    #: the language of that mail; without it, the request's Accept-Language
    language: Literal["fr", "en"] | None = None


class VerifyIn(Strict):
    token: Annotated[str, Field(min_length=10, max_length=400)]


class PublisherPatch(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    domains: Annotated[list[Domain], Field(min_length=1, max_length=pubs.MAX_DOMAINS)] | None = None


class JoinIn(Strict):
    campaign_id: Annotated[str, Field(max_length=40)]


def signup_limit(settings: Settings, client_host: str | None) -> Limit:
    net = network_key(server_key(settings.secret_key), "publishers.signup.net", client_host)
    per_day = settings.widget_publisher_signups_per_network_per_day
    return Limit("publishers.signup.net", net, per_day, timedelta(days=1), "your network")


def address_limit(settings: Settings, address: str) -> Limit:
    key = keyed_hash(server_key(settings.secret_key), "publishers.signup.email", person_key(address))
    per_day = settings.widget_publisher_signups_per_address_per_day
    return Limit("publishers.signup.email", key, per_day, timedelta(days=1), "this e-mail address")


def _signup_address(data: PublisherIn) -> str:
    if data.email is None:
        raise Invalid(
            "email: open sign-up sends a link there; the key works once it is followed",
            [FieldError("email", "required")],
        )
    try:
        return mailbox(data.email)
    except BadEmailError as exc:
        raise Invalid(f"email: {exc}", [FieldError("email", str(exc))]) from None


def mail_language(request: Request, chosen: str | None = None) -> str:
    """The language asked for, else the one the asker's browser or client prefers."""
    return chosen or negotiate(None, None, request.headers.get("accept-language"))


def _verification_mail(settings: Settings, to: str, publisher_id: str, name: str, language: str) -> Mail:
    hours = settings.widget_publisher_verify_link_hours
    secret = settings.secret_key
    return verification.verification_mail(settings.base_url, secret, to, publisher_id, name, hours, language)


def _own(actor: Actor, publisher_id: str) -> None:
    """Across the wall a publisher gets 404, so ids of other publishers are not confirmed."""
    if actor.is_admin:
        return
    if actor.role != "publisher":
        raise Forbidden(f"a {actor.role} key cannot do this (needs: publisher)")
    if actor.owner_id != publisher_id:
        raise NotFound(f"publisher {publisher_id} does not exist")


@router.post("", status_code=201)
def post_publisher(
    request: Request,
    data: PublisherIn,
    actor: OptionalActorDep,
    db: DbDep,
    settings: SettingsDep,
    services: ServicesDep,
    body: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Registers a publisher and returns its API key once (`api_key.secret`). Open to anyone
    unless `WEFIRST_WIDGET_OPEN_PUBLISHER_SIGNUP=false`, then admin only. An open sign-up
    gives `email`: the key is refused until the link sent there is followed, and each brand
    still approves the publisher for its campaign (or opens it to any verified publisher)."""
    if actor is not None:
        require(actor, "admin")
    elif not settings.widget_open_publisher_signup:
        raise Forbidden("publisher sign-up is closed here; ask an administrator")
    livemode = True if actor is None else actor.livemode
    address = None if actor is not None else _signup_address(data)

    def work(conn: Connection) -> tuple[int, Any]:
        if address is not None:
            host = request.client.host if request.client else None
            take(conn, [signup_limit(settings, host), address_limit(settings, address)], utcnow())
        pub = pubs.create_publisher(
            conn,
            name=data.name,
            domains=data.domains,
            livemode=livemode,
            verified=address is None,
            signup_email_key=verification.email_key(settings.secret_key, address) if address else None,
        )
        secret, record = create_key(conn, "publisher", pub["id"], label=f"{data.name} (signup)")
        out = {**pub, "api_key": {**record, "secret": secret}}
        if address is not None:
            try:  # before commit: a sign-up whose link cannot be sent leaves nothing behind
                language = mail_language(request, data.language)
                services.mailer.send(_verification_mail(settings, address, pub["id"], data.name, language))
            except MailError:
                raise MailUnavailable(
                    "the verification e-mail could not be sent; nothing was registered, "
                    "please try again in a few minutes"
                ) from None
            out["verification"] = {
                "status": "pending",
                "expires_in_hours": settings.widget_publisher_verify_link_hours,
            }
        return 201, out

    return idempotent_post(request, db, actor, body, idempotency_key, work)


def _verify(db: Any, settings: Settings, token: str) -> dict[str, Any]:
    max_age = settings.widget_publisher_verify_link_hours * 3600
    publisher_id = approval.read_verification(settings.secret_key, token, max_age)
    with db.write() as conn:
        approval.verify_publisher(conn, publisher_id)
        return pubs.get_publisher(conn, publisher_id)


@router.get("/verify")
def get_verify(
    db: DbDep, settings: SettingsDep, token: Annotated[str, Query(min_length=10, max_length=400)]
) -> dict[str, Any]:
    """The link e-mailed at sign-up: following it makes the publisher's key work."""
    return _verify(db, settings, token)


@router.post("/verify")
def post_verify(data: VerifyIn, db: DbDep, settings: SettingsDep) -> dict[str, Any]:
    """The same, for a client that posts the token it was sent."""
    return _verify(db, settings, data.token)


class ResendIn(VerifyIn):
    email: Annotated[str, Field(min_length=3, max_length=254)]


@router.post("/verify/resend", status_code=202)
def post_resend(
    request: Request, data: ResendIn, db: DbDep, settings: SettingsDep, services: ServicesDep
) -> dict[str, Any]:
    """A new link for a lost or expired one (up to 14 days after it was sent), sent only to the
    address the sign-up gave. The answer is the same whether or not the address is that one;
    each request spends the publisher's and the network's budget (429 when spent)."""
    host = request.client.host if request.client else None
    try:
        language = mail_language(request)
        verification.resend(db, settings, services.mailer, data.token, data.email, host, language)
    except MailError:
        raise MailUnavailable("the e-mail could not be sent; please try again in a few minutes") from None
    return {"status": "sent_if_the_address_matches"}


@router.get("/{publisher_id}")
def get_publisher(publisher_id: str, actor: ActorDep, db: DbDep) -> dict[str, Any]:
    _own(actor, publisher_id)
    with db.read() as conn:
        return pubs.get_publisher(conn, publisher_id)


@router.patch("/{publisher_id}")
def patch_publisher(publisher_id: str, data: PublisherPatch, actor: ActorDep, db: DbDep) -> dict[str, Any]:
    _own(actor, publisher_id)
    with db.write() as conn:
        return pubs.update_publisher(conn, publisher_id, name=data.name, domains=data.domains)


@router.post("/{publisher_id}/campaigns")
def post_join(publisher_id: str, data: JoinIn, actor: ActorDep, db: DbDep) -> dict[str, Any]:
    """Joining twice is harmless: the answer is the publisher with the campaign listed."""
    _own(actor, publisher_id)
    with db.write() as conn:
        return pubs.join_campaign(conn, publisher_id, data.campaign_id)


@router.delete("/{publisher_id}/campaigns/{campaign_id}")
def delete_join(publisher_id: str, campaign_id: str, actor: ActorDep, db: DbDep) -> dict[str, Any]:
    _own(actor, publisher_id)
    with db.write() as conn:
        return pubs.leave_campaign(conn, publisher_id, campaign_id)


@router.get("/{publisher_id}/snippet")
def get_snippet(
    publisher_id: str,
    actor: ActorDep,
    db: DbDep,
    settings: SettingsDep,
    campaign_id: Annotated[str, Query(max_length=40)],
    lang: Literal["fr", "en"] | None = None,
) -> dict[str, Any]:
    """The `<script>` tag to paste into the blog's pages."""
    _own(actor, publisher_id)
    with db.read() as conn:
        return pubs.snippet(conn, publisher_id, campaign_id, base_url=settings.base_url, lang=lang)


@router.get("/{publisher_id}/stats")
def get_stats(
    publisher_id: str,
    actor: ActorDep,
    db: DbDep,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    """Counted clicks and impact units per day and campaign (default: the last 30 days)."""
    _own(actor, publisher_id)
    end = end or utcnow().date()
    start = start or end - timedelta(days=29)
    with db.read() as conn:
        return pubs.daily_stats(conn, publisher_id, start=start, end=end)
