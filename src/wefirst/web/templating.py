"""Rendering a page: one Jinja2 environment (autoescaped), the request's locale, a CSRF token
for its forms, and the security headers, so that no page can forget any of them."""

from __future__ import annotations

import functools
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from wefirst.services import services_of
from wefirst.web.i18n import LANG_COOKIE, LOCALES, Translator, negotiate
from wefirst.web.security import SessionCodec, apply_security_headers

WEB_DIR = Path(__file__).parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "svg", "xml"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # {% trans %} blocks; `_`, `gettext` and `ngettext` come with each page's context in
        # the request's locale (Translator.functions), so one environment serves every locale.
        extensions=["jinja2.ext.i18n"],
        # templates ship with the package and never change under a running server: without
        # this, every include and macro import stats its file (40 a page of 20 cards)
        auto_reload=False,
    )
    return env


def locale_of(request: Request) -> str:
    return negotiate(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language"),
    )


def translator(request: Request) -> Translator:
    return Translator(locale_of(request))


def codec(request: Request) -> SessionCodec:
    """The session codec keyed by the server secret in the app's settings."""
    return _codec_for(str(services_of(request.app).settings.secret_key))


@functools.lru_cache(maxsize=8)
def _codec_for(secret: str) -> SessionCodec:
    """Deriving the keys costs a little: one codec per secret (tests run apps with several)."""
    return SessionCodec(secret)


def switch_url(request: Request, lang: str) -> str:
    params = dict(request.query_params)
    params["lang"] = lang
    return f"{request.url.path}?{urlencode(params)}"


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    user: Any = None,
) -> HTMLResponse:
    tr = translator(request)
    csrf_token, new_cookie = codec(request).csrf_pair(request)
    ctx: dict[str, Any] = {
        "request": request,
        "lang": tr.locale,
        "tr": tr,
        "csrf_token": csrf_token,
        "user": user,
        "switch": {code: switch_url(request, code) for code in LOCALES},
        "language_name": tr.language_name,
        "colon": tr.colon,
        # share previews (Open Graph): pages may set og_description; the address is absolute
        "og_description": None,
        "og_url": services_of(request.app).settings.base_url.rstrip("/") + request.url.path,
        "path": request.url.path,
        **tr.functions,
    }
    if context:
        ctx.update(context)
    html = environment().get_template(template).render(ctx)
    response = HTMLResponse(html, status_code=status)
    response.headers["Content-Language"] = tr.locale
    response.headers["Vary"] = "Accept-Language, Cookie"
    response.headers["Cache-Control"] = "no-store" if user is not None else "no-cache"
    if new_cookie:
        codec(request).set_csrf_cookie(response, request, new_cookie)
    remember_locale(request, response)
    return apply_security_headers(response, request)  # type: ignore[return-value]


def remember_locale(request: Request, response: Response) -> None:
    chosen = request.query_params.get("lang", "").lower()[:2]
    if chosen in LOCALES and request.cookies.get(LANG_COOKIE) != chosen:
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 86400, samesite="lax", path="/", httponly=True)
