"""A campaign's counted social actions derived from log entries alone, and compared with what
the networks show (a saved export of their public lists). Pure: no I/O.

Each counted action is a `pledge` entry with rule `per_social_action` carrying the action's
commitment (SHA-256 of its public URI, domain/social.py); a `pledge_reversal` names the pledge
it takes back (a withdrawn action). So the tally is: commitments pledged minus reversed.
Used by `wefirst verify social CAMPAIGN`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wefirst.domain.social import Account, SocialAction, action_commitment


@dataclass
class SocialTally:
    campaign: str
    counted: dict[str, int] = field(default_factory=dict)  # commitment → units
    _by_pledge: dict[str, str] = field(default_factory=dict)

    def add(self, entry: Mapping[str, Any]) -> None:
        if entry.get("campaign") != self.campaign:
            return
        kind = entry.get("kind")
        if kind == "pledge" and entry.get("rule") == "per_social_action":
            commitment, pledge = entry.get("commitment"), entry.get("pledge")
            units = entry.get("units")
            if isinstance(commitment, str) and isinstance(pledge, str):
                self.counted[commitment] = units if isinstance(units, int) else 0
                self._by_pledge[pledge] = commitment
        elif kind == "pledge_reversal" and entry.get("pledge") in self._by_pledge:
            self.counted.pop(self._by_pledge[str(entry.get("pledge"))], None)

    @property
    def units(self) -> int:
        return sum(self.counted.values())


def action_from_json(d: Mapping[str, Any]) -> SocialAction:
    """One line of an export (`wefirst social poll --save-export`)."""
    acc = d["account"]
    created = acc.get("created_at")
    return SocialAction(
        network=d["network"],
        action=d["action"],
        target=d["target"],
        account=Account(
            acc["uri"],
            datetime.fromisoformat(created) if created else None,
            int(acc.get("posts", 0)),
            bool(acc.get("bot", False)),
        ),
        occurred_at=datetime.fromisoformat(d["occurred_at"]),
        uri=d.get("uri"),
    )


def action_to_json(a: SocialAction) -> str:
    acc = a.account
    return json.dumps(
        {
            "network": a.network,
            "action": a.action,
            "target": a.target,
            "uri": a.uri,
            "occurred_at": a.occurred_at.isoformat(),
            "account": {
                "uri": acc.uri,
                "created_at": acc.created_at.isoformat() if acc.created_at else None,
                "posts": acc.posts,
                "bot": acc.bot,
            },
        },
        sort_keys=True,
    )


@dataclass(frozen=True)
class SocialDifferences:
    # in the log, not on the networks now: withdrawn after settlement, or invented
    counted_not_seen: list[str]
    # on the networks, not counted: refused, over a cap, a duplicate, or not seen yet
    not_counted: list[str]

    @property
    def seen_not_counted(self) -> int:
        return len(self.not_counted)

    @property
    def ok(self) -> bool:
        return not self.counted_not_seen


def compare(tally: SocialTally, seen: Iterable[SocialAction]) -> SocialDifferences:
    commitments = {action_commitment(a) for a in seen}
    return SocialDifferences(
        counted_not_seen=sorted(set(tally.counted) - commitments),
        not_counted=sorted(commitments - set(tally.counted)),
    )
