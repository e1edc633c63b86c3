"""A brand's own platform export (Facebook, Instagram, TikTok: networks without public APIs)
imported as social actions, counted under the campaign's same rules — criteria, once per
account, caps, window — and marked "reported by the brand" (`domain.social.REPORTED_BY_BRAND`)
in the disclosure, on the page and in the API, never as verified.

The format (CSV, UTF-8, comma-separated, a header row naming these columns in any order;
docs/social.md has an example):

    action              like | repost | quote | reply | hashtag_post
    target              the rule's target exactly: the post's URL, or the hashtag
    account_id          the platform's id of the acting account (not its name: it is hashed)
    account_created_at  when that account was created (ISO 8601 date or date-time, UTC if no zone)
    account_posts       how many posts the account has (a whole number)
    account_is_bot      true | false (empty: false)
    occurred_at         when the action happened (ISO 8601)
    action_id           optional: the platform's id of the action (a comment's id) — its
                        commitment then covers it, else `<network>:<account_id> <action> <target>`

The whole file is read and checked before anything is counted: one bad row and nothing is
imported, and the error names the line, the column and what to write instead."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime

from wefirst.catalog.service import load_campaign
from wefirst.domain.campaigns import PerSocialActionRule
from wefirst.domain.social import ACTIONS, REPORTED_BY_BRAND, Account, SocialAction, SocialNetwork
from wefirst.pledges.batch import Batch
from wefirst.pledges.social import apply_social_action, prefetch_seen
from wefirst.social.poll import PollResult
from wefirst.store.db import Database

COLUMNS = ("action", "target", "account_id", "account_created_at", "account_posts", "account_is_bot",
           "occurred_at", "action_id")  # fmt: skip
REQUIRED = ("action", "target", "account_id", "account_created_at", "account_posts", "occurred_at")
MAX_ROWS = 1_000_000


class ExportError(Exception):
    """The export cannot be imported; the message says where and how to fix it."""


@dataclass(frozen=True)
class Problem:
    line: int
    column: str
    fix: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.fix}"


def _time(value: str) -> datetime:
    d = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return d if d.tzinfo is not None else d.replace(tzinfo=UTC)


def parse_export(data: bytes, network: str) -> list[SocialAction]:
    """Every row as a social action, or `ExportError` naming the first problems (at most 5)."""
    if network not in REPORTED_BY_BRAND:
        raise ExportError(
            f"--network {network}: an export is for networks without a public API "
            f"({', '.join(sorted(REPORTED_BY_BRAND))}); Bluesky and Mastodon are read from the network"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ExportError("the file is not UTF-8 text: export it as CSV (UTF-8) from the platform") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or ()]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ExportError(
            f"line 1 (header): missing column(s) {', '.join(missing)}; the header must name "
            f"{', '.join(REQUIRED)} (and optionally account_is_bot, action_id)"
        )
    net: SocialNetwork = network  # type: ignore[assignment]  # checked against REPORTED_BY_BRAND
    problems: list[Problem] = []
    out: list[SocialAction] = []
    for n, raw in enumerate(reader, start=2):
        if n > MAX_ROWS + 1:
            raise ExportError(f"more than {MAX_ROWS} rows: split the export into several files")
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if isinstance(v, str)}
        action = row.get("action", "")
        if action not in ACTIONS:
            problems.append(Problem(n, "action", f"{action!r} is not one of {', '.join(ACTIONS)}"))
        for col in ("target", "account_id"):
            if not row.get(col):
                problems.append(Problem(n, col, "empty; every row needs it"))
        try:
            created = _time(row.get("account_created_at", ""))
        except ValueError:
            problems.append(
                Problem(n, "account_created_at", "write a date like 2024-05-31 or 2024-05-31T09:00:00Z")
            )
        try:
            when = _time(row.get("occurred_at", ""))
        except ValueError:
            problems.append(Problem(n, "occurred_at", "write a date-time like 2026-03-14T09:00:00Z"))
        posts = row.get("account_posts", "")
        if not posts.isdigit():
            problems.append(Problem(n, "account_posts", f"{posts!r}: write a whole number (0 if none)"))
        bot = row.get("account_is_bot", "").lower()
        if bot not in ("", "true", "false"):
            problems.append(Problem(n, "account_is_bot", f"{bot!r}: write true or false"))
        if problems:
            if len(problems) >= 5:
                break
            continue
        account = Account(f"{network}:{row['account_id']}", created, int(posts), bot == "true")
        uri = f"{network}:{row['action_id']}" if row.get("action_id") else None
        out.append(SocialAction(net, action, row["target"], account, when, uri=uri))  # type: ignore[arg-type]
    if problems:
        raise ExportError("; ".join(str(p) for p in problems[:5]) + " — nothing was imported")
    if not out:
        raise ExportError("no rows after the header: nothing to import")
    return out


def import_export(db: Database, campaign_id: str, network: str, data: bytes, now: datetime) -> PollResult:
    """Check the whole file, then count it in one transaction (one engine batch), like a poll.
    Re-importing the same export changes nothing (each row is a `duplicate`)."""
    actions = parse_export(data, network)
    with db.read() as conn:
        rules = [r for r in load_campaign(conn, campaign_id).campaign.rules
                 if isinstance(r, PerSocialActionRule) and r.network == network]  # fmt: skip
    if not rules:
        raise ExportError(
            f"campaign {campaign_id} has no per_social_action rule with network {network}: add one "
            "(its action and target are what the export's rows must name) before importing"
        )
    result = PollResult()
    result.seen.extend(actions)
    with db.write() as conn:
        batch = Batch(conn)
        prefetch_seen(batch, campaign_id, actions)
        for a in actions:
            result.add(apply_social_action(conn, campaign_id, a, received_at=now, batch=batch).outcome)
        batch.flush()
    return result
