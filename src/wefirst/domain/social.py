"""Public social actions (likes, reposts, quotes, replies, hashtag posts) as pledge events.

Pure values and decisions, no I/O: what an action is, which rule target it hits, the public
commitment the log carries for it, and whether the acting account meets a campaign's criteria.

Anti-farm criteria, and the attack each one bounds (defaults in `AccountCriteria`):

- **minimum account age** — a farm created when the campaign is announced cannot count: the
  attacker must have made and kept its accounts for weeks beforehand.
- **minimum posts** — empty shell accounts (created in bulk, never used) cannot count: each
  counted account must have a visible history.
- **not flagged as a bot** — accounts that declare themselves automated (Mastodon `bot`,
  a Bluesky `bot` self-label) cannot count, so an honest automated account never inflates a tally.
- **not in a burst of new accounts** — a farm that *did* age its accounts is usually created
  together: at most `burst_max` counted accounts per rule may have been created within the
  same `burst_window_hours`; the rest are refused with reason `burst`. This bounds what one
  batch-created farm can add to `burst_max` actions, whatever its size.

Every refusal has one of the reasons in `Refusal`, recorded in the campaign's fraud report.

Commitments: the log never carries a handle or a name. Each counted action's log entry carries
`action_commitment(action)` = SHA-256 (hex) of its canonical public URI (`action_uri`): for
Bluesky the record's AT-URI (`at://did:plc:…/app.bsky.feed.like/…`); for Mastodon, whose
favourites and boosts have no URI of their own, `<account URL> <action> <target URL>`; for a
Mastodon reply, quote or hashtag post, the status URL. Anyone who knows the public action can
recompute it (the campaign page does so in the browser); the log alone names no one."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

SocialActionKind = Literal["like", "repost", "quote", "reply", "hashtag_post"]
SocialNetwork = Literal["bluesky", "mastodon", "facebook", "instagram", "tiktok"]
ACTIONS: tuple[SocialActionKind, ...] = ("like", "repost", "quote", "reply", "hashtag_post")
NETWORKS: tuple[SocialNetwork, ...] = ("bluesky", "mastodon", "facebook", "instagram", "tiktok")
# Networks without public APIs: their actions come only from the brand's own platform export
# (social/imports.py), are marked "reported by the brand" in the disclosure, on the page and in
# the API, and are never presented as verified (no one can re-count them from the network).
REPORTED_BY_BRAND: frozenset[str] = frozenset({"facebook", "instagram", "tiktok"})

Refusal = Literal["too_young", "too_few_posts", "bot", "burst", "no_profile"]


def normalize_target(action: SocialActionKind, target: str) -> str:
    """A hashtag compares without its '#' and case-insensitively (as both networks do); a
    post URL or AT-URI exactly, without a trailing slash."""
    t = target.strip()
    if action == "hashtag_post":
        return t.removeprefix("#").casefold()
    return t.rstrip("/")


@dataclass(frozen=True)
class Account:
    """What the network says publicly about the acting account."""

    uri: str  # Mastodon account URL, or Bluesky DID
    created_at: datetime | None
    posts: int
    bot: bool = False


@dataclass(frozen=True)
class SocialAction:
    """One public action seen on a network. `uri` is the action's own public URI when it has
    one (a Bluesky like/repost record, a Mastodon status); None for a Mastodon favourite or
    boost seen through `favourited_by`/`reblogged_by`."""

    network: SocialNetwork
    action: SocialActionKind
    target: str  # the post URL/AT-URI acted on, or the hashtag
    account: Account
    occurred_at: datetime
    uri: str | None = None
    # the acting record's own AT-URI when the source gives it (Jetstream: a like or repost
    # record, a post); not part of the commitment (the AppView's lists do not give it), only
    # what a later delete of that record is matched on
    record: str | None = None


def action_uri(a: SocialAction) -> str:
    """The canonical public URI whose SHA-256 is logged (see the module docstring)."""
    if a.uri is not None:
        return a.uri
    return f"{a.account.uri} {a.action} {normalize_target(a.action, a.target)}"


def action_commitment(a: SocialAction) -> str:
    return hashlib.sha256(action_uri(a).encode()).hexdigest()


def record_ref(record_uri: str) -> str:
    """What the `social_actions` row keeps of the acting record (a hash, as for commitments)."""
    return hashlib.sha256(record_uri.encode()).hexdigest()


def account_key(network: SocialNetwork, account_uri: str) -> str:
    """The account's key in the unique per-rule key (never shown; a hash, not the handle)."""
    return hashlib.sha256(f"{network} {account_uri}".encode()).hexdigest()


@dataclass(frozen=True)
class AccountCriteria:
    min_account_age_days: int = 30
    min_posts: int = 5
    allow_bots: bool = False
    burst_window_hours: int = 24
    burst_max: int = 20


def assess_account(
    criteria: AccountCriteria,
    account: Account,
    at: datetime,
    counted_created: list[datetime],
) -> Refusal | None:
    """Why `account` may not count an action at `at` (None: it may). `counted_created` are the
    creation times of the accounts already counted under the same rule."""
    if account.created_at is None:
        return "no_profile"
    if at - account.created_at < timedelta(days=criteria.min_account_age_days):
        return "too_young"
    if account.posts < criteria.min_posts:
        return "too_few_posts"
    if account.bot and not criteria.allow_bots:
        return "bot"
    window = timedelta(hours=criteria.burst_window_hours)
    near = sum(1 for c in counted_created if abs(c - account.created_at) < window)
    if near >= criteria.burst_max:
        return "burst"
    return None
