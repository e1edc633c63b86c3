"""Sources read the networks' documented wire formats (fixtures in tests/social/fixtures, see
its README for each shape's source) through the outbound guard, and a poll pledges through the
engine: criteria refusals, idempotent re-polls, withdrawals reversed."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from wefirst.domain.campaigns import PerSocialActionRule
from wefirst.domain.social import action_commitment
from wefirst.ledger.balances import campaign_balance
from wefirst.outbound import OutboundPolicy
from wefirst.pledges.social import social_report
from wefirst.social.fakenet import FakeNetwork
from wefirst.social.jetstream import actions_of
from wefirst.social.poll import poll_campaign
from wefirst.social.sources import bluesky_actions, mastodon_actions
from wefirst.store.db import Database

from factories import make_beneficiary, make_brand, make_campaign

FIX = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 3, 14, 10, tzinfo=UTC)
PUBLIC_IP = "203.0.113.7"  # what the fake hosts "resolve" to (a test range the guard is told to allow)
BSKY_POST = "at://did:plc:pampybrand00000000000000/app.bsky.feed.post/3lbrandpost22"


def _policy(address: str = PUBLIC_IP) -> OutboundPolicy:
    return OutboundPolicy(
        allowed_networks=(ipaddress.ip_network("203.0.113.0/24"),), resolver=lambda host, port: [address]
    )


def _client(handler: Any, policy: OutboundPolicy | None = None) -> httpx.Client:
    return httpx.Client(transport=(policy or _policy()).transport(httpx.MockTransport(handler)))


def test_mastodon_favourited_by_follows_the_link_header_and_reads_account_fields() -> None:
    seen: list[httpx.Request] = []
    link = (FIX / "mastodon_favourited_by_links.txt").read_text().strip()

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if "max_id=7713" in str(request.url):
            return httpx.Response(200, content=(FIX / "mastodon_favourited_by_page2.json").read_bytes())
        return httpx.Response(200, content=(FIX / "mastodon_favourited_by_page1.json").read_bytes(),
                              headers={"Link": link})  # fmt: skip

    rule = PerSocialActionRule("like", "mastodon", "https://masto.example/@pampy/111", 1)
    actions = list(mastodon_actions(_client(handler), rule, NOW))
    assert [a.account.uri for a in actions] == [
        "https://social.example/@lea", "https://masto.example/@promo_bot", "https://masto.example/@nouveau",
    ]  # fmt: skip
    lea, bot, new = (a.account for a in actions)
    assert (lea.posts, lea.bot, lea.created_at) == (1532, False, datetime(2022, 11, 8, tzinfo=UTC))
    assert bot.bot
    assert new.posts == 0
    # through the guard: connected to the checked address, Host kept
    assert [r.url.host for r in seen] == [PUBLIC_IP, PUBLIC_IP]
    assert {r.headers["host"] for r in seen} == {"masto.example"}
    assert seen[0].url.path == "/api/v1/statuses/111/favourited_by"


def test_bluesky_get_likes_then_profiles() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        name = request.url.path.rsplit("/", 1)[-1]
        return httpx.Response(200, content=(FIX / f"bluesky_{name.split('.')[-1]}.json").read_bytes())

    rule = PerSocialActionRule("like", "bluesky", BSKY_POST, 1)
    actions = list(bluesky_actions(_client(handler), rule, NOW, base="https://appview.example"))
    assert [(a.account.uri, a.account.posts) for a in actions] == [
        ("did:plc:fanone0000000000000000aa", 845), ("did:plc:fresh00000000000000000bb", 0),
    ]  # fmt: skip
    assert actions[0].occurred_at == datetime(2026, 3, 14, 9, 12, 30, 977000, tzinfo=UTC)


def _campaign(client: TestClient, db: Database, admin_key: str) -> str:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    crit = {"min_account_age_days": 30, "min_posts": 5, "burst_window_hours": 24, "burst_max": 50}
    rules = [
        {"kind": "per_social_action", "action": "like", "network": "mastodon",
         "target": "https://masto.example/@pampy/111", "units_per_action": 1, "criteria": crit},
        {"kind": "per_social_action", "action": "repost", "network": "bluesky",
         "target": BSKY_POST, "units_per_action": 2, "criteria": crit},
    ]  # fmt: skip
    return make_campaign(client, brand, ben.id, rules=rules)


def _fake() -> FakeNetwork:
    net = FakeNetwork(now=NOW, bsky_host="appview.example")
    old = NOW - timedelta(days=500)
    fans = [net.account(f"fan{i}", old + timedelta(days=3 * i), 40 + i) for i in range(120)]
    net.account("robot", old, 9000, bot=True)
    net.account("fresh", NOW - timedelta(days=1), 3)
    net.favourites["111"] = [*fans, "robot", "fresh"]
    net.bsky_reposts[BSKY_POST] = [*fans[:7], "fresh"]
    return net


def _units(db: Database, cid: str) -> int:
    with db.read() as conn:
        bal = campaign_balance(conn, cid)
    assert bal is not None
    return bal.pledged_units


def test_a_poll_pledges_refuses_stays_idempotent_and_reverses_withdrawals(
    client: TestClient, db: Database, admin_key: str
) -> None:
    cid = _campaign(client, db, admin_key)
    net = _fake()
    http = _client(net.handle)
    first = poll_campaign(db, cid, http, NOW, bsky_base="https://appview.example")
    assert first.errors == []
    assert first.outcomes == {"counted": 127, "refused": 3}
    assert _units(db, cid) == 120 + 2 * 7
    pages = [r for r in net.requests if "favourited_by" in r.url.path]
    assert len(pages) == 2  # 122 accounts, 80 a page, followed by the Link header

    again = poll_campaign(db, cid, http, NOW + timedelta(hours=1), bsky_base="https://appview.example")
    assert again.outcomes == {"duplicate": 130}
    assert _units(db, cid) == 134

    net.favourites["111"].remove("fan3")  # un-liked before any settlement
    net.bsky_reposts[BSKY_POST].remove("fan0")  # repost deleted
    third = poll_campaign(db, cid, http, NOW + timedelta(hours=2), bsky_base="https://appview.example")
    assert third.outcomes == {"duplicate": 128, "reversed": 2}
    assert _units(db, cid) == 134 - 1 - 2
    with db.read() as conn:
        rules = {r["network"]: r for r in social_report(conn, cid)["rules"]}
    assert rules["mastodon"]["refused"] == {"bot": 1, "too_young": 1}
    assert rules["bluesky"]["refused"] == {"too_young": 1}
    assert (rules["mastodon"]["counted"], rules["mastodon"]["reversed"]) == (119, 1)


def test_a_poll_goes_through_the_outbound_guard(client: TestClient, db: Database, admin_key: str) -> None:
    """A rule's Mastodon host that resolves to a private address is never contacted."""
    cid = _campaign(client, db, admin_key)
    net = _fake()
    result = poll_campaign(
        db, cid, _client(net.handle, _policy("10.0.0.5")), NOW, bsky_base="https://appview.example"
    )
    assert net.requests == []
    assert len(result.errors) == 2
    assert all("not a public address" in e for e in result.errors)
    assert _units(db, cid) == 0


def test_bluesky_hashtag_posts_from_search_count_originals_only() -> None:
    """searchPosts' postViews: a reply carrying the hashtag counts as a reply, not a hashtag
    post (as on the stream); the record-level `tags` array counts like a facet."""
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        name = request.url.path.rsplit(".", 1)[-1]
        if name == "searchPosts" and request.url.params.get("cursor"):
            return httpx.Response(200, json={"posts": []})
        return httpx.Response(200, content=(FIX / f"bluesky_{name}.json").read_bytes())

    rule = PerSocialActionRule("hashtag_post", "bluesky", "#DoudouVaccins", 1)
    actions = list(bluesky_actions(_client(handler), rule, NOW, base="https://appview.example"))
    assert [(a.uri, a.account.posts) for a in actions] == [
        ("at://did:plc:fanone0000000000000000aa/app.bsky.feed.post/3lhashtag001", 845),
        ("at://did:plc:fanone0000000000000000aa/app.bsky.feed.post/3lhashtag003", 845),
    ]
    assert actions[0].occurred_at == datetime(2026, 3, 14, 9, 20, 1, 250000, tzinfo=UTC)  # indexedAt
    search = requests[0].url.params
    assert (search["tag"], search["q"], search["sort"]) == ("DoudouVaccins", "#DoudouVaccins", "latest")


def test_bluesky_quotes_replies_and_hashtag_posts_backfill_as_the_stream_sees_them(
    client: TestClient, db: Database, admin_key: str
) -> None:
    """Before, `wefirst social poll` read only Bluesky likes and reposts: a quote, reply or
    hashtag rule was 'not backfilled yet'. Now the AppView's getQuotes, getPostThread and
    searchPosts feed them, with the stream's commitments (the post's AT-URI)."""
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    crit = {"min_account_age_days": 30, "min_posts": 5}
    rules = [
        {"kind": "per_social_action", "action": a, "network": "bluesky", "target": t, "units_per_action": u,
         "criteria": crit}
        for a, t, u in (("quote", BSKY_POST, 3), ("reply", BSKY_POST, 2), ("hashtag_post", "#Doudou", 1))
    ]  # fmt: skip
    cid = make_campaign(client, brand, ben.id, rules=rules)
    net = _fake()
    at = NOW - timedelta(hours=1)
    quote = net.bsky_post("fan1", "look", at, quote=BSKY_POST)
    net.bsky_post("fan2", "yes!", at, reply_to=BSKY_POST)
    net.bsky_post("fan3", "me too #doudou", at, tags=("doudou",), reply_to=BSKY_POST)
    net.bsky_post("fan4", "#Doudou", at, tags=("Doudou",))
    net.bsky_post("fresh", "#Doudou", at, tags=("Doudou",))
    net.bsky_post("fan5", "#Other", at, tags=("Other",))
    http = _client(net.handle)
    first = poll_campaign(db, cid, http, NOW, bsky_base="https://appview.example")
    assert first.errors == []
    assert first.outcomes == {"counted": 4, "refused": 1}
    assert _units(db, cid) == 3 + 2 * 2 + 1
    with db.read() as conn:
        rules_seen = {r["action"]: r for r in social_report(conn, cid)["rules"]}
    assert rules_seen["reply"]["counted"] == 2  # fan3's reply with the hashtag is a reply
    assert rules_seen["hashtag_post"]["refused"] == {"too_young": 1}
    assert poll_campaign(
        db, cid, http, NOW + timedelta(hours=1), bsky_base="https://appview.example"
    ).outcomes == {"duplicate": 5}
    # the stream gives the same commitment for the same quote: a duplicate, not a second pledge
    frame = net.commit_frame("fan1", at, "create", "app.bsky.feed.post", quote.rsplit("/", 1)[-1],
                             net.bsky_posts[0][2])  # fmt: skip
    streamed = actions_of(frame, {})
    assert [action_commitment(a) for a in streamed] == [action_commitment(first.seen[0])]
    net.bsky_posts.pop(0)  # the quote deleted: getQuotes is a complete list
    third = poll_campaign(db, cid, http, NOW + timedelta(hours=2), bsky_base="https://appview.example")
    assert third.outcomes == {"duplicate": 4, "reversed": 1}
    assert _units(db, cid) == 2 * 2 + 1
