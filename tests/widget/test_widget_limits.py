"""The widget's defaults against a script (issue 12, second finding): a script that mints a fresh
visitor id, forges Origin and a desktop User-Agent and waits the minimum delay counted 15 of 15
from one address and 12 of 12 from 12 IPv6 /64s of one /48; the only bound was 500 counted
clicks per network per campaign per day, and proof of work was off. Now: a few dozen per network
per campaign and across campaigns, proof of work on by default and raised under attack."""

from __future__ import annotations

import dataclasses
import secrets

from wefirst.settings import Settings
from wefirst.widget.fraud import CampaignState as State
from wefirst.widget.fraud import ClickFacts, Limits, assess
from wefirst.widget.pow import effective_bits, solve
from wefirst.widget.reasons import Reason
from wefirst.widget.service import ClickRequest

from widget.widget_helpers import BLOG, CHROME_UA, World


def test_defaults_bound_one_network_to_a_few_dozen_clicks_a_day_with_proof_of_work() -> None:
    s = Settings()
    assert s.widget_network_counted_per_day <= 50
    assert s.widget_network_counted_per_day_all_campaigns <= 100
    assert 8 <= s.widget_pow_bits_default <= 16  # a few hundred ms on a throttled page (docs/widget.md)


def test_the_limit_across_campaigns_holds_when_each_campaign_has_room() -> None:
    facts = ClickFacts(
        origin_ok=True,
        user_agent=CHROME_UA,
        challenge_failure=None,
        campaign_state=State.ACTIVE,
        visitor_attempts_last_minute=0,
        network_attempts_last_minute=0,
        network_counted_today=3,
        visitor_counted_today=0,
        network_counted_today_all=60,
    )
    assert assess(facts, Limits()).detail == "network_daily_all"
    assert assess(dataclasses.replace(facts, network_counted_today_all=59), Limits()).reason is Reason.COUNTED


def test_proof_of_work_rises_while_refusals_outnumber_counted_clicks() -> None:
    assert effective_bits(14, refused=5, counted=40) == 14
    assert effective_bits(14, refused=25, counted=10) == 16
    assert effective_bits(14, refused=200, counted=10) == 18
    assert effective_bits(0, refused=0, counted=0) == 0  # a campaign that turned it off
    assert effective_bits(0, refused=200, counted=0) == 4  # ...still gets some under attack
    assert effective_bits(23, refused=200, counted=0) == 24  # never above MAX_BITS


def test_the_challenge_asks_for_the_default_proof_of_work(world: World) -> None:
    world.service.config = dataclasses.replace(world.service.config, pow_bits_default=14)
    visitor = secrets.token_hex(32)
    r = world.state(visitor)
    assert r.status_code == 200, r.text
    assert r.json()["challenge"]["pow_bits"] == 14
    token = r.json()["challenge"]["token"]
    assert world.click(visitor, token=token).json()["decision"] == "bad_challenge"  # no nonce
    other = secrets.token_hex(32)
    token = world.state(other).json()["challenge"]["token"]
    assert world.click(other, token=token, pow_nonce=solve(token, 14)).json()["decision"] == "counted"


def _scripted(world: World, address: str, campaign: str) -> str:
    """One attempt the way the issue's script made it: fresh visitor, forged headers, minimum
    delay, proof of work solved."""
    visitor = secrets.token_hex(32)
    challenge = world.service.state(
        campaign_id=campaign, publisher_id=world.publisher_id, visitor=visitor, origin=BLOG, referer=None
    )["challenge"]
    world.clock.advance(challenge["min_delay_ms"])
    nonce = solve(challenge["token"], challenge["pow_bits"]) if challenge["pow_bits"] else None
    result = world.service.click(
        ClickRequest(
            campaign_id=campaign,
            publisher_id=world.publisher_id,
            visitor=visitor,
            challenge=challenge["token"],
            pow_nonce=nonce,
            origin=BLOG,
            referer=BLOG + "/post",
            user_agent=CHROME_UA,
            client_ip=address,
        )
    )
    world.clock.advance(60_000)  # one attempt a minute: under the per-minute limits
    return result.reason.value


def test_a_script_from_one_48_counts_a_few_dozen_per_campaign_and_across_campaigns(world: World) -> None:
    limits = Limits(network_counted_per_day=3, network_counted_per_day_all=5)
    world.service.config = dataclasses.replace(world.service.config, limits=limits, pow_bits_default=4)
    first = world.campaign_id
    second = world.new_campaign(name="Another campaign")
    slash48 = [f"2001:db8:4242:{i:x}::1" for i in range(10)]  # ten /64s of one /48
    on_first = [_scripted(world, a, first) for a in slash48[:6]]
    assert on_first == ["counted"] * 3 + ["rate_limited"] * 3
    on_second = [_scripted(world, a, second) for a in slash48[6:]]
    assert on_second == ["counted"] * 2 + ["rate_limited"] * 2  # 5 across both campaigns
    v4 = [_scripted(world, "198.51.100.23", first) for _ in range(4)]
    assert v4 == ["counted"] * 3 + ["rate_limited"]  # another network has its own bound
