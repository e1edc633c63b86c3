"""Validated input shapes, shared by the API and the CLI. Field names are the API's."""

from __future__ import annotations

import re
import zoneinfo
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from wefirst.domain.campaigns import sku_matches
from wefirst.domain.money import CURRENCIES
from wefirst.domain.social import REPORTED_BY_BRAND, normalize_target
from wefirst.plaintext import refused_in

Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["EUR"])]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Count = Annotated[int, Field(ge=1, le=1_000_000_000)]
SkuPattern = Annotated[str, Field(min_length=1, max_length=100)]


# Strict models still read dates and instants from their ISO text (JSON has no date type).
Instant = Annotated[AwareDatetime, Field(strict=False)]
Day = Annotated[date, Field(strict=False)]


class Strict(BaseModel):
    """The base of every input shape: unknown fields refused, numbers and booleans only as
    JSON numbers and booleans (`"1"` and `true` are not a quantity), and no control
    characters in any text (wefirst.plaintext), each refusal naming its field."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)

    @model_validator(mode="after")
    def _plain_text(self) -> Strict:
        for name in type(self).model_fields:
            for path, why in refused_in(getattr(self, name), name):
                raise ValueError(f"{path}: {why}")
        return self


class MoneyIn(Strict):
    amount: Annotated[int, Field(ge=0, le=10**15, strict=True)]
    currency: Currency

    @model_validator(mode="after")
    def _known_currency(self) -> MoneyIn:
        if self.currency not in CURRENCIES:
            raise ValueError(f"currency: unsupported currency {self.currency}")
        return self


class BrandIn(Strict):
    name: Name
    website: Annotated[str, Field(max_length=500, pattern=r"^https?://")] | None = None


class BeneficiaryIn(BrandIn):
    pass


class UnitLabelIn(Strict):
    singular: Annotated[str, Field(min_length=1, max_length=100)]
    plural: Annotated[str, Field(min_length=1, max_length=100)]


class OutcomeIn(Strict):
    units_per_outcome: Count
    labels: dict[Literal["en", "fr"], UnitLabelIn]

    @model_validator(mode="after")
    def _english(self) -> OutcomeIn:
        if "en" not in self.labels:
            raise ValueError("labels.en: is required")
        return self


class ImpactUnitIn(Strict):
    labels: dict[Literal["en", "fr"], UnitLabelIn]
    cost_per_unit: MoneyIn
    cost_source: Annotated[str, Field(min_length=1, max_length=300)]
    cost_date: Day
    mode: Literal["funds", "delivers"] = "funds"
    outcome: OutcomeIn | None = None

    @model_validator(mode="after")
    def _check(self) -> ImpactUnitIn:
        if "en" not in self.labels:
            raise ValueError("labels.en: is required")
        if self.cost_per_unit.amount <= 0:
            raise ValueError("cost_per_unit.amount: must be positive")
        return self


class PerUnitRuleIn(Strict):
    kind: Literal["per_unit"]
    sku_patterns: Annotated[list[SkuPattern], Field(min_length=1, max_length=50)]
    units_per_item: Count


class PerClickRuleIn(Strict):
    kind: Literal["per_click"]
    units_per_click: Count


class PercentOfSaleRuleIn(Strict):
    kind: Literal["percent_of_sale"]
    basis_points: Annotated[int, Field(ge=1, le=10_000)]
    sku_patterns: Annotated[list[SkuPattern], Field(min_length=1, max_length=50)] = ["*"]
    #: which price the percentage is of (domain/campaigns.py `PriceBasis`); stated in the
    #: disclosure and applied by the engine (docs/connectors.md, "Tax basis")
    price_basis: Literal["as_reported", "with_tax", "without_tax"] = "as_reported"


class PerOrderRuleIn(Strict):
    kind: Literal["per_order"]
    units_per_order: Count


class AccountCriteriaIn(Strict):
    """Who may count (domain/social.py says which attack each criterion bounds)."""

    min_account_age_days: Annotated[int, Field(ge=0, le=3650)] = 30
    min_posts: Annotated[int, Field(ge=0, le=1_000_000)] = 5
    allow_bots: bool = False
    burst_window_hours: Annotated[int, Field(ge=1, le=24 * 365)] = 24
    burst_max: Annotated[int, Field(ge=1, le=1_000_000)] = 20


class PerSocialActionRuleIn(Strict):
    kind: Literal["per_social_action"]
    action: Literal["like", "repost", "quote", "reply", "hashtag_post"]
    network: Literal["bluesky", "mastodon", "facebook", "instagram", "tiktok"]  # last three: brand-reported
    target: Annotated[str, Field(min_length=2, max_length=500)]
    units_per_action: Count
    cap_units: Count | None = None
    period: Literal["campaign", "day"] = "campaign"
    criteria: AccountCriteriaIn = AccountCriteriaIn()

    @model_validator(mode="after")
    def _target(self) -> PerSocialActionRuleIn:
        t = self.target
        if self.action == "hashtag_post":
            if not re.fullmatch(r"#?\w{1,100}", t):
                raise ValueError("target: a hashtag (letters, digits, _), e.g. #DoudouVaccins")
        elif self.network == "bluesky" and not (
            re.fullmatch(r"at://did:[a-z]+:[A-Za-z0-9._:%-]+/app\.bsky\.feed\.post/[A-Za-z0-9._~-]+", t)
            or re.fullmatch(r"https://bsky\.app/profile/[^/\s]+/post/[A-Za-z0-9._~-]+/?", t)
        ):
            raise ValueError(
                "target: a Bluesky post, as its AT-URI (at://did:…/app.bsky.feed.post/…) or its address "
                "https://bsky.app/profile/<handle>/post/<id>"
            )
        elif self.network == "mastodon" and not re.fullmatch(r"https://[^/\s]+/\S+", t):
            raise ValueError("target: a Mastodon post URL (https://instance/@user/123…)")
        elif self.network in REPORTED_BY_BRAND and not re.fullmatch(r"https://[^/\s]+/\S+", t):
            raise ValueError("target: the post's https URL on the platform, as the brand's export names it")
        return self


RuleIn = Annotated[
    PerUnitRuleIn | PerClickRuleIn | PercentOfSaleRuleIn | PerOrderRuleIn | PerSocialActionRuleIn,
    Field(discriminator="kind"),
]


class CapsIn(Strict):
    total_units: Count | None = None
    units_per_day: Count | None = None
    total_money: MoneyIn | None = None


class PaymentScheduleIn(Strict):
    """When the brand pays what was pledged: the pledges of each month (or quarter, or the
    whole campaign) are due `within_days` after that period ends. Late is judged against it
    (`ledger/verdict.py`) and the disclosure states it."""

    period: Literal["month", "quarter", "campaign"]
    within_days: Annotated[int, Field(ge=0, le=365)]


Sku = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^*?\s]+$")]


def _known_zone(name: str) -> str:
    if name not in _ZONES:
        raise ValueError("an IANA time zone name, e.g. UTC or Europe/Paris")
    return name


_ZONES = frozenset(zoneinfo.available_timezones()) | {"UTC"}
TimeZone = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_known_zone)]
ProductName = Annotated[str, Field(min_length=1, max_length=120)]


class CampaignIn(Strict):
    name: Name
    beneficiary_id: Annotated[str, Field(pattern=r"^ben_[0-9a-z]{26}$")]
    currency: Currency
    starts_at: Instant
    ends_at: Instant | None = None
    impact_unit: ImpactUnitIn
    rules: Annotated[list[RuleIn], Field(min_length=1, max_length=10)]
    caps: CapsIn = CapsIn()
    match_bps: Annotated[int, Field(ge=0, le=100_000)] = 0
    guaranteed_minimum: MoneyIn | None = None
    payment_schedule: PaymentScheduleIn | None = None
    #: SKU -> product name, shown to consumers instead of the rules' SKU patterns
    product_names: Annotated[dict[Sku, ProductName], Field(max_length=200)] = Field(default_factory=dict)
    #: the IANA time zone whose days the day caps count; set once, at creation (a change would
    #: move the boundary of days already counted)
    time_zone: TimeZone = "UTC"
    #: who pays the match (a partner's name); absent: the brand. Stated in the disclosure
    match_funder: Name | None = None
    status: Literal["draft", "active"] = "draft"

    @model_validator(mode="after")
    def _consistent(self) -> CampaignIn:
        check_campaign_shape(self)
        return self


class CampaignPatch(Strict):
    """Changes that make a new campaign version (and a `campaign_changed` log entry)."""

    name: Name | None = None
    ends_at: Instant | None = None
    rules: Annotated[list[RuleIn], Field(min_length=1, max_length=10)] | None = None
    caps: CapsIn | None = None
    match_bps: Annotated[int, Field(ge=0, le=100_000)] | None = None
    impact_unit: ImpactUnitIn | None = None
    payment_schedule: PaymentScheduleIn | None = None
    product_names: Annotated[dict[Sku, ProductName], Field(max_length=200)] | None = None
    match_funder: Name | None = None


class StatusIn(Strict):
    status: Literal["active", "paused", "ended"]


def check_campaign_shape(c: CampaignIn) -> None:
    """Cross-field rules, run on creation and again on the merged result of a patch."""
    if c.currency not in CURRENCIES:
        raise ValueError(f"currency: unsupported currency {c.currency}")
    if c.ends_at is not None and c.ends_at <= c.starts_at:
        raise ValueError("ends_at: must be after starts_at")
    for label, m in (
        ("impact_unit.cost_per_unit", c.impact_unit.cost_per_unit),
        ("caps.total_money", c.caps.total_money),
        ("guaranteed_minimum", c.guaranteed_minimum),
    ):
        if m is not None and m.currency != c.currency:
            raise ValueError(f"{label}.currency: must be the campaign currency {c.currency}")
    if c.match_funder is not None and not c.match_bps:
        raise ValueError("match_funder: names who pays a match; set match_bps too")
    patterns = [p for r in c.rules if isinstance(r, PerUnitRuleIn) for p in r.sku_patterns]
    for sku in c.product_names:
        if not sku_matches(tuple(patterns), sku):
            raise ValueError(f"product_names.{sku}: matches no per_unit rule's sku_patterns")
    kinds = [r.kind for r in c.rules if r.kind != "per_social_action"]
    if len(set(kinds)) != len(kinds):
        raise ValueError("rules: at most one rule of each kind")
    social = [
        (r.network, r.action, normalize_target(r.action, r.target))
        for r in c.rules
        if isinstance(r, PerSocialActionRuleIn)
    ]
    if len(set(social)) != len(social):
        raise ValueError("rules: at most one per_social_action rule per network, action and target")
