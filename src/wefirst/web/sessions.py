"""Console users and how they sign in: a password (argon2id) or a single-use link sent by
e-mail. A signed-in browser carries a signed session cookie naming the user and the user's
session epoch; bumping the epoch ends every session of that user at once.

A console user acts for exactly one tenant (a brand, a beneficiary or a publisher), and every
console page checks that tenant wall through the same `Actor` the API uses."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, insert, select, update
from starlette.requests import Request

from wefirst.auth.console_users import (
    HASHER,
    normalize_email,
    void_links,
)
from wefirst.auth.keys import Actor
from wefirst.domain.clock import as_utc, utcnow
from wefirst.domain.ids import new_id
from wefirst.errors import Conflict, FieldError, Invalid
from wefirst.pseudonyms import keyed_hash, network_key, server_key
from wefirst.ratelimit import Limit
from wefirst.services import services_of
from wefirst.settings import Settings
from wefirst.store.tables_web import web_magic_links, web_users
from wefirst.web.security import SESSION_COOKIE, WebSession
from wefirst.web.templating import codec

CONSOLE_ROLES = ("brand", "beneficiary", "publisher", "admin")


@cache
def _dummy_hash() -> str:
    """A hash of a random password, verified when the e-mail is unknown so that the answer takes
    the same time whether or not an account exists. Made on first sign-in, not at import: every
    process (workers, CLI) would otherwise pay a deliberately slow hash to start."""
    return HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class WebUser:
    id: str
    email: str
    role: str
    owner_id: str | None
    session_epoch: int

    def actor(self) -> Actor:
        """The same identity the API's tenant walls understand (`require`)."""
        return Actor(self.role, self.owner_id, f"web:{self.id}", True)  # type: ignore[arg-type]


def _user(row: Any) -> WebUser:
    return WebUser(row.id, row.email, row.role, row.owner_id, int(row.session_epoch))


def create_user(
    conn: Connection, email: str, role: str, owner_id: str | None, password: str | None = None
) -> WebUser:
    if role not in CONSOLE_ROLES:
        raise Invalid(f"role must be one of {', '.join(CONSOLE_ROLES)}", [FieldError("role", "unknown role")])
    if (role == "admin") != (owner_id is None):
        raise Invalid(
            "admins have no owner; every other console user has exactly one",
            [FieldError("owner_id", "required for this role")],
        )
    if password is not None and len(password) < 12:
        raise Invalid(
            "password: at least 12 characters", [FieldError("password", "too short (12 characters minimum)")]
        )
    if owner_id is not None:
        _check_owner(conn, role, owner_id)
    address = normalize_email(email)
    if conn.execute(select(web_users.c.id).where(web_users.c.email == address)).first():
        raise Conflict(
            "a console user with this e-mail already exists", [FieldError("email", "already registered")]
        )
    user_id = new_id("usr")
    conn.execute(
        insert(web_users).values(
            id=user_id,
            email=address,
            role=role,
            owner_id=owner_id,
            session_epoch=0,
            password_hash=HASHER.hash(password) if password else None,
            created_at=utcnow(),
        )
    )
    return WebUser(user_id, address, role, owner_id, 0)


def _check_owner(conn: Connection, role: str, owner_id: str) -> None:
    """The owner exists and is of the role's kind: a brand user acts for a brand, never for a
    publisher id typed by mistake (which would open another tenant's console)."""
    from wefirst.store.tables_core import beneficiaries, brands
    from wefirst.store.tables_widget import publishers

    table = {"brand": brands, "beneficiary": beneficiaries, "publisher": publishers}.get(role)
    if table is None or conn.execute(select(table.c.id).where(table.c.id == owner_id)).first() is None:
        raise Invalid(
            f"owner_id: no {role} {owner_id}",
            [FieldError("owner_id", f"must be the id of an existing {role}")],
        )


def get_user(conn: Connection, user_id: str) -> WebUser | None:
    """The user, unless disabled (a disabled user has no session and no way to sign in)."""
    row = conn.execute(select(web_users).where(web_users.c.id == user_id)).first()
    return _user(row) if row is not None and row.disabled_at is None else None


def user_by_email(conn: Connection, email: str) -> WebUser | None:
    try:
        address = normalize_email(email)
    except Invalid:
        return None
    row = conn.execute(select(web_users).where(web_users.c.email == address)).first()
    return _user(row) if row is not None and row.disabled_at is None else None


def signin_limits(settings: Settings, email: str, client_host: str | None) -> list[Limit]:
    """Failed password sign-ins per address and per network per hour, in the shared database
    limiter (every process and host counts together). A guess costs an argon2 verification
    already; these cap how many one address, or one network spraying many, can take."""
    key = server_key(settings.secret_key)
    hour = timedelta(hours=1)
    return [
        Limit(
            "signin.email",
            keyed_hash(key, "signin.email", email.strip().lower()),
            settings.web_signin_attempts_per_hour,
            hour,
            "this address",
        ),
        Limit(
            "signin.net",
            network_key(key, "signin.net", client_host),
            settings.web_signin_attempts_per_network_per_hour,
            hour,
            "your network",
        ),
        Limit("signin.all", "all", settings.web_signin_attempts_overall_per_hour, hour, "this site"),
    ]


def magic_link_limits(settings: Settings, email: str, client_host: str | None) -> list[Limit]:
    """Sign-in link requests per address and per network per hour: each one is an e-mail sent
    to someone, so without these anyone could flood an inbox (or our mail server). Separate
    from the password budgets, so a password lockout never locks the owner out of the link."""
    key = server_key(settings.secret_key)
    hour = timedelta(hours=1)
    return [
        Limit(
            "signin.link.email",
            keyed_hash(key, "signin.link.email", email.strip().lower()),
            settings.web_magic_links_per_address_per_hour,
            hour,
            "this address",
        ),
        Limit(
            "signin.link.net",
            network_key(key, "signin.link.net", client_host),
            settings.web_magic_links_per_network_per_hour,
            hour,
            "your network",
        ),
    ]


def check_password(conn: Connection, email: str, password: str) -> WebUser | None:
    row = None
    try:
        address = normalize_email(email)
        row = conn.execute(select(web_users).where(web_users.c.email == address)).first()
    except Invalid:
        pass
    stored = row.password_hash if row is not None else None
    try:
        HASHER.verify(stored or _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None or stored is None or row.disabled_at is not None:
        return None
    return _user(row)


def record_login(conn: Connection, user: WebUser) -> None:
    conn.execute(update(web_users).where(web_users.c.id == user.id).values(last_login_at=utcnow()))


def issue_magic_link(conn: Connection, request: Request, user: WebUser) -> str:
    """A signed token naming the user and a nonce; the nonce's hash is stored so the link
    works once."""
    nonce = secrets.token_urlsafe(24)
    minutes = int(services_of(request.app).settings.web_magic_link_minutes)
    void_links(conn, user.id)  # a newer link replaces every older one
    conn.execute(
        insert(web_magic_links).values(
            nonce_hash=hashlib.sha256(nonce.encode()).hexdigest(),
            user_id=user.id,
            expires_at=utcnow() + timedelta(minutes=minutes),
            used_at=None,
        )
    )
    return codec(request).dump_magic(user.id, nonce)


def redeem_magic_link(conn: Connection, request: Request, token: str) -> WebUser | None:
    minutes = int(services_of(request.app).settings.web_magic_link_minutes)
    found = codec(request).load_magic(token, max_age=minutes * 60)
    if found is None:
        return None
    user_id, nonce = found
    digest = hashlib.sha256(nonce.encode()).hexdigest()
    row = conn.execute(select(web_magic_links).where(web_magic_links.c.nonce_hash == digest)).first()
    if row is None or row.user_id != user_id or row.used_at is not None:
        return None
    if as_utc(row.expires_at) < utcnow():
        return None
    used = conn.execute(
        update(web_magic_links)
        .where(web_magic_links.c.nonce_hash == digest, web_magic_links.c.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if used.rowcount != 1:  # redeemed concurrently
        return None
    return get_user(conn, user_id)


def current_user(request: Request, conn: Connection) -> WebUser | None:
    """The signed-in console user, or None. Cached on the request."""
    if hasattr(request.state, "web_user"):
        cached: WebUser | None = request.state.web_user
        return cached
    session = codec(request).load_session(request.cookies.get(SESSION_COOKIE))
    user = None
    if session is not None:
        found = get_user(conn, session.user_id)
        if found is not None and found.session_epoch == session.epoch:
            user = found
    request.state.web_user = user
    return user


def session_for(user: WebUser) -> WebSession:
    return WebSession(user.id, user.session_epoch)
