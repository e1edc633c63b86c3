"""Mastodon replies and quotes (polled), and Mastodon live: the brand's notification stream
(server-sent events, the brand's sealed token) against a fake server on 127.0.0.1 speaking the
documented formats, with resume from the committed notification id.

Before this, Mastodon was only polled (likes and boosts every few minutes), and a reply or a
quote rule on Mastodon counted nothing ("not polled yet")."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from wefirst.outbound import OutboundPolicy
from wefirst.pledges.social import social_report
from wefirst.services import services_of
from wefirst.social.fakemasto import FakeMastodonServer
from wefirst.social.fakenet import FakeNetwork
from wefirst.social.follow import MastodonLive, SocialFollower, read_cursor
from wefirst.social.mastodon_stream import sse_events
from wefirst.social.poll import poll_campaign
from wefirst.store.db import Database
from wefirst.store.tables_social import social_tokens

from factories import auth, loopback_policy, make_beneficiary, make_brand, make_campaign
from waiting import wait_until

POST = "https://masto.example/@pampy/111"
SERVER = "https://masto.example"
TOKEN = "brand-token-0123456789"
CRIT = {"min_account_age_days": 30, "min_posts": 5, "burst_window_hours": 24, "burst_max": 50}


def _rule(action: str, units: int = 1) -> dict[str, Any]:
    return {"kind": "per_social_action", "action": action, "network": "mastodon", "target": POST,
            "units_per_action": units, "criteria": CRIT}  # fmt: skip


def _setup(client: TestClient, db: Database, admin_key: str, token: bool = True) -> tuple[str, str]:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    cid = make_campaign(client, brand, ben.id, rules=[_rule("like"), _rule("reply", 2), _rule("quote", 3)])
    if token:
        body = {"network": "mastodon", "server": SERVER, "token": TOKEN}
        r = client.put(f"/v1/brands/{brand.id}/social/tokens", json=body, headers=auth(brand.key))
        assert r.status_code == 200, r.text
    return cid, brand.id


def _net(now: datetime) -> FakeNetwork:
    net = FakeNetwork(now=now)
    net.mastodon_token = TOKEN
    net.favourites["111"], net.reblogs["111"] = [], []  # the brand's post, no one acted yet
    net.account("pampy", now - timedelta(days=2000), 900)
    for i in range(6):
        net.account(f"fan{i}", now - timedelta(days=400 + 40 * i), 50 + i)
    net.account("fresh", now - timedelta(days=2), 40)
    return net


class _Routes(httpx.BaseTransport):
    """127.0.0.1 (the fake server) over a real socket, the rest through the fake's handler;
    both behind the real outbound guard."""

    def __init__(self, net: FakeNetwork) -> None:
        self.local = loopback_policy().transport()
        public = OutboundPolicy(allowed_networks=(ipaddress.ip_network("203.0.113.0/24"),),
                                resolver=lambda host, port: ["203.0.113.7"])  # fmt: skip
        self.fake = public.transport(httpx.MockTransport(net.handle))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return (self.local if request.url.host == "127.0.0.1" else self.fake).handle_request(request)

    def close(self) -> None:
        self.local.close()
        self.fake.close()


def _rules(db: Database, cid: str) -> dict[str, dict[str, Any]]:
    with db.read() as conn:
        return {r["action"]: r for r in social_report(conn, cid)["rules"]}


def _counted(db: Database, cid: str) -> dict[str, int]:
    return {k: r["counted"] for k, r in _rules(db, cid).items()}


def test_sse_frames_as_mastodon_sends_them() -> None:
    """The shared fixture's shape: heartbeats (`:`), `event:` + `data:` lines, a blank line."""
    lines = [":)", "", "event: update", 'data: {"id":"1"}', "", ":thump", "", "event: delete", "data: 1", ""]
    assert list(sse_events(lines)) == [("update", '{"id":"1"}'), ("delete", "1")]


def test_mastodon_replies_and_quotes_are_polled_quotes_with_the_brands_token(
    client: TestClient, app: FastAPI, db: Database, admin_key: str
) -> None:
    cid, _ = _setup(client, db, admin_key)
    now = datetime.now(UTC)
    net = _net(now)
    net.masto_act("fan0", "reply", "pampy", "111", now)
    net.masto_act("fan1", "quote", "pampy", "111", now)
    net.masto_act("fresh", "reply", "pampy", "111", now)
    with httpx.Client(transport=_Routes(net)) as http:
        without = poll_campaign(db, cid, http, now)  # no box: no token sent
        assert any("quotes" in e and "token" in e for e in without.errors), without.errors
        assert _counted(db, cid) == {"reply": 1}
        with_token = poll_campaign(db, cid, http, now, box=services_of(app).secret_box)
        assert with_token.errors == []
        quotes = [r for r in net.requests if r.url.path.endswith("/quotes")]
        assert quotes[-1].headers["authorization"] == f"Bearer {TOKEN}"
        assert "authorization" not in quotes[0].headers
    rules = _rules(db, cid)
    assert (rules["reply"]["counted"], rules["reply"]["units"], rules["reply"]["refused"]) == (
        1,
        2,
        {"too_young": 1},
    )
    assert (rules["quote"]["counted"], rules["quote"]["units"]) == (1, 3)


@dataclass(frozen=True)
class Live:
    """A brand with the like/reply/quote campaign and its Mastodon token set, and the fake
    Mastodon server (SSE + REST on 127.0.0.1) its stream is read from."""

    app: FastAPI
    db: Database
    fake: FakeMastodonServer
    net: FakeNetwork
    cid: str
    brand_id: str

    @contextmanager
    def following(self, **kw: Any) -> Iterator[SocialFollower]:
        mastodon = MastodonLive(services_of(self.app).secret_box, {SERVER: self.fake.url})
        f = SocialFollower(
            self.db, lambda: httpx.Client(transport=_Routes(self.net)), jetstream_url=None, poll_seconds=3600,
            tick_seconds=0.02, mastodon=mastodon, **kw,
        )  # fmt: skip
        f.start()
        try:
            yield f
        finally:
            f.stop()


@pytest.fixture
def live(client: TestClient, app: FastAPI, db: Database, admin_key: str) -> Iterator[Live]:
    net = _net(datetime.now(UTC))
    fake = FakeMastodonServer(net)
    fake.start()
    try:
        cid, brand_id = _setup(client, db, admin_key)
        yield Live(app, db, fake, net, cid, brand_id)
    finally:
        fake.stop()


def test_mastodon_actions_are_pledged_as_the_brands_stream_tells_them(live: Live) -> None:
    fake, net, db, cid = live.fake, live.net, live.db, live.cid
    with live.following() as f:
        wait_until(
            lambda: fake.streams_opened == 1 and f.polls == 1, what="the stream open, the first poll done"
        )
        net.masto_act("fan0", "like", "pampy", "111", datetime.now(UTC))
        net.masto_act("fan1", "reply", "pampy", "111", datetime.now(UTC))
        net.masto_act("fan2", "quote", "pampy", "111", datetime.now(UTC))
        net.masto_act("fresh", "like", "pampy", "111", datetime.now(UTC))
        net.masto_act("fan0", "like", "pampy", "222", datetime.now(UTC))  # another post: no rule
        wait_until(lambda: _counted(db, cid) == {"like": 1, "reply": 1, "quote": 1}, what="the three pledged")
        wait_until(lambda: _rules(db, cid)["like"]["refused"] == {"too_young": 1}, what="the young refused")
        fake.drop_clients()  # a cut: the reader reconnects and catches up from its last id
        wait_until(lambda: fake.streams_opened == 2, what="the reconnection")
        net.masto_act("fan3", "like", "pampy", "111", datetime.now(UTC))
        wait_until(lambda: _counted(db, cid)["like"] == 2, what="the like after the reconnection")
    source = f"mastodon {SERVER} {live.brand_id}"
    with db.read() as conn:
        assert read_cursor(conn, source) == int(net.notifications[-1]["id"])
    # down: actions happen; a restart catches up from the committed id, nothing counts twice
    net.masto_act("fan4", "reply", "pampy", "111", datetime.now(UTC))
    before = len(net.requests)
    with live.following() as f:
        wait_until(lambda: _counted(db, cid)["reply"] == 2, what="the reply made while down")
        wait_until(lambda: f.mastodon_readers[source].connections == 1, what="the reader connected")
    asked = [r for r in net.requests[before:] if r.url.path == "/api/v1/notifications"]
    assert asked[0].url.params["since_id"] == net.notifications[-2]["id"]
    rules = _rules(db, cid)
    assert rules["like"]["counted"] == 2
    assert sum(r["counted"] for r in rules.values()) == 5


def test_a_token_that_no_longer_opens_stops_neither_the_follower_nor_the_polls(live: Live) -> None:
    """A sealed token that does not open (the key was changed, the row tampered with) is an
    error reported by the follower, not its end: the campaign is still polled."""
    fake, net, db, cid = live.fake, live.net, live.db, live.cid
    with db.write() as conn:
        conn.execute(update(social_tokens).values(sealed=b"\x01" + b"\x00" * 40))
    net.masto_act("fan0", "like", "pampy", "111", datetime.now(UTC))
    with live.following() as f:
        wait_until(lambda: f.polls == 1, what="the first poll")
        assert f.stats.get("errors", 0) >= 1
    assert fake.streams_opened == 0
    assert _counted(db, cid) == {"like": 1}  # counted by the poll


def test_a_refused_token_is_told_and_retried(live: Live) -> None:
    fake, net = live.fake, live.net
    net.mastodon_token = "the-brand-revoked-it"  # the server no longer accepts the stored one
    told: list[str] = []
    with live.following(on_event=told.append) as f:
        wait_until(
            lambda: any("HTTP 401 (the brand's token is refused)" in m for m in told), what="the refusal told"
        )
        assert fake.streams_opened == 0
        assert all(r.connections == 0 for r in f.mastodon_readers.values())
    assert TOKEN not in " ".join(told)
