"""The voice part of `make demo`: every demo brand's scorecard has a voice section on a fresh
clone.

The posts are written by the project (`demo_data/posts.json`, shipped in the package: never
real people's posts) and spread over the last weeks by a seeded schedule, with one backlash
and one praise surge the detector finds. Each demo brand names a competitor (share of voice).
When the shared airline data (`../shared/data/voice`, which may not be shipped) is present, its
six airlines are imported too, each naming the other five as competitors."""

from __future__ import annotations

import json
import os
import random
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from wefirst.domain.clock import utcnow
from wefirst.voice.airlines import ensure_airline_brands
from wefirst.voice.brand_settings import put_voice_settings
from wefirst.voice.competitors import put_competitors
from wefirst.voice.importing import ImportOptions, import_file
from wefirst.voice.pipeline import EMBED_LIMIT
from wefirst.voice.sources.files import ColumnMapping

DEMO_DATA = (
    Path(__file__).resolve().parents[3].parent / "shared" / "data" / "voice" / ("airline_tweets_2015_dev.csv")
)
WRITTEN = Path(__file__).parent / "demo_data" / "posts.json"
DAYS = 60
#: posts a day around which each demo voice varies (brands, then the rivals they name)
DAILY = {"doudou": 12, "clairo": 7, "bambino": 6, "brillo": 4}
#: share of French posts per voice
FRENCH = {"doudou": 0.5, "clairo": 0.3, "bambino": 0.2, "brillo": 0.1}
MIX = (("negative", 0.25), ("neutral", 0.45), ("positive", 0.30))
DEMO_BRANDS = {"doudou": "brand1", "clairo": "brand2"}


def _pick(rng: random.Random, texts: Mapping[str, list[str]], language: str, say: list[str]) -> str:
    pool = texts.get(language) or texts["en"]
    return rng.choice(pool).replace("{name}", rng.choice(say))


def written_posts(spec: Mapping[str, Any], now: datetime, seed: int = 17) -> list[dict[str, Any]]:
    """The demo's posts as file rows (id, text, created_at, author, language, sentiment), on
    the DAYS days before `now`'s day: a steady daily voice for each brand and rival, and the
    surges. The same `now` and seed give the same rows."""
    rng = random.Random(seed)
    today = datetime.combine(now.astimezone(UTC).date(), time(), UTC)
    rows: list[dict[str, Any]] = []

    def add(voice: str, at: datetime, language: str, polarity: str, text: str, author: str) -> None:
        rows.append(
            {
                "id": f"{voice}-{len(rows)}",
                "text": text,
                "created_at": at.isoformat(),
                "author": author,
                "language": language,
                "sentiment": polarity,
            }
        )

    for voice, per_day in DAILY.items():
        say = list(spec["brands"][voice]["say"])
        for back in range(DAYS, 0, -1):
            day = today - timedelta(days=back)
            for _ in range(max(0, per_day + rng.randint(-per_day // 3, per_day // 3))):
                polarity = rng.choices([p for p, _ in MIX], [w for _, w in MIX])[0]
                language = "fr" if rng.random() < FRENCH[voice] else "en"
                at = day + timedelta(hours=rng.randint(7, 22), minutes=rng.randint(0, 59))
                text = _pick(rng, {k: v[polarity] for k, v in spec["texts"].items()}, language, say)
                add(voice, at, language, polarity, text, f"{voice}-fan-{rng.randint(1, 60)}")
    for n, surge in enumerate(spec["surges"]):
        say = list(spec["brands"][surge["brand"]]["say"])
        start = today - timedelta(days=int(surge["days_ago"])) + timedelta(hours=int(surge["hour"]))
        for i in range(int(surge["posts"])):
            language = "fr" if i % 4 == 3 else "en"
            at = start + timedelta(minutes=rng.randint(0, 150))
            add(
                surge["brand"],
                at,
                language,
                surge["polarity"],
                _pick(rng, surge["texts"], language, say),
                f"surge{n}-{i}",
            )
    rows.sort(key=lambda r: str(r["created_at"]))
    return rows


def _written(ctx: Any) -> None:
    """The project's own posts for the core demo's brands."""
    if not any(key in ctx.ids for key in DEMO_BRANDS.values()):
        return
    spec = json.loads(WRITTEN.read_text(encoding="utf-8"))
    with ctx.db.write() as conn:
        for voice, key in DEMO_BRANDS.items():
            brand_id = ctx.ids.get(key)
            if not brand_id:
                continue
            terms = spec["brands"][voice]
            put_voice_settings(
                conn,
                brand_id,
                {"names": terms["names"], "handles": terms["handles"], "hashtags": terms["hashtags"]},
            )
            put_competitors(conn, brand_id, spec["competitors"][voice])
    rows = written_posts(spec, utcnow())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "wefirst-demo-posts.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        mapping = ColumnMapping(label="sentiment", namespace="demo:")
        options = ImportOptions(
            settings=ctx.settings, mapping=mapping, use_source_labels=True, progress=False
        )
        import_file(ctx.db, path, options)
    if "brand1" in ctx.ids:
        ctx.urls["Voice series (API)"] = (
            f"{ctx.base_url}/v1/brands/{ctx.ids['brand1']}/voice/series?granularity=day"
        )


def _airlines(ctx: Any, path: Path) -> None:
    # brands get alpha 1e-3: the demo should show the smaller episodes too (docs/voice-detection.md)
    ids = ensure_airline_brands(ctx.db, detector={"alpha": 1e-3})
    with ctx.db.write() as conn:
        for name, brand_id in ids.items():
            put_competitors(conn, brand_id, [{"brand_id": other} for o, other in ids.items() if o != name])
    # the demo keeps `listen`'s bound on the embedding pass: it must run in about a minute, and
    # an import that embeds every unsure post (ImportOptions' default) takes minutes here
    options = ImportOptions(settings=ctx.settings, shift_to=utcnow(), progress=True, embed_limit=EMBED_LIMIT)
    import_file(ctx.db, path, options)
    ctx.ids.update({f"voice_{name}": brand_id for name, brand_id in ids.items()})
    base = f"{ctx.base_url}/v1/brands/{ids['JetBlue']}/voice"
    ctx.urls["Voice episodes (API)"] = f"{base}/episodes"
    ctx.urls["Voice episodes (Atom)"] = f"{base}/episodes.atom"


def demo_step(ctx: Any) -> None:
    """Adapter for `wefirst.demo.EXTRA_STEPS` (takes the demo's `DemoContext`): the project's
    written posts always; the shared airline data too when it is present (read in place, its
    licence forbids shipping it). Nothing is alerted: the posts are history."""
    _written(ctx)
    path = Path(os.environ.get("WEFIRST_VOICE_DEMO_DATA", str(DEMO_DATA)))
    if path.exists():
        _airlines(ctx, path)
