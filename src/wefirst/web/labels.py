"""Words for the codes people would otherwise see: log entry kinds, campaign and payment
states, refund reasons, rule kinds. Each maps to an English sentence-case label that the i18n
catalogue translates; a code without a label shows as a plain "Other" rather than as itself,
so no internal name reaches a page (a test scans the demo's pages for them)."""

from __future__ import annotations

from wefirst.translations import N_
from wefirst.web.i18n import Translator

LOG_KINDS = {
    "campaign_defined": N_("Campaign published"),
    "campaign_changed": N_("Campaign changed"),
    "pledge": N_("Promise"),
    "pledge_reversal": N_("Refund (promise cancelled)"),
    "settlement_reported": N_("Payment reported"),
    "settlement_confirmed": N_("Payment confirmed"),
    "settlement_disputed": N_("Payment disputed"),
    "delivery_reported": N_("Delivery reported"),
    "case_opened": N_("Case opened"),
    "case_cosign_milestone": N_("Case co-signature milestone"),
    "case_answered": N_("Case answered"),
    "case_resolved": N_("Case resolved"),
    "case_hidden": N_("Case hidden by moderation"),
    "case_unanswered": N_("Case left unanswered"),
    "log_successor": N_("Log handed over to a new key"),
    "log_handover": N_("Log started from a previous key"),
}

STATUSES = {
    "draft": N_("draft"),
    "active": N_("active"),
    "paused": N_("paused"),
    "ended": N_("ended"),
    "reported": N_("reported"),
    "confirmed": N_("confirmed"),
    "disputed": N_("disputed"),
}

REFUND_REASONS = {
    "refund": N_("refund"),
    "cancel": N_("order cancelled"),
    "return": N_("return"),
    "chargeback": N_("chargeback"),
}

RULE_KINDS = {
    "per_unit": N_("Per product bought"),
    "per_click": N_("Per click"),
    "per_order": N_("Per order"),
    "percent_of_sale": N_("Share of the sale"),
    "per_social_action": N_("Per public social action"),
}

CLICK_REASONS = {
    "counted": N_("Counted"),
    "duplicate": N_("Same reader again that day"),
    "rate_limited": N_("Too many clicks from one network"),
    "bad_origin": N_("Not from a registered site"),
    "bad_challenge": N_("Failed the browser check"),
    "automated": N_("Looked automated"),
    "campaign_inactive": N_("Campaign not running"),
    "cap_reached": N_("Campaign cap reached"),
}

CASE_KINDS = {"complaint": N_("Complaint"), "praise": N_("Praise")}
CASE_STATES = {
    "open": N_("Open, awaiting the brand's answer"),
    "answered": N_("Answered by the brand"),
    "resolved": N_("Resolved"),
    "not_accepted": N_("Answer not accepted"),
}
CASE_CATEGORIES = {
    "campaign_honesty": N_("Honesty of a campaign"),
    "environment": N_("Environment"),
    "health": N_("Health"),
    "labour": N_("Working conditions"),
    "other": N_("Other"),
}
CASE_VERDICTS = {
    "accepted": N_("The opener accepted this answer"),
    "not_accepted": N_("The opener did not accept this answer"),
}


# Words stored in data that templates translate as they are (`_(ep.kind)`, `_(row.status)`).
DATA_WORDS = (N_("backlash"), N_("praise"), N_("pledged"), N_("paid"), N_("refund"), N_("unanswered"))


def _label(table: dict[str, str], code: str | None, tr: Translator) -> str:
    return tr.gettext(table.get(code or "", N_("Other")))


def log_kind(code: str | None, tr: Translator) -> str:
    return _label(LOG_KINDS, code, tr)


def status(code: str | None, tr: Translator) -> str:
    return _label(STATUSES, code, tr)


def refund_reason(code: str | None, tr: Translator) -> str:
    return _label(REFUND_REASONS, code, tr)


def rule_kind(code: str | None, tr: Translator) -> str:
    return _label(RULE_KINDS, code, tr)


def case_kind(code: str | None, tr: Translator) -> str:
    return _label(CASE_KINDS, code, tr)


def case_state(code: str | None, tr: Translator) -> str:
    return _label(CASE_STATES, code, tr)


def case_category(code: str | None, tr: Translator) -> str:
    return _label(CASE_CATEGORIES, code, tr)


def case_verdict(code: str | None, tr: Translator) -> str:
    return _label(CASE_VERDICTS, code, tr)


def click_reason(code: str | None, tr: Translator) -> str:
    return _label(CLICK_REASONS, code, tr)


# why a social action was refused, and the attack that criterion bounds (domain/social.py)
SOCIAL_REASONS = {
    "too_young": N_("Account too young (accounts made for the campaign)"),
    "too_few_posts": N_("Too few posts (empty accounts made in bulk)"),
    "bot": N_("Flagged as a bot (automated accounts)"),
    "burst": N_("In a burst of accounts created together (an aged farm)"),
    "no_profile": N_("No public profile to check"),
}


def social_reason(code: str | None, tr: Translator) -> str:
    return _label(SOCIAL_REASONS, code, tr)


# webhook event types by family ("voice.episode.backlash" → its first two parts)
EVENT_FAMILIES = {
    "voice.episode": N_("Alert on what people say online"),
    "case.opened": N_("A case was opened"),
    "case.answered": N_("A case was answered"),
    "case.overdue": N_("A case's answer is overdue"),
}


def event_type(code: str | None, tr: Translator) -> str:
    parts = (code or "").split(".")
    return _label(EVENT_FAMILIES, ".".join(parts[:2]), tr)
