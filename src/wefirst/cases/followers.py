"""Following a case: a person asks with an e-mail address, confirms with the e-mailed link, and
only then is told when the brand answers, a commitment falls due, or the case is resolved.

The same machinery as co-signing (`supporters.py`): the keyed hash of the address's normal form
is the key (one follow per person and case), requests are rate-limited per address and per
network by the one limiter, and the answer to the asker is the same whether or not the address
already follows, so the form tells nobody who follows what. The address itself is kept only
while it is needed: an unconfirmed request is forgotten when its link expires, unsubscribing
deletes the row, and so does the case's resolution (nothing more will be sent)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, delete, select, update

from wefirst.cases import follow_retries, mail_requests, notify
from wefirst.cases.identity import BadTokenError, read_token, sign_token
from wefirst.cases.service import get_case
from wefirst.cases.states import State
from wefirst.emails import mailbox
from wefirst.errors import Conflict, NotFound, invalid
from wefirst.mail import Mail
from wefirst.settings import Settings
from wefirst.store.tables_cases import case_followers

UNFOLLOW_LINK_DAYS: Final = 400
"""How long the unsubscribe link of a mail keeps working: longer than any case lasts, since
people unsubscribe from an old mail; each new mail carries a fresh link."""


REQUESTS = mail_requests.Requests(case_followers, "follow", "flw", "active")


@dataclass
class FollowRequested:
    case_id: str
    status: str  # "pending" (confirmation mailed) | "following" (already confirmed: nothing sent)
    mails: list[Mail]


def can_follow(row: Any) -> bool:
    """A resolved case has nothing more to tell; a hidden one is frozen by moderation."""
    return not row.hidden and row.state != State.resolved.value


def request_follow(
    conn: Connection,
    settings: Settings,
    *,
    case_id: str,
    email: str,
    language: str,
    network_hash: str,
    now: datetime,
) -> FollowRequested:
    row = get_case(conn, case_id)
    if not can_follow(row):
        raise Conflict("this case has nothing more to tell its followers", state=row.state)
    mail_requests.check_language(language)
    ehash = mail_requests.address_hash(settings, email)
    address = mailbox(email)
    follower_id = mail_requests.ask(
        conn,
        REQUESTS,
        settings,
        case_id=case_id,
        ehash=ehash,
        address=address,
        language=language,
        network_hash=network_hash,
        now=now,
    )
    if follower_id is None:
        return FollowRequested(case_id, "following", [])
    token = sign_token(settings.secret_key, "follow", follower_id)
    return FollowRequested(
        case_id, "pending", [notify.follow_confirmation(settings, address, row.title, token, language)]
    )


def _follower(conn: Connection, settings: Settings, token: str) -> Any:
    try:
        follower_id = read_token(
            settings.secret_key, "follow", token, settings.cases_verify_link_hours * 3600
        )
    except BadTokenError as exc:
        raise invalid("token", str(exc)) from None
    row = conn.execute(select(case_followers).where(case_followers.c.id == follower_id)).first()
    if row is None:
        raise NotFound("this link is for a follow request that no longer exists")
    return row


def preview_follow(conn: Connection, settings: Settings, token: str) -> Any:
    """The follow request behind a confirmation link, without confirming it (mail scanners
    open links: only the page's button confirms)."""
    return _follower(conn, settings, token)


def confirm_follow(conn: Connection, settings: Settings, token: str, now: datetime) -> tuple[str, bool]:
    """(case id, whether this confirmation made the person a follower)."""
    row = _follower(conn, settings, token)
    flipped = conn.execute(
        update(case_followers)
        .where(case_followers.c.id == row.id, case_followers.c.status == "pending")
        .values(status="active", confirmed_at=now)
    ).rowcount
    return row.case_id, bool(flipped)


def unfollow_token(settings: Settings, follower_id: str) -> str:
    return sign_token(settings.secret_key, "unfollow", follower_id)


def unfollow(conn: Connection, settings: Settings, token: str) -> str | None:
    """Delete the follower the link was made for; the case id, or None when it was already
    gone (a second click is not an error). A forged or expired link raises `Invalid`."""
    try:
        follower_id = read_token(settings.secret_key, "unfollow", token, UNFOLLOW_LINK_DAYS * 86400)
    except BadTokenError as exc:
        raise invalid("token", str(exc)) from None
    f = case_followers.c
    case_id = conn.execute(select(f.case_id).where(f.id == follower_id)).scalar_one_or_none()
    if case_id is not None:
        conn.execute(delete(case_followers).where(f.id == follower_id))
    follow_retries.forget_follower(conn, follower_id)  # also after the resolution deleted the row
    return case_id


def active_followers(conn: Connection, case_id: str) -> list[Any]:
    f = case_followers.c
    return list(
        conn.execute(
            select(f.id, f.email, f.language)
            .where(f.case_id == case_id, f.status == "active")
            .order_by(f.seq)
        )
    )


def forget_case(conn: Connection, case_id: str) -> int:
    """After the last mail a case will ever send (its resolution): nobody's address is needed."""
    return int(conn.execute(delete(case_followers).where(case_followers.c.case_id == case_id)).rowcount or 0)


def purge_unconfirmed(conn: Connection, settings: Settings, now: datetime) -> int:
    """Forget follow requests whose link expired: an address nobody confirmed is not kept."""
    return mail_requests.purge_unconfirmed(conn, case_followers, settings, now)
