"""Case events to the brand's webhooks (`case.opened`, `case.answered`, `case.overdue`): queued
in the transaction that opens, answers or marks the case (`wefirst.webhooks.outbox`), so an
alert exists exactly when its case event does; the webhook worker sends it, never the request."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from wefirst.settings import Settings
from wefirst.webhooks import outbox


def case_event_data(settings: Settings, row: Any) -> dict[str, Any]:
    """Public facts only; the brand reads the rest on the case page."""
    return {
        "case_id": row.id,
        "brand_id": row.brand_id,
        "campaign_id": row.campaign_id,
        "kind": row.kind,
        "category": row.category,
        "language": row.language,
        "title": row.title,
        "state": row.state,
        "cosigns": row.cosign_count,
        "url": f"{settings.base_url.rstrip('/')}/v1/cases/{row.id}",
    }


def publish(conn: Connection, settings: Settings, row: Any, event_type: str, now: datetime) -> list[str]:
    """Queue the event for each of the brand's active endpoints; returns the delivery ids."""
    return outbox.enqueue(conn, row.brand_id, event_type, case_event_data(settings, row), now)
