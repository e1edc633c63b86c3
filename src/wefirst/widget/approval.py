"""Who may count clicks for a campaign: a publisher whose e-mail address was verified (the link
it was sent was followed, or an admin created it) and that the campaign's brand approved, or
any verified publisher when the brand opened the campaign to them.

Why: open sign-up handed out a live publisher key at once, and joining a campaign was enough
to count clicks on it; a brand's money went to whoever asked (issue 12). The sign-up link is
signed and expires (`itsdangerous`, like the console's magic links); nothing about the address
is stored, only that it was verified.
"""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Connection, and_, or_, select, update

from wefirst.catalog.service import load_campaign
from wefirst.domain.clock import rfc3339, utcnow
from wefirst.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from wefirst.store.tables_widget import publisher_campaigns, publishers, widget_campaign_settings

VERIFICATION_SALT = "wefirst.widget.publisher-verify.v1"


class PublisherNotApproved(Forbidden):
    """The publisher's key works but the campaign does not take its clicks (yet)."""


def sign_verification(secret: str, publisher_id: str) -> str:
    return URLSafeTimedSerializer(secret, salt=VERIFICATION_SALT).dumps({"p": publisher_id})


def read_verification(secret: str, token: str, max_age_seconds: int) -> str:
    """The publisher id the link was issued for; `Invalid` naming `token` otherwise."""
    try:
        data = URLSafeTimedSerializer(secret, salt=VERIFICATION_SALT).loads(token, max_age=max_age_seconds)
    except SignatureExpired:
        raise Invalid(
            "token: the link has expired; sign up again", [FieldError("token", "expired")]
        ) from None
    except BadSignature:
        raise Invalid("token: the link is not valid", [FieldError("token", "invalid")]) from None
    if not isinstance(data, dict) or not isinstance(data.get("p"), str):
        raise Invalid("token: the link is not valid", [FieldError("token", "invalid")])
    return str(data["p"])


def verify_publisher(conn: Connection, publisher_id: str) -> None:
    """Following the link twice is harmless: the first time counts."""
    row = conn.execute(select(publishers.c.verified_at).where(publishers.c.id == publisher_id)).first()
    if row is None:
        raise NotFound(f"publisher {publisher_id} does not exist")
    if row.verified_at is None:
        conn.execute(update(publishers).where(publishers.c.id == publisher_id).values(verified_at=utcnow()))


def is_verified(conn: Connection, publisher_id: str) -> bool:
    row = conn.execute(select(publishers.c.verified_at).where(publishers.c.id == publisher_id)).first()
    return row is not None and row.verified_at is not None


def is_open(conn: Connection, campaign_id: str) -> bool:
    row = conn.execute(
        select(widget_campaign_settings.c.open_to_publishers).where(
            widget_campaign_settings.c.campaign_id == campaign_id
        )
    ).first()
    return bool(row is not None and row.open_to_publishers)


def counting_campaigns(conn: Connection, publisher_id: str) -> list[str]:
    """The joined campaigns where this publisher's clicks count now."""
    pc, ws = publisher_campaigns.c, widget_campaign_settings.c
    rows = conn.execute(
        select(pc.campaign_id)
        .select_from(
            publisher_campaigns.outerjoin(
                widget_campaign_settings, widget_campaign_settings.c.campaign_id == pc.campaign_id
            ).join(publishers, publishers.c.id == pc.publisher_id)
        )
        .where(
            pc.publisher_id == publisher_id,
            publishers.c.verified_at.is_not(None),
            or_(pc.approved_at.is_not(None), and_(ws.open_to_publishers.is_not(None), ws.open_to_publishers)),
        )
        .order_by(pc.joined_at, pc.campaign_id)
    )
    return [r.campaign_id for r in rows]


def require_may_count(conn: Connection, publisher_id: str, campaign_id: str) -> None:
    """Raises unless this publisher's clicks count on this campaign (joined, verified, and
    approved or the campaign is open)."""
    joined = conn.execute(
        select(publisher_campaigns.c.approved_at).where(
            publisher_campaigns.c.publisher_id == publisher_id,
            publisher_campaigns.c.campaign_id == campaign_id,
        )
    ).first()
    if joined is None:
        raise Forbidden(
            f"publisher {publisher_id} has not joined campaign {campaign_id}: "
            f"POST /v1/publishers/{publisher_id}/campaigns first"
        )
    if not is_verified(conn, publisher_id):
        raise Forbidden(f"publisher {publisher_id} has not followed the link e-mailed at sign-up")
    if joined.approved_at is None and not is_open(conn, campaign_id):
        raise PublisherNotApproved(
            f"the brand of campaign {campaign_id} has not approved publisher {publisher_id} yet",
            decision="not_approved",
        )


def campaign_publishers(conn: Connection, campaign_id: str) -> dict[str, Any]:
    """What a brand reviews: every publisher that joined, verified or not, approved or not."""
    load_campaign(conn, campaign_id)
    pc, p = publisher_campaigns.c, publishers.c
    rows = conn.execute(
        select(p.id, p.name, p.domains, p.verified_at, pc.joined_at, pc.approved_at)
        .select_from(publisher_campaigns.join(publishers, publishers.c.id == pc.publisher_id))
        .where(pc.campaign_id == campaign_id)
        .order_by(pc.joined_at, p.id)
    )
    open_ = is_open(conn, campaign_id)
    data = [
        {
            "publisher_id": r.id,
            "name": r.name,
            "domains": list(r.domains),
            "verified": r.verified_at is not None,
            "joined_at": rfc3339(r.joined_at),
            "approved_at": None if r.approved_at is None else rfc3339(r.approved_at),
            "counts": r.verified_at is not None and (open_ or r.approved_at is not None),
        }
        for r in rows
    ]
    return {"campaign_id": campaign_id, "open_to_verified_publishers": open_, "data": data}


def set_approval(conn: Connection, campaign_id: str, publisher_id: str, *, approved: bool) -> dict[str, Any]:
    """A brand approves (or withdraws approval from) a publisher that asked to join."""
    load_campaign(conn, campaign_id)
    result = conn.execute(
        update(publisher_campaigns)
        .where(
            publisher_campaigns.c.publisher_id == publisher_id,
            publisher_campaigns.c.campaign_id == campaign_id,
        )
        .values(approved_at=utcnow() if approved else None)
    )
    if result.rowcount == 0:
        raise Conflict(
            f"publisher {publisher_id} has not asked to join campaign {campaign_id}",
            [FieldError("publisher_id", "not joined")],
        )
    return campaign_publishers(conn, campaign_id)
