"""Console sign-in and sign-out. A password form and a magic-link form; the link opens a page
with a button that signs in by POST, so a mail scanner that follows links cannot use the
single-use link up."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response

from wefirst import ratelimit
from wefirst.auth import console_users
from wefirst.domain.clock import utcnow
from wefirst.errors import TooManyRequests
from wefirst.mail import Mail, MailError
from wefirst.services import services_of
from wefirst.web import sessions
from wefirst.web.forms import CsrfRefused, csrf_refused, in_thread, read_form, redirect
from wefirst.web.templating import codec, render, translator

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Spent:
    """The sign-in budgets one attempt took, and when (to give them back)."""

    limits: list[ratelimit.Limit]
    at: datetime


def _signin_page(
    request: Request,
    *,
    error: str | None = None,
    notice: str | None = None,
    email: str = "",
    status: int = 200,
) -> Response:
    return render(request, "signin.html", {"error": error, "notice": notice, "email": email}, status=status)


@router.get("/signin")
def signin_form(request: Request) -> Response:
    return _signin_page(request)


def _login(request: Request, user: sessions.WebUser, spent: Spent | None = None) -> Response:
    with services_of(request.app).db.write() as conn:
        if spent is not None:  # the owner's right password: its attempt was no guess
            for lim in spent.limits:
                ratelimit.give_back(conn, lim, spent.at)
        sessions.record_login(conn, user)
    response = redirect(request, "/console")
    codec(request).set_session(response, request, sessions.session_for(user))
    return response


@router.post("/signin")
async def signin(request: Request) -> Response:
    try:
        form = await read_form(request)
    except CsrfRefused as bad_form:
        return csrf_refused(request, bad_form)
    tr = translator(request)
    email = form.get("email", "").strip().lower()
    spent = Spent(
        sessions.signin_limits(
            services_of(request.app).settings, email, request.client.host if request.client else None
        ),
        utcnow(),
    )

    def spend() -> bool:
        """Every attempt spends its budget BEFORE the password is checked, so concurrent
        guesses cannot all slip past one last free slot; the right password gives it back."""
        try:
            with services_of(request.app).db.write() as conn:
                ratelimit.take(conn, spent.limits, spent.at, action="sign-in")
        except TooManyRequests:
            return False
        return True

    if not await in_thread(spend):
        return _signin_page(request, error=tr.gettext("Wrong email or password."), email=email, status=429)

    def check() -> sessions.WebUser | None:
        with services_of(request.app).db.read() as conn:
            return sessions.check_password(conn, email, form.get("password", ""))

    user = await in_thread(check)
    if user is None:
        return _signin_page(request, error=tr.gettext("Wrong email or password."), email=email, status=401)
    return await in_thread(_login, request, user, spent)


@router.post("/signin/link")
async def send_link(request: Request) -> Response:
    try:
        form = await read_form(request)
    except CsrfRefused as bad_form:
        return csrf_refused(request, bad_form)
    tr = translator(request)
    email = form.get("email", "")
    settings = services_of(request.app).settings
    limits = sessions.magic_link_limits(settings, email, request.client.host if request.client else None)

    def work() -> Mail | None:
        """Throttled per address and network whether or not the account exists (the answer
        is the same either way); the mail itself leaves after the answer, so the time taken
        does not say whether an account exists either."""
        with services_of(request.app).db.write() as conn:
            try:
                ratelimit.take(conn, limits, utcnow(), action="sign-in link")
            except TooManyRequests:
                return None
            user = sessions.user_by_email(conn, email)
            if user is None:
                return None
            token = sessions.issue_magic_link(conn, request, user)
        link = f"{str(settings.base_url).rstrip('/')}/signin/link/{token}"
        body = tr.gettext(
            "Open this link to sign in to wefirst. It works once, within {minutes} minutes:\n{link}\n\n"
            "If you did not ask for it, ignore this message: nobody can sign in without the link.\n"
        ).format(minutes=int(settings.web_magic_link_minutes), link=link)
        return Mail(to=user.email, subject=tr.gettext("Your sign-in link for wefirst"), body=body)

    mail = await in_thread(work)
    response = _signin_page(
        request, notice=tr.gettext("If this address has an account, a sign-in link is on its way.")
    )
    if mail is not None:
        response.background = BackgroundTask(_send_quietly, services_of(request.app).mailer, mail)
    return response


def _send_quietly(mailer: Any, mail: Mail) -> None:
    with contextlib.suppress(MailError):
        mailer.send(mail)


@router.get("/signin/link/{token}")
def link_landing(request: Request, token: str) -> Response:
    response = render(request, "signin_link.html", {"token": token})
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/signin/link/{token}")
async def redeem_link(request: Request, token: str) -> Response:
    try:
        await read_form(request)
    except CsrfRefused as bad_form:
        return csrf_refused(request, bad_form)

    def work() -> sessions.WebUser | None:
        with services_of(request.app).db.write() as conn:
            return sessions.redeem_magic_link(conn, request, token)

    user = await in_thread(work)
    if user is None:
        tr = translator(request)
        return _signin_page(
            request, error=tr.gettext("This sign-in link is invalid or has expired."), status=400
        )
    return await in_thread(_login, request, user)


@router.post("/signout")
async def signout(request: Request) -> Response:
    try:
        await read_form(request)
    except CsrfRefused as bad_form:
        return csrf_refused(request, bad_form)

    def work() -> None:
        with services_of(request.app).db.write() as conn:
            user = sessions.current_user(request, conn)
            if user is not None:
                console_users.end_all_sessions(conn, user.id)

    await in_thread(work)
    response = redirect(request, "/")
    codec(request).clear_session(response, request)
    return response
