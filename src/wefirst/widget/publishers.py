"""Publishers: the sites that show a campaign's widget, what they joined, and what their
readers funded. A publisher sees its own figures only; the campaign's brand sees the fraud
report across publishers.
"""

from __future__ import annotations

from datetime import date, timedelta
from html import escape
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from wefirst.catalog.service import load_campaign
from wefirst.domain.campaigns import CampaignStatus
from wefirst.domain.clock import rfc3339, utcnow
from wefirst.domain.ids import new_id
from wefirst.errors import Conflict, FieldError, Invalid, NotFound
from wefirst.store.tables_widget import (
    publisher_campaigns,
    publishers,
    widget_campaign_settings,
    widget_decisions,
)
from wefirst.widget import approval
from wefirst.widget.origins import DomainError, normalize_domain
from wefirst.widget.pow import MAX_BITS
from wefirst.widget.reasons import Reason
from wefirst.widget.status import LANGS, units_per_click

MAX_DOMAINS = 20
MAX_STATS_DAYS = 366


def clean_domains(raw: list[str]) -> list[str]:
    if not raw:
        raise Invalid("domains: register at least one domain", [FieldError("domains", "empty")])
    if len(raw) > MAX_DOMAINS:
        raise Invalid(f"domains: at most {MAX_DOMAINS}", [FieldError("domains", "too many")])
    out: list[str] = []
    errors: list[FieldError] = []
    for i, value in enumerate(raw):
        try:
            domain = normalize_domain(value)
        except DomainError as exc:
            errors.append(FieldError(f"domains[{i}]", str(exc)))
            continue
        if domain not in out:
            out.append(domain)
    if errors:
        raise Invalid("; ".join(f"{e.field}: {e.reason}" for e in errors), errors)
    return out


def publisher_json(conn: Connection, row: Any) -> dict[str, Any]:
    joined = [
        r.campaign_id
        for r in conn.execute(
            select(publisher_campaigns.c.campaign_id)
            .where(publisher_campaigns.c.publisher_id == row.id)
            .order_by(publisher_campaigns.c.joined_at, publisher_campaigns.c.campaign_id)
        )
    ]
    return {
        "id": row.id,
        "name": row.name,
        "domains": list(row.domains),
        "campaigns": joined,
        # where clicks count now: verified, and approved by the brand or the campaign is open
        "counting_campaigns": approval.counting_campaigns(conn, row.id),
        "verified": row.verified_at is not None,
        "livemode": row.livemode,
        "created_at": rfc3339(row.created_at),
        "updated_at": rfc3339(row.updated_at),
    }


def create_publisher(
    conn: Connection,
    *,
    name: str,
    domains: list[str],
    livemode: bool = True,
    verified: bool = True,
    signup_email_key: str | None = None,
) -> dict[str, Any]:
    """`verified=False` for open sign-up: the key works once the e-mailed link is followed;
    `signup_email_key` is where a new link may go (`widget/verification.py`)."""
    cleaned = clean_domains(domains)
    pub_id = new_id("pub")
    now = utcnow()
    conn.execute(
        insert(publishers).values(
            id=pub_id,
            name=name,
            domains=cleaned,
            livemode=livemode,
            created_at=now,
            updated_at=now,
            verified_at=now if verified else None,
            signup_email_key=signup_email_key,
        )
    )
    return get_publisher(conn, pub_id)


def _row(conn: Connection, publisher_id: str) -> Any:
    row = conn.execute(select(publishers).where(publishers.c.id == publisher_id)).first()
    if row is None:
        raise NotFound(f"publisher {publisher_id} does not exist")
    return row


def get_publisher(conn: Connection, publisher_id: str) -> dict[str, Any]:
    return publisher_json(conn, _row(conn, publisher_id))


def update_publisher(
    conn: Connection, publisher_id: str, *, name: str | None, domains: list[str] | None
) -> dict[str, Any]:
    _row(conn, publisher_id)
    values: dict[str, Any] = {"updated_at": utcnow()}
    if name is not None:
        values["name"] = name
    if domains is not None:
        values["domains"] = clean_domains(domains)
    if len(values) == 1:
        raise Invalid("nothing to change", [FieldError("body", "give name or domains")])
    conn.execute(update(publishers).where(publishers.c.id == publisher_id).values(**values))
    return get_publisher(conn, publisher_id)


def join_campaign(
    conn: Connection, publisher_id: str, campaign_id: str, *, approved: bool = False
) -> dict[str, Any]:
    """A publisher asks to show the campaign; its clicks count once the brand approves it (or
    the campaign is open). `approved=True` is for the brand's own set-ups (demo, benchmarks)."""
    pub = _row(conn, publisher_id)
    loaded = load_campaign(conn, campaign_id)
    c = loaded.campaign
    if loaded.row.livemode != pub.livemode:
        raise NotFound(f"campaign {campaign_id} does not exist")
    if c.status in (CampaignStatus.ended, CampaignStatus.draft):
        raise Conflict(
            f"a {c.status.value} campaign cannot be joined",
            [FieldError("campaign_id", f"campaign is {c.status.value}")],
        )
    if units_per_click(c) is None:
        raise Conflict(
            "this campaign has no per-click rule, so a widget would fund nothing",
            [FieldError("campaign_id", "no per_click rule")],
        )
    exists = conn.execute(
        select(publisher_campaigns.c.campaign_id).where(
            publisher_campaigns.c.publisher_id == publisher_id,
            publisher_campaigns.c.campaign_id == campaign_id,
        )
    ).first()
    if exists is None:
        conn.execute(
            insert(publisher_campaigns).values(
                publisher_id=publisher_id,
                campaign_id=campaign_id,
                joined_at=utcnow(),
                approved_at=utcnow() if approved else None,
            )
        )
    elif approved:
        approval.set_approval(conn, campaign_id, publisher_id, approved=True)
    return get_publisher(conn, publisher_id)


def leave_campaign(conn: Connection, publisher_id: str, campaign_id: str) -> dict[str, Any]:
    _row(conn, publisher_id)
    gone = conn.execute(
        delete(publisher_campaigns).where(
            publisher_campaigns.c.publisher_id == publisher_id,
            publisher_campaigns.c.campaign_id == campaign_id,
        )
    )
    if gone.rowcount == 0:
        raise NotFound(f"publisher {publisher_id} has not joined campaign {campaign_id}")
    return get_publisher(conn, publisher_id)


def snippet(
    conn: Connection,
    publisher_id: str,
    campaign_id: str,
    *,
    base_url: str,
    lang: str | None = None,
) -> dict[str, Any]:
    """The one tag a blogger pastes. Only for joined campaigns, so a pasted snippet works."""
    pub = get_publisher(conn, publisher_id)
    if campaign_id not in pub["campaigns"]:
        raise Conflict(
            f"join campaign {campaign_id} first (POST /v1/publishers/{publisher_id}/campaigns)",
            [FieldError("campaign_id", "not joined")],
        )
    if lang is not None and lang not in LANGS:
        raise Invalid("lang: fr or en", [FieldError("lang", "unsupported language")])
    base = base_url.rstrip("/")
    attrs = [
        f'src="{escape(base)}/static/widget.js"',
        f'data-campaign="{escape(campaign_id)}"',
        f'data-publisher="{escape(publisher_id)}"',
    ]
    if lang:
        attrs.append(f'data-lang="{lang}"')
    html = "<script " + " ".join(attrs) + " async></script>"
    return {"publisher_id": publisher_id, "campaign_id": campaign_id, "html": html, "domains": pub["domains"]}


def daily_stats(conn: Connection, publisher_id: str, *, start: date, end: date) -> dict[str, Any]:
    """Counted clicks and impact per day and campaign, for this publisher's site only."""
    _row(conn, publisher_id)
    if end < start:
        raise Invalid("to: must not be before from", [FieldError("to", "before from")])
    if (end - start) > timedelta(days=MAX_STATS_DAYS):
        raise Invalid(f"at most {MAX_STATS_DAYS} days per request", [FieldError("from", "range too long")])
    rows = conn.execute(
        select(
            widget_decisions.c.day,
            widget_decisions.c.campaign_id,
            func.count().label("clicks"),
            func.sum(widget_decisions.c.units).label("units"),
        )
        .where(
            widget_decisions.c.publisher_id == publisher_id,
            widget_decisions.c.day >= start.isoformat(),
            widget_decisions.c.day <= end.isoformat(),
            widget_decisions.c.reason == Reason.COUNTED.value,
        )
        .group_by(widget_decisions.c.day, widget_decisions.c.campaign_id)
        .order_by(widget_decisions.c.day, widget_decisions.c.campaign_id)
    ).all()
    data = [
        {"day": r.day, "campaign_id": r.campaign_id, "clicks": int(r.clicks), "units": int(r.units or 0)}
        for r in rows
    ]
    return {
        "publisher_id": publisher_id,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "data": data,
        "totals": {"clicks": sum(d["clicks"] for d in data), "units": sum(d["units"] for d in data)},
    }


def fraud_report(conn: Connection, campaign_id: str, *, start: date, end: date) -> dict[str, Any]:
    """Every decision on the campaign's clicks, by reason, detail, day and publisher: what
    a brand checks when a campaign's click numbers look wrong."""
    load_campaign(conn, campaign_id)
    if end < start or (end - start) > timedelta(days=MAX_STATS_DAYS):
        raise Invalid("from/to: a range of at most a year, from before to", [FieldError("from", "bad range")])
    where = (
        widget_decisions.c.campaign_id == campaign_id,
        widget_decisions.c.day >= start.isoformat(),
        widget_decisions.c.day <= end.isoformat(),
    )
    by_reason = {r.value: 0 for r in Reason}
    details: dict[str, dict[str, int]] = {}
    for r in conn.execute(
        select(widget_decisions.c.reason, widget_decisions.c.detail, func.count().label("n"))
        .where(*where)
        .group_by(widget_decisions.c.reason, widget_decisions.c.detail)
    ):
        by_reason[r.reason] = by_reason.get(r.reason, 0) + int(r.n)
        details.setdefault(r.reason, {})[r.detail] = int(r.n)
    per_day: dict[str, dict[str, int]] = {}
    for r in conn.execute(
        select(widget_decisions.c.day, widget_decisions.c.reason, func.count().label("n"))
        .where(*where)
        .group_by(widget_decisions.c.day, widget_decisions.c.reason)
        .order_by(widget_decisions.c.day)
    ):
        per_day.setdefault(r.day, {})[r.reason] = int(r.n)
    per_publisher: dict[str, dict[str, int]] = {}
    for r in conn.execute(
        select(widget_decisions.c.publisher_id, widget_decisions.c.reason, func.count().label("n"))
        .where(*where)
        .group_by(widget_decisions.c.publisher_id, widget_decisions.c.reason)
        .order_by(widget_decisions.c.publisher_id)
    ):
        per_publisher.setdefault(r.publisher_id, {})[r.reason] = int(r.n)
    attempts = sum(by_reason.values())
    refused = attempts - by_reason[Reason.COUNTED.value]
    return {
        "campaign_id": campaign_id,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "attempts": attempts,
        "counted": by_reason[Reason.COUNTED.value],
        "refused": refused,
        "by_reason": by_reason,
        "details": details,
        "by_day": [{"day": d, **counts} for d, counts in per_day.items()],
        "by_publisher": [{"publisher_id": p, **counts} for p, counts in per_publisher.items()],
    }


def widget_settings(conn: Connection, campaign_id: str) -> dict[str, Any]:
    load_campaign(conn, campaign_id)
    row = conn.execute(
        select(widget_campaign_settings).where(widget_campaign_settings.c.campaign_id == campaign_id)
    ).first()
    if row is None:
        return {"campaign_id": campaign_id, "pow_bits": 0, "texts": {}, "open_to_verified_publishers": False}
    return {
        "campaign_id": campaign_id,
        "pow_bits": row.pow_bits,
        "texts": row.texts,
        "open_to_verified_publishers": bool(row.open_to_publishers),
        "updated_at": rfc3339(row.updated_at),
    }


def set_widget_settings(
    conn: Connection,
    campaign_id: str,
    *,
    pow_bits: int | None,
    texts: dict[str, Any] | None,
    open_to_publishers: bool | None = None,
) -> dict[str, Any]:
    """Brands raise proof-of-work when a campaign is under attack, set the widget's words, and
    choose between approving each publisher and letting any verified publisher count clicks."""
    current = widget_settings(conn, campaign_id)
    bits = current["pow_bits"] if pow_bits is None else pow_bits
    if not 0 <= bits <= MAX_BITS:
        raise Invalid(f"pow_bits: between 0 and {MAX_BITS}", [FieldError("pow_bits", "out of range")])
    new_texts = current["texts"] if texts is None else texts
    is_open = current["open_to_verified_publishers"] if open_to_publishers is None else open_to_publishers
    values = {"pow_bits": bits, "texts": new_texts, "open_to_publishers": is_open, "updated_at": utcnow()}
    if "updated_at" in current:
        conn.execute(
            update(widget_campaign_settings)
            .where(widget_campaign_settings.c.campaign_id == campaign_id)
            .values(**values)
        )
    else:
        conn.execute(insert(widget_campaign_settings).values(campaign_id=campaign_id, **values))
    return widget_settings(conn, campaign_id)
