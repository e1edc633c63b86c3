"""The decision order, each reason, and the keys that keep addresses out of storage."""

from __future__ import annotations

import dataclasses

import pytest

from wefirst.widget.challenge import ChallengeFailure
from wefirst.widget.fraud import CampaignState, ClickFacts, Limits, assess, looks_automated
from wefirst.widget.hashing import net_key, visitor_key
from wefirst.widget.reasons import REFUSALS, Reason

CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
GOOD = ClickFacts(
    origin_ok=True,
    user_agent=CHROME,
    challenge_failure=None,
    campaign_state=CampaignState.ACTIVE,
    visitor_attempts_last_minute=0,
    network_attempts_last_minute=0,
    network_counted_today=0,
    visitor_counted_today=0,
)
LIMITS = Limits(
    clicks_per_visitor_per_day=1,
    visitor_attempts_per_minute=5,
    network_attempts_per_minute=50,
    network_counted_per_day=100,
)


def _reason(**changes: object) -> tuple[Reason, str]:
    verdict = assess(dataclasses.replace(GOOD, **changes), LIMITS)  # type: ignore[arg-type]
    return verdict.reason, verdict.detail


def test_clean_click_may_count() -> None:
    assert _reason() == (Reason.COUNTED, "ok")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"origin_ok": False}, (Reason.BAD_ORIGIN, "origin_not_registered")),
        ({"user_agent": None}, (Reason.AUTOMATED, "user_agent")),
        ({"user_agent": CHROME.replace("Chrome/", "HeadlessChrome/")}, (Reason.AUTOMATED, "user_agent")),
        ({"challenge_failure": ChallengeFailure.MISSING}, (Reason.AUTOMATED, "missing_challenge")),
        ({"challenge_failure": ChallengeFailure.TOO_FAST}, (Reason.AUTOMATED, "too_fast")),
        ({"challenge_failure": ChallengeFailure.REPLAYED}, (Reason.BAD_CHALLENGE, "replayed")),
        ({"challenge_failure": ChallengeFailure.EXPIRED}, (Reason.BAD_CHALLENGE, "expired")),
        ({"challenge_failure": ChallengeFailure.POW}, (Reason.BAD_CHALLENGE, "pow")),
        ({"campaign_state": CampaignState.PAUSED}, (Reason.CAMPAIGN_INACTIVE, "paused")),
        ({"campaign_state": CampaignState.ENDED}, (Reason.CAMPAIGN_INACTIVE, "ended")),
        ({"campaign_state": CampaignState.NOT_STARTED}, (Reason.CAMPAIGN_INACTIVE, "not_started")),
        ({"campaign_state": CampaignState.CAP_REACHED}, (Reason.CAP_REACHED, "cap_reached")),
        ({"visitor_attempts_last_minute": 5}, (Reason.RATE_LIMITED, "visitor")),
        ({"network_attempts_last_minute": 50}, (Reason.RATE_LIMITED, "network")),
        ({"network_counted_today": 100}, (Reason.RATE_LIMITED, "network_daily")),
        ({"visitor_counted_today": 1}, (Reason.DUPLICATE, "already_counted_today")),
    ],
)
def test_each_reason(changes: dict[str, object], expected: tuple[Reason, str]) -> None:
    assert _reason(**changes) == expected


def test_limits_are_thresholds_not_off_by_one() -> None:
    assert _reason(visitor_attempts_last_minute=4)[0] is Reason.COUNTED
    assert _reason(network_attempts_last_minute=49)[0] is Reason.COUNTED
    assert _reason(network_counted_today=99)[0] is Reason.COUNTED
    many = Limits(clicks_per_visitor_per_day=3)
    facts = dataclasses.replace(GOOD, visitor_counted_today=2)
    assert assess(facts, many).reason is Reason.COUNTED
    assert assess(dataclasses.replace(facts, visitor_counted_today=3), many).reason is (Reason.DUPLICATE)


def test_first_failing_check_names_the_reason() -> None:
    everything_wrong = {
        "origin_ok": False,
        "user_agent": "curl/8.5",
        "challenge_failure": ChallengeFailure.SIGNATURE,
        "campaign_state": CampaignState.PAUSED,
        "visitor_attempts_last_minute": 99,
        "visitor_counted_today": 9,
    }
    order = [
        "origin_ok",
        "user_agent",
        "challenge_failure",
        "campaign_state",
        "visitor_attempts_last_minute",
        "visitor_counted_today",
    ]
    seen = []
    for i in range(len(order)):
        changes = {k: everything_wrong[k] for k in order[i:]}
        seen.append(_reason(**changes)[0])
    assert seen == [
        Reason.BAD_ORIGIN,
        Reason.AUTOMATED,
        Reason.BAD_CHALLENGE,
        Reason.CAMPAIGN_INACTIVE,
        Reason.RATE_LIMITED,
        Reason.DUPLICATE,
    ]


def test_reasons_are_the_documented_set() -> None:
    assert {r.value for r in Reason} == {
        "counted",
        "duplicate",
        "rate_limited",
        "bad_origin",
        "bad_challenge",
        "automated",
        "campaign_inactive",
        "cap_reached",
    }
    assert Reason.COUNTED not in REFUSALS
    assert len(REFUSALS) == 7


@pytest.mark.parametrize(
    "ua",
    [
        "",
        "  ",
        "curl/8.5.0",
        "python-requests/2.32",
        "python-httpx/0.27",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/131.0.0.0 Safari/537.36",
        "Go-http-client/1.1",
        "Wget/1.21",
    ],
)
def test_automation_user_agents(ua: str) -> None:
    assert looks_automated(ua)


@pytest.mark.parametrize(
    "ua",
    [
        CHROME,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 10; CUBOT_X30) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    ],
)
def test_browser_user_agents(ua: str) -> None:
    assert not looks_automated(ua)


def test_keys_hide_the_address_and_rotate_with_the_salt() -> None:
    day1, day2 = b"\x01" * 32, b"\x02" * 32
    k = net_key(day1, "203.0.113.7")
    assert "203" not in k
    assert len(k) == 32
    assert k == net_key(day1, "203.0.113.7")
    assert k == net_key(day1, "203.0.113.200")  # one /24 is one network
    assert k != net_key(day2, "203.0.113.7")
    assert net_key(day1, "2001:db8:0:1::1") == net_key(day1, "2001:db8:0:2::2")  # one /48
    assert visitor_key(day1, "cmp_1", "a" * 64) != visitor_key(day1, "cmp_2", "a" * 64)
    assert visitor_key(day1, "cmp_1", "a" * 64) != visitor_key(day2, "cmp_1", "a" * 64)
