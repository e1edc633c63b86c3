"""`wefirst verify social`: a skeptic re-derives the counted actions from the re-hashed log and
the networks' public lists (a saved export), and sees every difference."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from wefirst.app import create_app
from wefirst.domain.social import action_commitment
from wefirst.outbound import OutboundPolicy
from wefirst.services import services_of
from wefirst.settings import Settings
from wefirst.social.fakenet import FakeNetwork
from wefirst.social.poll import poll_campaign
from wefirst.store.db import Database
from wefirst.tlog import verify_cli
from wefirst.tlog.sequencer import integrate_batch
from wefirst.tlog.social import SocialTally, action_to_json

from factories import make_beneficiary, make_brand, make_campaign
from waiting import wait_until

NOW = datetime(2026, 3, 14, 10, tzinfo=UTC)
POST = "https://masto.example/@pampy/111"


@pytest.fixture
def quiet_app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings.model_copy(update={"tlog_sequencer": False}), db=db)


@pytest.fixture
def live(quiet_app: FastAPI) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(quiet_app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, what="uvicorn to start")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def _http(net: FakeNetwork) -> httpx.Client:
    policy = OutboundPolicy(resolver=lambda host, port: ["93.184.216.34"])
    return httpx.Client(transport=policy.transport(httpx.MockTransport(net.handle)))


def test_tally_follows_pledges_and_reversals() -> None:
    t = SocialTally("cmp_a")
    t.add(
        {
            "kind": "pledge",
            "campaign": "cmp_a",
            "rule": "per_social_action",
            "commitment": "c1",
            "pledge": "p1",
            "units": 2,
        }
    )
    t.add(
        {
            "kind": "pledge",
            "campaign": "cmp_a",
            "rule": "per_click",
            "commitment": "c2",
            "pledge": "p2",
            "units": 1,
        }
    )
    t.add(
        {
            "kind": "pledge",
            "campaign": "cmp_b",
            "rule": "per_social_action",
            "commitment": "c3",
            "pledge": "p3",
            "units": 1,
        }
    )
    t.add(
        {
            "kind": "pledge",
            "campaign": "cmp_a",
            "rule": "per_social_action",
            "commitment": "c4",
            "pledge": "p4",
            "units": 2,
        }
    )
    t.add({"kind": "pledge_reversal", "campaign": "cmp_a", "pledge": "p4", "units": 2})
    assert (t.counted, t.units) == ({"c1": 2}, 2)


def test_verify_social_rederives_the_tally_and_prints_differences(
    live: str, db: Database, admin_key: str, quiet_app: FastAPI, tmp_path: Path
) -> None:
    with TestClient(quiet_app) as qclient:
        brand = make_brand(qclient, db, admin_key)
        ben = make_beneficiary(qclient, db, admin_key)
        rule: dict[str, Any] = {"kind": "per_social_action", "action": "like", "network": "mastodon",
                                "target": POST, "units_per_action": 1}  # fmt: skip
        cid = make_campaign(qclient, brand, ben.id, rules=[rule])
        net = FakeNetwork(now=NOW)
        for i in range(12):
            net.account(f"fan{i}", NOW - timedelta(days=400 + 5 * i), 50)
        net.account("fresh", NOW - timedelta(days=1), 50)
        net.favourites["111"] = [*(f"fan{i}" for i in range(12)), "fresh"]
        result = poll_campaign(db, cid, _http(net), NOW)
        assert result.outcomes == {"counted": 12, "refused": 1}
        net.favourites["111"].remove("fan4")
        result = poll_campaign(db, cid, _http(net), NOW + timedelta(hours=1))
        assert result.outcomes == {"duplicate": 12, "reversed": 1}
        service = services_of(quiet_app).log
        while integrate_batch(service, 1000).integrated:
            pass
        key = qclient.get("/log/key").text.strip()

    export = tmp_path / "export.jsonl"
    export.write_text("".join(action_to_json(a) + "\n" for a in result.seen))
    r = CliRunner().invoke(
        verify_cli.app, ["social", cid, "--export", str(export), "--log", f"{live}/log", "--key", key]
    )
    assert r.exit_code == 0, r.output
    assert f"{cid}: 11 counted social actions, 11 units in the log" in r.output
    assert "12 actions in the export; 1 of them not counted" in r.output
    assert "OK: every counted action is on the networks" in r.output

    # an action the log counts but the networks do not show is a difference, named by commitment
    gone = next(a for a in result.seen if a.account.uri.endswith("@fan7"))
    export.write_text("".join(action_to_json(a) + "\n" for a in result.seen if a is not gone))
    r = CliRunner().invoke(
        verify_cli.app, ["social", cid, "--export", str(export), "--log", f"{live}/log", "--key", key]
    )
    assert r.exit_code == 1, r.output
    assert f"MISMATCH counted in the log, not on the networks: {action_commitment(gone)}" in r.output

    export.write_text("not json\n")
    r = CliRunner().invoke(verify_cli.app, ["social", cid, "--export", str(export), "--log", f"{live}/log"])
    assert r.exit_code == 1
    assert "one JSON action per line" in r.output
