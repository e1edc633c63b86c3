"""The e-mails cases send, in the reader's language. Links point at the API's own small
confirmation pages (`/v1/cosign-confirmations/<token>`): opening the link shows a button and
only the button's POST counts, because mail scanners open links on their own."""

from __future__ import annotations

from typing import Any

from babel.dates import format_date

from wefirst.cases.messages import Lang, message
from wefirst.cases.model import Kind
from wefirst.mail import Mail
from wefirst.settings import Settings


def _lang(value: str) -> Lang:
    return "fr" if value == "fr" else "en"


def cosign_link(settings: Settings, token: str) -> str:
    return f"{settings.base_url.rstrip('/')}/v1/cosign-confirmations/{token}"


def erasure_link(settings: Settings, token: str, language: str = "en") -> str:
    query = "?lang=fr" if language == "fr" else ""
    return f"{settings.base_url.rstrip('/')}/v1/supporter-erasures/{token}{query}"


def case_link(settings: Settings, case_id: str) -> str:
    return f"{settings.base_url.rstrip('/')}/v1/cases/{case_id}"


def case_page(settings: Settings, case_id: str, language: str = "en") -> str:
    """The case's page for people (the API's `case_link` is for the brand's tools)."""
    query = "?lang=fr" if language == "fr" else ""
    return f"{settings.base_url.rstrip('/')}/cases/{case_id}{query}"


def follow_link(settings: Settings, token: str) -> str:
    return f"{settings.base_url.rstrip('/')}/cases/follow/{token}"


def unfollow_link(settings: Settings, token: str) -> str:
    return f"{settings.base_url.rstrip('/')}/cases/unfollow/{token}"


def cosign_confirmation(settings: Settings, to: str, title: str, token: str, language: str) -> Mail:
    lang = _lang(language)
    return Mail(
        to=to,
        subject=message("verify_subject", lang, title=title[:80]),
        body=message(
            "verify_body",
            lang,
            title=title,
            hours=settings.cases_verify_link_hours,
            link=cosign_link(settings, token),
        ),
    )


def follow_confirmation(settings: Settings, to: str, title: str, token: str, language: str) -> Mail:
    lang = _lang(language)
    query = "?lang=fr" if lang == "fr" else ""
    return Mail(
        to=to,
        subject=message("follow_subject", lang, title=title[:80]),
        body=message(
            "follow_body",
            lang,
            title=title,
            hours=settings.cases_verify_link_hours,
            link=follow_link(settings, token) + query,
        ),
    )


def follow_update(
    settings: Settings,
    to: str,
    language: str,
    event: str,
    case_id: str,
    facts: dict[str, Any],
    unfollow_token: str,
) -> Mail:
    """One mail to one follower: the fact (`answered`, `commitment_due`, `resolved`), a link
    to the case, and a signed one-click unsubscribe link — in the body for people, and in the
    List-Unsubscribe headers (RFC 2369, RFC 8058) for mail programs, whose POST needs nothing
    but the link."""
    lang = _lang(language)
    key = {"answered": "answered", "commitment_due": "due", "resolved": "resolved"}[event]
    params = dict(facts)
    if "due_on" in params:
        params["date"] = format_date(params.pop("due_on"), format="long", locale=lang)
    unsubscribe = unfollow_link(settings, unfollow_token)
    body = message(f"followed_{key}_body", lang, link=case_page(settings, case_id, lang), **params)
    footer = message("follow_footer", lang, link=unsubscribe + ("?lang=fr" if lang == "fr" else ""))
    return Mail(
        to=to,
        subject=message(f"followed_{key}_subject", lang, title=facts["title"][:80], brand=facts["brand"]),
        body=f"{body}\n--\n{footer}",
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Wefirst-Case": case_id,
        },
    )


def erasure_request(settings: Settings, to: str, token: str, language: str) -> Mail:
    lang = _lang(language)
    return Mail(
        to=to,
        subject=message("erase_subject", lang),
        body=message(
            "erase_body",
            lang,
            hours=settings.cases_verify_link_hours,
            link=erasure_link(settings, token, lang),
        ),
    )


def brand_alert(settings: Settings, to: str, case_id: str, title: str, kind: Kind) -> Mail:
    """Brands get both languages: the team reading the alert may not share the opener's."""
    parts = []
    for lang in ("en", "fr"):
        lg = _lang(lang)
        parts.append(
            message(
                "alert_body",
                lg,
                kind=message(f"kind_{kind.value}", lg),
                title=title,
                link=case_link(settings, case_id),
            )
        )
    return Mail(
        to=to,
        subject=message("alert_subject", "en", title=title[:80]),
        body="\n---\n\n".join(parts),
        headers={"X-Wefirst-Case": case_id},
    )
