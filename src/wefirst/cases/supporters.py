"""Co-signing: a person asks with an e-mail address, confirms with the e-mailed link, and
only then counts — once per case, however they spell their address. Addresses are kept only
to reach supporters about the case, never returned by the API, and erased on request (the
keyed hash stays, so an erased supporter still counts once and cannot sign twice)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from wefirst.cases import logentries, mail_requests, notify
from wefirst.cases.identity import (
    BadTokenError,
    email_hash,
    read_token,
    read_verification,
    sign_token,
    sign_verification,
)
from wefirst.cases.service import get_case
from wefirst.cases.signals_pure import crossed_milestones
from wefirst.cases.states import State, can_cosign
from wefirst.emails import BadEmailError
from wefirst.errors import Conflict, Invalid, NotFound, invalid
from wefirst.mail import Mail
from wefirst.ratelimit import take
from wefirst.settings import Settings
from wefirst.store.tables_cases import case_supporters, cases
from wefirst.tlog.queue import enqueue

REQUESTS = mail_requests.Requests(case_supporters, "cosign", "sup", "verified")


@dataclass
class CosignRequested:
    case_id: str
    status: str  # "pending" (mail sent) | "counted" (already verified: nothing sent)
    mails: list[Mail]


def _require_open(row: Any) -> None:
    if row.hidden:
        raise Conflict("this case was hidden by moderation and takes no new signatures")
    if not can_cosign(State(row.state), bool(row.hidden)):
        raise Conflict(f"this case is {row.state} and takes no new signatures", state=row.state)


def request_cosign(
    conn: Connection,
    settings: Settings,
    *,
    case_id: str,
    email: str,
    language: str,
    network_hash: str,
    now: datetime,
) -> CosignRequested:
    row = get_case(conn, case_id)
    _require_open(row)
    mail_requests.check_language(language)
    address = email.strip()
    supporter_id = mail_requests.ask(
        conn,
        REQUESTS,
        settings,
        case_id=case_id,
        ehash=mail_requests.address_hash(settings, email),
        address=address,
        language=language,
        network_hash=network_hash,
        now=now,
    )
    if supporter_id is None:
        # Counted already: nothing to send. The edge answers exactly as for a new
        # signature, so nobody learns whether some address has signed this case.
        return CosignRequested(case_id, "counted", [])
    token = sign_verification(settings.secret_key, supporter_id)
    mail = notify.cosign_confirmation(settings, address, row.title, token, language)
    return CosignRequested(case_id, "pending", [mail])


def _supporter_from_token(conn: Connection, settings: Settings, token: str) -> Any:
    try:
        supporter_id = read_verification(settings.secret_key, token, settings.cases_verify_link_hours * 3600)
    except BadTokenError as exc:
        raise invalid("token", str(exc)) from None
    row = conn.execute(select(case_supporters).where(case_supporters.c.id == supporter_id)).first()
    if row is None:
        raise NotFound("this confirmation link is for a signature that no longer exists")
    return row


def preview_cosign(conn: Connection, settings: Settings, token: str) -> dict[str, Any]:
    """What confirming would do, without doing it (the page behind the e-mailed link)."""
    sup = _supporter_from_token(conn, settings, token)
    case = get_case(conn, sup.case_id)
    return {
        "case_id": case.id,
        "title": None if case.hidden else case.title,
        "status": sup.status,
        "language": sup.language,
    }


@dataclass
class Confirmed:
    case_id: str
    newly_counted: bool
    cosigns: int
    milestones: list[int]


def confirm_cosign(conn: Connection, settings: Settings, token: str, now: datetime) -> Confirmed:
    sup = _supporter_from_token(conn, settings, token)
    case = get_case(conn, sup.case_id)
    if sup.status == "verified":
        return Confirmed(case.id, False, case.cosign_count, [])
    _require_open(case)
    # Guarded update: of two concurrent confirmations of one link, only one flips the row.
    flipped = conn.execute(
        update(case_supporters)
        .where(case_supporters.c.id == sup.id, case_supporters.c.status == "pending")
        .values(status="verified", verified_at=now)
    ).rowcount
    if not flipped:
        return Confirmed(case.id, False, get_case(conn, case.id).cosign_count, [])
    conn.execute(
        update(cases)
        .where(cases.c.id == case.id)
        .values(cosign_count=cases.c.cosign_count + 1, updated_at=now)
    )
    after = int(conn.execute(select(cases.c.cosign_count).where(cases.c.id == case.id)).scalar_one())
    reached = crossed_milestones(after - 1, after)
    for m in reached:
        enqueue(conn, logentries.milestone(case_id=case.id, brand_id=case.brand_id, cosigns=m, at=now))
    return Confirmed(case.id, True, after, reached)


def request_erasure(
    conn: Connection,
    settings: Settings,
    *,
    email: str,
    language: str,
    network_hash: str,
    now: datetime,
) -> list[Mail]:
    """Mails an erasure link to the address if it signed anything. The answer to the asker
    is the same either way, so this cannot be used to learn who signed what."""
    ehash = mail_requests.address_hash(settings, email)
    take(conn, mail_requests.limits("erase", settings, ehash, network_hash), now, action="erase")
    known = conn.execute(
        select(case_supporters.c.id).where(
            case_supporters.c.email_hash == ehash, case_supporters.c.email.is_not(None)
        )
    ).first()
    if known is None:
        return []
    token = sign_token(settings.secret_key, "erase", ehash)
    return [notify.erasure_request(settings, email.strip(), token, language)]


def _erase_hash(conn: Connection, ehash: str, now: datetime) -> int:
    result = conn.execute(
        update(case_supporters)
        .where(case_supporters.c.email_hash == ehash, case_supporters.c.email.is_not(None))
        .values(email=None, erased_at=now)
    )
    return int(result.rowcount or 0)


def confirm_erasure(conn: Connection, settings: Settings, token: str, now: datetime) -> int:
    try:
        ehash = read_token(settings.secret_key, "erase", token, settings.cases_verify_link_hours * 3600)
    except BadTokenError as exc:
        raise invalid("token", str(exc)) from None
    return _erase_hash(conn, ehash, now)


def erase_address(conn: Connection, settings: Settings, email: str, now: datetime) -> int:
    """For requests received another way (letter, support desk): an operator erases by
    address. Pending signatures are erased too; they can no longer be confirmed by mail."""
    try:
        ehash = email_hash(settings.secret_key, email)
    except BadEmailError as exc:
        raise Invalid(f"email: {exc}") from None
    return _erase_hash(conn, ehash, now)


def purge_unconfirmed(conn: Connection, settings: Settings, now: datetime) -> int:
    """Forget requests whose link has expired: they never counted, and an address nobody
    confirmed is personal data we have no reason to keep."""
    return mail_requests.purge_unconfirmed(conn, case_supporters, settings, now)
