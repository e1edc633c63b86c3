"""Offline language detection for short social posts.

Uses the model that ships inside py3langid (numpy arrays, no download, no pickle), restricted
to the languages the product meets in practice: a closed set makes short posts far less likely
to be mistaken for a rare language, and makes detection faster.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

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
    return sum(map(str.isalpha, text))


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


@dataclass(frozen=True)
class _Tables:
    """py3langid's model as numpy arrays, for walking its byte automaton over a whole batch."""

    nextmove: npt.NDArray[np.int64]
    rowbase: npt.NDArray[np.int64]
    output: npt.NDArray[np.int64]
    ptc: npt.NDArray[np.float32]
    pc: npt.NDArray[np.float32]
    classes: tuple[str, ...]
    aliases: tuple[tuple[int, int], ...]


@lru_cache(maxsize=1)
def _tables() -> _Tables | None:
    """None when the installed py3langid does not expose the model the way 0.4 does (then
    ``detect_many`` classifies one text at a time, which gives the same answers)."""
    ident = _identifier()
    try:
        tables = _Tables(
            np.asarray(ident.tk_nextmove, dtype=np.int64),
            np.asarray(ident._rowbase, dtype=np.int64),
            np.asarray(ident.tk_output, dtype=np.int64),
            np.asarray(ident.nb_ptc, dtype=np.float32),
            np.asarray(ident.nb_pc, dtype=np.float32),
            tuple(str(c) for c in ident.nb_classes),
            tuple((int(i), int(j)) for i, j in ident._alias_pairs),
        )
    except (AttributeError, TypeError, ValueError):
        return None
    if not ident._norm_probs or tables.ptc.shape != (int(tables.output.max()) + 1, len(tables.classes)):
        return None
    return tables


def _encode(text: str) -> bytes:
    """The bytes py3langid classifies (its ``_encode`` for a str)."""
    if text.isupper():
        text = text.lower()
    return unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")


def _classify_batch(tables: _Tables, texts: Sequence[bytes]) -> list[tuple[str, float]]:
    """py3langid's naive-Bayes decision for many texts at once: the automaton advances one byte
    position for every text in one numpy step (texts sorted by length, so the active ones are a
    prefix), instead of one Python loop iteration per byte and text."""
    from scipy import sparse

    n = len(texts)
    lengths = np.fromiter((len(b) for b in texts), dtype=np.int64, count=n)
    order = np.argsort(-lengths, kind="stable")
    width = int(lengths.max()) if n else 0
    buf = np.zeros((n, max(width, 1)), dtype=np.int64)
    for row, i in enumerate(order):
        b = texts[int(i)]
        buf[row, : len(b)] = np.frombuffer(b, dtype=np.uint8)
    sorted_len = lengths[order]
    active_until = np.searchsorted(-sorted_len, -np.arange(width), side="right")  # rows with len > j
    state = np.zeros(n, dtype=np.int64)
    rows: list[npt.NDArray[np.int64]] = []
    cols: list[npt.NDArray[np.int64]] = []
    for j in range(width):
        k = int(active_until[j])
        s = tables.nextmove[tables.rowbase[state[:k]] + buf[:k, j]]
        state[:k] = s
        f = tables.output[s]
        hit = np.flatnonzero(f >= 0)
        if hit.size:
            rows.append(hit)
            cols.append(f[hit])
    r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    counts = sparse.csr_matrix((np.ones(r.size, dtype=np.float32), (r, c)), shape=(n, tables.ptc.shape[0]))
    counts.sum_duplicates()
    counts.data = np.log1p(counts.data)
    scores = np.asarray(counts @ tables.ptc, dtype=np.float32) + tables.pc
    scores[np.diff(counts.indptr) == 0] = 0.0  # no feature at all: uniform, as py3langid does
    scores *= (1.0 / np.sqrt(np.maximum(sorted_len, 1))).astype(np.float32)[:, None]
    scores = np.exp(scores - scores.max(axis=1, keepdims=True))
    scores /= scores.sum(axis=1, keepdims=True)
    for i, j in tables.aliases:
        scores[:, i] += scores[:, j]
        scores[:, j] = 0.0
    best = scores.argmax(axis=1)
    out: list[tuple[str, float]] = [("", math.nan)] * n
    for row, i in enumerate(order):
        out[int(i)] = (tables.classes[int(best[row])], float(scores[row, best[row]]))
    return out


def detect_many(texts: Sequence[str]) -> list[str]:
    """``detect`` over a batch, with the same answers, about ten times faster on tweets: the
    pipeline's largest cost per post was language detection (docs/benchmarks.md)."""
    tables = _tables()
    if tables is None:
        return [detect(t) for t in texts]
    out = [UNDETERMINED] * len(texts)
    todo: list[int] = []
    encoded: list[bytes] = []
    for i, text in enumerate(texts):
        cleaned = _clean(text)
        if _letters(cleaned) >= MIN_LETTERS:
            todo.append(i)
            encoded.append(_encode(cleaned))
    if todo:
        for i, (lang, confidence) in zip(todo, _classify_batch(tables, encoded), strict=True):
            if confidence >= MIN_CONFIDENCE:
                out[i] = lang
    return out
