"""Embed the shared voice dev files (and the project corpus) once, into a cache outside the repo.

The evaluation scripts (``bench/eval_sentiment.py``, ``bench/voice_detection_eval.py``,
``scripts/train_default_model.py``) read ``*.npz`` files with ``keys`` (``embeddings.text_key``)
and ``vecs``. Embedding the ~15,000 dev texts takes 15-40 minutes on one busy core, and the
vectors never change, so they are computed once here, in chunks (an interrupted run resumes).
Never point ``--out`` into the repository: the dev data may not be redistributed.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python scripts/voice_embed_cache.py --out /tmp/voice-emb/chunks``
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data" / "voice"
FILES = [
    "airline_tweets_2015_dev.csv",
    "fr_tweets_deft2017_dev.csv",
    "fr_allocine_reviews_dev.csv",
]


def corpus_texts() -> list[str]:
    sys.path.insert(0, str(ROOT / "scripts"))
    from train_default_model import template_rows

    return [t for t, _, _ in template_rows()]


def _unsure(texts: list[str]) -> set[str]:
    from wefirst.voice.language import detect
    from wefirst.voice.sentiment import load_default_model

    model = load_default_model()
    langs = [detect(t) for t in texts]
    p = model.probabilities(texts, langs)
    return {t for t, lang, row in zip(texts, langs, p, strict=True) if row.max() < model.cascade_for(lang)}


def main(argv: list[str] | None = None) -> int:
    from wefirst.voice.embeddings import embed, text_key

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--chunk", type=int, default=256)
    args = parser.parse_args(argv)
    if ROOT.resolve() in args.out.resolve().parents:
        parser.error("--out must be outside the repository")
    args.out.mkdir(parents=True, exist_ok=True)
    done: set[str] = set()
    for f in args.out.glob("*.npz"):
        done.update(str(k) for k in np.load(f)["keys"])
    per_file: list[list[str]] = []
    for name in FILES:
        with (args.data / name).open(encoding="utf-8", newline="") as fh:
            per_file.append([r["text"] for r in csv.DictReader(fh)])
    # What the cascade embeds first (the posts the fast model is unsure about), so the
    # detection and shipped-model checks can run before the whole cache is built.
    unsure = [t for texts in per_file[:2] for t in sorted(_unsure(texts))]
    texts = corpus_texts() + unsure + [t for texts in per_file for t in texts]
    todo: dict[str, str] = {}
    for t in texts:
        k = text_key(t)
        if k not in done and k not in todo:
            todo[k] = t
    items = list(todo.items())
    print(f"{len(done)} cached, {len(items)} to embed", file=sys.stderr)
    started = time.perf_counter()
    n_files = len(list(args.out.glob("*.npz")))
    for i in range(0, len(items), args.chunk):
        part = items[i : i + args.chunk]
        vecs = embed([t for _, t in part])
        np.savez(args.out / f"c{n_files:05d}.npz", keys=np.array([k for k, _ in part]), vecs=vecs)
        n_files += 1
        rate = (i + len(part)) / (time.perf_counter() - started)
        print(f"{i + len(part)}/{len(items)} ({rate:.1f}/s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
