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
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from wefirst.app import create_app
from wefirst.cli import app as wefirst_cli
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
def check_limit() -> int:
    """The public "did my share count?" budget per network and hour (a test may lower it)."""
    return 120


@pytest.fixture
def quiet_app(settings: Settings, db: Database, check_limit: int) -> FastAPI:
    update = {"tlog_sequencer": False, "social_check_per_network_per_hour": check_limit}
    return create_app(settings.model_copy(update=update), db=db)


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
    assert f"not on the networks (withdrawn after counting?): {action_commitment(gone)}" in r.output

    export.write_text("not json\n")
    r = CliRunner().invoke(verify_cli.app, ["social", cid, "--export", str(export), "--log", f"{live}/log"])
    assert r.exit_code == 1
    assert "one JSON action per line" in r.output


# --- recount from the networks' public APIs (no export) -------------------------------------

BSKY_POST = "at://did:plc:pampybrand00000000000000/app.bsky.feed.post/3lbrandpost22"
APPVIEW = "https://appview.example"


@pytest.fixture
def recounted(
    live: str, db: Database, admin_key: str, quiet_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, str, FakeNetwork]:
    """A campaign counting Mastodon likes and Bluesky reposts, polled once and in the log; the
    verifier reads the same fake network through the same outbound guard."""
    with TestClient(quiet_app) as qclient:
        brand = make_brand(qclient, db, admin_key)
        ben = make_beneficiary(qclient, db, admin_key)
        rules: list[dict[str, Any]] = [
            {"kind": "per_social_action", "action": "like", "network": "mastodon", "target": POST,
             "units_per_action": 1},
            {"kind": "per_social_action", "action": "repost", "network": "bluesky", "target": BSKY_POST,
             "units_per_action": 2},
        ]  # fmt: skip
        cid = make_campaign(qclient, brand, ben.id, rules=rules)
        net = FakeNetwork(now=NOW)
        for i in range(6):
            net.account(f"fan{i}", NOW - timedelta(days=400 + 5 * i), 50)
        net.account("fresh", NOW - timedelta(days=1), 50)  # refused: account too new
        net.favourites["111"] = [*(f"fan{i}" for i in range(4)), "fresh"]
        net.bsky_reposts[BSKY_POST] = ["fan4", "fan5"]
        result = poll_campaign(db, cid, _http(net), NOW, bsky_base=APPVIEW)
        assert result.outcomes == {"counted": 6, "refused": 1}, result
        service = services_of(quiet_app).log
        while integrate_batch(service, 1000).integrated:
            pass
        key = qclient.get("/log/key").text.strip()
    monkeypatch.setattr("wefirst.social.recount.network_client", lambda: _http(net))
    return cid, key, net


def _verify(live: str, cid: str, key: str) -> Any:
    args = ["verify", "social", cid, "--log", f"{live}/log", "--key", key, "--bsky-appview", APPVIEW]
    return CliRunner().invoke(wefirst_cli, args)  # the `wefirst` command plugs the networks' reader in


def _refused_commitment(net: FakeNetwork) -> str:
    from wefirst.domain.social import Account, SocialAction

    fresh = Account(net.mastodon_url("fresh"), None, 0)
    return action_commitment(SocialAction("mastodon", "like", POST, fresh, NOW))


def test_recount_from_the_networks_matches_and_names_the_refusal_reason(
    live: str, recounted: tuple[str, str, FakeNetwork]
) -> None:
    cid, key, net = recounted
    r = _verify(live, cid, key)
    assert r.exit_code == 0, r.output
    assert f"{cid}: 6 counted social actions, 8 units in the log" in r.output
    assert "7 actions on the networks now; 1 of them not counted" in r.output
    # the account refused by the criteria is listed with the fraud report's reason, by commitment
    line = next(ln for ln in r.output.splitlines() if ln.startswith("public, not counted:"))
    assert _refused_commitment(net) in line
    assert line.endswith("(refused: too_young)")
    assert "fresh" not in r.output  # no handle in the output
    assert "OK: every counted action is on the networks" in r.output
    # both networks were read through the guard, with their real endpoints
    paths = {q.url.path for q in net.requests}
    assert {"/api/v1/statuses/111/favourited_by", "/xrpc/app.bsky.feed.getRepostedBy"} <= paths


def test_recount_names_a_like_removed_after_counting(
    live: str, recounted: tuple[str, str, FakeNetwork]
) -> None:
    cid, key, net = recounted
    net.favourites["111"].remove("fan2")  # un-liked after it was counted and logged
    r = _verify(live, cid, key)
    assert r.exit_code == 1, r.output
    from wefirst.domain.social import Account, SocialAction

    gone = action_commitment(
        SocialAction("mastodon", "like", POST, Account(net.mastodon_url("fan2"), None, 0), NOW)
    )
    assert f"MISMATCH counted in the log, not on the networks (withdrawn after counting?): {gone}" in r.output
    assert "1 counted actions are not on the networks" in r.output


def test_recount_with_the_network_down_or_an_unknown_campaign_exits_2_with_the_fix(
    live: str, db: Database, recounted: tuple[str, str, FakeNetwork], monkeypatch: pytest.MonkeyPatch
) -> None:
    cid, key, _net = recounted

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    policy = OutboundPolicy(resolver=lambda host, port: ["93.184.216.34"])
    monkeypatch.setattr(
        "wefirst.social.recount.network_client",
        lambda: httpx.Client(transport=policy.transport(httpx.MockTransport(down))),
    )
    with db.read() as conn:
        before: int = conn.execute(sa.text("select count(*) from social_actions")).scalar_one()
    r = _verify(live, cid, key)
    assert r.exit_code == 2, r.output
    assert "cannot read mastodon like" in r.output
    assert "--export FILE saved by `wefirst social poll --save-export`" in r.output
    assert "OK:" not in r.output  # stopped before the log was read
    with db.read() as conn:
        assert conn.execute(sa.text("select count(*) from social_actions")).scalar_one() == before

    r = _verify(live, "cmp_doesnotexist", key)
    assert r.exit_code == 2, r.output
    assert "no public campaign cmp_doesnotexist" in r.output
    assert "check the id" in r.output


@pytest.mark.parametrize("check_limit", [1])
def test_recount_stops_asking_reasons_when_the_check_limit_is_spent(
    live: str, recounted: tuple[str, str, FakeNetwork]
) -> None:
    """The reasons come from the public, limited check: a 429 ends the asking, not the recount."""
    cid, key, net = recounted
    net.account("late", NOW - timedelta(days=500), 50)
    net.favourites["111"].append("late")  # public now, never polled: not counted, not seen
    r = _verify(live, cid, key)
    assert r.exit_code == 0, r.output
    assert "8 actions on the networks now; 2 of them not counted" in r.output
    assert len([ln for ln in r.output.splitlines() if ln.startswith("public, not counted:")]) == 1
    assert "1 more not counted; the check limit is spent, ask again later" in r.output
    assert "OK: every counted action is on the networks" in r.output


def test_the_light_verifier_alone_reads_exports_only(tmp_path: Path) -> None:
    """`python -m wefirst.tlog.verify_cli` sits below the social area: without the `wefirst`
    command's networks reader it says how to recount, exit 2, having read nothing (the `wefirst`
    command, imported by this module, passes its reader to its own `verify` only)."""
    r = CliRunner().invoke(
        verify_cli.app, ["social", "cmp_x", "--log", str(tmp_path), "--api", "http://127.0.0.1:9"]
    )
    assert r.exit_code == 2, r.output
    assert "pass --export FILE, or run `wefirst verify social`" in r.output
