"""Fitting and evaluating sentiment models: the code behind ``wefirst voice train``.

Kept apart from ``sentiment`` so that scoring never imports the solver, and so the same split
and metric code serves the CLI, the default-model script and the benchmark.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from wefirst.voice.embeddings import Embedder, fit_head
from wefirst.voice.sentiment import (
    LABELS,
    Blocks,
    FeatureConfig,
    SentimentModel,
    SentimentModelError,
    assemble,
    hashed_blocks,
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
    sample_weight: Sequence[float] | None = None,
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
    blocks = hashed_blocks(texts, languages, config)
    idf = _fit_idf(blocks) if config.idf else None
    x = assemble(blocks, config, idf)
    y = np.array([classes.index(v) for v in y_names])
    say("fitting the classifier")
    # Only the hashed columns that occur can get a non-zero weight (L2 keeps the others at 0),
    # so fit on those alone: the solver then works on thousands of columns, not half a million.
    used = np.unique(x.indices)
    clf = LogisticRegression(C=c, class_weight=class_weight, max_iter=1000, tol=1e-4)
    clf.fit(x[:, used], y, sample_weight=None if sample_weight is None else np.asarray(sample_weight))
    coef = np.asarray(clf.coef_, dtype=np.float64)
    intercept = np.asarray(clf.intercept_, dtype=np.float64)
    if len(classes) == 2:  # sklearn gives one row for the positive class of a binary fit
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    coef32 = np.zeros((config.n_features, len(classes)), dtype=np.float32)
    coef32[used] = coef.T.astype(np.float32)
    coef32[np.abs(coef32) < 1e-6] = 0.0
    meta = {"n_train": len(texts), "class_counts": dict(Counter(y_names)), "C": c, **metadata}
    return SentimentModel(
        classes, config, np.ascontiguousarray(coef32), intercept.astype(np.float32), meta, idf
    )


#: What ``train(..., auto=True)`` (and so ``wefirst voice train``) tries. Lexicon features help
#: short posts but can crowd out n-grams on long texts (reviews), where a separable training set
#: lets a few dense features carry the margin; an inner validation split decides per data set.
CANDIDATES: tuple[tuple[str, FeatureConfig, float], ...] = (
    ("n-grams + lexicons", FeatureConfig(idf=True), 8.0),
    ("n-grams + light lexicons", FeatureConfig(idf=True, lexicon_weight=0.3), 8.0),
    ("n-grams only", FeatureConfig(idf=True, lexicon_features=False), 16.0),
)
SELECT_FRACTION = 0.2
CV_MAX_ROWS = 5000


def select(
    texts: Sequence[str],
    labels: Sequence[str],
    languages: Sequence[str],
    *,
    char_ngrams: bool = True,
    progress: Callable[[str], None] | None = None,
) -> tuple[FeatureConfig, float, list[dict[str, Any]]]:
    """Pick settings by mean macro-F1 over validation folds of the training rows (never the
    caller's held-out rows): 3 folds up to ``CV_MAX_ROWS`` rows, where one split is too noisy to
    tell candidates apart, one 20 % split above. Falls back to the first candidate when the data
    is too small to compare."""
    say = progress or (lambda _msg: None)
    candidates = [
        (name, cfg if char_ngrams else replace(cfg, char_ngrams=None), c) for name, cfg, c in CANDIDATES
    ]
    n_folds = 3 if len(texts) <= CV_MAX_ROWS else 1
    keys = [split_key(t, "wefirst-voice-select") for t in texts]
    folds = []
    for k in range(n_folds):
        lo, hi = (k / n_folds, (k + 1) / n_folds) if n_folds > 1 else (0.0, SELECT_FRACTION)
        val = [i for i, v in enumerate(keys) if lo <= v < hi]
        fit_rows = [i for i, v in enumerate(keys) if not lo <= v < hi]
        counts = Counter(labels[i] for i in fit_rows)
        if len(val) < 20 or set(counts) != set(labels) or min(counts.values()) < MIN_PER_CLASS:
            name, cfg, c = candidates[0]
            return cfg, c, [{"candidate": name, "macro_f1": None}]
        folds.append((fit_rows, val))
    trials: list[dict[str, Any]] = []
    best: tuple[float, FeatureConfig, float] | None = None
    for name, cfg, c in candidates:
        scores = []
        for k, (fit_rows, val) in enumerate(folds):
            say(f"trying {name} ({k + 1}/{len(folds)})")
            model = fit(
                [texts[i] for i in fit_rows],
                [labels[i] for i in fit_rows],
                [languages[i] for i in fit_rows],
                config=cfg,
                c=c,
                class_weight="balanced",
                progress=None,
                metadata={},
            )
            pred = model.predict([texts[i] for i in val], [languages[i] for i in val])
            scores.append(metrics([labels[i] for i in val], [p for p, _ in pred])["macro_f1"])
        score = sum(scores) / len(scores)
        trials.append({"candidate": name, "macro_f1": round(score, 4), "folds": len(folds)})
        if best is None or score > best[0]:
            best = (score, cfg, c)
    assert best is not None
    return best[1], best[2], trials


def _fit_idf(blocks: Blocks) -> npt.NDArray[np.float32]:
    """Smoothed IDF, ln((1 + n) / (1 + df)) + 1, over word and character columns together."""
    n = blocks.words.shape[0]
    df = np.asarray((blocks.words > 0).sum(axis=0)).ravel()
    if blocks.chars is not None:
        df = df + np.asarray((blocks.chars > 0).sum(axis=0)).ravel()
    idf: npt.NDArray[np.float32] = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
    return idf


@dataclass(frozen=True)
class TrainOptions:
    """How ``train`` fits a model. One object rather than a row of keyword arguments, because
    the CLI, the default-model script, the benchmark and the tests each set a different few.

    ``auto``: the feature settings and C are chosen on inner validation folds (``CANDIDATES``)
    and ``config``/``c`` are ignored. ``embedder``: also fit an embedding head over these
    sentence vectors (``head_training``), blended in where the lexical model is unsure.
    """

    config: FeatureConfig | None = None
    c: float = 4.0
    class_weight: str | None = "balanced"
    auto: bool = False
    char_ngrams: bool = True
    embedder: Embedder | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    languages: Sequence[str] | None = None,
    options: TrainOptions | None = None,
    *,
    progress: Callable[[str], None] | None = None,
    sample_weight: Sequence[float] | None = None,
) -> SentimentModel:
    """Fit a model on labelled posts (labels among ``LABELS``; two or three of them)."""
    opts = options or TrainOptions()
    meta = dict(opts.metadata)
    config, c = opts.config or FeatureConfig(), opts.c
    if len(texts) != len(labels):
        raise SentimentModelError("texts and labels must have the same length")
    clean = validate_labels(labels)
    if languages is None:
        from wefirst.voice.language import detect

        languages = [detect(t) for t in texts]
    if opts.auto:
        config, c, trials = select(texts, clean, languages, char_ngrams=opts.char_ngrams, progress=progress)
        meta["selection"] = trials
    model = fit(
        texts,
        clean,
        languages,
        config=config,
        c=c,
        class_weight=opts.class_weight,
        progress=progress,
        metadata=meta,
        sample_weight=sample_weight,
    )
    if opts.embedder is not None:
        _attach_head(model, texts, clean, languages, opts, progress)
    return model


#: a language gets an embedding head of its own when it has at least this many training rows
#: (and the data holds two such languages); smaller groups read the shared head
MIN_HEAD_ROWS = 150


def head_languages(labels: Sequence[str], languages: Sequence[str]) -> list[str]:
    """Languages that get a head of their own: at least ``MIN_HEAD_ROWS`` rows with every label
    of the data, and only when two or more languages qualify (one language: the shared head is
    that head)."""
    classes = set(labels)
    rows: dict[str, Counter[str]] = {}
    for label, lang in zip(labels, languages, strict=True):
        rows.setdefault(lang, Counter())[label] += 1
    chosen = [
        lang
        for lang, counts in sorted(rows.items())
        if lang != "und"
        and sum(counts.values()) >= MIN_HEAD_ROWS
        and set(counts) == classes
        and min(counts.values()) >= MIN_PER_CLASS
    ]
    return chosen if len(chosen) >= 2 else []


def _attach_head(
    model: SentimentModel,
    texts: Sequence[str],
    labels: list[str],
    languages: Sequence[str],
    opts: TrainOptions,
    progress: Callable[[str], None] | None,
) -> None:
    """Fit the embedding head: settings chosen on a validation part of the training rows (a
    lexical model and heads fitted on the rest), then the head refitted on every row. Where the
    rows hold two or more well-populated languages, each also gets a head of its own, fitted on
    its rows only (``head_languages``; its blend chosen on its validation rows), so one
    language's rows do not move the weights another language's posts are read with."""
    from wefirst.voice import head_training as ht

    assert opts.embedder is not None
    say = progress or (lambda _msg: None)
    say(f"embedding {len(texts)} posts")
    vectors = opts.embedder(texts)
    classes = model.labels
    keys = [split_key(t, ht.BLEND_SALT) for t in texts]
    val = [i for i, k in enumerate(keys) if k < ht.BLEND_FRACTION]
    rest = [i for i, k in enumerate(keys) if k >= ht.BLEND_FRACTION]
    rest_counts = Counter(labels[i] for i in rest)
    p_lex: Any = None
    if len(val) >= ht.MIN_VALIDATION and set(rest_counts) == set(classes) and min(rest_counts.values()) >= 2:
        say("choosing the blend of lexical and embedding sides")
        lexical = fit(
            [texts[i] for i in rest],
            [labels[i] for i in rest],
            [languages[i] for i in rest],
            config=model.config,
            c=float(model.metadata["C"]),
            class_weight=opts.class_weight,
            progress=None,
            metadata={},
        )
        p_lex = lexical.probabilities([texts[i] for i in val], [languages[i] for i in val])

    def choose_for(rows: list[int]) -> ht.HeadChoice:
        """Settings for a head over ``rows`` (all of them, or one language's)."""
        keep = set(rows)
        fit_rows = [i for i in rest if i in keep]
        check = [j for j, i in enumerate(val) if i in keep]
        counts = Counter(labels[i] for i in fit_rows)
        if (
            p_lex is None
            or len(check) < ht.MIN_VALIDATION
            or set(counts) != set(classes)
            or min(counts.values()) < 2
        ):
            return ht.HeadChoice(4.0, 0.7, 1.01, (0.0,) * len(classes), None)
        fit_labels = [labels[i] for i in fit_rows]

        def head_probabilities(c: float) -> Any:
            head = fit_head(
                vectors[fit_rows], fit_labels, classes, c=c, sample_weight=ht.balanced_weights(fit_labels)
            )
            return head.probabilities(vectors[[val[j] for j in check]])

        gold = [classes.index(labels[val[j]]) for j in check]

        def score(g: Sequence[int], p: Sequence[int]) -> float:
            return float(metrics([classes[i] for i in g], [classes[int(i)] for i in p])["macro_f1"])

        return ht.choose(p_lex[check], head_probabilities, gold, score)

    everyone = list(range(len(texts)))
    choice = choose_for(everyone)
    say("fitting the embedding head on all rows")
    model.head = ht.final_head(vectors, labels, classes, choice)
    model.metadata["embedding_head"] = choice.as_json()
    per_language: dict[str, Any] = {}
    for lang in head_languages(labels, languages):
        rows = [i for i in everyone if languages[i] == lang]
        say(f"fitting the embedding head for {lang}")
        lang_choice = choose_for(rows)
        model.heads[lang] = ht.final_head(vectors[rows], [labels[i] for i in rows], classes, lang_choice)
        per_language[lang] = lang_choice.as_json()
    if per_language:
        model.metadata["embedding_heads"] = per_language


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
