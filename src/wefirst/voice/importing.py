"""`wefirst voice import`: a historical file of posts through the pipeline, then one
re-detection of the affected brands from their stored history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from wefirst.domain.clock import Clock, as_utc, utcnow
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.voice.pipeline import BatchResult, EmbedBound, SentimentPredictor
from wefirst.voice.post_store import author_salt
from wefirst.voice.service import VoiceService
from wefirst.voice.sources.files import ColumnMapping, read_file


@dataclass
class ImportReport:
    path: str
    preset: str
    rows: int
    posts: int
    matched: int
    new: int
    errors: list[tuple[int, str]]
    episodes: int
    brands: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.__dict__,
            "errors": [list(e) for e in self.errors[:50]],
            "error_count": len(self.errors),
        }


@dataclass(frozen=True)
class ImportOptions:
    """How a file is read, scored and shown; the defaults are what `wefirst voice import` does.

    ``shift_to`` moves every post by a whole number of weeks so the last one falls in the week
    before it (the demo shows 2015 tweets as recent ones, with their hours and weekdays kept as
    they were)."""

    settings: Settings | None = None
    mapping: ColumnMapping | None = None
    preset: str | None = None
    use_source_labels: bool = False
    detect_language: Callable[[str], str] | None = None
    sentiment: SentimentPredictor | None = None
    progress: bool = True
    batch_size: int = 2000
    clock: Clock = utcnow
    shift_to: datetime | None = None
    #: most unsure posts a batch sends through the embedding pass; None (the default): all of
    #: them. A file is history, not `listen`'s one-second batches that must keep up with a
    #: stream, so the import reads every unsure matched post well: bounded like `listen` (64
    #: of 2,000 a batch) it found 1 of issue 17's 3 airline surges, unbounded 3 of 3 — at 203 s
    #: of CPU instead of 22 s for the 10,000-post week (docs/voice-detection.md)
    embed_limit: int | None = None


def import_file(db: Database, path: str | Path, options: ImportOptions | None = None) -> ImportReport:
    """Import a CSV/JSONL file of posts for every brand with voice settings; idempotent.

    The posts go through the whole pipeline (match, language, sentiment, store); then the
    affected brands' episodes are re-detected from their stored history."""
    o = options or ImportOptions()
    settings = o.settings or Settings()
    path = Path(path)
    read = read_file(path, author_salt(settings), mapping=o.mapping, preset=o.preset)
    if o.shift_to is not None and read.posts:
        weeks = (as_utc(o.shift_to) - read.posts[-1].created_at) // timedelta(days=7)
        delta = timedelta(days=7 * weeks)
        read.posts = [replace(p, created_at=p.created_at + delta) for p in read.posts]
    service = VoiceService(
        db,
        settings,
        detect_language=o.detect_language,
        sentiment=o.sentiment,
        clock=o.clock,
        use_source_labels=o.use_source_labels,
        bound=EmbedBound(limit=o.embed_limit),
    )
    service.pipeline.detector = None  # batch path: detection runs once, after storage
    total = BatchResult()
    touched: set[str] = set()

    def run_batches(advance: Callable[[int], None]) -> None:
        for i in range(0, len(read.posts), o.batch_size):
            chunk = read.posts[i : i + o.batch_size]
            seen, analysed = service.pipeline.analyse(chunk)
            fresh = service.pipeline.store.save(analysed)
            total.seen += seen
            total.matched += len(analysed)
            for a, is_new in zip(analysed, fresh, strict=True):
                if is_new:
                    total.new += 1
                    touched.update(m.brand_id for m in a.matches)
            advance(len(chunk))

    if o.progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=False,
        ) as bar:
            task = bar.add_task(f"importing {path.name}", total=len(read.posts))
            run_batches(lambda n: bar.advance(task, n))
    else:
        run_batches(lambda _n: None)
    events = service.rebuild(touched) if touched else []
    return ImportReport(
        path=str(path),
        preset=read.preset,
        rows=read.rows,
        posts=len(read.posts),
        matched=total.matched,
        new=total.new,
        errors=[(e.line, e.reason) for e in read.errors],
        episodes=len({e.episode.key for e in events}),
        brands=sorted(touched),
    )
