"""Browser-facing protections for the pages: one Content-Security-Policy (scripts and styles only
from our own files, no inline code, so an injected tag cannot run), the usual hardening headers,
signed session cookies, and a signed double-submit CSRF token on every form.

Sessions are stateless signed cookies (itsdangerous, keyed from the server secret with a
purpose-specific salt): the server keeps no session table, and a session ends when the cookie
expires or the user's `session_epoch` moves (sign-out everywhere)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

SESSION_COOKIE = "wf_session"
CSRF_COOKIE = "wf_csrf"
CSRF_FIELD = "csrf_token"
SESSION_MAX_AGE = 12 * 3600
CSRF_MAX_AGE = 24 * 3600

CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def apply_security_headers(response: Response, request: Request) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if is_https(request):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def is_https(request: Request) -> bool:
    """Whether cookies get `Secure` (and pages HSTS): the `cookie_secure` setting, by default
    on unless base_url is http, so it no longer depends on the proxy trust settings passing
    X-Forwarded-Proto through (issue 13, finding 11)."""
    if request.url.scheme == "https":
        return True
    from wefirst.services import services_of

    settings = services_of(request.app).settings
    if settings.cookie_secure is not None:
        return settings.cookie_secure
    return not settings.base_url.startswith("http://")


def _session_tag(request: Request) -> str:
    return hashlib.sha256(request.cookies.get(SESSION_COOKIE, "").encode()).hexdigest()[:32]


@dataclass(frozen=True)
class WebSession:
    user_id: str
    epoch: int


class SessionCodec:
    """Signs and reads the session and CSRF values with keys derived from one server secret."""

    def __init__(self, secret: str) -> None:
        self._session = URLSafeTimedSerializer(secret, salt="wefirst.web.session")
        self._csrf = URLSafeTimedSerializer(secret, salt="wefirst.web.csrf")
        self._magic = URLSafeTimedSerializer(secret, salt="wefirst.web.magic-link")

    # sessions -------------------------------------------------------------------------------
    def dump_session(self, session: WebSession) -> str:
        return self._session.dumps({"u": session.user_id, "e": session.epoch})

    def load_session(self, value: str | None) -> WebSession | None:
        if not value:
            return None
        try:
            data: Any = self._session.loads(value, max_age=SESSION_MAX_AGE)
        except (BadSignature, SignatureExpired):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("u"), str):
            return None
        epoch = data.get("e")
        if not isinstance(epoch, int):
            return None
        return WebSession(user_id=data["u"], epoch=epoch)

    def set_session(self, response: Response, request: Request, session: WebSession) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            self.dump_session(session),
            max_age=SESSION_MAX_AGE,
            httponly=True,
            secure=is_https(request),
            samesite="lax",
            path="/",
        )

    @staticmethod
    def clear_session(response: Response, request: Request) -> None:
        response.delete_cookie(
            SESSION_COOKIE, path="/", httponly=True, secure=is_https(request), samesite="lax"
        )

    # CSRF (signed double submit) --------------------------------------------------------------
    def csrf_pair(self, request: Request) -> tuple[str, str | None]:
        """The token to put in this page's forms, and the cookie value to set if the browser
        has none yet. The form token is the cookie's random value and a tag of the session
        cookie, signed: a forger on another site can neither read the cookie nor sign a value
        of their own, and a token obtained for one session (or before signing in) does not
        work for another, even if an attacker managed to plant the CSRF cookie."""
        current = request.cookies.get(CSRF_COOKIE)
        new_cookie = None
        if not current or len(current) != 43:
            current = secrets.token_urlsafe(32)
            new_cookie = current
        return self._csrf.dumps([current, _session_tag(request)]), new_cookie

    def csrf_valid(self, request: Request, token: str | None) -> bool:
        cookie = request.cookies.get(CSRF_COOKIE)
        if not cookie or not token:
            return False
        try:
            raw: Any = self._csrf.loads(token, max_age=CSRF_MAX_AGE)
        except (BadSignature, SignatureExpired):
            return False
        if not isinstance(raw, list) or len(raw) != 2 or not all(isinstance(x, str) for x in raw):
            return False
        return hmac.compare_digest(raw[0], cookie) and hmac.compare_digest(raw[1], _session_tag(request))

    @staticmethod
    def set_csrf_cookie(response: Response, request: Request, value: str) -> None:
        response.set_cookie(
            CSRF_COOKIE,
            value,
            max_age=CSRF_MAX_AGE,
            httponly=True,
            secure=is_https(request),
            samesite="lax",
            path="/",
        )

    # magic links ------------------------------------------------------------------------------
    def dump_magic(self, user_id: str, nonce: str) -> str:
        return self._magic.dumps({"u": user_id, "n": nonce})

    def load_magic(self, token: str, max_age: int) -> tuple[str, str] | None:
        try:
            data: Any = self._magic.loads(token, max_age=max_age)
        except (BadSignature, SignatureExpired):
            return None
        if not isinstance(data, dict):
            return None
        user, nonce = data.get("u"), data.get("n")
        if isinstance(user, str) and isinstance(nonce, str):
            return user, nonce
        return None
