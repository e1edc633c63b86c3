"""Fitting the embedding side of a trained model: its classifier, how much it weighs against the
lexical model, which posts it reads, and a per-label calibration.

Why a validation split and not fixed settings: the right blend differs by data set (on tweets
the two sides make different mistakes and a near-even blend wins; on long reviews the embedding
side alone is about as good), and macro-F1 rewards the rare labels that a probability-maximising
classifier under-predicts, so a small per-label offset, chosen where it is measured, buys more
than any change of features. Everything is chosen on rows the final held-out check never sees:
``train`` is called on the caller's training rows only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from wefirst.voice.embeddings import EmbeddingHead, fit_head

FloatArray = npt.NDArray[np.float64]

BLEND_SALT = "wefirst-voice-blend"
BLEND_FRACTION = 0.2
HEAD_C = (1.0, 4.0, 16.0)
BLENDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0)
#: Smallest first: the cheapest threshold whose macro-F1 is within ``CASCADE_SLACK`` of
#: embedding every post is kept (the pipeline embeds only below it).
CASCADES = (0.7, 0.8, 0.9, 0.95, 1.01)
CASCADE_SLACK = 0.003
OFFSETS = tuple(round(x, 2) for x in np.arange(-1.0, 1.01, 0.1))
#: an offset is kept only when it gains at least this much on the validation rows (noise guard)
OFFSET_GAIN = 0.003
MIN_VALIDATION = 30


@dataclass(frozen=True)
class HeadChoice:
    c: float
    blend: float
    cascade: float
    offsets: tuple[float, ...]
    validation_macro_f1: float | None

    def as_json(self) -> dict[str, Any]:
        return {
            "head_C": self.c,
            "blend": self.blend,
            "cascade": self.cascade,
            "offsets": list(self.offsets),
            "validation_macro_f1": self.validation_macro_f1,
        }


def balanced_weights(labels: Sequence[str]) -> list[float]:
    """Each label weighs the same in total (what ``class_weight='balanced'`` does)."""
    counts = Counter(labels)
    return [len(labels) / (len(counts) * counts[x]) for x in labels]


def mix(
    p_lex: FloatArray, p_emb: FloatArray, blend: float, offsets: Sequence[float] | None = None
) -> FloatArray:
    """The geometric blend ``EmbeddingHead.refine`` computes, with optional per-label offsets
    on the log scale (what a shifted head intercept adds: ``blend × shift``)."""
    z = blend * np.log(p_emb + 1e-9) + (1.0 - blend) * np.log(p_lex + 1e-9)
    if offsets is not None:
        z = z + np.asarray(offsets)
    z -= z.max(axis=1, keepdims=True)
    p: FloatArray = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    return p


def choose(
    p_lex: FloatArray,
    head_probabilities: Callable[[float], FloatArray],
    gold: Sequence[int],
    score: Callable[[Sequence[int], Sequence[int]], float],
) -> HeadChoice:
    """Settings that maximise ``score`` on validation rows: ``p_lex`` from a lexical model fitted
    without them, ``head_probabilities(C)`` from a head fitted without them."""
    n_labels = p_lex.shape[1]
    best: tuple[float, float, float, FloatArray] | None = None
    for c in HEAD_C:
        p_emb = head_probabilities(c)
        for blend in BLENDS:
            s = score(gold, list(mix(p_lex, p_emb, blend).argmax(axis=1)))
            if best is None or s > best[0] + 1e-9:
                best = (s, c, blend, p_emb)
    assert best is not None
    base, c, blend, p_emb = best
    offsets = [0.0] * n_labels
    current = base
    for _ in range(2):  # coordinate ascent, two sweeps
        for k in range(1, n_labels):  # the first label is the reference
            for d in OFFSETS:
                trial = offsets.copy()
                trial[k] = d
                s = score(gold, list(mix(p_lex, p_emb, blend, trial).argmax(axis=1)))
                if s > current + 1e-9:
                    current, offsets = s, trial
    if current < base + OFFSET_GAIN:
        offsets, current = [0.0] * n_labels, base
    full = current
    cascade = CASCADES[-1]
    for t in CASCADES:
        unsure = p_lex.max(axis=1) < t
        p = p_lex.copy()
        p[unsure] = mix(p_lex[unsure], p_emb[unsure], blend, offsets)
        if score(gold, list(p.argmax(axis=1))) >= full - CASCADE_SLACK:
            cascade = t
            break
    return HeadChoice(c, blend, cascade, tuple(float(x) for x in offsets), round(float(full), 4))


def final_head(
    vectors: npt.NDArray[np.float32], labels: Sequence[str], classes: tuple[str, ...], choice: HeadChoice
) -> EmbeddingHead:
    """The head fitted on every training row, with the chosen blend, cascade and offsets (an
    offset ``d`` on the blended log scale is ``d / blend`` on the head's intercept)."""
    head = fit_head(
        vectors,
        labels,
        classes,
        c=choice.c,
        sample_weight=balanced_weights(labels),
        blend=choice.blend,
        cascade=choice.cascade,
    )
    if choice.blend > 0 and any(choice.offsets):
        shift = np.asarray(choice.offsets, dtype=np.float32) / np.float32(choice.blend)
        head = EmbeddingHead(
            head.labels, head.coef, (head.intercept + shift).astype(np.float32), head.blend, head.cascade
        )
    return head
