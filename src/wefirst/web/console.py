"""The consoles' shared door: `/console` sends a signed-in user to the console of their role;
`gate` lets only that role (or an admin) in, `refusal` turns a refusal into a page."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response

from wefirst.errors import Forbidden, WefirstError
from wefirst.services import services_of
from wefirst.web import sessions
from wefirst.web.forms import redirect
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


def refusal(request: Request, exc: Exception) -> Response:
    if isinstance(exc, NeedsSignIn):
        return redirect(request, "/signin")
    tr = translator(request)
    status = exc.status if isinstance(exc, WefirstError) else 400
    detail = exc.detail if isinstance(exc, WefirstError) else str(exc)
    return render(
        request,
        "message.html",
        {"heading": tr.gettext("Console"), "message": detail, "back": "/console"},
        status=status,
    )


@router.get("/console")
def console_home(request: Request) -> Response:
    with services_of(request.app).db.read() as conn:
        user = sessions.current_user(request, conn)
    if user is None:
        return redirect(request, "/signin")
    role = user.role if user.role != "admin" else "brand"
    return redirect(request, f"/console/{role}")
