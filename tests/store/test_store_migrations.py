"""The migration chain stays linear, and databases made when each area branched from
0001_core still upgrade."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from wefirst.settings import Settings
from wefirst.store import migrate
from wefirst.store.db import Database

OLD_AREA_HEADS = ["0002_tlog", "0003_connectors", "0004_voice", "0005_widget", "0006_cases", "0007_web"]


def test_the_chain_has_exactly_one_head() -> None:
    assert len(migrate.heads()) == 1, migrate.heads()


def test_a_database_with_the_old_area_heads_upgrades_to_the_one_head(tmp_path: Path) -> None:
    db = Database(Settings(database_url=f"sqlite:///{tmp_path / 'old.db'}", data_dir=tmp_path))
    try:
        # The schema as it was when the areas branched (up to the last of them), not the head:
        # revisions added since must still run on such a database.
        migrate.upgrade(db, OLD_AREA_HEADS[-1])
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM alembic_version"))
            for rev in OLD_AREA_HEADS:
                conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": rev})
        migrate.upgrade(db)
        with db.engine.connect() as conn:
            rows = [r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))]
        assert rows == migrate.heads()
        assert migrate.pending_differences(db) == []
    finally:
        db.dispose()


def test_voice_alert_endpoints_and_pending_retries_move_to_webhooks(tmp_path: Path) -> None:
    """0012: brands keep their endpoints and random secrets (re-encoded for the Standard
    Webhooks libraries), and a retry that was pending under the old scheme is still sent."""
    import base64
    import secrets
    from datetime import UTC, datetime, timedelta

    from wefirst.webhooks.signing import secret_key

    db = Database(Settings(database_url=f"sqlite:///{tmp_path / 'alerts.db'}", data_dir=tmp_path))
    old_secret = "whsec_" + secrets.token_urlsafe(32)
    at = datetime(2026, 3, 1, 12, tzinfo=UTC)
    try:
        migrate.upgrade(db, "0010_webhooks")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO brands (id, name, livemode, order_salt, created_at) "
                    "VALUES ('brd_1', 'Acme', 1, :salt, :at)"
                ),
                {"salt": b"s" * 32, "at": at},
            )
            conn.execute(
                text(
                    "INSERT INTO voice_alert_endpoints (id, brand_id, url, secret, active, created_at) "
                    "VALUES ('hook_1', 'brd_1', 'https://acme.example/h', :s, 1, :at)"
                ),
                {"s": old_secret, "at": at},
            )
            rows = [
                ("dly_done", 1, 1, None),
                ("dly_retry", 1, 0, at + timedelta(seconds=10)),
                ("dly_retry", 2, 0, at + timedelta(seconds=30)),
                ("dly_gave_up", 30, 0, None),
            ]
            for delivery, attempt, ok, next_at in rows:
                conn.execute(
                    text(
                        "INSERT INTO voice_alert_attempts (delivery_id, endpoint_id, event_id, event_type, "
                        "body, attempt, attempted_at, status, error, ok, next_at) VALUES (:d, 'hook_1', "
                        "'evt_' || :d, 'voice.episode.started', '{}', :n, :at, 500, 'HTTP 500', :ok, :next)"
                    ),
                    {"d": delivery, "n": attempt, "at": at, "ok": ok, "next": next_at},
                )
        migrate.upgrade(db)
        with db.engine.connect() as conn:
            endpoint = conn.execute(text("SELECT id, secret, active FROM webhook_endpoints")).one()
            states: dict[str, str] = {
                r.id: r.state for r in conn.execute(text("SELECT id, state FROM webhook_deliveries"))
            }
            attempts = conn.execute(
                text("SELECT attempts FROM webhook_deliveries WHERE id = 'dly_retry'")
            ).one()
        assert endpoint.id == "hook_1"
        raw = old_secret.removeprefix("whsec_")
        assert secret_key(endpoint.secret) == base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        assert states == {"dly_done": "delivered", "dly_retry": "pending", "dly_gave_up": "failed"}
        assert attempts[0] == 2
        assert migrate.pending_differences(db) == []
    finally:
        db.dispose()
