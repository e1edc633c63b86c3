"""Form plumbing shared by the sign-in and console pages: read a posted form, refuse it
unless its CSRF token matches, run the database work off the event loop, and turn domain and
validation errors into messages next to the right field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from wefirst.errors import FieldError, Invalid, WefirstError
from wefirst.plaintext import refused_in
from wefirst.web.security import CSRF_FIELD, apply_security_headers
from wefirst.web.templating import codec, render, translator

T = TypeVar("T")


class CsrfRefused(Exception):
    """The form's token is missing, forged or expired."""


async def read_form(request: Request) -> dict[str, str]:
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    if not codec(request).csrf_valid(request, values.get(CSRF_FIELD)):
        raise CsrfRefused
    for field, why in refused_in(values, ""):
        raise Invalid(f"{field}: {why}", [FieldError(field, why)])
    return values


def csrf_refused(request: Request) -> Response:
    tr = translator(request)
    return render(
        request,
        "message.html",
        {
            "heading": tr.gettext("The form expired; please try again."),
            "message": None,
            "back": request.headers.get("referer", "/"),
        },
        status=403,
    )


async def in_thread(fn: Callable[..., T], *args: Any) -> T:
    return await run_in_threadpool(fn, *args)


def redirect(request: Request, url: str) -> Response:
    """POST → 303 → GET, so a reload never resubmits a form."""
    return apply_security_headers(RedirectResponse(url, status_code=303), request)


def error_messages(exc: Exception) -> dict[str, str]:
    """Field → message, from our own errors or pydantic's; "" holds the form-wide message."""
    out: dict[str, str] = {}
    if isinstance(exc, ValidationError):
        for err in exc.errors():
            field = ".".join(str(p) for p in err.get("loc", ()) if not isinstance(p, int))
            out.setdefault(field or "", str(err.get("msg", "invalid")))
        out.setdefault("", "; ".join(f"{k}: {v}" for k, v in out.items() if k))
        return out
    if isinstance(exc, WefirstError):
        for fe in exc.errors:
            out.setdefault(fe.field, fe.reason)
        out[""] = exc.detail
        return out
    out[""] = str(exc)
    return out


def blank(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None
