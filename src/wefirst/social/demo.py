"""The demo's social campaign: "1 dose per boost of our post, per like, per #DoudouVaccins post"
on a fake Mastodon instance and Bluesky AppView (`fakenet.py`, the real wire formats, in
process behind the real outbound guard), with a burst of shares: real fans, a farm of aged
accounts created in the same hour, brand-new accounts and bots — the last three refused with
their reason in the fraud report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from wefirst.outbound import OutboundPolicy
from wefirst.pledges.social import social_report
from wefirst.social.fakenet import FakeNetwork
from wefirst.social.poll import poll_campaign

MASTODON_POST = "https://masto.example/@doudou/111"
BSKY_POST = "at://did:plc:doudoubrand0000000000000/app.bsky.feed.post/3ldoudoupost1"


def fake_network(now: datetime) -> FakeNetwork:
    net = FakeNetwork(now=now, bsky_host="appview.example")
    fans = [net.account(f"fan{i:02d}", now - timedelta(days=200 + 11 * i), 30 + i) for i in range(40)]
    farm_born = now - timedelta(days=300)
    farm = [net.account(f"deal{i:02d}", farm_born + timedelta(minutes=i), 12) for i in range(15)]
    fresh = [net.account(f"new{i}", now - timedelta(days=2), 1) for i in range(5)]
    bots = [net.account(f"bot{i}", now - timedelta(days=900), 5000, bot=True) for i in range(2)]
    net.favourites["111"] = fans[:30] + farm + fresh + bots
    net.reblogs["111"] = fans[10:25] + farm[:8] + fresh[:2]
    net.bsky_reposts[BSKY_POST] = fans[5:20] + bots
    return net


def demo_step(ctx: Any) -> None:
    """`ctx` is the demo's DemoContext (typed Any: social sits below the demo's layer)."""
    crit = {"min_account_age_days": 30, "min_posts": 5, "burst_window_hours": 24, "burst_max": 5}
    rules = [
        {"kind": "per_social_action", "action": "like", "network": "mastodon", "target": MASTODON_POST,
         "units_per_action": 1, "criteria": crit},
        {"kind": "per_social_action", "action": "repost", "network": "mastodon", "target": MASTODON_POST,
         "units_per_action": 2, "criteria": crit},
        {"kind": "per_social_action", "action": "repost", "network": "bluesky", "target": BSKY_POST,
         "units_per_action": 2, "cap_units": 500, "criteria": crit},
    ]  # fmt: skip
    body = {
        "name": "1 share = 1 vaccine",
        "beneficiary_id": ctx.ids["ngo1"],
        "currency": "EUR",
        "starts_at": (datetime.now(UTC) - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "impact_unit": {
            "labels": {"en": {"singular": "tetanus vaccine", "plural": "tetanus vaccines"},
                       "fr": {"singular": "vaccin contre le tétanos", "plural": "vaccins contre le tétanos"}},
            "cost_per_unit": {"amount": 30, "currency": "EUR"},
            "cost_source": "UNICEF Supply Division price list", "cost_date": "2026-01-15", "mode": "funds",
        },
        "rules": rules,
        "caps": {"total_units": 2000},
        "status": "active",
    }  # fmt: skip
    headers = {"Authorization": f"Bearer {ctx.keys['brand1']}", "Idempotency-Key": "demo-social"}
    r = httpx.post(f"{ctx.base_url}/v1/campaigns", json=body, headers=headers, timeout=30)
    r.raise_for_status()
    cid = str(r.json()["id"])
    ctx.ids["social"] = cid
    now = datetime.now(UTC)
    net = fake_network(now)
    # the fake hosts "resolve" to a public address, so the real guard lets them through
    policy = OutboundPolicy(resolver=lambda host, port: ["93.184.216.34"])
    with httpx.Client(transport=policy.transport(httpx.MockTransport(net.handle)), timeout=15) as http:
        result = poll_campaign(ctx.db, cid, http, now, bsky_base="https://appview.example")
    with ctx.db.read() as conn:
        report = social_report(conn, cid)
    refused: dict[str, int] = {}
    for rule in report["rules"]:
        for reason, n in rule["refused"].items():
            refused[reason] = refused.get(reason, 0) + n
    ctx.urls["Social campaign"] = (
        f"{ctx.base_url}/campaigns/{cid} — {result.outcomes.get('counted', 0)} shares counted, refused: "
        + ", ".join(f"{n} {why}" for why, n in sorted(refused.items()))
        + f'; try {net.mastodon_url("fan03")} in "Did my share count?"'
    )
