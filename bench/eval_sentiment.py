"""Sentiment quality and speed on the shared voice data: VADER vs. our models.

Each dev file is split deterministically by a salted SHA-256 of its key (tweet id, or text):
30 % is the final **test** part, never looked at while tuning; the rest is **train**. With
``--split tune`` the test part is left out entirely and the numbers come from a tune part carved
out of train (what we used while choosing settings). Systems:

- ``vader``: vaderSentiment, compound ≥ 0.05 positive, ≤ -0.05 negative (English only);
- ``default``: the model shipped in the package (trained on none of this data);
- ``trainer``: ``wefirst.voice.training.train`` fitted on the train part (what
  ``wefirst voice train`` does), with the settings in ``TRAINER_SETTINGS``.

Run: ``.venv/bin/python bench/eval_sentiment.py [--split test|tune] [--json OUT]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wefirst.voice.sentiment import load_default_model, load_model
from wefirst.voice.training import TrainOptions, holdout_mask, metrics, train

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "voice"
TEST_FRACTION = 0.3
TUNE_FRACTION = 0.25  # of the train part, used with --split tune


@dataclass(frozen=True)
class DataSet:
    name: str
    file: str
    text: str
    label: str
    key: str
    lang: str
    primary: str  # the metric the README targets


DATASETS = [
    DataSet(
        "airline (en, 3 classes)",
        "airline_tweets_2015_dev.csv",
        "text",
        "airline_sentiment",
        "tweet_id",
        "en",
        "macro_f1",
    ),
    DataSet(
        "DEFT tweets (fr, 3 classes)",
        "fr_tweets_deft2017_dev.csv",
        "text",
        "sentiment",
        "text",
        "fr",
        "macro_f1",
    ),
    DataSet(
        "Allociné reviews (fr, 2 classes)",
        "fr_allocine_reviews_dev.csv",
        "text",
        "sentiment",
        "text",
        "fr",
        "accuracy",
    ),
]


def trainer_systems(embedder: Any, embeddings_on: bool) -> list[tuple[str, TrainOptions]]:
    """The trainer run exactly as ``wefirst voice train`` runs it: settings chosen automatically
    on inner splits of the train part (``training.CANDIDATES``, ``head_training``), without and
    (where embeddings are on) with the embedding head."""
    systems = [("trainer lexical", TrainOptions(auto=True))]
    if embeddings_on:
        systems.append(("trainer", TrainOptions(auto=True, embedder=embedder)))
    return systems


def read(ds: DataSet, data: Path) -> tuple[list[str], list[str], list[str]]:
    with (data / ds.file).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [r[ds.text] for r in rows], [r[ds.label] for r in rows], [r[ds.key] for r in rows]


def split(keys: Sequence[str], mode: str) -> tuple[list[int], list[int]]:
    """(fit rows, evaluation rows) for ``mode`` ``test`` or ``tune``."""
    test = holdout_mask(keys, TEST_FRACTION)
    train_rows = [i for i, t in enumerate(test) if not t]
    if mode == "test":
        return train_rows, [i for i, t in enumerate(test) if t]
    tune = holdout_mask([keys[i] for i in train_rows], TUNE_FRACTION, salt="wefirst-voice-tune")
    return (
        [i for i, t in zip(train_rows, tune, strict=True) if not t],
        [i for i, t in zip(train_rows, tune, strict=True) if t],
    )


def vader_predict(texts: Sequence[str]) -> list[str]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    sia = SentimentIntensityAnalyzer()
    out = []
    for t in texts:
        c = sia.polarity_scores(t)["compound"]
        out.append("positive" if c >= 0.05 else "negative" if c <= -0.05 else "neutral")
    return out


def _labels(model: Any, p: Any, two_class: bool) -> list[str]:
    pred = [model.labels[int(i)] for i in p.argmax(axis=1)]
    return binary(pred, list(model.scores(p))) if two_class else pred


def binary(pred: Sequence[str], scores: Sequence[float]) -> list[str]:
    """A three-class model on a two-class set: the sign of the score decides."""
    return [
        p if p != "neutral" else ("positive" if s >= 0 else "negative")
        for p, s in zip(pred, scores, strict=True)
    ]


def cached_embedder(cache: Path | None) -> Any:
    """``embeddings.embed`` with a cache of ``*.npz`` files (``keys``, ``vecs``) in front: the
    shared data takes an hour to embed on a busy machine, and its embeddings never change."""
    import numpy as np

    from wefirst.voice.embeddings import embed, text_key

    table: dict[str, Any] = {}
    if cache is not None:
        for f in sorted(cache.glob("*.npz")):
            z = np.load(f)
            table.update(zip((str(k) for k in z["keys"]), z["vecs"], strict=True))

    def lookup(texts: Sequence[str]) -> Any:
        missing = [t for t in texts if text_key(t) not in table]
        if missing:
            table.update(zip((text_key(t) for t in missing), embed(missing), strict=True))
        return np.stack([table[text_key(t)] for t in texts]).astype(np.float32)

    return lookup


def evaluate(
    mode: str,
    data: Path,
    model_path: Path | None,
    cache: Path | None = None,
    trainer: bool = True,
    embeddings_on: bool = True,
    only: str | None = None,
) -> list[dict[str, Any]]:
    default = load_model(model_path) if model_path else load_default_model()
    embedder = cached_embedder(cache)
    results: list[dict[str, Any]] = []
    for ds in DATASETS:
        if only and only.lower() not in ds.name.lower():
            continue
        texts, labels, keys = read(ds, data)
        fit_rows, eval_rows = split(keys, mode)
        gold = [labels[i] for i in eval_rows]
        eval_texts = [texts[i] for i in eval_rows]
        langs = [ds.lang] * len(eval_rows)
        two_class = len(set(labels)) == 2

        def record(
            system: str,
            pred: list[str],
            extra: dict[str, Any] | None = None,
            ds: DataSet = ds,
            gold: list[str] = gold,
        ) -> None:
            m = metrics(gold, pred)
            results.append(
                {
                    "dataset": ds.name,
                    "file": ds.file,
                    "split": mode,
                    "system": system,
                    "n": m["n"],
                    "accuracy": m["accuracy"],
                    "macro_f1": m["macro_f1"],
                    "f1": m["f1"],
                    **(extra or {}),
                }
            )
            print(
                f"{ds.name:34} {system:16} acc {m['accuracy']:.3f} macro-F1 {m['macro_f1']:.3f}",
                file=sys.stderr,
                flush=True,
            )

        if ds.lang == "en":
            pred = vader_predict(eval_texts)
            record("vader", binary(pred, [0.0] * len(pred)) if two_class else pred)
        default.predict(eval_texts[:20], langs[:20])  # warm: lexicons, hasher
        started = time.perf_counter()
        p = default.probabilities(eval_texts, langs, embeddings=False)
        rate = len(eval_texts) / (time.perf_counter() - started)
        record("default fast", _labels(default, p, two_class), {"posts_per_s": rate})
        if default.head is not None:
            default.embedder = embedder
            for name, cascade in (("default cascade", None), ("default all-embedded", 1.01)):
                before = default.embedded
                p = default.probabilities(eval_texts, langs, embeddings=True, cascade=cascade)
                share = (default.embedded - before) / max(len(eval_texts), 1)
                record(name, _labels(default, p, two_class), {"embedded_share": share})
            default.embedder = None
        if not trainer:
            continue
        for system, options in trainer_systems(embedder, embeddings_on):
            started = time.perf_counter()
            fit_texts = [texts[i] for i in fit_rows]
            model = train(fit_texts, [labels[i] for i in fit_rows], [ds.lang] * len(fit_rows), options)
            fit_s = time.perf_counter() - started
            model.predict(eval_texts[:20], langs[:20])
            started = time.perf_counter()
            out = model.predict(eval_texts, langs)
            rate = len(out) / (time.perf_counter() - started)
            extra = {
                "posts_per_s": rate,
                "fit_seconds": fit_s,
                "n_fit": len(fit_rows),
                "selection": model.metadata.get("selection"),
            }
            if model.head is None:
                record(system, [p for p, _ in out], extra)
                continue
            model.embedder = embedder
            before = model.embedded
            p = model.probabilities(eval_texts, langs, embeddings=True)
            extra["embedded_share"] = (model.embedded - before) / max(len(eval_texts), 1)
            extra["embedding_head"] = model.metadata.get("embedding_head")
            record(system, _labels(model, p, two_class), extra)
    return results


def speed(data: Path, model_path: Path | None, batch: int = 1000) -> dict[str, float]:
    """Posts per CPU-second (process time, so other load on the machine does not count):
    language detection, and ``predict`` alone on batches."""
    from wefirst.voice.language import detect

    model = load_model(model_path) if model_path else load_default_model()
    texts: list[str] = []
    for ds in DATASETS[:2]:  # tweets: the posts the pipeline sees
        texts += read(ds, data)[0]
    model.predict(texts[:50])  # warm up (lexicons, hasher, language model)
    started = time.process_time()
    langs = [detect(t) for t in texts]
    detect_rate = len(texts) / (time.process_time() - started)
    started = time.process_time()
    for i in range(0, len(texts), batch):
        model.predict(texts[i : i + batch], langs[i : i + batch])
    predict_rate = len(texts) / (time.process_time() - started)
    return {
        "posts": len(texts),
        "detect_per_s": detect_rate,
        "predict_per_s": predict_rate,
        "both_per_s": 1.0 / (1.0 / detect_rate + 1.0 / predict_rate),
    }


def markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "| data set | split | system | n | accuracy | macro-F1 | posts/s (predict) |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for r in results:
        rate = f"{r['posts_per_s']:,.0f}" if "posts_per_s" in r else "—"
        lines.append(
            f"| {r['dataset']} | {r['split']} | {r['system']} | {r['n']} | "
            f"{r['accuracy']:.3f} | {r['macro_f1']:.3f} | {rate} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="sentiment quality on the shared voice data")
    parser.add_argument("--split", choices=["test", "tune"], default="test")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--model", type=Path, default=None, help="instead of the default")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--speed", action="store_true", help="only measure posts/s")
    parser.add_argument("--embedding-cache", type=Path, default=None, help="cached embeddings (*.npz)")
    parser.add_argument("--no-trainer", action="store_true", help="only the shipped model")
    parser.add_argument("--no-embeddings", action="store_true", help="trainer without the embedding head")
    parser.add_argument("--only", default=None, help="data sets whose name contains this (airline, DEFT, …)")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"no data at {args.data}", file=sys.stderr)
        return 2
    if args.speed:
        print(json.dumps(speed(args.data, args.model), indent=2))
        return 0
    results = evaluate(
        args.split,
        args.data,
        args.model,
        args.embedding_cache,
        not args.no_trainer,
        not args.no_embeddings,
        args.only,
    )
    print(markdown(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
