"""The live follower against a fake network speaking the real wire formats: a Jetstream (v1)
websocket server on 127.0.0.1 and the AppView's JSON behind the real outbound guard.

Before this, nothing followed actions as they happened (`wefirst social poll` was the only
path): a like stayed uncounted until someone ran a poll, a Jetstream delete reversed nothing,
and there was no cursor to resume from after downtime."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from wefirst.app import create_app
from wefirst.ledger.balances import campaign_balance
from wefirst.outbound import OutboundPolicy
from wefirst.pledges.social import social_report
from wefirst.services import services_of
from wefirst.settings import Settings
from wefirst.social.fakenet import FakeJetstream, FakeNetwork
from wefirst.social.follow import SocialFollower, read_cursor
from wefirst.store.db import Database

from factories import make_beneficiary, make_brand, make_campaign
from waiting import wait_until

POST = "at://did:plc:pampybrand00000000000000/app.bsky.feed.post/3lbrandpost22"
OTHER = "at://did:plc:someoneelse0000000000000/app.bsky.feed.post/3lother"
APPVIEW = "https://appview.example"
CRIT = {"min_account_age_days": 30, "min_posts": 5, "burst_window_hours": 24, "burst_max": 50}


def _rule(action: str, target: str, units: int = 1) -> dict[str, Any]:
    return {"kind": "per_social_action", "action": action, "network": "bluesky", "target": target,
            "units_per_action": units, "criteria": CRIT}  # fmt: skip


def _campaign(client: TestClient, db: Database, admin_key: str) -> str:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    rules = [_rule("like", POST), _rule("quote", POST, 3), _rule("hashtag_post", "#DoudouVaccins", 2)]
    return make_campaign(client, brand, ben.id, rules=rules)


def _net(now: datetime) -> FakeNetwork:
    net = FakeNetwork(now=now, bsky_host="appview.example")
    for i in range(6):
        net.account(f"fan{i}", now - timedelta(days=400 + 40 * i), 50 + i)
    net.account("fresh", now - timedelta(days=2), 40)
    return net


def _http(net: FakeNetwork, fail: dict[str, int] | None = None) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        if fail and fail["on"] and request.url.path.endswith("getProfiles"):
            fail["tried"] += 1
            return httpx.Response(502, json={"error": "UpstreamFailure"})
        return net.handle(request)

    policy = OutboundPolicy(
        allowed_networks=(ipaddress.ip_network("203.0.113.0/24"),),
        resolver=lambda host, port: ["203.0.113.7"],
    )
    return httpx.Client(transport=policy.transport(httpx.MockTransport(handler)))


@pytest.fixture
def jetstream() -> Iterator[FakeJetstream]:
    js = FakeJetstream()
    js.start()
    try:
        yield js
    finally:
        js.stop()


@contextmanager
def following(db: Database, net: FakeNetwork, url: str | None, **kw: Any) -> Iterator[SocialFollower]:
    fail = kw.pop("fail", None)
    f = SocialFollower(
        db,
        lambda: _http(net, fail),
        jetstream_url=url,
        poll_seconds=3600,
        bsky_base=APPVIEW,
        tick_seconds=0.02,
    )
    f.start()
    try:
        yield f
    finally:
        f.stop()


def _rules(db: Database, cid: str) -> dict[str, dict[str, Any]]:
    with db.read() as conn:
        return {r["action"]: r for r in social_report(conn, cid)["rules"]}


def _units(db: Database, cid: str) -> int:
    with db.read() as conn:
        bal = campaign_balance(conn, cid)
    return 0 if bal is None else bal.pledged_units


def _connected(js: FakeJetstream, n: int = 1) -> None:
    wait_until(lambda: len(js.paths) >= n, what=f"{n} Jetstream connection(s)")


def test_actions_are_pledged_as_they_happen(
    client: TestClient, db: Database, admin_key: str, jetstream: FakeJetstream
) -> None:
    cid = _campaign(client, db, admin_key)
    now = datetime.now(UTC)
    net = _net(now)
    net.jetstream = jetstream
    with following(db, net, jetstream.url):
        _connected(jetstream)
        assert "wantedCollections=app.bsky.feed.like" in jetstream.paths[0]
        net.bsky_act("fan0", "like", POST, datetime.now(UTC))
        net.bsky_act("fan1", "like", OTHER, datetime.now(UTC))  # another post: matches no rule
        net.bsky_act("fresh", "like", POST, datetime.now(UTC))
        net.bsky_post("fan2", "so good #DoudouVaccins", datetime.now(UTC), tags=("DoudouVaccins",))
        net.bsky_post("fan3", "this!", datetime.now(UTC), quote=POST)
        wait_until(lambda: _units(db, cid) == 1 + 2 + 3, what="the like, hashtag post and quote pledged")
        wait_until(lambda: _rules(db, cid)["like"]["refused"] == {"too_young": 1}, what="the young refused")
        net.bsky_act("fan0", "like", POST, datetime.now(UTC))  # the same account again
        rkey = net.bsky_act("fan4", "like", POST, datetime.now(UTC))
        wait_until(lambda: _rules(db, cid)["like"]["counted"] == 2, what="fan4's like")
        net.bsky_undo("fan4", "like", POST, rkey, datetime.now(UTC))  # withdrawn before settlement
        wait_until(lambda: _rules(db, cid)["like"]["reversed"] == 1, what="the un-like reversed")
    rules = _rules(db, cid)
    assert rules["like"]["counted"] == 1  # fan0 once, though they liked twice
    assert (rules["quote"]["units"], rules["hashtag_post"]["units"]) == (3, 2)
    assert _units(db, cid) == 6


def test_a_restart_resumes_from_the_committed_cursor_and_repeats_nothing(
    client: TestClient, db: Database, admin_key: str, jetstream: FakeJetstream
) -> None:
    cid = _campaign(client, db, admin_key)
    net = _net(datetime.now(UTC))
    net.jetstream = jetstream
    with following(db, net, jetstream.url) as first:
        _connected(jetstream)
        rkey = net.bsky_act("fan0", "like", POST, datetime.now(UTC))
        wait_until(lambda: _units(db, cid) == 1, what="fan0's like")
    with db.read() as conn:
        cursor = read_cursor(conn, first.source)
    assert cursor is not None
    # while no follower runs: two likes, and fan0 takes theirs back
    net.bsky_act("fan1", "like", POST, datetime.now(UTC))
    net.bsky_act("fan2", "like", POST, datetime.now(UTC))
    net.bsky_undo("fan0", "like", POST, rkey, datetime.now(UTC))
    with following(db, net, jetstream.url):
        _connected(jetstream, 2)
        assert f"cursor={cursor - 5_000_000}" in jetstream.paths[1]  # a few seconds of overlap
        wait_until(lambda: _rules(db, cid)["like"]["reversed"] == 1, what="fan0's un-like replayed")
        wait_until(lambda: _units(db, cid) == 2, what="the likes made during the downtime")
    rules = _rules(db, cid)
    assert (rules["like"]["counted"], rules["like"]["reversed"]) == (2, 1)
    assert _units(db, cid) == 2  # the overlap (fan0's like seen again) pledged nothing twice


def test_the_stream_reconnects_from_where_it_was(
    client: TestClient, db: Database, admin_key: str, jetstream: FakeJetstream
) -> None:
    cid = _campaign(client, db, admin_key)
    net = _net(datetime.now(UTC))
    net.jetstream = jetstream
    with following(db, net, jetstream.url):
        _connected(jetstream)
        net.bsky_act("fan0", "like", POST, datetime.now(UTC))
        wait_until(lambda: _units(db, cid) == 1, what="fan0's like")
        jetstream.drop_clients()
        _connected(jetstream, 2)
        assert "cursor=" in jetstream.paths[1]
        net.bsky_act("fan1", "like", POST, datetime.now(UTC))
        wait_until(lambda: _units(db, cid) == 2, what="a like after the reconnection")


def test_backfill_after_downtime_counts_what_the_stream_missed_once(
    client: TestClient, db: Database, admin_key: str
) -> None:
    """No stream history at all (downtime longer than Jetstream keeps): the start's poll of the
    AppView counts the likes; a second follower (or poll) pledges nothing again."""
    cid = _campaign(client, db, admin_key)
    net = _net(datetime.now(UTC))
    for name in ("fan0", "fan1", "fan2", "fresh"):
        net.bsky_act(name, "like", POST, datetime.now(UTC))  # no Jetstream attached: lists only
    with following(db, net, None) as f:
        wait_until(lambda: f.polls >= 1, what="the start's backfill")
    assert _units(db, cid) == 3
    assert _rules(db, cid)["like"]["refused"] == {"too_young": 1}
    with following(db, net, None) as f:
        wait_until(lambda: f.polls >= 1, what="a second backfill")
        assert f.stats.get("duplicate") == 4
        assert f.stats.get("counted") is None
    assert _units(db, cid) == 3


def test_a_like_first_counted_from_the_list_is_reversed_by_its_stream_delete(
    client: TestClient, db: Database, admin_key: str, jetstream: FakeJetstream
) -> None:
    """The AppView's list gives no record URI; when the stream later shows the same like, its
    record is kept, so the delete that follows finds it (it did not: the un-like waited for
    the next complete poll)."""
    cid = _campaign(client, db, admin_key)
    net = _net(datetime.now(UTC))
    rkey = net.bsky_act("fan0", "like", POST, datetime.now(UTC))  # on the list, before the stream
    with following(db, net, None) as f:
        wait_until(lambda: f.polls >= 1, what="the backfill")
    assert _units(db, cid) == 1
    net.jetstream = jetstream
    with following(db, net, jetstream.url) as f:
        _connected(jetstream)
        record = {"$type": "app.bsky.feed.like", "subject": {"uri": POST, "cid": "bafyreisubject"},
                  "createdAt": "2026-03-14T09:00:00Z"}  # fmt: skip
        net.commit_frame("fan0", datetime.now(UTC), "create", "app.bsky.feed.like", rkey, record)
        wait_until(lambda: f.stats.get("duplicate", 0) >= 1, what="the stream's like")
        net.bsky_undo("fan0", "like", POST, rkey, datetime.now(UTC))
        wait_until(lambda: _rules(db, cid)["like"]["reversed"] == 1, what="the delete reversing it")
    assert _units(db, cid) == 0


def test_a_profile_read_that_fails_refuses_no_one(
    client: TestClient, db: Database, admin_key: str, jetstream: FakeJetstream
) -> None:
    """A network hiccup is not `no_profile`: the frames wait for the next round."""
    cid = _campaign(client, db, admin_key)
    net = _net(datetime.now(UTC))
    net.jetstream = jetstream
    fail = {"on": 1, "tried": 0}
    with following(db, net, jetstream.url, fail=fail) as f:
        _connected(jetstream)
        net.bsky_act("fan0", "like", POST, datetime.now(UTC))
        wait_until(lambda: fail["tried"] >= 3, what="profile reads failing")
        assert _rules(db, cid) == {}
        assert f.pending
        fail["on"] = 0
        wait_until(lambda: _units(db, cid) == 1, what="fan0's like once the AppView answers")
    assert _rules(db, cid)["like"]["refused"] == {}


def test_the_app_runs_the_follower_when_asked(settings: Settings, db: Database) -> None:
    assert services_of(create_app(settings, db=db)).social_follower is None
    settings.social_follow = True
    services = services_of(create_app(settings, db=db))
    assert services.social_follower in services.runners
