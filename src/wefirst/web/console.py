"""The consoles' shared door: `/console` sends a signed-in user to the console of their role;
`gate` lets only that role (or an admin) in, `refusal` turns a refusal into a page, and
`console_post` is the one way a console form is read, acted on and answered."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

from fastapi import APIRouter
from pydantic import ValidationError
from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response

from wefirst.errors import Forbidden, WefirstError
from wefirst.services import services_of
from wefirst.translations import N_
from wefirst.web import sessions
from wefirst.web.forms import (
    CsrfRefused,
    csrf_refused,
    error_messages,
    in_thread,
    read_form,
    redirect,
)
from wefirst.web.templating import render, translator

router = APIRouter(include_in_schema=False)


class NeedsSignIn(Exception):
    pass


def gate(request: Request, conn: Connection, role: str) -> sessions.WebUser:
    user = sessions.current_user(request, conn)
    if user is None:
        raise NeedsSignIn
    if user.role not in (role, "admin") or (user.role == role and not user.owner_id):
        raise Forbidden(f"this console is for {role} accounts")
    return user


REFUSALS = {
    403: N_("This account cannot do this."),
    404: N_("Nothing here: it does not exist, or it belongs to another account."),
    409: N_("This cannot be done in its current state; reload the page to see where it stands."),
    429: N_("Too many attempts; try again in a while."),
}
REFUSED = N_("This was refused; nothing was changed.")


def refusal(request: Request, exc: Exception) -> Response:
    """A refused console action as a page in the page's language: the words depend on the
    status only (our details are English and may name ids, which people never see)."""
    if isinstance(exc, NeedsSignIn):
        return redirect(request, "/signin")
    tr = translator(request)
    status = exc.status if isinstance(exc, WefirstError) else 400
    message = tr.gettext(REFUSALS.get(status, REFUSED))
    return render(
        request,
        "message.html",
        {"heading": tr.gettext("Console"), "message": message, "back": "/console"},
        status=status,
    )


Form = dict[str, str]


def confirm_page(
    request: Request,
    *,
    heading: str,
    message: str,
    subject: str,
    action: str,
    fields: dict[str, str],
    button: str,
    back: str,
    user: sessions.WebUser,
) -> Response:
    """The step before an act that cannot be undone: says what will happen and posts the same
    form again with `confirmed=yes` (a plain form, so it works without scripts)."""
    return render(
        request,
        "confirm.html",
        {
            "heading": heading,
            "message": message,
            "subject": subject,
            "action": action,
            "fields": fields,
            "button": button,
            "back": back,
        },
        user=user,
    )


async def console_post(
    request: Request,
    work: Callable[[Form], Response],
    *,
    refused: tuple[type[Exception], ...] = (NeedsSignIn, WefirstError),
    again: Callable[[Form, dict[str, str]], Response] | None = None,
    help: Mapping[str, str] | None = None,
) -> Response:
    """A console form post: the CSRF-checked form goes to `work` (run in a thread, since it
    opens a database write); the errors in `refused` become a message page, and, when `again`
    is given, any other error (ours or pydantic's) redraws the page with the field messages
    (`help`: the form's own words per field, see `forms.error_messages`)."""
    try:
        form = await read_form(request)
    except CsrfRefused as bad_form:
        return csrf_refused(request, bad_form)
    try:
        return await in_thread(work, form)
    except refused as exc:
        return refusal(request, exc)
    except (WefirstError, ValidationError) as exc:
        if again is None:
            raise
        return await in_thread(partial(again, form, error_messages(exc, translator(request), help)))


@router.get("/console")
def console_home(request: Request) -> Response:
    with services_of(request.app).db.read() as conn:
        user = sessions.current_user(request, conn)
    if user is None:
        return redirect(request, "/signin")
    role = user.role if user.role != "admin" else "brand"
    return redirect(request, f"/console/{role}")
