"""The brand's console shows the campaign's refused social actions by reason, in words that
name the attack each criterion bounds (before: only the API's JSON counts had them); another
brand's user sees nothing of it."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from wefirst.outbound import OutboundPolicy
from wefirst.social.demo import MASTODON_POST, fake_network
from wefirst.social.poll import poll_campaign
from wefirst.store.db import Database

from factories import make_beneficiary, make_brand, make_campaign
from web.web_helpers import new_user_signed_in


def test_the_console_lists_refused_social_actions_by_reason(
    app: FastAPI, client: TestClient, db: Database, admin_key: str
) -> None:
    brand = make_brand(client, db, admin_key)
    other = make_brand(client, db, admin_key, name="Other")
    ben = make_beneficiary(client, db, admin_key)
    crit = {"min_account_age_days": 30, "min_posts": 5, "burst_window_hours": 24, "burst_max": 5}
    rule = {"kind": "per_social_action", "action": "like", "network": "mastodon", "target": MASTODON_POST,
            "units_per_action": 1, "criteria": crit}  # fmt: skip
    cid = make_campaign(client, brand, ben.id, rules=[rule])
    now = datetime.now(UTC)
    net = fake_network(now)
    policy = OutboundPolicy(resolver=lambda host, port: ["93.184.216.34"])
    with httpx.Client(transport=policy.transport(httpx.MockTransport(net.handle))) as http:
        result = poll_campaign(db, cid, http, now)
    assert result.outcomes == {"counted": 35, "refused": 17}

    web = new_user_signed_in(app, db, "ops@brand.example", "brand", brand.id)
    page = web.get(f"/console/brand/campaigns/{cid}")
    assert page.status_code == 200
    section = page.text[page.text.index('id="social-fraud"') :]
    assert "Refused social actions" in section
    for words, n in (("Account too young (accounts made for the campaign)", 5),
                     ("Flagged as a bot (automated accounts)", 2),
                     ("In a burst of accounts created together (an aged farm)", 10)):  # fmt: skip
        assert f'<tr><td>{words}</td><td class="num">{n}</td></tr>' in section
    assert "fan0" not in page.text  # no handle anywhere
    assert "deal0" not in page.text

    outsider = new_user_signed_in(app, db, "ops@other.example", "brand", other.id)
    refused = outsider.get(f"/console/brand/campaigns/{cid}")
    assert refused.status_code in (403, 404)
    assert "Refused social actions" not in refused.text
