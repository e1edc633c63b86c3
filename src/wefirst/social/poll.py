"""One poll of a campaign's social rules: fetch each rule's current actions from its network
(outside any transaction), then pledge them through the engine in one batch per rule, and
reverse what was counted but is no longer there (un-liked, boost deleted).

Withdrawals are only inferred from a *complete* list (Mastodon favourited_by/reblogged_by,
Bluesky getLikes/getRepostedBy read to their last page); a failed or partial fetch counts
nothing and reverses nothing for that rule. Hashtag posts are never inferred withdrawn here
(a timeline is read forward only)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx

from wefirst.catalog.service import load_campaign
from wefirst.domain.campaigns import PerSocialActionRule
from wefirst.domain.social import SocialAction, action_commitment
from wefirst.pledges.batch import Batch
from wefirst.pledges.social import (
    apply_social_action,
    counted_commitments,
    prefetch_seen,
    retract_social_action,
)
from wefirst.secretbox import SecretBox, SecretBoxError
from wefirst.social.sources import (
    BSKY_APPVIEW,
    SourceError,
    bluesky_actions,
    mastodon_actions,
    mastodon_hashtag,
)
from wefirst.social.tokens import open_token, server_of
from wefirst.store.db import Database

# A list read now may not show yet what a stream counted this recently (the AppView indexes
# after Jetstream relays): such actions are never inferred withdrawn by that read.
INDEX_LAG = timedelta(minutes=2)


@dataclass
class PollResult:
    outcomes: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    seen: list[SocialAction] = field(default_factory=list)

    def add(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


def fetch_rule(
    client: httpx.Client,
    rule: PerSocialActionRule,
    now: datetime,
    *,
    mastodon_instance: str | None = None,
    bsky_base: str = BSKY_APPVIEW,
    token: str | None = None,
) -> tuple[list[SocialAction], bool]:
    """The rule's current actions, and whether the list is complete (withdrawals inferable).
    `token`: the brand's for the rule's Mastodon server, if it gave one."""
    if rule.network == "mastodon" and rule.action == "hashtag_post":
        if mastodon_instance is None:
            raise SourceError("hashtag_post on Mastodon: pass the instance to read (--mastodon-instance)")
        return list(mastodon_hashtag(client, mastodon_instance, rule)), False
    if rule.network == "mastodon":  # a thread's context may be cut short: replies never complete
        return list(mastodon_actions(client, rule, now, token)), rule.action != "reply"
    # a search and a thread's replies may be cut short by the AppView: never read as complete
    return list(bluesky_actions(client, rule, now, bsky_base)), rule.action in ("like", "repost", "quote")


def apply_actions(
    db: Database, campaign_id: str, rule: PerSocialActionRule, actions: Iterable[SocialAction],
    *, complete: bool, now: datetime, result: PollResult,
) -> None:  # fmt: skip
    """Pledge (and reverse) in one transaction, one engine batch: the group commit of a poll."""
    actions = list(actions)
    with db.write() as conn:
        batch = Batch(conn)
        prefetch_seen(batch, campaign_id, actions)
        for a in actions:
            result.add(apply_social_action(conn, campaign_id, a, received_at=now, batch=batch).outcome)
        batch.flush()
        if complete:
            current = {action_commitment(a) for a in actions}
            counted = counted_commitments(conn, campaign_id, rule.key, received_before=now - INDEX_LAG)
            for gone in sorted(counted - current):
                result.add(retract_social_action(conn, campaign_id, gone, at=now, received_at=now))


def poll_campaign(
    db: Database,
    campaign_id: str,
    client: httpx.Client,
    now: datetime,
    *,
    mastodon_instance: str | None = None,
    bsky_base: str = BSKY_APPVIEW,
    on_rule: Callable[[PerSocialActionRule], None] | None = None,
    box: SecretBox | None = None,
) -> PollResult:
    """`box` opens the brand's sealed tokens (Mastodon quotes); without it none is sent."""
    tokens: dict[PerSocialActionRule, str | None] = {}
    result = PollResult()
    with db.read() as conn:
        loaded = load_campaign(conn, campaign_id)
        campaign = loaded.campaign
        for rule in campaign.rules:
            if box is not None and isinstance(rule, PerSocialActionRule) and rule.network == "mastodon":
                with contextlib.suppress(ValueError):  # a hashtag has no server
                    server = server_of(rule.target)
                    try:
                        tokens[rule] = open_token(conn, box, loaded.row.brand_id, "mastodon", server)
                    except SecretBoxError:  # polled without it: what is public still counts
                        result.errors.append(f"the brand's token for {server} does not open: set it again")
    for rule in campaign.rules:
        if not isinstance(rule, PerSocialActionRule):
            continue
        if on_rule is not None:
            on_rule(rule)
        try:
            actions, complete = fetch_rule(
                client, rule, now, mastodon_instance=mastodon_instance, bsky_base=bsky_base,
                token=tokens.get(rule),
            )  # fmt: skip
        except (SourceError, httpx.HTTPError) as exc:
            result.errors.append(f"{rule.network} {rule.action} {rule.target}: {exc}")
            continue
        result.seen.extend(actions)
        apply_actions(db, campaign_id, rule, actions, complete=complete, now=now, result=result)
    return result
