"""Fitting and evaluating sentiment models: the code behind ``wefirst voice train``.

Kept apart from ``sentiment`` so that scoring never imports the solver, and so the same split
and metric code serves the CLI, the default-model script and the benchmark.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from wefirst.voice.sentiment import (
    LABELS,
    FeatureConfig,
    SentimentModel,
    SentimentModelError,
    featurize,
)

MIN_PER_CLASS = 2


def validate_labels(labels: Sequence[str]) -> list[str]:
    """Normalised labels, or ``SentimentModelError`` naming the bad values."""
    cleaned = [str(x).strip().lower() for x in labels]
    bad = sorted({x for x in cleaned if x not in LABELS})
    if bad:
        shown = ", ".join(repr(b) for b in bad[:5])
        raise SentimentModelError(
            f"labels must be one of {', '.join(LABELS)}; found {shown}"
            + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        )
    counts = Counter(cleaned)
    if len(counts) < 2:
        raise SentimentModelError("training needs at least two different labels")
    thin = sorted(k for k, v in counts.items() if v < MIN_PER_CLASS)
    if thin:
        raise SentimentModelError(
            f"each label needs at least {MIN_PER_CLASS} examples; too few: {', '.join(thin)}"
        )
    return cleaned


def fit(
    texts: Sequence[str],
    labels: Sequence[str],
    languages: Sequence[str] | None,
    *,
    config: FeatureConfig,
    c: float,
    class_weight: str | None,
    progress: Callable[[str], None] | None,
    metadata: dict[str, Any],
) -> SentimentModel:
    """Multinomial logistic regression on ``featurize`` output (L2, lbfgs)."""
    from sklearn.linear_model import LogisticRegression

    if len(texts) != len(labels):
        raise SentimentModelError("texts and labels must have the same length")
    y_names = validate_labels(labels)
    classes = tuple(label for label in LABELS if label in set(y_names))
    say = progress or (lambda _msg: None)
    if languages is None:
        from wefirst.voice.language import detect

        say("detecting languages")
        languages = [detect(t) for t in texts]
    say("extracting features")
    x = featurize(texts, languages, config)
    y = np.array([classes.index(v) for v in y_names])
    say("fitting the classifier")
    # Only the hashed columns that occur can get a non-zero weight (L2 keeps the others at 0),
    # so fit on those alone: the solver then works on thousands of columns, not half a million.
    used = np.unique(x.indices)
    clf = LogisticRegression(C=c, class_weight=class_weight, max_iter=1000, tol=1e-4)
    clf.fit(x[:, used], y)
    coef = np.asarray(clf.coef_, dtype=np.float64)
    intercept = np.asarray(clf.intercept_, dtype=np.float64)
    if len(classes) == 2:  # sklearn gives one row for the positive class of a binary fit
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    coef32 = np.zeros((config.n_features, len(classes)), dtype=np.float32)
    coef32[used] = coef.T.astype(np.float32)
    coef32[np.abs(coef32) < 1e-6] = 0.0
    meta = {"n_train": len(texts), "class_counts": dict(Counter(y_names)), "C": c, **metadata}
    return SentimentModel(classes, config, np.ascontiguousarray(coef32), intercept.astype(np.float32), meta)


# --------------------------------------------------------------------------- evaluation


def split_key(key: str, salt: str = "wefirst-voice-eval") -> float:
    """A stable number in [0, 1) for ``key``: the same row always lands on the same side."""
    digest = hashlib.sha256(f"{salt}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def holdout_mask(keys: Sequence[str], fraction: float, salt: str = "wefirst-voice-eval") -> list[bool]:
    """``True`` for rows in the held-out part (about ``fraction`` of them)."""
    return [split_key(k, salt) < fraction for k in keys]


def metrics(gold: Sequence[str], pred: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 over the gold classes, and per-class F1."""
    if len(gold) != len(pred):
        raise ValueError("gold and pred must have the same length")
    classes = [c for c in LABELS if c in set(gold)]
    per: dict[str, float] = {}
    for cls in classes:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == cls and p == cls)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != cls and p == cls)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == cls and p != cls)
        denom = 2 * tp + fp + fn
        per[cls] = 2 * tp / denom if denom else 0.0
    n = len(gold)
    acc = sum(1 for g, p in zip(gold, pred, strict=True) if g == p) / n if n else math.nan
    macro = sum(per.values()) / len(per) if per else math.nan
    return {"n": n, "accuracy": acc, "macro_f1": macro, "f1": per}
