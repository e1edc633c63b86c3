"""Case events to the brand's alert webhooks (`case.opened`, `case.answered`,
`case.overdue`), through the voice area's signed, logged delivery machinery: the same
endpoints, the same `Wefirst-Signature` scheme, the same attempt log the brand already reads.

Sent after the commit, best effort: the first attempt is immediate; failed deliveries are
retried with backoff by the app's dispatcher the next time a case event is published (retries
live in that process's memory — a restart drops pending retries; the attempt log keeps them)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from wefirst.domain.clock import utcnow
from wefirst.domain.ids import new_id
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.voice.alert_endpoints import active_endpoints
from wefirst.voice.alert_log import alert_dispatcher, default_transport
from wefirst.voice.alerts import AlertEvent, Dispatcher, Transport

log = logging.getLogger("wefirst.cases")


def make_dispatcher(db: Database, settings: Settings, transport: Transport | None = None) -> Dispatcher:
    # The voice area's dispatcher records each attempt's event type and body.
    return alert_dispatcher(db, transport or default_transport(settings), utcnow)


def publish(
    dispatcher: Dispatcher, db: Database, brand_id: str, event_type: str, data: dict[str, Any], at: datetime
) -> int:
    """Submit one event to the brand's active endpoints; returns how many were tried."""
    try:
        with db.read() as conn:
            endpoints = active_endpoints(conn, brand_id)
        dispatcher.run_due()
        if not endpoints:
            return 0
        attempts = dispatcher.submit(AlertEvent(new_id("evt"), event_type, at, data), endpoints)
    except Exception as exc:  # an alert must never undo or fail the case event itself
        log.warning("case alert not sent", extra={"fields": {"type": event_type, "error": str(exc)[:200]}})
        return 0
    return len(attempts)


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
