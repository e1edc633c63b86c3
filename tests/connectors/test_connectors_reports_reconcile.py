"""Sales reports through the API and the CLI, the daily reconciliation, and the operator
commands that drain the queue and show the counters."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from wefirst.cli import app as cli_app
from wefirst.domain.clock import utcnow
from wefirst.ingest.connectors.state import business_key
from wefirst.pledges import engine
from wefirst.pledges.model import LineIn, PurchaseIn
from wefirst.services import services_of
from wefirst.settings import Settings

from connectors.connectors_support import ASSETS, World, load, sign_shopify
from factories import auth

REPORT = (ASSETS / "retail" / "sales_report_RETAILCO-FR-2026-W11.csv").read_bytes()
PAMPERS_SOLD = 148 + 97 + 211 + 164  # the PG purifier rows are mapped but match no rule


def _upload(world: World, raw: bytes, **params: str) -> tuple[int, dict[str, object]]:
    r = world.client.post(
        f"/v1/connectors/{world.connections['retail']}/sales-reports",
        content=raw,
        params=params,
        headers=auth(world.brand.key) | {"Content-Type": "text/csv"},
    )
    body: dict[str, object] = r.json()
    return r.status_code, body


def test_fixture_report_pledges_and_holds_its_unmatched_return(world: World) -> None:
    status, body = _upload(world, REPORT)
    assert status == 201, body
    assert body["status"] == "imported"
    assert body["units_sold"] == PAMPERS_SOLD + 12
    assert body["units_returned"] == 1
    assert world.net_units() == PAMPERS_SOLD
    # Marseille returned one pack more than it sold, and nothing was counted there before:
    # the return waits for a later report instead of eating another store's pledges.
    assert world.status("retail")["held_reversals"] == 1
    later = (
        REPORT.replace(b"RETAILCO-FR-2026-W11", b"RETAILCO-FR-2026-W12")
        .replace(b"2026-03-09,2026-03-15", b"2026-03-16,2026-03-22")
        .replace(b",-1,", b",5,")
    )
    status, body = _upload(world, later)
    assert status == 201, body
    assert world.net_units() == 2 * PAMPERS_SOLD + 5 - 1
    assert world.status("retail")["held_reversals"] == 0


def test_same_report_twice_changes_nothing_and_other_bytes_conflict(world: World) -> None:
    assert _upload(world, REPORT)[0] == 201
    status, body = _upload(world, REPORT)
    assert status == 200
    assert body["status"] == "unchanged"
    assert world.net_units() == PAMPERS_SOLD
    status, body = _upload(world, REPORT.replace(b",148,", b",149,"))
    assert status == 409
    assert "supersedes_report_id" in str(body["detail"])
    assert world.net_units() == PAMPERS_SOLD


def test_a_correction_supersedes_the_old_report(world: World) -> None:
    assert _upload(world, REPORT)[0] == 201
    header, *rows = REPORT.decode().splitlines()
    fixed = [
        r.replace("RETAILCO-FR-2026-W11,", "RETAILCO-FR-2026-W11-v2,", 1) + ",RETAILCO-FR-2026-W11"
        for r in rows
        if ",148," not in r
    ]
    raw = "\n".join([header + ",supersedes_report_id", *fixed]).encode()
    status, body = _upload(world, raw)
    assert status == 201, body
    assert world.net_units() == PAMPERS_SOLD - 148


def test_bad_rows_reject_the_whole_file_unless_skipped(world: World) -> None:
    bad = REPORT.replace(b"2000001004463,97", b"2000001004464,97").replace(b",211,", b",2x1,")
    status, body = _upload(world, bad)
    assert status == 422
    errors = body["errors"]
    assert isinstance(errors, list)
    assert [e["field"] for e in errors] == ["line 3", "line 5"]
    assert world.net_units() == 0
    status, body = _upload(world, bad, skip_bad_rows="true")
    assert status == 201, body
    assert world.net_units() == PAMPERS_SOLD - 97 - 211
    rejects = str(body["rejects_csv"]).splitlines()
    assert rejects[0].startswith("line,reason,report_id")
    assert [r.split(",")[0] for r in rejects[1:]] == ["3", "5"]


def test_report_for_another_retailer_is_refused(world: World) -> None:
    status, body = _upload(world, REPORT.replace(b",RETAILCO-FR,", b",OTHERCO,"))
    assert status == 422
    assert "not this connection's" in str(body["errors"])


def test_sales_import_cli_with_progress_and_rejects(world: World, settings: Settings, tmp_path: Path) -> None:
    bad = REPORT.replace(b",164,", b",many,")
    path = tmp_path / "week11.csv"
    path.write_bytes(bad)
    env = {"WEFIRST_DATABASE_URL": settings.database_url, "WEFIRST_SECRET_KEY": settings.secret_key}
    runner = CliRunner()
    refused = runner.invoke(cli_app, ["sales", "import", str(path)], env=env)
    assert refused.exit_code == 2, refused.output
    assert "line 6" in refused.output
    assert world.net_units() == 0
    done = runner.invoke(cli_app, ["sales", "import", str(path), "--skip-bad-rows"], env=env)
    assert done.exit_code == 0, done.output
    assert "imported report RETAILCO-FR-2026-W11" in done.output
    assert world.net_units() == PAMPERS_SOLD - 164
    rejects = (tmp_path / "week11.csv.rejects.csv").read_text()
    assert rejects.splitlines()[1].startswith("6,quantity 'many'")
    again = runner.invoke(cli_app, ["sales", "import", str(path), "--skip-bad-rows"], env=env)
    assert "already imported with the same content" in again.output


def test_queue_drained_by_the_cli_and_status_shown(world: World, settings: Settings) -> None:
    services_of(world.client.app).settings.connectors_process_after_ack = False
    assert world.post("shopify", load("shopify/orders_create")).status_code == 200
    assert world.net_units() == 0
    assert world.status("shopify")["deliveries"]["by_status"] == {"queued": 1}
    env = {
        "WEFIRST_DATABASE_URL": settings.database_url,
        "WEFIRST_SECRET_KEY": settings.secret_key,
        # the fixture order is dated March 2026: the CLI applies the configured claim window
        "WEFIRST_CLAIMS_MAX_AGE_HOURS": str(settings.claims_max_age_hours),
    }
    runner = CliRunner()
    result = runner.invoke(cli_app, ["connectors", "process"], env=env)
    assert result.exit_code == 0, result.output
    assert "processed 1 deliveries (processed: 1)" in result.output
    assert world.net_units() == 2
    shown = runner.invoke(cli_app, ["connectors", "status"], env={**env, "COLUMNS": "250"})
    assert shown.exit_code == 0, shown.output
    assert world.connections["shopify"] in shown.output


def test_reconciliation_flags_unpledged_orders_and_orphan_pledges(world: World, settings: Settings) -> None:
    world.post("shopify", load("shopify/orders_create"))
    ariel_only = (
        b'{"id":77,"test":false,"currency":"EUR","financial_status":"paid",'
        b'"processed_at":"2026-03-14T12:00:00+01:00","line_items":[{"id":1,'
        b'"sku":"ARIEL-PODS-ALLIN1-30","quantity":1,"price":"12.49"}]}'
    )
    world.post("shopify", sign_shopify(ariel_only, "orders/create", "ariel-1"))
    # a pledge carrying this shop's key prefix that no delivery explains
    orphan_key = "shopify:pg-brandstore-demo.myshopify.com:999:1"
    with world.db.write() as conn:
        engine.apply_purchase(
            conn,
            brand_id=world.brand.id,
            purchase=PurchaseIn(
                order_id="999",
                currency="EUR",
                occurred_at=utcnow().replace(2026, 3, 14),
                lines=[LineIn("PAMPERS-X", 1, 100, "1", business_key(orphan_key))],
                source="shopify",
            ),
        )
    r = world.client.get(
        f"/v1/connectors/{world.connections['shopify']}/reconciliation",
        params={"day": "2026-03-14"},
        headers=auth(world.brand.key),
    )
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["orders_seen"] == 2
    assert result["ok"] is False
    assert result["orders_without_pledges"] == [{"order_ref": "77", "lines": 1, "outcomes": ["no_rule"]}]
    assert [p["line_key"] for p in result["pledges_without_orders"]] == [orphan_key]
    assert result["unprocessed_deliveries"] == []
    env = {"WEFIRST_DATABASE_URL": settings.database_url, "WEFIRST_SECRET_KEY": settings.secret_key}
    cli = CliRunner().invoke(
        cli_app,
        ["connectors", "reconcile", "--day", "2026-03-14", "--connection", world.connections["shopify"]],
        env=env,
    )
    assert cli.exit_code == 3, cli.output
    assert "flagged" in cli.output
    quiet = world.client.get(
        f"/v1/connectors/{world.connections['shopify']}/reconciliation",
        params={"day": "2026-03-13"},
        headers=auth(world.brand.key),
    )
    assert quiet.json()["ok"] is True


@pytest.mark.parametrize("raw", [b"", b"\xff\xfe", b"report_id\n"])
def test_unreadable_reports_are_422(world: World, raw: bytes) -> None:
    status, body = _upload(world, raw)
    assert status == 422
    assert body["errors"][0]["field"] == "line 1"  # type: ignore[index]


def test_reconciliation_day_out_of_range_is_422(world: World) -> None:
    r = world.client.get(
        f"/v1/connectors/{world.connections['shopify']}/reconciliation",
        params={"day": "9999-12-31"},
        headers=auth(world.brand.key),
    )
    assert r.status_code == 422
    r = world.client.post(
        f"/v1/connectors/{world.connections['shopify']}/secrets/{2**40}/retire", headers=auth(world.brand.key)
    )
    assert r.status_code == 422
