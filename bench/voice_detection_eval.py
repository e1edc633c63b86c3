"""Evaluate mobilization detection on the shared airline data, and its false-alarm rate on
null data; draw the chart in docs/voice-episodes.svg.

    .venv/bin/python bench/voice_detection_eval.py            # tables on stdout + the SVG
    .venv/bin/python bench/voice_detection_eval.py --model    # polarity from the shipped model
                                                              # (with its embedding cascade)
    .venv/bin/python bench/voice_detection_eval.py --import-db sqlite:////tmp/x.db
        # after `WEFIRST_DATABASE_URL=sqlite:////tmp/x.db wefirst voice import --airline-brands
        # --preset airline FILE`: the product's import path, as stored and re-detected

Reads ../shared/data/voice/airline_tweets_2015_dev.csv in place (never copied; skipped when
absent). Polarity is the human label by default, so the figures measure the detector, not the
sentiment model; ``--model`` runs the shipped model instead.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from wefirst.voice.airlines import AIRLINES
from wefirst.voice.detector import DetectorConfig, Episode, MobilizationDetector, Observation
from wefirst.voice.matching import BrandMatcher, BrandTerms
from wefirst.voice.sources.files import read_file

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "voice" / "airline_tweets_2015_dev.csv"
CHART = REPO / "docs" / "voice-episodes.svg"
ALPHAS = (1e-2, 1e-3, 1e-4, 1e-5)
HOUR = timedelta(hours=1)


#: The three surges issue 17 names (UTC hours): found when an episode of that brand and
#: polarity starts or peaks within an hour of it.
TARGETS = (
    ("JetBlue", "negative", datetime(2015, 2, 19, 15, tzinfo=UTC)),
    ("Southwest", "positive", datetime(2015, 2, 23, 1, tzinfo=UTC)),
    ("JetBlue", "positive", datetime(2015, 2, 23, 18, tzinfo=UTC)),
)


def load(
    use_model: bool,
    model_path: Path | None = None,
    hard: bool = False,
    embedder: Any = None,
    fast_path: bool = False,
) -> list[Observation]:
    """Observations as the product's pipeline makes them (match, language, sentiment with
    probabilities and, as shipped, the embedding cascade; irony discount, author); human labels
    unless ``use_model``; ``fast_path``: the lexical model alone."""
    from wefirst.voice.language import detect as detect_language
    from wefirst.voice.pipeline import EmbedBound, MemoryStore, Pipeline, observation
    from wefirst.voice.sentiment import load_default_model, load_model

    read = read_file(DATA, b"eval-salt")
    matcher = BrandMatcher(
        BrandTerms(name, spec["names"], (), spec["handles"], spec["hashtags"])
        for name, spec in AIRLINES.items()
    )
    model = (load_model(model_path) if model_path else load_default_model()) if use_model else None
    if model is not None and embedder is not None:
        model = replace(model, embedder=embedder)
    pipe = Pipeline(
        matcher,
        detect_language,
        model or load_default_model(),
        MemoryStore(),
        None,
        use_source_labels=not use_model,
        embeddings=use_model and not fast_path,
        bound=EmbedBound(limit=None),
    )  # fmt: skip  (a replayed week is one batch: no flood cap)
    _seen, analysed = pipe.analyse(read.posts)
    out = []
    for item in analysed:
        for m in item.matches:
            o = observation(item, m.brand_id)
            if hard:  # the pre-issue-17 reading: the model's label counts as a whole post
                o = replace(o, p_negative=None, p_positive=None)
            out.append(o)
    return out


def load_imported(url: str) -> tuple[list[Observation], list[Episode]]:
    """The product's import path: the observations ``wefirst voice import`` left in the
    database at ``url`` read back as its re-detection reads them (``stored_observations``),
    and the episodes it stored, with brand ids turned into the airline names of ``TARGETS``."""
    from sqlalchemy import select

    from wefirst.settings import Settings
    from wefirst.store.db import Database
    from wefirst.store.tables_core import brands
    from wefirst.store.tables_voice import voice_episodes
    from wefirst.voice.post_store import stored_observations

    names = {spec["brand"]: airline for airline, spec in AIRLINES.items()}
    db = Database(Settings(database_url=url))
    try:
        with db.read() as conn:
            ids = conn.execute(select(brands.c.id, brands.c.name)).all()
            airline = {r.id: names[r.name] for r in ids if r.name in names}
            rows = conn.execute(select(voice_episodes)).all()
        stored_obs = stored_observations(db, sorted(airline), None)
        obs = [replace(o, brand_id=airline[o.brand_id]) for o in stored_obs]
    finally:
        db.dispose()
    stored = [
        Episode(r.key, airline[r.brand_id], r.polarity, _utc(r.start), _utc(r.detected_at), _utc(r.peak_hour),
                r.peak_count, r.peak_expected, r.posts, r.expected, _utc(r.end) if r.end else None)
        for r in rows
        if r.brand_id in airline
    ]  # fmt: skip
    return obs, sorted(stored, key=lambda e: (e.brand_id, e.start))


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def flood(
    batch: int,
    order: str,
    embedder: Any,
    cfg: DetectorConfig,
    limit: int | None = None,
    fill: bool = False,
    shuffle_seed: int | None = None,
) -> tuple[list[Episode], int, int]:
    """The week replayed as ``listen`` meets a flood: posts in time order, ``batch`` at a time
    through the product's pipeline with its detector and the embedding limit
    (``pipeline.EMBED_LIMIT`` unless ``limit``), the unsure posts over the limit ranked by
    ``order``. Returns the episodes, the posts embedded and those the limit left unembedded."""
    from wefirst.voice.language import detect as detect_language
    from wefirst.voice.pipeline import EMBED_LIMIT, EmbedBound, MemoryStore, Pipeline
    from wefirst.voice.sentiment import load_default_model

    posts = read_file(DATA, b"eval-salt").posts
    if shuffle_seed is not None:  # the day-shuffled null, as ``day_shuffled`` makes it
        rng = random.Random(shuffle_seed)
        first, last = min(p.created_at for p in posts).date(), max(p.created_at for p in posts).date()
        n_days = (last - first).days + 1
        moved = []
        for p in posts:
            day = first + timedelta(days=rng.randrange(n_days))
            at = p.created_at.replace(year=day.year, month=day.month, day=day.day)
            moved.append(replace(p, created_at=at))
        posts = moved
    posts = sorted(posts, key=lambda p: p.created_at)
    matcher = BrandMatcher(
        BrandTerms(name, spec["names"], (), spec["handles"], spec["hashtags"])
        for name, spec in AIRLINES.items()
    )
    model = load_default_model()
    if embedder is not None:
        model = replace(model, embedder=embedder)
    det = MobilizationDetector(cfg, drop_terms=_brand_words())
    final: dict[str, Episode] = {}
    pipe = Pipeline(
        matcher,
        detect_language,
        model,
        MemoryStore(),
        det,
        lambda events: final.update((e.episode.key, e.episode) for e in events),
        embeddings=True,
        bound=EmbedBound(EMBED_LIMIT if limit is None else limit, order, fill),
    )
    for i in range(0, len(posts), batch):
        pipe.process(posts[i : i + batch])
    for e in det.advance(posts[-1].created_at + timedelta(hours=6)):
        final[e.episode.key] = e.episode
    for ep in det.open_episodes():
        final[ep.key] = ep
    return sorted(final.values(), key=lambda e: (e.brand_id, e.start)), model.embedded, pipe.deferred


def targets_found(episodes: list[Episode]) -> list[tuple[str, str, datetime, Episode | None]]:
    found = []
    for brand, polarity, hour in TARGETS:
        hit = next(
            (
                e
                for e in episodes
                if e.brand_id == brand
                and e.polarity == polarity
                and min(abs(e.start - hour), abs(e.peak_hour - hour)) <= HOUR
            ),
            None,
        )
        found.append((brand, polarity, hour, hit))
    return found


def detect(obs: list[Observation], cfg: DetectorConfig) -> list[Episode]:
    det = MobilizationDetector(cfg, drop_terms=_brand_words())
    final: dict[str, Episode] = {}
    for o in sorted(obs, key=lambda o: o.created_at):
        for e in det.observe(o):
            final[e.episode.key] = e.episode
    for e in det.advance(max(o.created_at for o in obs) + timedelta(hours=6)):
        final[e.episode.key] = e.episode
    for ep in det.open_episodes():
        final[ep.key] = ep
    return sorted(final.values(), key=lambda e: (e.brand_id, e.start))


def _brand_words() -> set[str]:
    words = {"flight", "flights", "thanks", "thank", "airline", "plane"}
    for name, spec in AIRLINES.items():
        words.update(w.lower() for w in (name, *spec["names"]) for w in w.split())
    return words


def stream_hours(obs: list[Observation]) -> int:
    """Stream-hours at risk: per brand, hours between its first and last post, × 2 polarities."""
    span: dict[str, list[datetime]] = defaultdict(list)
    for o in obs:
        span[o.brand_id].append(o.created_at)
    return sum(2 * int((max(v) - min(v)) / HOUR + 1) for v in span.values())


def label_shuffled(obs: list[Observation], seed: int) -> list[Observation]:
    """Same posts at the same times; polarity labels permuted within each brand. Surges of
    volume remain, polarity-specific ones are destroyed."""
    rng = random.Random(seed)
    by: dict[str, list[tuple[str, float | None, float | None]]] = defaultdict(list)
    for o in obs:
        by[o.brand_id].append((o.polarity, o.p_negative, o.p_positive))
    for labels in by.values():
        rng.shuffle(labels)
    it = {b: iter(v) for b, v in by.items()}
    out = []
    for o in obs:
        polarity, p_neg, p_pos = next(it[o.brand_id])
        out.append(replace(o, polarity=polarity, p_negative=p_neg, p_positive=p_pos))
    return out


def day_shuffled(obs: list[Observation], seed: int) -> list[Observation]:
    """Each post moved to a random day of its brand's span, keeping its time of day: the daily
    cycle and the totals stay, the day-specific surges are spread out."""
    rng = random.Random(seed)
    days: dict[str, list[datetime]] = defaultdict(list)
    for o in obs:
        days[o.brand_id].append(o.created_at)
    spans = {b: (min(v).date(), (max(v).date() - min(v).date()).days + 1) for b, v in days.items()}
    out = []
    for o in obs:
        first, n = spans[o.brand_id]
        day = first + timedelta(days=rng.randrange(n))
        out.append(replace(o, created_at=o.created_at.replace(year=day.year, month=day.month, day=day.day)))
    return out


def synthetic(seed: int, weeks: int = 4, brands: int = 6) -> list[Observation]:
    """Quiet streams with a daily and a weekly cycle and overdispersion (gamma-Poisson), the
    shape of real mention counts without any mobilization."""
    rng = random.Random(seed)
    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    out = []
    for b in range(brands):
        base = rng.choice((0.5, 2.0, 8.0))
        for h in range(weeks * 7 * 24):
            t = t0 + h * HOUR
            day = 0.6 if t.weekday() >= 5 else 1.0
            cycle = 0.3 + 1.4 * max(0.0, math.sin(math.pi * (t.hour - 6) / 16))
            for polarity, share in (("negative", 0.4), ("neutral", 0.4), ("positive", 0.2)):
                lam = base * day * cycle * share * rng.gammavariate(20, 1 / 20)
                for _ in range(_poisson(rng, lam)):
                    out.append(
                        Observation(f"s{b}", polarity, t + timedelta(seconds=rng.randrange(3600)), "x")
                    )
    return out


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def chart(obs: list[Observation], episodes: list[Episode], path: Path) -> None:
    """Small multiples: hourly negative (red) and positive (green, below) counts per airline,
    episodes shaded. Plain SVG, no plotting library."""
    brands = sorted({o.brand_id for o in obs})
    t0 = min(o.created_at for o in obs).replace(minute=0, second=0, microsecond=0)
    t1 = max(o.created_at for o in obs)
    n = int((t1 - t0) / HOUR) + 1
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * n)
    for o in obs:
        counts[(o.brand_id, o.polarity)][int((o.created_at - t0) / HOUR)] += 1
    w, left, row_h, top = 900, 110, 120, 40
    x_scale = (w - left - 20) / n
    height = top + row_h * len(brands) + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" '
        f'font-family="sans-serif" font-size="11">',
        f'<rect width="{w}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="20" font-size="13" font-weight="bold">Airline tweets per '
        f"hour (UTC), negative up (red) and positive down (green); detected episodes "
        f"shaded</text>",
    ]
    for i, brand in enumerate(brands):
        y0 = top + i * row_h + 60
        neg, pos = counts[(brand, "negative")], counts[(brand, "positive")]
        peak = max(max(neg), max(pos), 1)
        scale = 55 / peak
        for ep in episodes:
            if ep.brand_id != brand:
                continue
            end = ep.end or (ep.peak_hour + HOUR)
            x = left + (ep.start - t0) / HOUR * x_scale
            width = max((end - ep.start) / HOUR * x_scale, 2)
            colour = "#e53935" if ep.polarity == "negative" else "#43a047"
            y = y0 - 58 if ep.polarity == "negative" else y0
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="58" fill="{colour}" opacity="0.18"/>'
            )
        for series, sign, colour in ((neg, -1, "#c62828"), (pos, 1, "#2e7d32")):
            pts = " ".join(
                f"{left + j * x_scale:.1f},{y0 + sign * v * scale:.1f}" for j, v in enumerate(series)
            )
            parts.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="1"/>')
        parts.append(f'<line x1="{left}" y1="{y0}" x2="{w - 20}" y2="{y0}" stroke="#999"/>')
        parts.append(f'<text x="8" y="{y0 - 20}" font-weight="bold">{brand}</text>')
        parts.append(f'<text x="8" y="{y0 - 6}" fill="#555">max {peak}/h</text>')
    first_midnight = (24 - t0.hour) % 24
    for d in range(first_midnight, n, 24):
        x = left + d * x_scale
        day = (t0 + d * HOUR).strftime("%b %d")
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{height - 30}" stroke="#eee"/>')
        parts.append(f'<text x="{x + 2:.1f}" y="{height - 16}" fill="#555">{day}</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", action="store_true", help="polarity from the shipped model")
    parser.add_argument("--no-chart", action="store_true")
    parser.add_argument(
        "--share-alpha", type=float, default=None, help="polarity-share test level (default: off)"
    )
    parser.add_argument("--alpha", type=float, default=1e-3, help="alpha of the listed episodes")
    parser.add_argument("--alphas", type=float, nargs="*", default=list(ALPHAS), help="null-data rows")
    parser.add_argument("--model-file", type=Path, default=None, help="a model file, not the shipped one")
    parser.add_argument("--hard", action="store_true", help="model labels count whole (pre-issue-17)")
    parser.add_argument("--embedding-cache", type=Path, default=None, help="run the cascade (cached *.npz)")
    parser.add_argument("--no-authors", action="store_true", help="count every post, not distinct authors")
    parser.add_argument("--fast-path", action="store_true", help="the model without its embedding pass")
    parser.add_argument(
        "--flood",
        type=int,
        nargs="*",
        default=None,
        help="replay in batches of N posts with the embedding limit (both orders), then stop",
    )
    parser.add_argument("--flood-null", type=int, default=0, help="with --flood: day-shuffled replays")
    parser.add_argument("--embed-limit", type=int, default=None, help="with --flood: not EMBED_LIMIT")
    parser.add_argument(
        "--import-db",
        default=None,
        help="database URL after `wefirst voice import` of the airline file: score the import path "
        "(its stored episodes, and its stored observations in every table)",
    )
    args = parser.parse_args()
    base = DetectorConfig(share_alpha=args.share_alpha)
    if args.flood is not None:
        return flood_table(args)

    print("## False alarms on null data (episodes per 1,000 stream-hours)\n")
    print("| alpha | synthetic (4 seeds) | airline, labels shuffled (5) | airline, days shuffled (5) |")
    print("|---|---|---|---|")
    syn = [synthetic(s) for s in range(4)]
    syn_hours = sum(stream_hours(o) for o in syn)
    embedder = None
    if args.embedding_cache is not None:
        sys.path.insert(0, str(Path(__file__).parent))
        from eval_sentiment import cached_embedder

        embedder = cached_embedder(args.embedding_cache)
    use_model = args.model or args.model_file is not None
    imported: list[Episode] | None = None
    if args.import_db:
        obs, imported = load_imported(args.import_db)
    else:
        obs = load(use_model, args.model_file, args.hard, embedder, args.fast_path) if DATA.exists() else []
    if args.no_authors:
        obs = [replace(o, author="") for o in obs]
    hours = stream_hours(obs) if obs else 0
    for alpha in args.alphas:
        cfg = replace(base, alpha=alpha)
        s = sum(len(detect(o, cfg)) for o in syn)
        row = f"| {alpha:g} | {s} in {syn_hours:,} h = {1000 * s / syn_hours:.2f} |"
        if obs:
            ls = [len(detect(label_shuffled(obs, k), cfg)) for k in range(5)]
            ds = [len(detect(day_shuffled(obs, k), cfg)) for k in range(5)]
            row += (
                f" {sum(ls) / 5:.1f} in {hours:,} h = {1000 * sum(ls) / 5 / hours:.2f} |"
                f" {sum(ds) / 5:.1f} = {1000 * sum(ds) / 5 / hours:.2f} |"
            )
        else:
            row += " (data absent) | (data absent) |"
        print(row)
    if not obs:
        print("\nshared airline data absent: episode list and chart skipped")
        return 0
    if imported is not None:
        print(f"\n## Episodes `wefirst voice import` stored ({len(imported)})\n")
        hits = {id(e) for *_, e in targets_found(imported) if e is not None}
        for brand, polarity, hour, hit in targets_found(imported):
            where = f"found: start {hit.start:%b %d %H:00}, peak {hit.peak_hour:%H:00}" if hit else "MISSED"
            print(f"- {brand} {polarity} {hour:%b %d %H:00} UTC: {where}")
        for e in imported:
            if id(e) not in hits:
                print(f"- other: {e.brand_id} {e.kind} start {e.start:%b %d %H:00}, peak {e.peak_count}/h "
                      f"vs {e.peak_expected:.1f} at {e.peak_hour:%H:00}")  # fmt: skip
    source = "import path" if imported is not None else "model" if args.model else "human"
    print(f"\n## Episodes on the airline data ({source} labels)\n")
    for alpha in args.alphas:
        eps = detect(obs, replace(base, alpha=alpha))
        per = Counter(e.brand_id for e in eps)
        print(f"- alpha {alpha:g}: {len(eps)} episodes " + str(dict(sorted(per.items()))))
    chosen = detect(obs, replace(base, alpha=args.alpha))
    print(f"\n## Issue 17's three surges at alpha {args.alpha:g}\n")
    for brand, polarity, hour, hit in targets_found(chosen):
        where = f"found: start {hit.start:%b %d %H:00}, peak {hit.peak_hour:%H:00}" if hit else "MISSED"
        print(f"- {brand} {polarity} {hour:%b %d %H:00} UTC: {where}")
    print(
        "\n| airline | kind | start (UTC) | detected | peak | end | posts vs expected | "
        "top terms | top reasons |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for e in chosen:
        print(
            f"| {e.brand_id} | {e.kind} | {e.start:%b %d %H:00} | {e.detected_at:%H:%M} | "
            f"{e.peak_count}/h vs {e.peak_expected:.1f} at {e.peak_hour:%H:00} | "
            f"{e.end:%b %d %H:00} | {e.posts:.0f} vs {e.expected:.1f} | "
            f"{', '.join(t for t, _ in e.top_terms[:5])} | "
            f"{', '.join(f'{r} ({c})' for r, c in e.top_reasons[:2])} |"
            if e.end
            else f"| {e.brand_id} | {e.kind} | {e.start:%b %d %H:00} | open |"
        )
    if not args.no_chart:
        chart(obs, chosen, CHART)
        print(f"\nchart: {CHART.relative_to(REPO)}")
    return 0


def flood_table(args: argparse.Namespace) -> int:
    """``--flood N …``: issue 17's three surges found by the bounded embedding pass, per batch
    size, with the old order (least sure first) and the new one (rising brand-hours first)."""
    if not DATA.exists():
        print("shared airline data absent")
        return 0
    embedder = None
    if args.embedding_cache is not None:
        sys.path.insert(0, str(Path(__file__).parent))
        from eval_sentiment import cached_embedder

        embedder = cached_embedder(args.embedding_cache)
    cfg = DetectorConfig(alpha=args.alpha, share_alpha=args.share_alpha)
    print("| posts per batch | order | surges found | episodes | embedded | left out |")
    print("|---|---|---|---|---|---|")
    variants = (("least_sure", False), ("rising", False), ("rising", True))
    for batch in args.flood:
        for order, fill in variants:
            eps, embedded, deferred = flood(batch, order, embedder, cfg, args.embed_limit, fill)
            hits = targets_found(eps)
            names = ", ".join(
                f"{b} {'+' if p == 'positive' else '-'} {h:%d %H}h" for b, p, h, e in hits if e is None
            )
            found = sum(e is not None for *_, e in hits)
            print(
                f"| {batch:,} | {order}{' + fill' if fill else ''} | {found} of 3"
                f"{f' (missed {names})' if names else ''} | "
                f"{len(eps)} | {embedded:,} | {deferred:,} |"
            )
    if args.flood_null:
        print("\n| posts per batch | order | false alarms, days shuffled (episodes per 1,000 stream-hours) |")
        print("|---|---|---|")
        hours = stream_hours(load(False))
        for batch in args.flood:
            for order, fill in variants[1:]:
                n = [
                    len(flood(batch, order, embedder, cfg, args.embed_limit, fill, seed)[0])
                    for seed in range(args.flood_null)
                ]
                rate = 1000 * sum(n) / len(n) / hours
                print(
                    f"| {batch:,} | {order}{' + fill' if fill else ''} | {sum(n) / len(n):.1f} = {rate:.2f} |"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
