"""API keys carry a readable prefix naming their mode and role (`sk_live_brand_…`), are shown
once, and are stored as SHA-256 digests: they are 192-bit random tokens, so a slow password hash
would add latency to every request without adding safety."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from sqlalchemy import Connection, insert, select, update

from wefirst.domain.clock import as_utc, rfc3339, utcnow
from wefirst.domain.ids import new_id
from wefirst.errors import Forbidden, Invalid, NotFound, Unauthorized
from wefirst.store.tables_core import api_keys, beneficiaries, brands

Role = Literal["admin", "brand", "beneficiary", "publisher", "moderator"]
ROLES: tuple[Role, ...] = ("admin", "brand", "beneficiary", "publisher", "moderator")
UNOWNED: frozenset[str] = frozenset({"admin", "moderator"})  # platform roles, not tenants
LAST_USED_GRANULARITY = timedelta(minutes=1)
#: How long a process trusts a key it has checked. A key revoked through this process is
#: refused at once; one revoked through another process (a second worker, the CLI) is refused
#: there within this many seconds.
KEY_CACHE_SECONDS = 5.0
_revocations = 0  # bumped by every revocation in this process: cached keys are all forgotten


@dataclass(frozen=True)
class Actor:
    role: Role
    owner_id: str | None
    key_id: str
    livemode: bool

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _check_owner(conn: Connection, role: Role, owner_id: str | None) -> bool:
    """Returns the owner's mode; platform keys (admin, moderator) have no owner."""
    if role in UNOWNED:
        if owner_id is not None:
            raise Invalid(f"{role} keys have no owner")
        return True
    if owner_id is None:
        raise Invalid(f"a {role} key needs --owner / owner_id")
    if role == "brand":
        row = conn.execute(select(brands.c.livemode).where(brands.c.id == owner_id)).first()
    elif role == "beneficiary":
        row = conn.execute(select(beneficiaries.c.livemode).where(beneficiaries.c.id == owner_id)).first()
    else:
        from wefirst.store.schema import metadata

        table = metadata.tables.get("publishers")
        if table is None:
            raise Invalid("publisher keys need the widget module's publishers")
        row = conn.execute(select(table.c.livemode).where(table.c.id == owner_id)).first()
    if row is None:
        raise NotFound(f"no {role} with id {owner_id}")
    return bool(row[0])


def create_key(
    conn: Connection,
    role: Role,
    owner_id: str | None = None,
    *,
    label: str | None = None,
    livemode: bool | None = None,
) -> tuple[str, dict[str, object]]:
    """Returns the secret (shown once) and the stored record."""
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}")
    owner_mode = _check_owner(conn, role, owner_id)
    mode = owner_mode if livemode is None else livemode
    secret = f"sk_{'live' if mode else 'test'}_{role}_{secrets.token_urlsafe(24)}"
    key_id = new_id("key")
    now = utcnow()
    conn.execute(
        insert(api_keys).values(
            id=key_id,
            key_hash=digest(secret),
            hint=secret[-4:],
            role=role,
            owner_id=owner_id,
            livemode=mode,
            label=label,
            created_at=now,
        )
    )
    return secret, {
        "id": key_id,
        "role": role,
        "owner_id": owner_id,
        "livemode": mode,
        "label": label,
        "hint": secret[-4:],
        "created_at": rfc3339(now),
    }


def authenticate(conn: Connection, secret: str) -> Actor:
    row = conn.execute(select(api_keys).where(api_keys.c.key_hash == digest(secret))).first()
    if row is None or row.revoked_at is not None:
        raise Unauthorized("unknown or revoked API key; create one with `wefirst keys create`")
    if row.role == "publisher":
        _require_verified_publisher(conn, row.owner_id)
    return Actor(row.role, row.owner_id, row.id, row.livemode)


def _require_verified_publisher(conn: Connection, publisher_id: str) -> None:
    """An open sign-up's key is handed out at once but works only after the e-mailed link is
    followed (issue 12: open sign-up returned a live key that could count clicks at once)."""
    from wefirst.store.schema import metadata

    table = metadata.tables.get("publishers")
    if table is None:
        return
    row = conn.execute(select(table.c.verified_at).where(table.c.id == publisher_id)).first()
    if row is not None and row.verified_at is None:
        raise Forbidden(
            "this publisher key works once the link e-mailed at sign-up is followed",
            verification="pending",
        )


class ActorCache:
    """Keys already checked, for `KEY_CACHE_SECONDS`: checking a key in every request cost a
    read transaction (two statements and a pool checkout) per API event (issue 18)."""

    def __init__(
        self, seconds: float = KEY_CACHE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = seconds
        self.clock = clock
        self._actors: dict[str, tuple[Actor, float]] = {}
        self._generation = _revocations

    def get(self, secret: str) -> Actor | None:
        if self._generation != _revocations:
            self._actors.clear()
            self._generation = _revocations
        found = self._actors.get(digest(secret))
        if found is None or found[1] < self.clock():
            return None
        return found[0]

    def keep(self, secret: str, actor: Actor, generation: int) -> None:
        """`generation`: `revocations()` read before the key was checked; a revocation since
        then means the check may predate it, so nothing is kept."""
        if generation != _revocations:
            return
        if len(self._actors) >= 10_000:
            self._actors.clear()
        self._actors[digest(secret)] = (actor, self.clock() + self.seconds)


def revocations() -> int:
    return _revocations


def forget_cached() -> None:
    """Every `ActorCache` of this process forgets its keys (called by `revoke`, and again by
    its callers once the revocation is committed)."""
    global _revocations
    _revocations += 1


def touch(conn: Connection, key_id: str) -> None:
    """Record last use at most once a minute, so reads do not turn into writes."""
    now = utcnow()
    row = conn.execute(select(api_keys.c.last_used_at).where(api_keys.c.id == key_id)).first()
    if row is not None and row[0] is not None and now - as_utc(row[0]) < LAST_USED_GRANULARITY:
        return
    conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(last_used_at=now))


def revoke(conn: Connection, key_id: str) -> None:
    forget_cached()
    result = conn.execute(
        update(api_keys)
        .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    if result.rowcount != 1:
        raise NotFound(f"no active key {key_id}")
