"""Offline language detection for short social posts.

Uses the model that ships inside py3langid (numpy arrays, no download, no pickle), restricted
to the languages the product meets in practice: a closed set makes short posts far less likely
to be mistaken for a rare language, and makes detection faster.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

UNDETERMINED = "und"

#: Languages the detector may answer. European languages the brands we follow are discussed in,
#: plus major non-Latin-script ones so their posts are not forced into a Latin-script label.
LANGUAGES: tuple[str, ...] = (
    "en",
    "fr",
    "de",
    "es",
    "it",
    "pt",
    "nl",
    "pl",
    "sv",
    "da",
    "no",
    "fi",
    "tr",
    "ru",
    "uk",
    "ar",
    "he",
    "hi",
    "ja",
    "zh",
    "ko",
)

#: Below this many letters (after removing links, mentions and hashtags) a guess is noise.
MIN_LETTERS = 8
#: Below this posterior the detector abstains rather than pick a language at random.
MIN_CONFIDENCE = 0.5

_NOISE = re.compile(
    r"https?://\S+|www\.\S+|[@#][\w.]+|&(?:amp|lt|gt|quot|#\d+);",
    re.IGNORECASE,
)

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _identifier() -> Any:
    """Load py3langid's bundled model once per process (≈0.3 s)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def _clean(text: str) -> str:
    return _NOISE.sub(" ", text)


def _letters(text: str) -> int:
    return sum(1 for ch in text if ch.isalpha())


def detect(text: str) -> str:
    """ISO 639-1 code of ``text``'s language, or ``"und"`` when too short or unclear.

    Links, @mentions and #hashtags are removed first: they are mostly brand names and URL
    fragments, which pull short posts towards English whatever their language.
    """
    cleaned = _clean(text)
    if _letters(cleaned) < MIN_LETTERS:
        return UNDETERMINED
    identifier = _identifier()
    with _lock:  # py3langid keeps no per-call state, but be safe under threads
        lang, confidence = identifier.classify(cleaned)
    if float(confidence) < MIN_CONFIDENCE:
        return UNDETERMINED
    return str(lang)


def detect_many(texts: Sequence[str]) -> list[str]:
    """``detect`` over a batch (one model lookup for the whole batch)."""
    return [detect(t) for t in texts]
