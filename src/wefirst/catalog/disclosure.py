"""A campaign's consumer disclosure in one language, worded from the gettext catalogue.

The sentences are built in `wefirst.domain.disclosure` (pure: it is given the catalogue's
lookup); this is where the catalogue of the language is found, so pages, the API and the CLI
all get the same text."""

from __future__ import annotations

from wefirst.domain.campaigns import Campaign
from wefirst.domain.disclosure import LANGS
from wefirst.domain.disclosure import disclosure as render
from wefirst.translations import gettext_for

__all__ = ["LANGS", "disclosure"]


def disclosure(c: Campaign, brand: str, beneficiary: str, lang: str) -> str:
    return render(c, brand, beneficiary, lang, gettext_for(lang).gettext)
