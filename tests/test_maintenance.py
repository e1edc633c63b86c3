"""Issue 13 #10: the purges and sweeps run on a schedule inside the app (no cron line to
forget), one pass per interval across every process and host, with the retention periods as
settings."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from wefirst.app import create_app
from wefirst.domain.clock import utcnow
from wefirst.maintenance import Maintenance
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_core import idempotency_records
from wefirst.store.tables_shared import rate_limit_hits
from wefirst.store.tables_web import web_magic_links
from wefirst.store.tables_webhooks import webhook_attempts, webhook_deliveries

from waiting import wait_until


def _seed(db: Database, now: datetime) -> None:
    """One row of each kind that must go, and one that must stay."""
    with db.write() as conn:
        for key, age in (("old", 30), ("new", 1)):
            conn.execute(
                insert(idempotency_records).values(
                    scope="s",
                    key=key,
                    request_hash="h",
                    status_code=200,
                    response="{}",
                    created_at=now - timedelta(days=age),
                )
            )
        for key, left in (("old", -60), ("new", 600)):
            conn.execute(
                insert(rate_limit_hits).values(
                    scope="test",
                    key=key,
                    at=now - timedelta(seconds=700),
                    expires_at=now + timedelta(seconds=left),
                )
            )
            conn.execute(
                insert(web_magic_links).values(
                    nonce_hash=key * 8, user_id="usr_x", expires_at=now + timedelta(seconds=left)
                )
            )
        for key, age, state in (("old", 40, "delivered"), ("new", 2, "delivered"), ("due", 40, "pending")):
            conn.execute(
                insert(webhook_deliveries).values(
                    id=f"whd_{key}",
                    endpoint_id="we_x",
                    brand_id="brd_x",
                    event_id=f"evt_{key}",
                    event_type="case.overdue",
                    body="{}",
                    state=state,
                    attempts=1,
                    created_at=now - timedelta(days=age),
                )
            )
            conn.execute(
                insert(webhook_attempts).values(
                    delivery_id=f"whd_{key}",
                    attempt=1,
                    attempted_at=now - timedelta(days=age),
                    category="ok",
                    duration_ms=5,
                    ok=True,
                )
            )


def _left(db: Database) -> dict[str, list[str]]:
    with db.read() as conn:
        return {
            "idempotency": sorted(r.key for r in conn.execute(select(idempotency_records.c.key))),
            "rate": sorted(
                r.key
                for r in conn.execute(select(rate_limit_hits.c.key).where(rate_limit_hits.c.scope == "test"))
            ),
            "links": sorted(r.nonce_hash[:3] for r in conn.execute(select(web_magic_links.c.nonce_hash))),
            "webhooks": sorted(r.id for r in conn.execute(select(webhook_deliveries.c.id))),
            "attempts": sorted(r.delivery_id for r in conn.execute(select(webhook_attempts.c.delivery_id))),
        }


KEPT = {
    "idempotency": ["new"],
    "rate": ["new"],
    "links": ["new"],
    "webhooks": ["whd_due", "whd_new"],
    "attempts": ["whd_due", "whd_new"],
}


def test_the_app_purges_on_its_own_schedule(settings: Settings, db: Database) -> None:
    _seed(db, utcnow())
    assert _left(db) != KEPT
    on = settings.model_copy(update={"maintenance_interval_seconds": 0.2})
    with TestClient(create_app(on, db=db)):
        wait_until(lambda: _left(db) == KEPT, what="the app's upkeep pass purging")


def test_one_pass_per_interval_across_runners(settings: Settings, db: Database) -> None:
    """Two processes' runners (here two objects, each with its own lock handle): the lock lets
    one work at a time, and the database grants one pass per interval whoever holds it."""
    now = utcnow()
    clock = [now]
    on = settings.model_copy(update={"maintenance_interval_seconds": 3600})
    first = Maintenance(db, on, clock=lambda: clock[0])
    second = Maintenance(db, on, clock=lambda: clock[0])

    assert first.lock.acquire()
    assert second.run_once() is None  # the other runner holds the lock
    first.lock.release()

    _seed(db, now)
    done = first.run_once()
    assert done is not None
    assert done["idempotency_records"] == 1
    assert done["webhook_deliveries"] == 1
    assert _left(db) == KEPT
    assert second.run_once() is None  # already ran this interval, in another runner
    assert first.run_once() is None

    clock[0] = now + timedelta(seconds=3601)
    assert second.run_once() is not None


def test_retention_periods_are_settings(settings: Settings, db: Database) -> None:
    now = utcnow()
    _seed(db, now)
    longer = settings.model_copy(
        update={
            "maintenance_interval_seconds": 60,
            "idempotency_retention_days": 60,
            "webhooks_retention_days": 90,
        }
    )
    assert Maintenance(db, longer, clock=lambda: now).run_once() is not None
    left = _left(db)
    assert left["idempotency"] == ["new", "old"]
    assert left["webhooks"] == ["whd_due", "whd_new", "whd_old"]
