"""What co-signing (`supporters.py`) and following (`followers.py`) share: a person asks with
an e-mail address, and a row keyed by the keyed hash of the address's normal form waits,
"pending", for the e-mailed link to be followed.

One request per person and case however the address is spelled; requests are counted per
address and per network by the one limiter, whether or not the address already counts, so the
limiter's answers reveal nothing; asking again refreshes the pending row (a new link, the
latest language) and changes nothing for an address that already counts; an address nobody
confirmed is forgotten when its link expires."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Table, delete, insert, select, update

from wefirst.cases.identity import email_hash
from wefirst.domain.ids import new_id
from wefirst.emails import BadEmailError
from wefirst.errors import invalid
from wefirst.ratelimit import Limit, take
from wefirst.settings import Settings

LANGUAGES = ("fr", "en")


def address_hash(settings: Settings, email: str) -> str:
    """The keyed hash of the address's normal form; a malformed address is a 422 naming `email`."""
    try:
        return email_hash(settings.secret_key, email)
    except BadEmailError as exc:
        raise invalid("email", str(exc)) from None


def check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise invalid("language", "must be one of: fr, en")


def limits(action: str, settings: Settings, ehash: str, network_hash: str) -> list[Limit]:
    """Per address and per network: one person cannot flood a case, nor can one network
    with many addresses (each action counts on its own budget)."""
    window = timedelta(minutes=settings.cases_rate_window_minutes)
    return [
        Limit(
            f"cases.{action}.email",
            ehash,
            settings.cases_cosign_limit_per_address,
            window,
            "this e-mail address",
        ),
        Limit(
            f"cases.{action}.net",
            network_hash,
            settings.cases_cosign_limit_per_network,
            window,
            "your network",
        ),
    ]


@dataclass(frozen=True)
class Requests:
    """One kind of request: its table, its limiter budget, its ids, the status that counts."""

    table: Table
    action: str  # "cosign" | "follow": the limiter's budget
    id_prefix: str
    done: str  # the status of an address that already counts


def ask(
    conn: Connection,
    kind: Requests,
    settings: Settings,
    *,
    case_id: str,
    ehash: str,
    address: str,
    language: str,
    network_hash: str,
    now: datetime,
) -> str | None:
    """Count the request, then the id of the pending row to send a link for (new or
    refreshed), or None when the address already counts (status `done`): nothing to send."""
    take(conn, limits(kind.action, settings, ehash, network_hash), now, action=kind.action)
    table, t = kind.table, kind.table.c
    existing = conn.execute(select(t.id, t.status).where(t.case_id == case_id, t.email_hash == ehash)).first()
    if existing is not None and existing.status == kind.done:
        return None
    if existing is None:
        row_id = new_id(kind.id_prefix)
        conn.execute(
            insert(table).values(
                id=row_id,
                case_id=case_id,
                email_hash=ehash,
                email=address,
                language=language,
                status="pending",
                created_at=now,
            )
        )
        return row_id
    conn.execute(
        update(table).where(t.id == existing.id).values(email=address, language=language, created_at=now)
    )
    return str(existing.id)


def purge_unconfirmed(conn: Connection, table: Table, settings: Settings, now: datetime) -> int:
    """Forget requests whose link expired (`created_at` is the latest request's time, so a
    fresh link is never orphaned)."""
    cutoff = now - timedelta(hours=settings.cases_verify_link_hours)
    result = conn.execute(delete(table).where(table.c.status == "pending", table.c.created_at < cutoff))
    return int(result.rowcount or 0)
