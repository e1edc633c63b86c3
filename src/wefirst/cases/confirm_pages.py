"""The two tiny pages behind e-mailed links (confirm a co-sign, erase an address). Opening
the link only shows a button; the button POSTs, so a mail scanner that opens links cannot
sign or erase on someone's behalf. Self-contained on purpose (no script, no external asset),
so they work before and without the public site's templates: one Jinja template of their own
(cases/templates/link_page.html, autoescaped), its words from the gettext catalogue."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from wefirst.cases.messages import Lang
from wefirst.translations import N_, gettext_for

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


@functools.cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _render(lang: Lang, title: str, page: str, **context: Any) -> str:
    translate = gettext_for(lang).gettext
    return (
        _environment()
        .get_template("link_page.html")
        .render(lang=lang, title=translate(title), page=page, _=translate, **context)
    )


def cosign_form(lang: Lang, case_title: str | None, action: str) -> str:
    return _render(lang, N_("Confirm your signature"), "cosign_form", case_title=case_title, action=action)


def cosign_result(lang: Lang, newly: bool, count: int) -> str:
    return _render(lang, N_("Confirm your signature"), "cosign_result", newly=newly, count=count)


def erase_form(lang: Lang, action: str) -> str:
    return _render(lang, N_("Erase your address"), "erase_form", action=action)


def erase_result(lang: Lang, count: int) -> str:
    return _render(lang, N_("Erase your address"), "erase_result", count=count)
