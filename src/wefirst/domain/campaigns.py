"""Impact units, campaigns and pledge rules as immutable values.

An impact unit is versioned: changing its cost basis makes a new version, and every pledge
keeps the version it was made under, so a later price change never rewrites old promises."""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from wefirst.domain.money import Money
from wefirst.domain.social import (
    AccountCriteria,
    SocialActionKind,
    SocialNetwork,
    normalize_target,
)

MAX_BPS = 10_000


class CampaignStatus(StrEnum):
    draft = "draft"
    active = "active"
    paused = "paused"
    ended = "ended"


# Which status changes a brand may make; "ended" is final.
STATUS_TRANSITIONS: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    CampaignStatus.draft: frozenset({CampaignStatus.active, CampaignStatus.ended}),
    CampaignStatus.active: frozenset({CampaignStatus.paused, CampaignStatus.ended}),
    CampaignStatus.paused: frozenset({CampaignStatus.active, CampaignStatus.ended}),
    CampaignStatus.ended: frozenset(),
}


@dataclass(frozen=True)
class UnitLabel:
    singular: str
    plural: str

    def for_count(self, n: int) -> str:
        return self.singular if abs(n) == 1 else self.plural


@dataclass(frozen=True)
class Outcome:
    """ "3 doses protect 1 child": `units_per_outcome`=3 and the outcome's labels."""

    units_per_outcome: int
    labels: dict[str, UnitLabel]


@dataclass(frozen=True)
class ImpactUnit:
    id: str
    version: int
    labels: dict[str, UnitLabel]  # by language; "en" always present
    cost_per_unit: Money
    cost_source: str
    cost_date: date
    mode: Literal["funds", "delivers"]
    outcome: Outcome | None = None

    def label(self, lang: str, n: int) -> str:
        return (self.labels.get(lang) or self.labels["en"]).for_count(n)


@dataclass(frozen=True)
class PerUnitRule:
    sku_patterns: tuple[str, ...]
    units_per_item: int
    kind: Literal["per_unit"] = "per_unit"

    def matches(self, sku: str) -> bool:
        return sku_matches(self.sku_patterns, sku)


@dataclass(frozen=True)
class PerClickRule:
    units_per_click: int
    kind: Literal["per_click"] = "per_click"


#: Which price a percentage is of. "as_reported": the price exactly as the source sends it, tax
#: included or not as that source does (the disclosure says so); "with_tax" / "without_tax": the
#: engine takes that price, converting a source's price when the tax amount is sent, and counts
#: nothing for a line whose basis it cannot establish (outcome `tax_unknown`).
PriceBasis = Literal["as_reported", "with_tax", "without_tax"]


@dataclass(frozen=True)
class PercentOfSaleRule:
    basis_points: int
    sku_patterns: tuple[str, ...] = ("*",)
    price_basis: PriceBasis = "as_reported"
    kind: Literal["percent_of_sale"] = "percent_of_sale"

    def matches(self, sku: str) -> bool:
        return sku_matches(self.sku_patterns, sku)


@dataclass(frozen=True)
class PerOrderRule:
    units_per_order: int
    kind: Literal["per_order"] = "per_order"


@dataclass(frozen=True)
class PerSocialActionRule:
    """Units per public action (like, repost, quote, reply, hashtag post) on one network,
    counted once per account per rule — per campaign, or per UTC day when `period` is "day".
    `cap_units` bounds what this rule alone may pledge (the campaign's caps apply too)."""

    action: SocialActionKind
    network: SocialNetwork
    target: str  # a post URL or AT-URI, or a hashtag for "hashtag_post"
    units_per_action: int
    cap_units: int | None = None
    period: Literal["campaign", "day"] = "campaign"
    criteria: AccountCriteria = field(default_factory=AccountCriteria)
    kind: Literal["per_social_action"] = "per_social_action"

    @property
    def key(self) -> str:
        """Stable across edits of other rules: what the rule counts, not its position."""
        what = f"{self.network} {self.action} {normalize_target(self.action, self.target)}"
        return hashlib.sha256(what.encode()).hexdigest()[:16]

    def matches(self, network: str, action: str, target: str) -> bool:
        return (
            network == self.network
            and action == self.action
            and normalize_target(self.action, target) == normalize_target(self.action, self.target)
        )


Rule = PerUnitRule | PerClickRule | PercentOfSaleRule | PerOrderRule | PerSocialActionRule


@functools.lru_cache(maxsize=1024)
def _sku_regex(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(fnmatch.translate(p) for p in patterns))


def sku_matches(patterns: tuple[str, ...], sku: str) -> bool:
    """Shell-style patterns (`PAMPERS-*`), case-sensitive like SKUs themselves; compiled once
    per pattern set because this runs for every purchase line."""
    return _sku_regex(patterns).match(sku) is not None


@dataclass(frozen=True)
class Caps:
    total_units: int | None = None
    units_per_day: int | None = None
    total_money: int | None = None  # minor units of the campaign currency


DEFAULT_PAYMENT_WITHIN_DAYS = 30  # without a schedule: everything is due this long after the end


@dataclass(frozen=True)
class PaymentSchedule:
    """The pledges of each `period` are due `within_days` after it ends."""

    period: str  # month | quarter | campaign
    within_days: int


@dataclass(frozen=True)
class Campaign:
    id: str
    brand_id: str
    beneficiary_id: str
    name: str
    currency: str
    starts_at: datetime
    ends_at: datetime | None
    status: CampaignStatus
    rules: tuple[Rule, ...]
    unit: ImpactUnit
    caps: Caps = field(default_factory=Caps)
    match_bps: int = 0  # extra pledged by a matching partner: 10000 = doubles every pledge
    livemode: bool = True  # test-mode campaigns never reach the public log

    @property
    def public(self) -> bool:
        """Whether its ledger and definition belong in the public log and figures: live, and
        activated at least once (a draft is the brand's private work)."""
        return self.livemode and self.status != CampaignStatus.draft

    guaranteed_minimum: int | None = None  # minor units the brand pays whatever the sales
    payment_schedule: PaymentSchedule | None = None  # None: the default applies (and is said)
    product_names: tuple[tuple[str, str], ...] = ()  # (SKU, name), shown instead of patterns
    #: the IANA zone whose days the day caps count (and the disclosure's dates are in)
    time_zone: str = "UTC"
    #: who pays the match (a partner's name); None: the brand itself. The brand owes it either way
    match_funder: str | None = None

    def is_open_at(self, when: datetime) -> bool:
        if self.status is not CampaignStatus.active:
            return False
        if when < self.starts_at:
            return False
        return self.ends_at is None or when < self.ends_at


def outcome_figure(unit: ImpactUnit, units: int) -> dict[str, Any] | None:
    """What `units` of the impact unit achieve under its outcome conversion ("3 doses protect
    1 child"), computed exactly: whole outcomes (floor) and the units left towards the next,
    both shown so the figure never rounds up a promise. None without a conversion."""
    o = unit.outcome
    if o is None:
        return None
    count, remainder = divmod(max(units, 0), o.units_per_outcome)
    text: dict[str, str] = {}
    for lang in ("en", "fr"):
        label = (o.labels.get(lang) or o.labels["en"]).for_count(count)
        rest = unit.label(lang, remainder)
        if lang == "en":
            text[lang] = f"{count:,} {label}" + (
                f" (+{remainder:,} {rest} towards the next)" if remainder else ""
            )
        else:
            n = f"{count:,}".replace(",", "\u202f")
            text[lang] = f"{n} {label}" + (f" (+{remainder} {rest} vers le suivant)" if remainder else "")
    return {
        "count": count,
        "remainder_units": remainder,
        "units_per_outcome": o.units_per_outcome,
        "text": text,
    }
