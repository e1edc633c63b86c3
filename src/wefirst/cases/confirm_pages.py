"""The two tiny pages behind e-mailed links (confirm a co-sign, erase an address). Opening
the link only shows a button; the button POSTs, so a mail scanner that opens links cannot
sign or erase on someone's behalf. Self-contained on purpose (no script, no external asset),
so they work before and without the public site's templates. The French is in the gettext
catalogue (docs/translations.md)."""

from __future__ import annotations

from html import escape
from typing import Final

from wefirst.cases.messages import Lang
from wefirst.translations import N_, gettext_for

_TEXT: Final[dict[str, str]] = {
    "cosign_title": N_("Confirm your signature"),
    "cosign_lead": N_("You are about to co-sign this case:"),
    "cosign_button": N_("Confirm my signature"),
    "cosign_done": N_("Thank you: your signature counts. {people}"),
    "cosign_already": N_("Your signature was already counted. {people}"),
    "people_one": N_("1 person has co-signed."),
    "people_many": N_("{count} people have co-signed."),
    "erase_title": N_("Erase your address"),
    "erase_lead": N_("Erase this address from every case it co-signed? Signatures stay counted."),
    "erase_button": N_("Erase my address"),
    "erase_done": N_("Done: {count} signature(s) no longer hold your address."),
    "hidden": N_("(hidden by moderation)"),
}


# The pages carry a token in their URL: never framed (clickjacking a co-sign or an erasure),
# never sent as a Referer, never cached; only their own inline style and form.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def _page(lang: Lang, title: str, inner: str) -> str:
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{escape(title)}</title></head>"
        '<body style="font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem">'
        f"<h1>{escape(title)}</h1>{inner}</body></html>"
    )


def t(key: str, lang: Lang, **params: object) -> str:
    return gettext_for(lang).gettext(_TEXT[key]).format(**params)


def cosign_form(lang: Lang, case_title: str | None, action: str) -> str:
    shown = escape(case_title) if case_title is not None else escape(t("hidden", lang))
    inner = (
        f"<p>{escape(t('cosign_lead', lang))}</p><blockquote><strong>{shown}</strong></blockquote>"
        f'<form method="post" action="{escape(action)}">'
        f'<button type="submit">{escape(t("cosign_button", lang))}</button></form>'
    )
    return _page(lang, t("cosign_title", lang), inner)


def cosign_result(lang: Lang, newly: bool, count: int) -> str:
    key = "cosign_done" if newly else "cosign_already"
    people = t("people_one", lang) if count == 1 else t("people_many", lang, count=count)
    return _page(lang, t("cosign_title", lang), f"<p>{escape(t(key, lang, people=people))}</p>")


def erase_form(lang: Lang, action: str) -> str:
    inner = (
        f"<p>{escape(t('erase_lead', lang))}</p>"
        f'<form method="post" action="{escape(action)}">'
        f'<button type="submit">{escape(t("erase_button", lang))}</button></form>'
    )
    return _page(lang, t("erase_title", lang), inner)


def erase_result(lang: Lang, count: int) -> str:
    return _page(lang, t("erase_title", lang), f"<p>{escape(t('erase_done', lang, count=count))}</p>")
