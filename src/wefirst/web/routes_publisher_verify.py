"""The page the publisher sign-up e-mail links to (issue 12): it says what the link is for and
verifies with a button (a POST), so a mail scanner that follows links verifies nobody; an
expired link gets a form that sends a new one to the sign-up address only. Plain HTML forms,
French and English: nothing here needs JavaScript."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from wefirst.errors import Invalid, TooManyRequests
from wefirst.mail import MailError
from wefirst.services import services_of
from wefirst.web.forms import CsrfRefused, csrf_refused, in_thread, read_form
from wefirst.web.templating import render, translator
from wefirst.widget import verification
from wefirst.widget.verification import LinkState

router = APIRouter(include_in_schema=False)

PATH = "/publishers/verify"
_STATUS = {"pending": 200, "verified": 200, "expired": 410, "invalid": 400}


def _page(
    request: Request, token: str, state: LinkState, *, notice: str | None = None, status: int = 0
) -> Response:
    context: dict[str, Any] = {
        "token": token,
        "state": state.status,
        "publisher_id": state.publisher_id,
        "name": state.name,
        "notice": notice,
        "hours": services_of(request.app).settings.widget_publisher_verify_link_hours,
    }
    response = render(request, "publisher_verify.html", context, status=status or _STATUS[state.status])
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the URL
    response.headers["Cache-Control"] = "no-store"
    return response


def _state(request: Request, token: str, follow: bool = False) -> LinkState:
    services = services_of(request.app)
    secret, hours = services.settings.secret_key, services.settings.widget_publisher_verify_link_hours
    if follow:
        with services.db.write() as conn:
            return verification.verify(conn, secret, token, hours)
    with services.db.read() as conn:
        return verification.inspect(conn, secret, token, hours)


@router.get(PATH)
async def landing(request: Request, token: str = "") -> Response:
    return _page(request, token, await in_thread(_state, request, token[:400]))


@router.post(PATH)
async def confirm(request: Request) -> Response:
    try:
        form = await read_form(request)
    except CsrfRefused as bad_form:
        return csrf_refused(request, bad_form)
    token = form.get("token", "")[:400]
    return _page(request, token, await in_thread(_state, request, token, True))


@router.post(PATH + "/resend")
async def resend(request: Request) -> Response:
    try:
        form = await read_form(request)
    except CsrfRefused as bad_form:
        return csrf_refused(request, bad_form)
    tr = translator(request)
    token, email = form.get("token", "")[:400], form.get("email", "")[:254]
    services = services_of(request.app)
    host = request.client.host if request.client else None
    state = await in_thread(_state, request, token)
    try:
        mailer = services.mailer
        await in_thread(
            verification.resend, services.db, services.settings, mailer, token, email, host, tr.locale
        )
    except Invalid:
        return _page(request, token, LinkState("invalid"))
    except TooManyRequests:
        notice = tr.gettext(
            "Too many new links were asked for this publisher or from your network; try again tomorrow."
        )
        return _page(request, token, state, notice=notice, status=429)
    except MailError:
        notice = tr.gettext("The e-mail could not be sent; please try again in a few minutes.")
        return _page(request, token, state, notice=notice, status=503)
    notice = tr.gettext("If this is the address the sign-up gave, a new link is on its way.")
    return _page(request, token, state, notice=notice, status=200)
