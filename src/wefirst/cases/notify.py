"""The e-mails cases send, in the reader's language. Links point at the API's own small
confirmation pages (`/v1/cosign-confirmations/<token>`): opening the link shows a button and
only the button's POST counts, because mail scanners open links on their own."""

from __future__ import annotations

from wefirst.cases.messages import Lang, message
from wefirst.cases.model import Kind
from wefirst.mail import Mail
from wefirst.settings import Settings

KIND_WORDS: dict[Lang, dict[str, str]] = {
    "en": {"complaint": "complaint", "praise": "praise"},
    "fr": {"complaint": "plainte", "praise": "éloge"},
}


def _lang(value: str) -> Lang:
    return "fr" if value == "fr" else "en"


def cosign_link(settings: Settings, token: str) -> str:
    return f"{settings.base_url.rstrip('/')}/v1/cosign-confirmations/{token}"


def erasure_link(settings: Settings, token: str, language: str = "en") -> str:
    query = "?lang=fr" if language == "fr" else ""
    return f"{settings.base_url.rstrip('/')}/v1/supporter-erasures/{token}{query}"


def case_link(settings: Settings, case_id: str) -> str:
    return f"{settings.base_url.rstrip('/')}/v1/cases/{case_id}"


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
                kind=KIND_WORDS[lg][kind.value],
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
