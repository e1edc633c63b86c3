"""The words and rules of the case page's own forms (the brand's answer, a report to the
moderators), shared by the page that draws them and the routes that read them."""

from __future__ import annotations

from typing import Any

from wefirst.translations import N_
from wefirst.web import sessions

COMMITMENT_SLOTS = 3
REPORT_REASONS = {
    "abuse": N_("Abusive or threatening"),
    "spam": N_("Spam or advertising"),
    "personal_data": N_("Shows someone's personal data"),
    "defamation": N_("False accusations about a person"),
}
ANSWER_HELP = {
    "body": N_("Write your answer: at least 10 characters."),
    "language": N_("Choose English or French."),
    "text": N_("Each commitment says what you will do, in 5 to 500 characters."),
    "due_on": N_("A due date is today or later."),
    "": N_("Only this brand's team can answer this case."),
}


def report_reasons(tr: Any) -> list[tuple[str, str]]:
    return [(code, tr.gettext(words)) for code, words in REPORT_REASONS.items()]


def may_answer(user: sessions.WebUser | None, row: Any) -> bool:
    """The brand's own team, on a visible case that is not settled: answers are its public word."""
    return (
        user is not None
        and user.role == "brand"
        and user.owner_id == row.brand_id
        and not row.hidden
        and row.state in ("open", "answered", "not_accepted")
    )
