"""A publisher's e-mail verification: the link, what following it finds, and a new link.

The link is a signed, timed token naming the publisher (`approval.sign_verification`); it opens
a page (`web/routes_publisher_verify.py`) whose button verifies by POST, so a mail scanner that
follows links neither uses it up nor verifies anyone. A lost or expired link can be renewed:
the asker gives the link and the address, and a new link goes to that address only if it is the
one the sign-up gave (its keyed hash is kept, not the address). So a stolen or forwarded link
cannot send a link anywhere else, and the budgets (`resend_limits`) bound how often anyone can
make us send mail. Why this matters: a verified publisher's key counts clicks (issue 12)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Connection, select, update

from wefirst.domain.clock import utcnow
from wefirst.emails import BadEmailError, mailbox, person_key
from wefirst.errors import FieldError, Invalid
from wefirst.mail import Mail, Mailer
from wefirst.pseudonyms import keyed_hash, network_key, server_key
from wefirst.ratelimit import Limit, take
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_widget import publishers
from wefirst.translations import N_, gettext_for
from wefirst.widget.approval import VERIFICATION_SALT, sign_verification

#: how long after it was sent an expired link still lets its owner ask for a new one
RENEW_WITHIN = timedelta(days=14)
#: new links per publisher per day: a person who lost a mail needs one or two
RESENDS_PER_PUBLISHER_PER_DAY = 3
#: resend requests per network per day, whatever they name (bounds mail sent on our name)
RESENDS_PER_NETWORK_PER_DAY = 10

Status = Literal["pending", "verified", "expired", "invalid"]


@dataclass(frozen=True)
class LinkState:
    status: Status
    publisher_id: str | None = None
    name: str | None = None


def email_key(secret: str, address: str) -> str:
    """The keyed hash kept for the sign-up address (`emails.person_key` folds case and the
    forms of one mailbox)."""
    return keyed_hash(server_key(secret), "publishers.signup.address", person_key(address))


def _publisher_of(secret: str, token: str, max_age_seconds: float) -> str | None:
    data = URLSafeTimedSerializer(secret, salt=VERIFICATION_SALT).loads(token, max_age=int(max_age_seconds))
    return str(data["p"]) if isinstance(data, dict) and isinstance(data.get("p"), str) else None


def inspect(conn: Connection, secret: str, token: str, link_hours: int) -> LinkState:
    """What a link is, without changing anything (the page's GET)."""
    try:
        pid = _publisher_of(secret, token, link_hours * 3600)
    except SignatureExpired:
        try:
            pid = _publisher_of(secret, token, RENEW_WITHIN.total_seconds())
        except BadSignature:
            return LinkState("invalid")
        return LinkState("expired", pid)
    except BadSignature:
        return LinkState("invalid")
    query = select(publishers.c.name, publishers.c.verified_at).where(publishers.c.id == pid)
    row = conn.execute(query).first()
    if pid is None or row is None:
        return LinkState("invalid")
    return LinkState("verified" if row.verified_at is not None else "pending", pid, row.name)


def verify(conn: Connection, secret: str, token: str, link_hours: int) -> LinkState:
    """Follow the link: a pending publisher becomes verified (twice is harmless)."""
    state = inspect(conn, secret, token, link_hours)
    if state.status == "pending":
        pub = publishers.c.id == state.publisher_id
        conn.execute(update(publishers).where(pub).values(verified_at=utcnow()))
        return LinkState("verified", state.publisher_id, state.name)
    return state


def resend_limits(secret: str, publisher_id: str, client_host: str | None) -> list[Limit]:
    """Spent by every request, before the address is checked: guessing the address costs the
    same budget as asking with the right one."""
    net = network_key(server_key(secret), "publishers.resend.net", client_host)
    day = timedelta(days=1)
    return [
        Limit("publishers.resend", publisher_id, RESENDS_PER_PUBLISHER_PER_DAY, day, "this publisher"),
        Limit("publishers.resend.net", net, RESENDS_PER_NETWORK_PER_DAY, day, "your network"),
    ]


def renewable(conn: Connection, secret: str, token: str) -> str | None:
    """The publisher a (possibly expired) link names, if it may still get a new one: a genuine
    link, less than `RENEW_WITHIN` old, for a publisher not yet verified."""
    try:
        pid = _publisher_of(secret, token, RENEW_WITHIN.total_seconds())
    except BadSignature:
        return None
    row = conn.execute(select(publishers.c.verified_at).where(publishers.c.id == pid)).first()
    return pid if row is not None and row.verified_at is None else None


def resend_to(conn: Connection, secret: str, publisher_id: str, address: str) -> bool:
    """Whether `address` is the one the publisher signed up with (compared in constant time)."""
    row = conn.execute(select(publishers.c.signup_email_key).where(publishers.c.id == publisher_id)).first()
    if row is None or row.signup_email_key is None:
        return False
    try:
        wanted = email_key(secret, address)
    except BadEmailError:
        return False
    return hmac.compare_digest(str(row.signup_email_key), wanted)


SUBJECT = N_("wefirst: confirm your publisher sign-up")
BODY = N_(
    'Someone (we hope you) registered the publisher "{name}" ({publisher_id}) on wefirst.\n\n'
    "Open this link within {hours} hours and press the button to make its API key work:\n{link}\n\n"
    "If it was not you, ignore this message: the key stays unusable.\n"
)


def verification_mail(
    base_url: str, secret: str, to: str, publisher_id: str, name: str, hours: int, language: str = "en"
) -> Mail:
    """In the language the sign-up was made in; the link opens the page in that language too."""
    translate = gettext_for(language).gettext
    token = sign_verification(secret, publisher_id)
    query = "&lang=fr" if language == "fr" else ""
    link = f"{base_url.rstrip('/')}/publishers/verify?token={token}{query}"
    body = translate(BODY).format(name=name, publisher_id=publisher_id, hours=hours, link=link)
    return Mail(to=to, subject=translate(SUBJECT), body=body)


def resend(
    db: Database,
    settings: Settings,
    mailer: Mailer,
    token: str,
    email: str,
    client_host: str | None,
    language: str = "en",
) -> None:
    """Shared by the API and the page: spend the budgets, then send a new link if this one may
    be renewed and the address is the sign-up's (the caller answers the same either way).
    Raises `TooManyRequests`, `Invalid` naming `token` for a link that is not genuine, too old
    or already followed, and `MailError` when the mail cannot leave."""
    with db.write() as conn:
        pid = renewable(conn, settings.secret_key, token)
        if pid is None:
            raise Invalid("token: the link is not valid; sign up again", [FieldError("token", "invalid")])
        take(conn, resend_limits(settings.secret_key, pid, client_host), utcnow())
        name: str = conn.execute(select(publishers.c.name).where(publishers.c.id == pid)).scalar_one()
        matches = resend_to(conn, settings.secret_key, pid, email)
    if matches:
        hours = settings.widget_publisher_verify_link_hours
        to = mailbox(email)
        mail = verification_mail(settings.base_url, settings.secret_key, to, pid, str(name), hours, language)
        mailer.send(mail)
