"""The gettext catalogues every French/English string comes from.

The sources are the `.po` files under `wefirst/locale/<lang>/LC_MESSAGES/messages.po`, keyed by
the English text (English needs no catalogue: a message is its own English). They are compiled
in memory the first time a process asks for a locale, so no generated `.mo` file is committed or
has to be built before the code runs. Fuzzy and empty entries are left out, so an untranslated
string shows in English, never as a key. `pybabel extract`/`update` keep them in step with the
code (docs/translations.md); a test fails when a string the code asks for has no translation.

French typography is applied here, not written into the catalogue: translators type plain
spaces and the no-break space before : ; ? ! and inside « » is added on loading."""

from __future__ import annotations

import functools
import gettext
import re
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
LOCALES = ("en", "fr")
DEFAULT_LOCALE = "en"


def N_(message: str) -> str:  # noqa: N802 - the name gettext's tools look for
    """Marks a string for extraction where it is written (a table of labels, a dict of field
    help) when it is translated later, where it is shown."""
    return message


def french_typography(text: str) -> str:
    """A no-break space before : ; ? ! and inside « », as French typography wants, so a
    line never starts with a lone colon (the catalogue is written with plain spaces)."""
    return re.sub(r" ([:;?!»])", "\u00a0\\1", text).replace("« ", "«\u00a0")


def catalogue_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(locale: str) -> gettext.NullTranslations:
    """The compiled catalogue of one locale, once per process; English (or a locale without a
    catalogue) gets the identity."""
    path = catalogue_path(locale)
    if locale == DEFAULT_LOCALE or not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as f:
        catalog = read_po(f, locale=locale, domain=DOMAIN)
    if locale == "fr":
        for message in catalog:
            if message.id and isinstance(message.string, str):
                message.string = french_typography(message.string)
    compiled = BytesIO()
    write_mo(compiled, catalog)  # without fuzzy entries; empty ones are left out as well
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def gettext_for(locale: str | None) -> gettext.NullTranslations:
    """The catalogue for a locale name as a request or a record gives it ("fr-FR", "FR", None)."""
    code = (locale or DEFAULT_LOCALE).lower()[:2]
    return translations(code if code in LOCALES else DEFAULT_LOCALE)


def negotiate(param: str | None, cookie: str | None, accept_language: str | None) -> str:
    """Explicit choice first (the switch, then the remembered cookie), then the browser's
    preference order with q-values, then English."""
    for explicit in (param, cookie):
        if explicit and explicit.lower()[:2] in LOCALES:
            return explicit.lower()[:2]
    best: tuple[float, int, str] | None = None
    for position, part in enumerate((accept_language or "").split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()[:2]
        quality = 1.0
        for param_piece in pieces[1:]:
            key, _, value = param_piece.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag in LOCALES and quality > 0:
            candidate = (-quality, position, tag)
            if best is None or candidate < best:
                best = candidate
    return best[2] if best else DEFAULT_LOCALE
