"""Console users' administration, shared by `wefirst web …` and the admin API
(`/v1/console-users/…`): disable, enable, reset a password, end every session. The sign-in
itself (cookies, links, pages) lives in `web/sessions.py`; these operations need no request,
so the JSON API can offer them without importing the pages."""

from __future__ import annotations

from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import Connection, select, update

from wefirst.domain.clock import utcnow
from wefirst.emails import BadEmailError, mailbox
from wefirst.errors import FieldError, Invalid, NotFound
from wefirst.store.tables_web import web_magic_links, web_users

HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters


def normalize_email(email: str) -> str:
    """The login identity (`emails.mailbox`), or a 422 naming the field."""
    try:
        return mailbox(email)
    except BadEmailError as exc:
        raise Invalid(f"email: {exc}", [FieldError("email", str(exc))]) from None


def _require(conn: Connection, email: str) -> Any:
    row = conn.execute(select(web_users).where(web_users.c.email == normalize_email(email))).first()
    if row is None:
        raise NotFound(f"no console user with the e-mail {email}", [FieldError("email", "unknown")])
    return row


def disable_user(conn: Connection, email: str) -> str:
    """No sign-in of any kind any more, every session ended, pending magic links void."""
    row = _require(conn, email)
    conn.execute(
        update(web_users)
        .where(web_users.c.id == row.id)
        .values(disabled_at=utcnow(), session_epoch=web_users.c.session_epoch + 1)
    )
    void_links(conn, row.id)
    return str(row.id)


def enable_user(conn: Connection, email: str) -> str:
    row = _require(conn, email)
    conn.execute(update(web_users).where(web_users.c.id == row.id).values(disabled_at=None))
    return str(row.id)


def reset_password(conn: Connection, email: str, password: str | None) -> str:
    """A new password (None: magic links only); every session ends, pending links are void."""
    if password is not None and len(password) < 12:
        raise Invalid("password: at least 12 characters", [FieldError("password", "too short")])
    row = _require(conn, email)
    conn.execute(
        update(web_users)
        .where(web_users.c.id == row.id)
        .values(
            password_hash=HASHER.hash(password) if password else None,
            session_epoch=web_users.c.session_epoch + 1,
        )
    )
    void_links(conn, row.id)
    return str(row.id)


def end_sessions(conn: Connection, email: str) -> str:
    row = _require(conn, email)
    end_all_sessions(conn, row.id)
    return str(row.id)


def void_links(conn: Connection, user_id: str) -> None:
    conn.execute(
        update(web_magic_links)
        .where(web_magic_links.c.user_id == user_id, web_magic_links.c.used_at.is_(None))
        .values(used_at=utcnow())
    )


def end_all_sessions(conn: Connection, user_id: str) -> None:
    conn.execute(
        update(web_users).where(web_users.c.id == user_id).values(session_epoch=web_users.c.session_epoch + 1)
    )
