"""Clicks sent server to server (`POST /v1/clicks`): a brand's own servers, or a publisher for a
campaign it joined and may count on (`widget/approval.py`). They cannot carry the widget's
challenge, origin or proof of work, so they get what applies to them: the joining rule,
per-network rate limits (the same per-minute and per-campaign daily bounds as one network of
the widget), the engine's one-click-per-visitor-per-day, and one
`widget_decisions` row per attempt, so they add up in the campaign's fraud report with the
widget's clicks.

Why: an open publisher key could count a pledge for any public campaign, for any visitor
string, with no limit and no trace (issue 12: 20 of 20 requests pledged).

Which network: a publisher's key is one network, whatever it says (its server is the untrusted
party). A brand's server may name the reader's address (`visitor_ip`); the bounds then apply to
the reader's network, under the very key the widget uses for it (`pseudonyms.reader_network_key`:
IPv4 /24, IPv6 /48, the day's salt), so a network's clicks through the widget and through a
brand's server share one budget per campaign and one across campaigns. A brand's real click
flow is thus not capped at one network's day, while a leaked brand key that names no address
is. A brand that invents addresses inflates only what it
owes itself, and every attempt stays in its fraud report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Connection, func, insert, select

from wefirst.pledges.batch import Batch
from wefirst.pledges.engine import apply_click
from wefirst.pledges.model import ClickIn, EventOutcome
from wefirst.pseudonyms import day_salt_in, keyed_hash, reader_network_key, server_key, utc_day
from wefirst.store.tables_widget import KEY, widget_decisions
from wefirst.widget.fraud import Limits
from wefirst.widget.reasons import Reason

_ENGINE = {
    "pledged": (Reason.COUNTED, "ok"),
    "duplicate": (Reason.DUPLICATE, "already_counted_today"),
    "over_cap": (Reason.CAP_REACHED, "cap_reached"),
}


@dataclass(frozen=True)
class ApiClick:
    campaign_id: str
    visitor: str
    key_id: str  # the API key that sent it: its own "network" for the limits
    publisher_id: str | None
    brand_id: str
    visitor_ip: str | None = None  # brand keys only: the reader's address, for its network's bounds


@dataclass(frozen=True)
class ApiClickResult:
    reason: Reason
    detail: str
    outcome: EventOutcome | None  # None when refused before the engine


def _count(conn: Connection, *conditions: ColumnElement[bool]) -> int:
    return int(
        conn.execute(select(func.count()).select_from(widget_decisions).where(*conditions)).scalar() or 0
    )


def record_api_click(
    conn: Connection,
    click: ApiClick,
    *,
    secret: str,
    limits: Limits,
    now: datetime,
    batch: Batch | None = None,
) -> ApiClickResult:
    """Decide, apply and record one server-to-server click in the caller's transaction (in
    the caller's `batch`, when a group-commit writer shares one between events)."""
    key = server_key(secret)
    now_ms = int(now.timestamp() * 1000)
    day = utc_day(now_ms)
    by_reader = click.visitor_ip is not None and click.publisher_id is None
    if by_reader:  # the widget's own key for this network: one budget, whichever path
        net = reader_network_key(day_salt_in(conn, day), click.visitor_ip)
    else:
        net = keyed_hash(key, "clicks.api.key", click.key_id)[:KEY]
    visitor = keyed_hash(key, "clicks.api.visitor", f"{click.campaign_id}:{click.visitor}")[:KEY]
    day_start = int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp() * 1000)
    d = widget_decisions.c
    outcome: EventOutcome | None = None
    if _count(conn, d.net_key == net, d.at_ms > now_ms - 60_000) >= limits.network_attempts_per_minute:
        reason, detail = Reason.RATE_LIMITED, "network" if by_reader else "api_key"
    elif (
        _count(
            conn,
            d.net_key == net,
            d.campaign_id == click.campaign_id,
            d.at_ms >= day_start,
            d.reason == "counted",
        )
        >= limits.network_counted_per_day
    ):
        reason, detail = Reason.RATE_LIMITED, "network_daily" if by_reader else "api_key_daily"
    elif (
        by_reader
        and _count(conn, d.net_key == net, d.at_ms >= day_start, d.reason == "counted")
        >= limits.network_counted_per_day_all
    ):
        reason, detail = Reason.RATE_LIMITED, "network_daily_all"
    else:
        outcome = apply_click(
            conn,
            ClickIn(
                campaign_id=click.campaign_id,
                visitor=visitor,
                occurred_at=now,
                publisher_id=click.publisher_id,
                received_at=now,
            ),
            batch,
        )
        reason, detail = _ENGINE.get(outcome.outcome, (Reason.CAMPAIGN_INACTIVE, outcome.outcome))
    conn.execute(
        insert(widget_decisions).values(
            campaign_id=click.campaign_id,
            publisher_id=(click.publisher_id or click.brand_id)[:40],
            day=day,
            at_ms=now_ms,
            reason=reason.value,
            detail=detail,
            visitor_key=visitor,
            net_key=net,
            pledge_id=outcome.pledge_id if outcome is not None else None,
            units=outcome.units if outcome is not None else 0,
        )
    )
    return ApiClickResult(reason, detail, outcome)
