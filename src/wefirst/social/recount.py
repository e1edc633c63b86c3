"""What `wefirst verify social CAMPAIGN` reads from the networks when no export is given: each
of the campaign's social rules (as the public campaign JSON defines them) read from the
networks' public APIs with the same calls as a poll (`poll.fetch_rule`), through the outbound
guard, and nothing written anywhere.

A skeptic must not have to trust a file the deployment saved; re-reading the networks is what
makes the count checkable by anyone. A rule whose list is not read to its end (a hashtag
search, a thread's replies) cannot show that an action was withdrawn, so it is named as such
and its counted-but-unseen actions are reported, never failed on."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from wefirst.catalog.codec import rule as rule_from_json
from wefirst.domain.campaigns import PerSocialActionRule
from wefirst.domain.clock import utcnow
from wefirst.domain.social import SocialAction
from wefirst.outbound import OutboundPolicy
from wefirst.settings import Settings
from wefirst.social.poll import fetch_rule
from wefirst.social.sources import BSKY_APPVIEW, SourceError
from wefirst.tlog.errors import LogFormatError
from wefirst.tlog.source import LogSource
from wefirst.tlog.verify_cli import EXIT_USAGE, fail


class NetworkUnreadable(Exception):
    """A rule's network could not be read: the recount stops (a partial recount would report
    every counted action of that rule as gone)."""


@dataclass
class Recount:
    seen: list[SocialAction] = field(default_factory=list)
    partial_rules: list[str] = field(default_factory=list)  # "network action target" read not to its end


def network_client() -> httpx.Client:
    """The outbound guard of this machine's settings (WEFIRST_OUTBOUND_*); tests replace it
    with the same guard over a fake network."""
    return OutboundPolicy.from_settings(Settings()).client(timeout=15.0)


def social_rules(campaign: Mapping[str, Any]) -> list[PerSocialActionRule]:
    """The campaign's social rules from its public JSON (the definition the API accepted)."""
    rules = campaign.get("rules")
    if not isinstance(rules, list):
        raise ValueError("the campaign JSON has no rules list")
    out = []
    for d in rules:
        if isinstance(d, dict) and d.get("kind") == "per_social_action":
            r = rule_from_json(d)
            assert isinstance(r, PerSocialActionRule)
            out.append(r)
    return out


def read_networks(
    client: httpx.Client,
    rules: Sequence[PerSocialActionRule],
    now: datetime,
    *,
    mastodon_instance: str | None = None,
    bsky_base: str = BSKY_APPVIEW,
) -> Recount:
    """Every rule's current public actions (brand-only lists, such as Mastodon quotes, are not
    readable without the brand's token and stop the recount with the reason)."""
    out = Recount()
    for rule in rules:
        try:
            actions, complete = fetch_rule(
                client, rule, now, mastodon_instance=mastodon_instance, bsky_base=bsky_base
            )
        except (SourceError, httpx.HTTPError) as exc:
            raise NetworkUnreadable(f"{rule.network} {rule.action} {rule.target}: {exc}") from exc
        out.seen.extend(actions)
        if not complete:
            out.partial_rules.append(f"{rule.network} {rule.action} {rule.target}")
    return out


def read_for_verify(
    source: LogSource, api_root: str, campaign: str, mastodon_instance: str | None, bsky: str | None
) -> tuple[list[SocialAction], list[str]]:
    """`wefirst verify social` without an export: the campaign's rules from its public JSON,
    then each rule's public actions now. Bad input (unknown campaign, no social rule, a network
    that cannot be read) is a usage error: exit 2 with the fix, nothing more read."""
    data = source.get_url(f"{api_root.rstrip('/')}/v1/campaigns/{campaign}")
    if data is None:
        fail(EXIT_USAGE, f"no public campaign {campaign} at {api_root}: check the id (cmp_…) and --api")
    try:
        rules = social_rules(json.loads(data))
    except (ValueError, KeyError, TypeError) as exc:
        raise LogFormatError(f"the campaign {campaign}: {exc}") from None
    if not rules:
        fail(EXIT_USAGE, f"{campaign} has no social rule: nothing to recount")
    try:
        with network_client() as client:
            found = read_networks(
                client, rules, utcnow(), mastodon_instance=mastodon_instance, bsky_base=bsky or BSKY_APPVIEW
            )
    except NetworkUnreadable as exc:
        fail(
            EXIT_USAGE,
            f"cannot read {exc}; check the network is reachable from here (WEFIRST_OUTBOUND_* settings), "
            "or pass --export FILE saved by `wefirst social poll --save-export`",
        )
    return found.seen, found.partial_rules
