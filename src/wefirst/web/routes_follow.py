"""Following a case from its page, without JavaScript: the form asks for an address and mails a
confirmation link; the link's page shows a button (mail scanners open links on their own, so
only the button's POST confirms); each mail to a follower ends with a signed unsubscribe link
whose page has one button too, and whose POST is also the RFC 8058 one-click unsubscribe that
mail programs send (no form token: the signed link is the authority)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from wefirst.cases import followers
from wefirst.cases.service import get_case
from wefirst.domain.clock import utcnow
from wefirst.errors import NotFound, WefirstError
from wefirst.services import ServicesDep
from wefirst.web.forms import CsrfRefused, csrf_refused, read_form
from wefirst.web.i18n import Translator
from wefirst.web.routes_cases import ask_by_mail
from wefirst.web.routes_static import not_found
from wefirst.web.templating import render, translator

router = APIRouter(include_in_schema=False)


def _follow_messages(tr: Translator) -> tuple[dict[int, str], str]:
    return {
        422: tr.gettext("Type an e-mail address such as name@example.org."),
        409: tr.gettext("This case has nothing more to tell: it is resolved or hidden."),
        429: tr.gettext(
            "Too many follow requests came from this address or network just now; try again in an hour."
        ),
        503: tr.gettext("The confirmation e-mail could not be sent. Try again in a few minutes."),
    }, tr.gettext("Your request could not be taken.")


@router.post("/cases/{case_id}/follow")
async def follow(services: ServicesDep, request: Request, case_id: str) -> Response:
    """Ask to follow: the same answer whether or not the address already follows."""
    return await ask_by_mail(
        services,
        request,
        case_id,
        ask=followers.request_follow,
        sent="follow=sent#follow",
        field="follow_email",
        messages=_follow_messages,
    )


def _page(
    request: Request,
    heading: str,
    message: str,
    *,
    action: str = "",
    button: str = "",
    back: str = "/cases",
    status: int = 200,
) -> Response:
    """The pages behind e-mailed links: never cached, indexed or sent as a Referer (their
    address holds the token)."""
    response = render(
        request,
        "follow.html",
        {"heading": heading, "message": message, "action": action, "button": button, "back": back},
        status=status,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _bad_link(request: Request, exc: WefirstError) -> Response:
    tr = translator(request)
    expired = "expired" in exc.detail
    return _page(
        request,
        tr.gettext("This link does not work"),
        tr.gettext("The link has expired; ask again from the case's page.")
        if expired
        else tr.gettext(
            "The link is not valid: it may have been cut or altered. Copy the whole link from the mail."
        ),
        status=400,
    )


@router.get("/cases/follow/{token}")
def follow_link(services: ServicesDep, request: Request, token: str) -> Response:
    tr = translator(request)
    try:
        with services.db.read() as conn:
            row = followers.preview_follow(conn, services.settings, token)
            case = get_case(conn, row.case_id)
    except NotFound:
        return not_found(
            request, tr.gettext("This follow request no longer exists; ask again from the case's page.")
        )
    except WefirstError as exc:
        return _bad_link(request, exc)
    if row.status == "active":
        return _page(request, tr.gettext("You follow this case"), case.title, back=f"/cases/{case.id}")
    return _page(
        request,
        tr.gettext("Follow this case"),
        case.title,
        action=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        button=tr.gettext("Confirm: follow this case"),
        back=f"/cases/{case.id}",
    )


@router.post("/cases/follow/{token}")
async def follow_confirm(services: ServicesDep, request: Request, token: str) -> Response:
    tr = translator(request)
    try:
        await read_form(request)
    except CsrfRefused as bad_form:
        return csrf_refused(request, bad_form)
    try:
        with services.db.write() as conn:
            case_id, _newly = followers.confirm_follow(conn, services.settings, token, utcnow())
            case = get_case(conn, case_id)
    except NotFound:
        return not_found(
            request, tr.gettext("This follow request no longer exists; ask again from the case's page.")
        )
    except WefirstError as exc:
        return _bad_link(request, exc)
    return _page(
        request,
        tr.gettext("You follow this case"),
        tr.gettext(
            "We will write when the brand answers, when a commitment falls due and when the case is resolved."
        ),
        back=f"/cases/{case.id}",
    )


@router.get("/cases/unfollow/{token}")
def unfollow_link(request: Request, token: str) -> Response:
    """Only a button: opening the link (as scanners do) changes nothing."""
    tr = translator(request)
    return _page(
        request,
        tr.gettext("Stop following this case"),
        tr.gettext("You will get no more mail about this case, and we delete your address from it."),
        action=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        button=tr.gettext("Stop following"),
    )


@router.post("/cases/unfollow/{token}")
def unfollow(services: ServicesDep, request: Request, token: str) -> Response:
    tr = translator(request)
    try:
        with services.db.write() as conn:
            case_id = followers.unfollow(conn, services.settings, token)
    except WefirstError as exc:
        return _bad_link(request, exc)
    return _page(
        request,
        tr.gettext("You no longer follow this case"),
        tr.gettext("No more mail will be sent to you about it, and your address is deleted."),
        back=f"/cases/{case_id}" if case_id else "/cases",
    )
