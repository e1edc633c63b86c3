"""Words for the codes people would otherwise see: log entry kinds, campaign and payment
states, refund reasons, rule kinds. Each maps to an English sentence-case label that the i18n
catalogue translates; a code without a label shows as a plain "Other" rather than as itself,
so no internal name reaches a page (a test scans the demo's pages for them)."""

from __future__ import annotations

from wefirst.web.i18n import Translator

LOG_KINDS = {
    "campaign_defined": "Campaign published",
    "campaign_changed": "Campaign changed",
    "pledge": "Promise",
    "pledge_reversal": "Refund (promise cancelled)",
    "settlement_reported": "Payment reported",
    "settlement_confirmed": "Payment confirmed",
    "settlement_disputed": "Payment disputed",
    "delivery_reported": "Delivery reported",
    "case_opened": "Case opened",
    "case_cosign_milestone": "Case co-signature milestone",
    "case_answered": "Case answered",
    "case_resolved": "Case resolved",
    "case_hidden": "Case hidden by moderation",
    "case_unanswered": "Case left unanswered",
    "log_successor": "Log handed over to a new key",
    "log_handover": "Log started from a previous key",
}

STATUSES = {
    "draft": "draft",
    "active": "active",
    "paused": "paused",
    "ended": "ended",
    "reported": "reported",
    "confirmed": "confirmed",
    "disputed": "disputed",
}

REFUND_REASONS = {
    "refund": "refund",
    "cancel": "order cancelled",
    "return": "return",
    "chargeback": "chargeback",
}

RULE_KINDS = {
    "per_unit": "Per product bought",
    "per_click": "Per click",
    "per_order": "Per order",
    "percent_of_sale": "Share of the sale",
    "per_social_action": "Per public social action",
}

CASE_KINDS = {"complaint": "Complaint", "praise": "Praise"}
CASE_STATES = {
    "open": "Open, awaiting the brand's answer",
    "answered": "Answered by the brand",
    "resolved": "Resolved",
    "not_accepted": "Answer not accepted",
}
CASE_CATEGORIES = {
    "campaign_honesty": "Honesty of a campaign",
    "environment": "Environment",
    "health": "Health",
    "labour": "Working conditions",
    "other": "Other",
}
CASE_VERDICTS = {
    "accepted": "The opener accepted this answer",
    "not_accepted": "The opener did not accept this answer",
}


def _label(table: dict[str, str], code: str | None, tr: Translator) -> str:
    return tr.gettext(table.get(code or "", "Other"))


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
