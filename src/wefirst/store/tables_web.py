"""Web sign-in: console users (a person acting for one brand, beneficiary or publisher) and
single-use magic-link nonces. Sessions themselves are signed cookies, not rows; a user's
`session_epoch` moves to end every session at once (sign out everywhere, password change)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, String, Table

from wefirst.store.meta import ID, metadata

web_users = Table(
    "web_users",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(ID), nullable=False, unique=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", String(200)),
    Column("role", String(16), nullable=False),
    Column("owner_id", String(ID)),
    Column("session_epoch", Integer, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_login_at", DateTime(timezone=True)),
    #: set by `wefirst web disable-user`: no sign-in of any kind, no session
    Column("disabled_at", DateTime(timezone=True)),
)

web_magic_links = Table(
    "web_magic_links",
    metadata,
    Column("nonce_hash", String(64), primary_key=True),
    Column("user_id", String(ID), nullable=False, index=True),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
)
