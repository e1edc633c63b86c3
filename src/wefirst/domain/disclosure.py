"""The consumer disclosure of a campaign, generated from its settings in French and English.

Cause-marketing standards (e.g. BBB Wise Giving Alliance Standard 19) ask that a consumer can
see, at the point of purchase or click: what is given per purchase or click, the window, any
cap, any guaranteed minimum, and who benefits. Generating the text from the very settings that
drive the pledge engine means the promise and the arithmetic cannot drift apart: every sentence
below reads one setting the engine enforces (`tests/domain/test_domain_disclosure_claims.py`
checks each against the settings, in both languages).

The wording is in the gettext catalogue (`N_` marks each English message here; the caller
passes the catalogue's `gettext` for the language, `wefirst.catalog.disclosure`), so this module
stays pure: numbers, money and dates are formatted here with Babel's locale data."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from wefirst.domain.campaigns import (
    DEFAULT_PAYMENT_WITHIN_DAYS,
    Campaign,
    PercentOfSaleRule,
    PerClickRule,
    PerOrderRule,
    PerSocialActionRule,
    PerUnitRule,
    Rule,
    sku_matches,
)
from wefirst.domain.money import exponent
from wefirst.domain.social import REPORTED_BY_BRAND

LANGS = ("en", "fr")
_LOCALE = {"en": "en_GB", "fr": "fr_FR"}

#: The catalogue lookup of one language (`gettext.NullTranslations.gettext` or the like).
Gettext = Callable[[str], str]


def N_(message: str) -> str:  # noqa: N802 - the name gettext's extraction looks for
    return message


def money_text(amount: int, currency: str, lang: str) -> str:
    value = amount / 10 ** exponent(currency) if exponent(currency) else amount
    return str(format_currency(value, currency, locale=_LOCALE[lang]))


def number_text(n: int, lang: str) -> str:
    return str(format_decimal(n, locale=_LOCALE[lang]))


def percent_text(bps: int, lang: str) -> str:
    """ "2.5%" / "2,5 %" (French puts a no-break space before the sign)."""
    n = format_decimal(Decimal(bps) / 100, locale=_LOCALE[lang])
    return f"{n}%" if lang == "en" else f"{n}\u00a0%"


class _Words:
    """One language's catalogue and number formats for one rendering."""

    def __init__(self, c: Campaign, lang: str, gettext: Gettext) -> None:
        self.c, self.lang, self._ = c, lang, gettext

    def __call__(self, message: str, **values: object) -> str:
        return self._(message).format(**values)

    def units(self, n: int) -> str:
        return f"{number_text(n, self.lang)} {self.c.unit.label(self.lang, n)}"

    def gives(self, brand: str, n: int) -> str:
        """ "Aqua funds 2 days of water" / "… delivers …": the unit's funds/delivers meaning."""
        if self.c.unit.mode == "funds":
            return self(N_("{brand} funds {units}"), brand=brand, units=self.units(n))
        return self(N_("{brand} delivers {units}"), brand=brand, units=self.units(n))

    def cost(self) -> str:
        return money_text(self.c.unit.cost_per_unit.amount, self.c.currency, self.lang)

    def number(self, n: int) -> str:
        return number_text(n, self.lang)


def _rule_sentence(w: _Words, rule: Rule, brand: str) -> str:
    c = w.c
    if isinstance(rule, PerUnitRule):
        return w(
            N_("For each eligible product bought ({products}), {gives} (valued at {cost} each)."),
            products=_products(c, rule),
            gives=w.gives(brand, rule.units_per_item),
            cost=w.cost(),
        )
    if isinstance(rule, PerClickRule):
        # one per browser per UTC day: the widget's visitor keys and the engine's click key
        # are per UTC day, whatever the campaign's zone (widget/fraud.py Limits)
        return w(
            N_(
                "For each counted click, {gives} (valued at {cost} each); one click per browser "
                "per day (UTC) is counted, with limits per network."
            ),
            gives=w.gives(brand, rule.units_per_click),
            cost=w.cost(),
        )
    if isinstance(rule, PercentOfSaleRule):
        return _percent_sentence(w, rule, brand)
    if isinstance(rule, PerSocialActionRule):
        return _social_sentence(w, rule, brand)
    assert isinstance(rule, PerOrderRule)
    return w(N_("For each order, {gives}."), gives=w.gives(brand, rule.units_per_order))


_PERCENT = {
    "as_reported": N_(
        "{brand} gives {pct} of the price of each eligible purchase as the shop reports it "
        "(with or without tax, as the shop sends it), which {verb} {units} at {cost} each."
    ),
    "with_tax": N_(
        "{brand} gives {pct} of the price including tax of each eligible purchase, which "
        "{verb} {units} at {cost} each."
    ),
    "without_tax": N_(
        "{brand} gives {pct} of the price excluding tax of each eligible purchase, which "
        "{verb} {units} at {cost} each."
    ),
}


def _percent_sentence(w: _Words, rule: PercentOfSaleRule, brand: str) -> str:
    """The price basis is the rule's own (`domain/rules.py` `sale_base` applies it)."""
    verb = w(N_("funds")) if w.c.unit.mode == "funds" else w(N_("delivers"))
    return w(
        _PERCENT[rule.price_basis],
        brand=brand,
        pct=percent_text(rule.basis_points, w.lang),
        verb=verb,
        units=w.c.unit.label(w.lang, 2),
        cost=w.cost(),
    )


def _products(c: Campaign, rule: PerUnitRule) -> str:
    """The products by name (the campaign's SKU catalogue) rather than SKU patterns a consumer
    cannot read; the patterns only when the catalogue names none of the rule's products."""
    names = sorted({name for sku, name in c.product_names if sku_matches(rule.sku_patterns, sku)})
    return ", ".join(names) if names else ", ".join(rule.sku_patterns)


_SCHEDULE = {
    "month": N_(
        "{brand} pays {beneficiary} the pledges of each month within {days} days after the month ends."
    ),
    "quarter": N_(
        "{brand} pays {beneficiary} the pledges of each quarter within {days} days after the quarter ends."
    ),
    "campaign": N_("{brand} pays {beneficiary} what was pledged within {days} days after the campaign ends."),
}


def _payment_sentence(w: _Words, brand: str, beneficiary: str) -> str:
    """When the money is paid: the schedule the ledger judges "late" against."""
    s = w.c.payment_schedule
    if s is None:
        return w(
            N_(
                "{brand} has set no payment schedule: {brand} pays {beneficiary} what was pledged "
                "within {days} days after the campaign ends."
            ),
            brand=brand,
            beneficiary=beneficiary,
            days=w.number(DEFAULT_PAYMENT_WITHIN_DAYS),
        )
    return w(_SCHEDULE[s.period], brand=brand, beneficiary=beneficiary, days=w.number(s.within_days))


_NETWORK = {"bluesky": "Bluesky", "mastodon": "Mastodon", "facebook": "Facebook", "instagram": "Instagram",
            "tiktok": "TikTok"}  # fmt: skip
_SOCIAL_WHAT = {
    "like": N_("For each public like of the post {target} on {network}, {gives} (valued at {cost} each)."),
    "repost": N_(
        "For each public repost (boost) of the post {target} on {network}, {gives} (valued at {cost} each)."
    ),
    "quote": N_("For each public quote of the post {target} on {network}, {gives} (valued at {cost} each)."),
    "reply": N_("For each public reply to the post {target} on {network}, {gives} (valued at {cost} each)."),
    "hashtag_post": N_(
        "For each public original post with #{target} on {network}, {gives} (valued at {cost} each)."
    ),
}
_SOCIAL_WITHDRAWN = {
    "like": N_("likes undone"),
    "repost": N_("reposts deleted"),
    "quote": N_("quotes deleted"),
    "reply": N_("replies deleted"),
    "hashtag_post": N_("posts deleted"),
}


def _social_sentence(w: _Words, rule: PerSocialActionRule, brand: str) -> str:
    """Exactly what counts and what does not: the criteria are the engine's own settings."""
    target = rule.target.strip().removeprefix("#") if rule.action == "hashtag_post" else rule.target
    k = rule.criteria
    per = N_("per account per day") if rule.period == "day" else N_("per account for the whole campaign")
    who = (
        N_("from accounts at least {days} days old with at least {posts} posts")
        if k.allow_bots
        else N_("from accounts at least {days} days old with at least {posts} posts, not flagged as bots")
    )
    out = [
        w(
            _SOCIAL_WHAT[rule.action],
            target=target,
            network=_NETWORK[rule.network],
            gives=w.gives(brand, rule.units_per_action),
            cost=w.cost(),
        ),
        w(
            N_(
                "Counted: one action {per}, {who}; at most {accounts} accounts created within "
                "{hours} hours of each other."
            ),
            per=w(per),
            who=w(who, days=w.number(k.min_account_age_days), posts=w.number(k.min_posts)),
            accounts=w.number(k.burst_max),
            hours=w.number(k.burst_window_hours),
        ),
    ]
    out.append(
        w(
            N_(
                "Not counted: other networks or posts, actions outside the campaign's window, "
                "{withdrawn} before settlement, accounts that fail these criteria."
            ),
            withdrawn=w(_SOCIAL_WITHDRAWN[rule.action]),
        )
    )
    if rule.cap_units is not None:
        out.append(w(N_("This rule gives at most {units}."), units=w.units(rule.cap_units)))
    if rule.network in REPORTED_BY_BRAND:
        out.append(
            w(
                N_(
                    "Reported by the brand: {brand} supplies these actions from its own {network} "
                    "export; they are not verified and no one can re-count them on the network."
                ),
                brand=brand,
                network=_NETWORK[rule.network],
            )
        )
    return " ".join(out)


_PURCHASE_RULES = (PerUnitRule, PercentOfSaleRule, PerOrderRule)


def _minimum_sentence(w: _Words, brand: str, amount: str) -> str:
    """Worded for what the campaign counts: a click campaign's minimum is not "whatever the
    sales"."""
    rules = w.c.rules
    if all(isinstance(r, PerClickRule) for r in rules):
        msg = N_("{brand} guarantees a minimum donation of {amount}, whatever the number of clicks.")
    elif all(isinstance(r, _PURCHASE_RULES) for r in rules):
        msg = N_("{brand} guarantees a minimum donation of {amount}, whatever the sales.")
    elif all(isinstance(r, PerSocialActionRule) for r in rules):
        msg = N_("{brand} guarantees a minimum donation of {amount}, whatever the number of public actions.")
    else:
        msg = N_("{brand} guarantees a minimum donation of {amount}, whatever the results.")
    return w(msg, brand=brand, amount=amount)


def _match_sentence(w: _Words, brand: str, beneficiary: str) -> str:
    """Who funds the match (`match_funder`, else the brand). The ledger counts the match in the
    brand's pledges, so the brand owes the whole either way, and the text says so."""
    pct = percent_text(w.c.match_bps, w.lang)
    if w.c.match_funder is None:
        return w(N_("{brand} adds {pct} to every pledge (a match it also owes)."), brand=brand, pct=pct)
    return w(
        N_(
            "{funder} funds a match of {pct} on every pledge; {brand} owes {beneficiary} the whole, "
            "match included."
        ),
        funder=w.c.match_funder,
        pct=pct,
        brand=brand,
        beneficiary=beneficiary,
    )


def disclosure(c: Campaign, brand: str, beneficiary: str, lang: str, gettext: Gettext) -> str:
    """One paragraph a consumer can read in ten seconds, in `lang` through `gettext` (the
    catalogue of that language; `wefirst.catalog.disclosure.disclosure` passes it)."""
    if lang not in LANGS:
        raise ValueError(f"unsupported language {lang!r}")
    w = _Words(c, lang, gettext)
    zone = c.time_zone
    parts = [_rule_sentence(w, r, brand) for r in c.rules]
    if any(isinstance(r, _PURCHASE_RULES) for r in c.rules):
        parts.append(w(N_("A refunded or cancelled purchase cancels its donation.")))
    start = _date(_local(c.starts_at, zone), lang)
    if c.ends_at is not None:
        end = _date(_local(c.ends_at, zone), lang)
        parts.append(w(N_("Campaign runs from {start} to {end} ({zone})."), start=start, end=end, zone=zone))
    else:
        parts.append(
            w(N_("Campaign runs from {start} ({zone}) until further notice."), start=start, zone=zone)
        )
    if c.match_bps:
        parts.append(_match_sentence(w, brand, beneficiary))
    caps = []
    if c.caps.total_units is not None:
        caps.append(w.units(c.caps.total_units))
    if c.caps.total_money is not None:
        caps.append(money_text(c.caps.total_money, c.currency, lang))
    if caps:
        parts.append(w(N_("Donations stop at {caps}."), caps=w(N_(" or ")).join(caps)))
    if c.caps.units_per_day is not None:
        # the engine counts day caps on the received day of the campaign's zone (pledges/engine.py)
        parts.append(
            w(N_("At most {units} per day ({zone})."), units=w.units(c.caps.units_per_day), zone=zone)
        )
    if c.guaranteed_minimum:
        parts.append(_minimum_sentence(w, brand, money_text(c.guaranteed_minimum, c.currency, lang)))
    if c.unit.outcome is not None:
        o = c.unit.outcome
        label = (o.labels.get(lang) or o.labels["en"]).singular
        parts.append(f"{w.units(o.units_per_outcome)} = 1 {label}.")
    parts.append(w(N_("Beneficiary: {beneficiary}."), beneficiary=beneficiary))
    parts.append(_payment_sentence(w, brand, beneficiary))
    parts.append(
        w(N_("Cost basis: {source}, {date}."), source=c.unit.cost_source, date=c.unit.cost_date.isoformat())
    )
    text = " ".join(parts)
    return french_typography(text) if lang == "fr" else text


def _local(at: datetime, zone: str) -> date:
    """The calendar day `at` falls on in the campaign's zone (the disclosure's dates)."""
    return at.astimezone(ZoneInfo(zone)).date()


def _date(day: date, lang: str) -> str:
    """A long date; French writes the first of the month as an ordinal ("1er décembre")."""
    text = str(format_date(day, format="long", locale=_LOCALE[lang]))
    return "1er" + text[1:] if lang == "fr" and day.day == 1 and text.startswith("1 ") else text


def french_typography(text: str) -> str:
    """A no-break space before : ; ? ! (not inside URLs or times), also where a name or a
    figure put a plain space there (the catalogue's own strings get it when loaded)."""
    return re.sub(r" ([:;?!])(?=\s|$)", "\u00a0\\1", text)
