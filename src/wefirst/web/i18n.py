"""French and English for every page: the locale is chosen per request (a `?lang=` switch that
sticks in a cookie, then Accept-Language), and numbers, money and dates are formatted by Babel
for that locale so that "1 234,56 €" and "€1,234.56" come from the same integer.

The words come from the gettext catalogues (wefirst/translations.py, `.po` files keyed by the
English text): a missing French string shows up as English (never as a key), and a test checks
that every string the templates and the code ask for has its French line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, format_percent

from wefirst.domain.money import exponent
from wefirst.translations import DEFAULT_LOCALE, LOCALES, negotiate, translations

__all__ = ["DEFAULT_LOCALE", "LANG_COOKIE", "LOCALES", "Translator", "negotiate"]

LANG_COOKIE = "wf_lang"


@lru_cache(maxsize=8)
def _babel_locale(code: str) -> Locale:
    """One parsed Locale per language: Babel parses a locale given by name on every call
    (about half of each formatting call's time)."""
    return Locale.parse(code)


# Formatting is a pure function of (locale, value) and a page repeats the same figures on
# every view until they change, so results are memoised (bounded): the pages of 20 campaign
# cards spent most of their server CPU in Babel (docs/benchmarks.md, issue 15).
@lru_cache(maxsize=16384)
def _money(code: str, amount: int, currency: str) -> str:
    value = Decimal(amount).scaleb(-exponent(currency))
    return str(format_currency(value, currency, locale=_babel_locale(code)))


@lru_cache(maxsize=16384)
def _number(code: str, value: int | Decimal) -> str:
    return str(format_decimal(value, locale=_babel_locale(code)))


@lru_cache(maxsize=4096)
def _percent(code: str, share: Decimal) -> str:
    """At most 1,001 values per locale (shares are quantized to 0.1 %), parsed once."""
    return str(format_percent(share, locale=_babel_locale(code), decimal_quantization=False))


@lru_cache(maxsize=4096)
def _score(code: str, value: Decimal) -> str:
    text = str(format_decimal(value, format="#,##0.00", locale=_babel_locale(code)))
    return "+" + text if value > 0 else text


@lru_cache(maxsize=4096)
def _date(code: str, value: date) -> str:
    if code == "fr":
        text = format_date(value, format="d MMMM y", locale=_babel_locale("fr"))
        return "1er" + text[1:] if text.startswith("1 ") else text
    return str(format_date(value, format="medium", locale=_babel_locale(code)))


@dataclass(frozen=True)
class Translator:
    """Everything a template needs to speak one locale."""

    locale: str

    def gettext(self, message: str) -> str:
        return translations(self.locale).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return translations(self.locale).ngettext(singular, plural, n)

    @property
    def colon(self) -> str:
        """ ":" in English, " :" (no-break space first) in French typography."""
        return "\u00a0:" if self.locale == "fr" else ":"

    def number(self, value: int | Decimal) -> str:
        return _number(self.locale, value)

    def score(self, value: float) -> str:
        """A mean sentiment in [-1, 1], signed, two decimals, in the locale's digits ("+0.25",
        "+0,25"): a sign alone says which way the day leaned."""
        return _score(self.locale, Decimal(str(round(value, 2))))

    def money(self, amount: int, currency: str) -> str:
        """Integer minor units → the locale's currency format, exactly (Decimal, no floats)."""
        return _money(self.locale, int(amount), currency)

    def percent(self, numerator: int, denominator: int) -> str:
        if denominator <= 0:
            return "—"
        # one decimal of a percent at most, in the locale's own pattern ("66,7 %", "66.7%")
        share = (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.001"))
        return _percent(self.locale, share.normalize())

    def date(self, value: date | datetime | str | None) -> str:
        """ "Nov 26, 2026"; in French the month in full and the first of the month as an
        ordinal, as French typography wants ("1er décembre 2026", "26 novembre 2026"). An ISO
        text (as rows read from JSON carry it) is read for its day."""
        if value is None or value == "":
            return "—"
        if isinstance(value, str):
            value = date.fromisoformat(value[:10])
        return _date(self.locale, value)

    def datetime(self, value: datetime | None) -> str:
        if value is None:
            return "—"
        return format_datetime(value, format="medium", locale=self.locale)

    def language_name(self, code: str) -> str:
        """The name of a language in that language ("Français"), as switches should show it."""
        return str(Locale.parse(code).get_display_name(code)).capitalize()

    @property
    def functions(self) -> dict[str, Callable[..., str]]:
        return {
            "_": self.gettext,
            # what jinja2.ext.i18n's {% trans %} blocks call
            "gettext": self.gettext,
            "ngettext": self.ngettext,
            "fmt_number": self.number,
            "fmt_money": self.money,
            "fmt_percent": self.percent,
            "fmt_score": self.score,
            "fmt_date": self.date,
            "fmt_datetime": self.datetime,
        }
