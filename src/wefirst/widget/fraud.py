"""The decision on one click attempt, as a pure function of facts the service looked up.

The order of checks is the policy: where a click is wrong in several ways, the first failing
check names the reason (a scripted click from an unregistered site is `bad_origin`, not
`automated`). `counted` here means "may be counted"; the pledge engine can still answer
`cap_reached`, `campaign_inactive` or `duplicate` when it applies the click.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from wefirst.widget.challenge import ChallengeFailure
from wefirst.widget.reasons import Reason

# Substrings of User-Agent headers sent by headless browsers and HTTP libraries. Real browsers
# never send these; anyone can forge a browser UA, which the challenge and limits then catch.
_AUTOMATION_MARKERS = (
    "headlesschrome",
    "headless",
    "phantomjs",
    "slimerjs",
    "puppeteer",
    "playwright",
    "selenium",
    "webdriver",
    "python-requests",
    "python-httpx",
    "python-urllib",
    "aiohttp",
    "curl/",
    "wget/",
    "go-http-client",
    "okhttp",
    "node-fetch",
    "undici",
    "axios/",
    "scrapy",
    "httpie",
    "libwww-perl",
    "java/",
    "bot/",  # "Googlebot/2.1"; not plain "bot", which phone names such as "CUBOT" contain
    "bot;",
    "+http",  # crawlers put their info URL in the UA
    "spider",
    "crawler",
)


class CampaignState(StrEnum):
    """What the widget shows; only ACTIVE accepts clicks."""

    ACTIVE = "active"
    NOT_STARTED = "not_started"
    PAUSED = "paused"
    ENDED = "ended"
    CAP_REACHED = "cap_reached"


def looks_automated(user_agent: str | None) -> bool:
    if not user_agent or not user_agent.strip():
        return True
    ua = user_agent.lower()
    return any(marker in ua for marker in _AUTOMATION_MARKERS)


@dataclass(frozen=True)
class Limits:
    clicks_per_visitor_per_day: int = 1
    visitor_attempts_per_minute: int = 10
    network_attempts_per_minute: int = 120
    network_counted_per_day: int = 30
    network_counted_per_day_all: int = 60


@dataclass(frozen=True)
class ClickFacts:
    origin_ok: bool
    user_agent: str | None
    #: None when the challenge verified and was not used before.
    challenge_failure: ChallengeFailure | None
    campaign_state: CampaignState
    visitor_attempts_last_minute: int
    network_attempts_last_minute: int
    network_counted_today: int
    visitor_counted_today: int
    network_counted_today_all: int = 0
    #: the publisher is verified and approved for the campaign (or the campaign is open)
    publisher_approved: bool = True


@dataclass(frozen=True)
class Verdict:
    reason: Reason
    detail: str


def assess(facts: ClickFacts, limits: Limits) -> Verdict:
    if not facts.origin_ok:
        return Verdict(Reason.BAD_ORIGIN, "origin_not_registered")
    if not facts.publisher_approved:
        return Verdict(Reason.BAD_ORIGIN, "publisher_not_approved")
    if looks_automated(facts.user_agent):
        return Verdict(Reason.AUTOMATED, "user_agent")
    failure = facts.challenge_failure
    if failure is ChallengeFailure.MISSING:
        return Verdict(Reason.AUTOMATED, "missing_challenge")
    if failure is ChallengeFailure.TOO_FAST:
        return Verdict(Reason.AUTOMATED, "too_fast")
    if failure is not None:
        return Verdict(Reason.BAD_CHALLENGE, failure.value)
    if facts.campaign_state is CampaignState.CAP_REACHED:
        return Verdict(Reason.CAP_REACHED, "cap_reached")
    if facts.campaign_state is not CampaignState.ACTIVE:
        return Verdict(Reason.CAMPAIGN_INACTIVE, facts.campaign_state.value)
    if facts.visitor_attempts_last_minute >= limits.visitor_attempts_per_minute:
        return Verdict(Reason.RATE_LIMITED, "visitor")
    if facts.network_attempts_last_minute >= limits.network_attempts_per_minute:
        return Verdict(Reason.RATE_LIMITED, "network")
    if facts.network_counted_today >= limits.network_counted_per_day:
        return Verdict(Reason.RATE_LIMITED, "network_daily")
    if facts.network_counted_today_all >= limits.network_counted_per_day_all:
        return Verdict(Reason.RATE_LIMITED, "network_daily_all")
    if facts.visitor_counted_today >= limits.clicks_per_visitor_per_day:
        return Verdict(Reason.DUPLICATE, "already_counted_today")
    return Verdict(Reason.COUNTED, "ok")
