"""Sentiment of short posts: positive, neutral or negative, with a score in [-1, 1].

The model is deliberately small and linear: hashed word and character n-grams (with negation
marking) plus a handful of lexicon features, scored by a multinomial logistic regression in
numpy. That keeps inference at tens of thousands of posts per second on one core, lets a user
retrain on their own posts in seconds (``wefirst voice train``), and gives a model file that is
plain JSON (optionally gzipped) — loading a model never runs code, whoever wrote the file.
"""

from __future__ import annotations

import base64
import gzip
import html
import io
import json
import re
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from wefirst.errors import Invalid
from wefirst.voice.embeddings import Embedder, EmbeddingHead, embed, select_unsure
from wefirst.voice.embeddings import available as embeddings_available

LABELS: tuple[str, ...] = ("negative", "neutral", "positive")
FORMAT = "wefirst-sentiment"
#: Version 2 (issue 17): the file may hold one embedding head per language
#: (``embedding_heads``) beside the shared one. A model without per-language heads is still
#: written as version 1, which older releases read; they refuse version 2 by its number.
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
DEFAULT_MODEL_FILE = "default_sentiment.json.gz"

#: Largest model file we agree to read: a hashed linear model is a few MB; anything far bigger
#: is not one of ours and would only exhaust memory.
MAX_MODEL_BYTES = 200 * 1024 * 1024

FloatArray = npt.NDArray[np.float32]


class SentimentModelError(Invalid, ValueError):
    """A model file or training input that cannot be used (the message says why)."""


# --------------------------------------------------------------------------- lexicons


@dataclass(frozen=True)
class Lexicon:
    """Word valences (VADER scale, about -4..+4), keys accent-folded and lowercase."""

    valence: dict[str, float]
    negators: frozenset[str]
    boosters: frozenset[str]
    #: word -> (polarity -1..1, subjectivity 0..1), for languages that have such a list:
    #: subjectivity is what separates an opinion from a plain report.
    adjectives: dict[str, tuple[float, float]] = field(default_factory=dict)


_EN_NEGATORS = frozenset(
    [
        "not",
        "no",
        "never",
        "nothing",
        "nobody",
        "none",
        "nor",
        "neither",
        "cannot",
        "cant",
        "dont",
        "doesnt",
        "didnt",
        "isnt",
        "arent",
        "wasnt",
        "werent",
        "wont",
        "wouldnt",
        "shouldnt",
        "couldnt",
        "hasnt",
        "havent",
        "hadnt",
        "without",
        "aint",
    ]
)
_FR_NEGATORS = frozenset(
    ["ne", "n", "pas", "jamais", "rien", "aucun", "aucune", "sans", "ni", "guere", "nul", "nulle"]
)
_EN_BOOSTERS = frozenset(
    [
        "very",
        "really",
        "so",
        "extremely",
        "totally",
        "absolutely",
        "super",
        "truly",
        "incredibly",
        "most",
        "such",
    ]
)
_FR_BOOSTERS = frozenset(["tres", "vraiment", "trop", "tellement", "si", "super", "hyper", "absolument"])

_EMOJI_VALENCE: dict[str, float] = {
    "😀": 2.0,
    "😃": 2.0,
    "😄": 2.0,
    "😁": 2.0,
    "😊": 2.0,
    "🙂": 1.0,
    "😍": 3.0,
    "🥰": 3.0,
    "😘": 2.0,
    "👍": 2.0,
    "👏": 2.0,
    "🙌": 2.0,
    "❤": 3.0,
    "❤️": 3.0,
    "💙": 2.5,
    "💚": 2.5,
    "💯": 2.0,
    "🎉": 2.5,
    "✨": 1.0,
    "🔥": 1.0,
    "😂": 1.0,
    "🤣": 1.0,
    "😉": 1.0,
    "🙏": 1.5,
    "✅": 1.0,
    "💪": 1.5,
    "🌱": 0.5,
    "😎": 1.5,
    "😡": -3.0,
    "🤬": -3.0,
    "😠": -2.5,
    "😤": -2.0,
    "😞": -2.0,
    "😢": -2.0,
    "😭": -2.0,
    "😒": -2.0,
    "🙄": -2.0,
    "👎": -2.5,
    "💩": -2.5,
    "😩": -2.0,
    "😫": -2.0,
    "😱": -1.5,
    "🤮": -3.0,
    "🤢": -2.5,
    "😔": -1.5,
    "😕": -1.5,
    "🙁": -1.5,
    "☹": -1.5,
    "💔": -2.5,
    "🤦": -2.0,
    "😖": -2.0,
    "😣": -1.5,
}


def _fold(text: str) -> str:
    """Lowercase and strip accents: tweets often drop French accents, so 'deçu' = 'déçu'."""
    text = text.lower()
    if text.isascii():  # most posts: nothing to decompose (a third of the old cost per post)
        return text
    return unicodedata.normalize("NFKD", text).translate(_combining())


@lru_cache(maxsize=1)
def _combining() -> dict[int, None]:
    """``str.translate`` table deleting every combining character (``unicodedata.combining``)."""
    return {cp: None for cp in range(sys.maxunicode + 1) if unicodedata.combining(chr(cp))}


def _lexicon_lines(name: str) -> list[tuple[str, float]]:
    data = resources.files("wefirst.voice.models").joinpath(name).read_text(encoding="utf-8")
    out = []
    for line in data.splitlines():
        word, _, value = line.partition("\t")
        if word and value:
            out.append((_fold(word), float(value)))
    return out


def _read_lexicon(name: str, fixes: str | None = None) -> dict[str, float]:
    """Valences from ``name``, then our corrections from ``fixes`` (0 removes a word).

    The corrections exist because the translated French lexicon carries English senses into
    French words ("prix" as *prize*, "profite" as *profiteer*, "feu" as *fire*).
    """
    valence: dict[str, float] = {}
    for key, v in _lexicon_lines(name):
        # Accent folding can merge two entries; keep the stronger one.
        if abs(v) > abs(valence.get(key, 0.0)):
            valence[key] = v
    for key, v in _lexicon_lines(fixes) if fixes else []:
        if v == 0:
            valence.pop(key, None)
        else:
            valence[key] = v
    return valence


def _read_adjectives(name: str) -> dict[str, tuple[float, float]]:
    data = resources.files("wefirst.voice.models").joinpath(name).read_text(encoding="utf-8")
    out: dict[str, tuple[float, float]] = {}
    for line in data.splitlines():
        parts = line.split("\t")
        if len(parts) == 3:
            out.setdefault(_fold(parts[0]), (float(parts[1]), float(parts[2])))
    return out


@lru_cache(maxsize=4)
def lexicon(lang: str) -> Lexicon:
    """The lexicon for ``lang`` ("en", "fr"); any other language uses both."""
    if lang == "en":
        return Lexicon(_read_lexicon("lexicon_en.txt"), _EN_NEGATORS, _EN_BOOSTERS)
    if lang == "fr":
        return Lexicon(
            _read_lexicon("lexicon_fr.txt", "lexicon_fr_fixes.txt"),
            _FR_NEGATORS,
            _FR_BOOSTERS,
            _read_adjectives("lexicon_fr_adjectives.txt"),
        )
    en, fr = lexicon("en"), lexicon("fr")
    return Lexicon(
        {**en.valence, **fr.valence}, en.negators | fr.negators, en.boosters | fr.boosters, fr.adjectives
    )


# --------------------------------------------------------------------------- features


@dataclass(frozen=True)
class FeatureConfig:
    """How a text becomes a sparse vector. Stored in the model file; never changed after."""

    word_ngrams: int = 2
    char_ngrams: tuple[int, int] | None = (3, 5)
    hash_bits: int = 19
    lexicon_features: bool = True
    lexicon_weight: float = 1.0
    char_weight: float = 0.6
    #: Weight hashed n-grams by inverse document frequency (learned at training, stored with
    #: the model). Helps on long texts such as reviews; little on tweets.
    idf: bool = False

    @property
    def n_hashed(self) -> int:
        return 1 << self.hash_bits

    @property
    def n_features(self) -> int:
        return self.n_hashed + (N_LEXICON_FEATURES if self.lexicon_features else 0)


_N_DENSE = 13
#: a language code as ``language.detect`` gives them (the keys of per-language heads)
_LANGUAGE = re.compile(r"[a-z]{2,3}")
#: Lexicon features appear once shared and once in a per-language slot (en, fr, other): the two
#: lexicons use different valence scales, so each language gets its own calibration on top.
_LEXICON_SLOTS = ("en", "fr")
N_LEXICON_FEATURES = _N_DENSE * (len(_LEXICON_SLOTS) + 2)

_URL = re.compile(r"https?://\S+|www\.\S+|\bhttp\b", re.IGNORECASE)
_MENTION = re.compile(r"@\w+")
_ELONG = re.compile(r"(\w)\1{2,}")
_APOS_NT = re.compile(r"n['’]t\b")
_TOKEN = re.compile(
    r"#?\w+|[!?]+|[.,;:]+|[\U0001F300-\U0001FAFF\u2600-\u27BF]|[:;=]-?[()dpDP/\\]",
)
_STOP_CHARS = frozenset(".,;:!?")


def normalize(text: str) -> str:
    """Entity-decoded, folded text with links, mentions and digit runs replaced by placeholders."""
    text = html.unescape(text)
    text = _URL.sub(" _url_ ", text)
    text = _MENTION.sub(" _user_ ", text)
    text = _APOS_NT.sub(" not", _fold(text))
    text = text.replace("’", "'").replace("'", " ")
    text = _ELONG.sub(r"\1\1", text)
    return re.sub(r"\d+", "0", text)


def _analyse(text: str, lex: Lexicon, config: FeatureConfig) -> tuple[list[str], list[float]]:
    """Hashed feature names and dense lexicon features for one text."""
    norm = normalize(text)
    tokens = _TOKEN.findall(norm)
    feats: list[str] = []
    marked: list[str] = []
    pos = neg = 0.0
    n_pos = n_neg = 0
    negated = False
    boost = 1.0
    valence = lex.valence
    adjectives = lex.adjectives
    a_pos = a_neg = subj = 0.0
    for tok in tokens:
        # a token ends in one of these only when it is all punctuation (words end in a word
        # character, emoticons in ``()dpDP/\``): a test of the last character tells them apart
        if tok[-1] in _STOP_CHARS:
            negated = False
            marked.append(tok[0])
            continue
        word = tok[1:] if tok[0] == "#" and len(tok) > 1 else tok
        v = valence.get(word)
        if v is None:
            v = _EMOJI_VALENCE.get(word)
        if v is not None:
            v *= boost
            if negated:
                v = -0.74 * v
            if v > 0:
                pos += v
                n_pos += 1
            elif v < 0:
                neg -= v
                n_neg += 1
        adj = adjectives.get(word) if adjectives else None
        if adj is not None:
            polarity = -0.74 * adj[0] if negated else adj[0]
            if polarity > 0:
                a_pos += polarity
            else:
                a_neg -= polarity
            subj += max(adj[1], 0.0)
        boost = 1.3 if word in lex.boosters else 1.0
        marked.append("n!" + word if negated else word)
        if word in lex.negators:
            negated = True
    feats.extend(marked)
    if config.word_ngrams >= 2:
        feats.extend([a + " " + b for a, b in pairwise(marked)])
    for n in range(3, config.word_ngrams + 1):
        feats.extend(" ".join(marked[i : i + n]) for i in range(len(marked) - n + 1))
    if config.char_ngrams is not None:
        lo, hi = config.char_ngrams
        for tok in tokens:
            if len(tok) < 3 or tok.startswith("_"):
                continue
            padded = f" {tok} "
            size = len(padded)
            for n in range(lo, min(hi, size) + 1):
                feats.extend("c:" + padded[i : i + n] for i in range(size - n + 1))
    dense: list[float] = []
    if config.lexicon_features:
        total = pos - neg
        compound = total / (total * total + 15.0) ** 0.5
        length = max(1, len(marked)) ** 0.5
        exclaim = norm.count("!")
        dense = [
            compound,
            pos / length,
            neg / length,
            min(n_pos, 5) / 5.0,
            min(n_neg, 5) / 5.0,
            1.0 if n_pos == 0 and n_neg == 0 else 0.0,
            min(exclaim, 4) / 4.0,
            1.0 if "?" in norm else 0.0,
            1.0 if "_url_" in norm else 0.0,
            min(len(marked), 40) / 40.0,
            a_pos / length,
            a_neg / length,
            subj / length,
        ]
    return feats, dense


@lru_cache(maxsize=8)
def _hasher(n_features: int) -> Any:
    from sklearn.feature_extraction import FeatureHasher

    return FeatureHasher(n_features=n_features, input_type="string", alternate_sign=False)


@dataclass
class Blocks:
    """Raw hashed counts (words, characters) and dense lexicon rows for a batch."""

    words: sp.csr_matrix
    chars: sp.csr_matrix | None
    dense: npt.NDArray[np.float64] | None


def hashed_blocks(texts: Sequence[str], languages: Sequence[str], config: FeatureConfig) -> Blocks:
    """Per-text analysis, before weighting: what ``featurize`` and IDF fitting share."""
    words: list[list[str]] = []
    chars: list[list[str]] = []
    dense_rows: list[list[float]] = []
    for text, lang in zip(texts, languages, strict=True):
        feats, dense = _analyse(text, lexicon(lang if lang in ("en", "fr") else "*"), config)
        split = (
            next((i for i, f in enumerate(feats) if f.startswith("c:")), len(feats))
            if config.char_ngrams is not None
            else len(feats)
        )
        words.append(feats[:split])
        chars.append(feats[split:])
        if dense:
            slot = _LEXICON_SLOTS.index(lang) if lang in _LEXICON_SLOTS else len(_LEXICON_SLOTS)
            row = [0.0] * N_LEXICON_FEATURES
            row[:_N_DENSE] = dense
            start = _N_DENSE * (slot + 1)
            row[start : start + _N_DENSE] = dense
            dense_rows.append(row)
    hasher = _hasher(config.n_hashed)
    return Blocks(
        sp.csr_matrix(hasher.transform(words), dtype=np.float64),
        sp.csr_matrix(hasher.transform(chars), dtype=np.float64) if config.char_ngrams is not None else None,
        np.asarray(dense_rows, dtype=np.float64) if config.lexicon_features else None,
    )


def assemble(
    blocks: Blocks, config: FeatureConfig, idf: npt.NDArray[np.float32] | None = None
) -> sp.csr_matrix:
    """Weighted, normalised design matrix from ``hashed_blocks`` output."""
    x = _l2_rows(blocks.words, idf)
    if blocks.chars is not None:
        x = x + _l2_rows(blocks.chars, idf) * config.char_weight
    if blocks.dense is not None:
        n = blocks.words.shape[0]
        dense = blocks.dense if len(blocks.dense) else np.zeros((n, N_LEXICON_FEATURES))
        x = sp.hstack([x, sp.csr_matrix(dense * config.lexicon_weight)], format="csr")
    return sp.csr_matrix(x)


def featurize(
    texts: Sequence[str],
    languages: Sequence[str],
    config: FeatureConfig,
    idf: npt.NDArray[np.float32] | None = None,
) -> sp.csr_matrix:
    """Sparse design matrix (rows L2-normalised per block) for a batch of texts."""
    return assemble(hashed_blocks(texts, languages, config), config, idf)


def _l2_rows(x: Any, idf: npt.NDArray[np.float32] | None = None) -> sp.csr_matrix:
    x = sp.csr_matrix(x, dtype=np.float64, copy=True)
    x.data = np.sqrt(x.data)  # dampen repeated n-grams (sublinear tf)
    if idf is not None:
        x.data *= idf[x.indices]
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms) @ x)


# --------------------------------------------------------------------------- the model


@dataclass
class SentimentModel:
    """A linear classifier over ``featurize`` output.

    ``coef`` has one row per label; ``predict`` returns, per text, the most likely label and
    ``P(positive) - P(negative)`` as a score in [-1, 1] (0 for a two-class model missing one).
    """

    labels: tuple[str, ...]
    config: FeatureConfig
    coef: FloatArray  # shape (n_features, n_labels), float32
    intercept: FloatArray  # shape (n_labels,), float32
    metadata: dict[str, Any] = field(default_factory=dict)
    idf: FloatArray | None = None  # shape (n_hashed,) when config.idf
    #: optional second pass over sentence embeddings (voice/embeddings.py), run where the
    #: lexical model is unsure and only when the embedding package is installed; the shared
    #: head, read by posts in a language without a head of its own in ``heads``
    head: EmbeddingHead | None = None
    #: None: embed with the installed package when there is a head; tests pass a fake
    embedder: Embedder | None = field(default=None, repr=False, compare=False)
    #: posts embedded so far (the cascade's cost, for benchmarks)
    embedded: int = field(default=0, repr=False, compare=False)
    #: unsure posts left to the lexical model by an ``embed_limit`` (a flood's overflow)
    deferred: int = field(default=0, repr=False, compare=False)
    #: one head per language it was fitted for ("en", "fr"): lines of one language then cannot
    #: move the decisions on another's posts (issue 17: French corpus lines moved English ones)
    heads: dict[str, EmbeddingHead] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.labels or any(label not in LABELS for label in self.labels):
            raise SentimentModelError(f"labels must be among {LABELS}, got {self.labels}")
        if len(set(self.labels)) != len(self.labels) or len(self.labels) < 2:
            raise SentimentModelError("a model needs at least two distinct labels")
        expected = (self.config.n_features, len(self.labels))
        if self.coef.shape != expected:
            raise SentimentModelError(f"coefficients have shape {self.coef.shape}, expected {expected}")
        if self.intercept.shape != (len(self.labels),):
            raise SentimentModelError("intercept does not match the labels")
        if not (np.isfinite(self.coef).all() and np.isfinite(self.intercept).all()):
            raise SentimentModelError("model weights contain NaN or infinity")
        if self.config.idf != (self.idf is not None):
            raise SentimentModelError("IDF weights present without idf=true, or missing")
        if self.idf is not None and (
            self.idf.shape != (self.config.n_hashed,) or not np.isfinite(self.idf).all()
        ):
            raise SentimentModelError("IDF weights do not match the feature space")
        for lang, head in self.heads.items():
            if not _LANGUAGE.fullmatch(lang) or head.labels != self.labels:
                raise SentimentModelError(f"embedding head for {lang!r} does not fit this model")

    def head_for(self, language: str) -> EmbeddingHead | None:
        """The head that reads a post in ``language``: its own, else the shared one."""
        return self.heads.get(language, self.head)

    def cascade_for(self, language: str) -> float:
        """Top lexical probability below which a post in ``language`` is embedded (0: never)."""
        head = self.head_for(language)
        return head.cascade if head is not None else 0.0

    def probabilities(
        self,
        texts: Sequence[str],
        languages: Sequence[str] | None = None,
        *,
        embeddings: bool = False,
        cascade: float | None = None,
        embed_limit: int | None = None,
    ) -> npt.NDArray[np.float64]:
        """Class probabilities, one row per text, columns in ``self.labels`` order.

        With an embedding head, posts the lexical model is unsure about (top probability below
        the head's ``cascade``, or ``cascade`` given here) are embedded and blended in when
        ``embeddings`` is true and the package is installed (or an ``embedder`` is set). Off by
        default: the pass scores tens of posts per second, the lexical model thousands.
        ``embed_limit`` caps the posts embedded in this call (the least sure first).
        """
        if languages is None:
            from wefirst.voice.language import detect

            languages = [detect(t) for t in texts]
        elif len(languages) != len(texts):
            raise ValueError("texts and languages must have the same length")
        if len(texts) == 0:
            return np.zeros((0, len(self.labels)))
        x = featurize(texts, languages, self.config, self.idf)
        logits = np.asarray(x @ self.coef, dtype=np.float64) + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        use = embeddings and (self.embedder is not None or embeddings_available())
        if (self.head is not None or self.heads) and use:
            p = self._refine(p, texts, languages, cascade, embed_limit)
        return p

    def _refine(
        self,
        p: npt.NDArray[np.float64],
        texts: Sequence[str],
        languages: Sequence[str],
        cascade: float | None,
        limit: int | None,
    ) -> npt.NDArray[np.float64]:
        """Blend in the embedding side where the lexical model is unsure, each post read by its
        language's head; at most ``limit`` posts embedded (the least sure first: a flood must
        not hold the fast path up for minutes), one embedding call for all of them."""
        heads = [self.head_for(lang) for lang in languages]
        thresholds = np.array(
            [-1.0 if h is None else (h.cascade if cascade is None else cascade) for h in heads]
        )
        unsure, deferred = select_unsure(p.max(axis=1), thresholds, limit)
        self.deferred += deferred
        if unsure.size == 0:
            return p
        vectors = (self.embedder or embed)([texts[int(i)] for i in unsure])
        self.embedded += int(unsure.size)
        out = p.copy()
        by_head: dict[int, list[int]] = {}
        for j, i in enumerate(unsure):
            by_head.setdefault(id(heads[int(i)]), []).append(j)
        for picks in by_head.values():
            head = heads[int(unsure[picks[0]])]
            assert head is not None
            rows = unsure[picks]
            out[rows] = head.blend_rows(p[rows], vectors[picks])
        return out

    def predict(
        self, texts: Sequence[str], languages: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        """``(label, score)`` per text; pass ``languages`` when already known (faster)."""
        p = self.probabilities(texts, languages)
        if p.shape[0] == 0:
            return []
        best = p.argmax(axis=1)
        return [(self.labels[int(i)], round(float(s), 4)) for i, s in zip(best, self.scores(p), strict=True)]

    def scores(self, p: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """``P(positive) - P(negative)`` per row of ``probabilities`` output, in [-1, 1]."""
        score = np.zeros(p.shape[0])
        if "positive" in self.labels:
            score += p[:, self.labels.index("positive")]
        if "negative" in self.labels:
            score -= p[:, self.labels.index("negative")]
        return np.clip(score, -1.0, 1.0)

    # ------------------------------------------------------------------- persistence

    def to_json(self) -> dict[str, Any]:
        rows = np.flatnonzero(np.any(self.coef != 0, axis=1)).astype("<i4")
        values = np.ascontiguousarray(self.coef[rows], dtype="<f4")
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION if self.heads else 1,
            "labels": list(self.labels),
            "config": asdict(self.config),
            "intercept": _b64(np.asarray(self.intercept, dtype="<f4")),
            "coef_rows": _b64(rows),
            "coef_values": _b64(values),
            "metadata": self.metadata,
            **(_idf_json(self.idf) if self.idf is not None else {}),
            **({"embedding_head": self.head.to_json()} if self.head is not None else {}),
            **(
                {"embedding_heads": {lang: h.to_json() for lang, h in sorted(self.heads.items())}}
                if self.heads
                else {}
            ),
        }

    def save(self, path: str | Path) -> None:
        """Write the model as JSON (gzipped when the name ends in ``.gz``)."""
        path = Path(path)
        data = json.dumps(self.to_json(), separators=(",", ":")).encode()
        if path.name.endswith(".gz"):
            data = gzip.compress(data, compresslevel=9, mtime=0)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)

    @classmethod
    def from_json(cls, doc: Any) -> SentimentModel:
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise SentimentModelError("not a wefirst sentiment model (missing format marker)")
        version = doc.get("version")
        if version not in READABLE_VERSIONS:
            raise SentimentModelError(
                f"unsupported model version {version!r}: this wefirst reads versions "
                f"{', '.join(map(str, READABLE_VERSIONS))} (a newer release wrote it? upgrade wefirst)"
            )
        if version == 1 and "embedding_heads" in doc:
            raise SentimentModelError("per-language embedding heads need model version 2")
        try:
            labels = tuple(str(x) for x in doc["labels"])
            raw = dict(doc["config"])
            if raw.get("char_ngrams") is not None:
                raw["char_ngrams"] = tuple(int(v) for v in raw["char_ngrams"])
            config = FeatureConfig(**raw)
            if not 10 <= config.hash_bits <= 24:
                raise SentimentModelError("hash_bits out of range")
            intercept = _unb64(doc["intercept"], "<f4")
            rows = _unb64(doc["coef_rows"], "<i4")
            values = _unb64(doc["coef_values"], "<f4").reshape(len(rows), len(labels))
            if rows.size and (rows.min() < 0 or rows.max() >= config.n_features):
                raise SentimentModelError("coefficient index out of range")
            coef = np.zeros((config.n_features, len(labels)), dtype=np.float32)
            coef[rows] = values
            metadata = doc.get("metadata") or {}
            if not isinstance(metadata, dict):
                raise SentimentModelError("metadata must be an object")
            idf = _idf_from_json(doc, config) if config.idf else None
            head = EmbeddingHead.from_json(doc["embedding_head"], labels) if "embedding_head" in doc else None
            raw_heads = doc.get("embedding_heads") or {}
            if not isinstance(raw_heads, dict):
                raise SentimentModelError("embedding_heads must be an object")
            heads = {str(lang): EmbeddingHead.from_json(h, labels) for lang, h in raw_heads.items()}
        except SentimentModelError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise SentimentModelError(f"malformed model file: {exc}") from exc
        return cls(labels, config, coef, intercept.astype(np.float32), metadata, idf, head, heads=heads)


def _idf_json(idf: FloatArray) -> dict[str, Any]:
    default = float(idf.max())  # columns never seen in training share the largest weight
    rows = np.flatnonzero(idf != np.float32(default)).astype("<i4")
    return {
        "idf_default": default,
        "idf_rows": _b64(rows),
        "idf_values": _b64(np.ascontiguousarray(idf[rows], dtype="<f4")),
    }


def _idf_from_json(doc: dict[str, Any], config: FeatureConfig) -> FloatArray:
    rows = _unb64(doc["idf_rows"], "<i4")
    values = _unb64(doc["idf_values"], "<f4")
    if len(rows) != len(values) or (rows.size and (rows.min() < 0 or rows.max() >= config.n_hashed)):
        raise SentimentModelError("IDF index out of range")
    idf = np.full(config.n_hashed, float(doc["idf_default"]), dtype=np.float32)
    idf[rows] = values
    return idf


def _b64(a: npt.NDArray[Any]) -> str:
    return base64.b64encode(a.tobytes()).decode("ascii")


def _unb64(s: Any, dtype: str) -> npt.NDArray[Any]:
    if not isinstance(s, str):
        raise SentimentModelError("array fields must be base64 strings")
    raw = base64.b64decode(s.encode("ascii"), validate=True)
    if len(raw) % np.dtype(dtype).itemsize:
        raise SentimentModelError("array field has a truncated length")
    return np.frombuffer(raw, dtype=dtype).copy()


def load_model(path: str | Path) -> SentimentModel:
    """Read a model written by ``SentimentModel.save``; raises ``SentimentModelError``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SentimentModelError(f"cannot read model file {path}: {exc.strerror}") from exc
    return _model_from_bytes(raw, str(path))


def _model_from_bytes(raw: bytes, name: str) -> SentimentModel:
    if raw[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as fh:
                raw = fh.read(MAX_MODEL_BYTES + 1)
        except (OSError, EOFError) as exc:
            raise SentimentModelError(f"{name}: corrupt gzip data") from exc
    if len(raw) > MAX_MODEL_BYTES:
        raise SentimentModelError(f"{name}: larger than any sentiment model we write")
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SentimentModelError(f"{name}: not a JSON model file ({exc})") from exc
    try:
        return SentimentModel.from_json(doc)
    except SentimentModelError as exc:
        raise SentimentModelError(f"{name}: {exc}") from exc


@lru_cache(maxsize=1)
def load_default_model() -> SentimentModel:
    """The model shipped in the package (see ``models/MODEL_CARD.md``); loaded once."""
    raw = resources.files("wefirst.voice.models").joinpath(DEFAULT_MODEL_FILE).read_bytes()
    return _model_from_bytes(raw, DEFAULT_MODEL_FILE)
