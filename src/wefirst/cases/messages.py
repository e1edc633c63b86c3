"""English wording for what a person reads about cases (refusals, states, milestones, the
e-mails), by code; the French is in the gettext catalogue (docs/translations.md). The API
answers in English; pages and e-mails pick the case's or reader's language, and a test fails
when a message has no French."""

from __future__ import annotations

from typing import Final, Literal

from wefirst.translations import N_, gettext_for

Lang = Literal["fr", "en"]

CATALOGUE: Final[dict[str, str]] = {
    "markup_refused": N_("HTML markup is not accepted; write plain text (found {found!r})."),
    "entity_refused": N_(
        "HTML character references are not accepted; type the character itself (found {found!r})."
    ),
    "control_refused": N_("Invisible control or text-direction characters are not accepted (U+{code})."),
    "too_short": N_("Too short: at least {min} characters."),
    "too_long": N_("Too long: at most {max} characters."),
    "required": N_("Required."),
    "single_line": N_("Must fit on one line."),
    "too_many_links": N_("At most {max} evidence links per case (got {count})."),
    "bad_url": N_("Not a usable link: {why}."),
    "duplicate_link": N_("The same link appears twice."),
    "too_many_commitments": N_("At most {max} commitments per answer (got {count})."),
    "date_in_past": N_("Must not be in the past."),
    "bad_choice": N_("Must be one of: {choices}."),
    "duplicate_case": N_(
        "A nearly identical case is already open against this brand; co-sign it instead: {case_id}."
    ),
    "bad_transition": N_("A case that is {state} cannot be {action}."),
    "milestone": N_("{count} people have co-signed this case."),
    "kind_complaint": N_("complaint"),
    "kind_praise": N_("praise"),
    "state_open": N_("open"),
    "state_answered": N_("answered"),
    "state_resolved": N_("resolved"),
    "state_not_accepted": N_("answer not accepted"),
    "state_unanswered": N_("unanswered"),
    "state_hidden": N_("hidden by moderation"),
    "verify_subject": N_("Confirm your signature: {title}"),
    "verify_body": N_(
        'You asked to co-sign the case "{title}" on wefirst.\n\n'
        "Confirm with this link (valid {hours} hours):\n{link}\n\n"
        "If you did not ask for this, ignore this message: nothing is counted without it.\n"
        "Your address is kept for contact about this case only, never shown, "
        "and erased on request.\n"
    ),
    "erase_subject": N_("Erase your address from wefirst cases"),
    "erase_body": N_(
        "Someone (hopefully you) asked to erase this address from the cases it "
        "co-signed on wefirst.\n\nConfirm with this link (valid {hours} hours):\n{link}\n\n"
        "Your signatures stay counted, without any way to contact you. If you did not ask, "
        "ignore this message.\n"
    ),
    "follow_subject": N_("Confirm you want to follow: {title}"),
    "follow_body": N_(
        'You asked to follow the case "{title}" on wefirst: we will write when the brand answers, '
        "when a commitment it made falls due, and when the case is resolved.\n\n"
        "Confirm with this link (valid {hours} hours):\n{link}\n\n"
        "If you did not ask for this, ignore this message: nothing will be sent without it.\n"
    ),
    "followed_answered_subject": N_("{brand} answered: {title}"),
    "followed_answered_body": N_(
        'The brand {brand} answered the case you follow, "{title}":\n\n{answer}\n\n'
        "Read the answer and its commitments: {link}\n"
    ),
    "followed_due_subject": N_("A commitment falls due: {title}"),
    "followed_due_body": N_(
        'In the case you follow, "{title}", the brand {brand} committed to this by {date}:\n\n'
        "{commitment}\n\nSee the case and whether the commitment was kept: {link}\n"
    ),
    "followed_resolved_subject": N_("Case resolved: {title}"),
    "followed_resolved_body": N_(
        'The person who opened the case "{title}" accepted the answer of {brand}: '
        "the case is resolved.\n\nRead the case: {link}\n\n"
        "This is the last mail about this case; we no longer keep your address for it.\n"
    ),
    "follow_footer": N_(
        "You get this mail because you follow this case on wefirst. "
        "Stop following it with one click: {link}\n"
    ),
    "alert_subject": N_("New case about your brand: {title}"),
    "alert_body": N_(
        "A {kind} case was opened about your brand on wefirst:\n\n{title}\n\n"
        "Read it and answer in public: {link}\n"
    ),
}


def message(key: str, lang: Lang = "en", /, **params: object) -> str:
    """Render one catalogue entry; unknown keys are a programming error, so they raise.
    Positional-only, so a placeholder may itself be called `key` or `code`."""
    return gettext_for(lang).gettext(CATALOGUE[key]).format(**params)
