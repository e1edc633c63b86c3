"""`wefirst connectors …` (process, status, reconcile) and `wefirst sales import FILE`.

Both work straight on the database named by the settings, so an operator can drain the queue
or import a retailer's file on a host where the API is not running."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from wefirst.domain.clock import utcnow
from wefirst.errors import WefirstError
from wefirst.ingest.connectors import accounts, processing, reconcile, reports
from wefirst.ingest.connectors.records import Source
from wefirst.secretbox import SecretBox
from wefirst.settings import Settings
from wefirst.store.db import Database

connectors_app = typer.Typer(no_args_is_help=True, help="Shop and payment connectors.")
sales_app = typer.Typer(no_args_is_help=True, help="Retailer sales reports.")
out = Console()
err = Console(stderr=True)


def _fail(message: str, fix: str | None = None, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {message}")
    if fix:
        err.print(f"[yellow]fix:[/] {fix}")
    raise typer.Exit(code)


@contextmanager
def _database() -> Iterator[tuple[Settings, Database]]:
    settings = Settings()
    with Database(settings) as db:
        yield settings, db


@connectors_app.command("process")
def process(
    connection: Annotated[str | None, typer.Option(help="Only this connection (con_…).")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Most deliveries to process.")] = 10_000,
) -> None:
    """Process queued webhook deliveries into pledges (the API also does it after each ack)."""
    with _database() as (settings, db):
        summary = processing.process_pending(
            db,
            SecretBox.from_settings(settings),
            processing.remotes_from_settings(settings),
            connection_id=connection,
            limit=limit,
            window=processing.claims_window(settings),
        )
    counts = ", ".join(f"{k}: {v}" for k, v in sorted(summary.counts.items())) or "nothing queued"
    out.print(f"processed {summary.total} deliveries ({counts})")


@connectors_app.command("status")
def status(
    connection: Annotated[str | None, typer.Argument(help="A connection id; all by default.")] = None,
) -> None:
    """Deliveries received, verified and rejected (by reason); units counted and reversed."""
    with _database() as (_, db), db.read() as conn:
        infos = (
            [accounts.get_connection(conn, connection)]
            if connection
            else accounts.list_connections(conn, None)
        )
        figures = [reconcile.status(conn, info) for info in infos]
    if not figures:
        out.print("no connections yet (create one with POST /v1/connectors)")
        return
    table = Table(title="connectors")
    for column in (
        "connection",
        "platform",
        "received",
        "verified",
        "dup",
        "rejected",
        "queued",
        "failed",
        "units counted",
        "reversed",
        "pledged",
        "unpledged",
    ):
        table.add_column(column, justify="left" if column in ("connection", "platform") else "right")
    for info, f in zip(infos, figures, strict=True):
        d = f["deliveries"]
        rejected = ", ".join(f"{k} {v}" for k, v in d["rejected_by_reason"].items())
        table.add_row(
            f"{info.id}\n{info.account}",
            info.platform.value,
            str(d["received"]),
            str(d["verified"]),
            str(d["duplicates"]),
            f"{d['rejected']}" + (f" ({rejected})" if rejected else ""),
            str(d["by_status"].get("queued", 0)),
            str(d["by_status"].get("failed", 0)),
            str(f["units"]["counted"]),
            str(f["units"]["reversed"]),
            str(f["pledged_units"]),
            str(f["reversed_units"]),
        )
    out.print(table)


@connectors_app.command("reconcile")
def reconcile_cmd(
    day: Annotated[str | None, typer.Option(help="UTC day YYYY-MM-DD; default yesterday.")] = None,
    connection: Annotated[str | None, typer.Option(help="Only this connection.")] = None,
) -> None:
    """The daily check: orders seen without pledges, pledges without orders, stuck
    deliveries. Exit code 3 when anything is flagged, so a cron job can alert."""
    now = utcnow()
    try:
        when = date.fromisoformat(day) if day else now.date() - timedelta(days=1)
    except ValueError:
        _fail(f"--day {day!r} is not a date", "use YYYY-MM-DD")
        return
    flagged = 0
    with _database() as (_, db), db.write() as conn:
        infos = (
            [accounts.get_connection(conn, connection)]
            if connection
            else accounts.list_connections(conn, None)
        )
        for info in infos:
            result = reconcile.reconcile_day(conn, info, when, now)
            mark = "[green]ok[/]" if result["ok"] else "[bold red]flagged[/]"
            out.print(
                f"{info.id} {info.platform.value} {info.account} {when}: {mark} "
                f"({result['orders_seen']} orders seen)"
            )
            for name in ("orders_without_pledges", "pledges_without_orders", "unprocessed_deliveries"):
                for item in result[name]:
                    out.print(f"  {name}: {item}")
            flagged += 0 if result["ok"] else 1
    if flagged:
        raise typer.Exit(3)


def _retailer_of(raw: bytes) -> str | None:
    try:
        rows = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))
        first: dict[str, Any] | None = next(iter(rows), None)
    except (UnicodeDecodeError, csv.Error):
        return None
    value = (first or {}).get("retailer")
    return value.strip() if isinstance(value, str) else None


@sales_app.command("import")
def sales_import(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="The report CSV (spec section 7)."),
    ],
    connection: Annotated[
        str | None,
        typer.Option(help="The retailer connection (con_…); default: the one whose code is in the file."),
    ] = None,
    skip_bad_rows: Annotated[
        bool, typer.Option("--skip-bad-rows", help="Import the good rows and write the bad ones to a file.")
    ] = False,
    rejects: Annotated[
        Path | None,
        typer.Option(help="Where --skip-bad-rows writes rejected rows; default FILE.rejects.csv."),
    ] = None,
) -> None:
    """Validate the whole report, then count it: every bad row is listed with its line."""
    raw = file.read_bytes()
    with _database() as (_, db):
        if connection is None:
            retailer = _retailer_of(raw)
            with db.read() as conn:
                found = [
                    i
                    for i in accounts.list_connections(conn, None)
                    if i.platform is Source.RETAIL and i.account == retailer
                ]
            if len(found) != 1:
                _fail(
                    f"no single retailer connection for {retailer!r} ({len(found)} found)",
                    "pass --connection con_…",
                )
            connection = found[0].id
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} rows"),
            TimeElapsedColumn(),
            console=err,
            transient=False,
        ) as bar:
            task = bar.add_task(f"importing {file.name}", total=None)

            def progress(stage: str, done: int, total: int) -> None:
                bar.update(task, description=f"{stage} {file.name}", completed=done, total=total or done)

            try:
                result = reports.import_report(
                    db,
                    connection_id=connection,
                    raw=raw,
                    skip_bad_rows=skip_bad_rows,
                    now=utcnow(),
                    progress=progress,
                )
            except WefirstError as exc:
                bar.stop()
                _print_problem(exc)
                raise typer.Exit(2) from None
    summary = result.summary
    if result.status == "unchanged":
        out.print(
            f"report {summary['report_id']} was already imported with the same content: nothing changed"
        )
        return
    out.print(
        f"imported report {summary['report_id']} ({summary['retailer']}): "
        f"{summary['rows']} rows, {summary['units_sold']} units sold, "
        f"{summary['units_returned']} returned; pledged {summary['pledged_units']} "
        f"impact unit(s), reversed {summary['reversed_units']}"
    )
    for item in summary["unknown_products"]:
        out.print(f"  line {item['line']}: {item['reason']} (not imported)")
    if skip_bad_rows and result.report.errors:
        path = rejects or file.with_name(file.name + ".rejects.csv")
        path.write_text(result.report.rejects_csv(), encoding="utf-8")
        out.print(f"{len(result.report.errors)} bad row(s) skipped, written to {path}")


def _print_problem(exc: WefirstError) -> None:
    err.print(f"[bold red]error:[/] {exc.detail}")
    for item in exc.errors[:200]:
        err.print(f"  {item.field}: {item.reason}")
    if len(exc.errors) > 200:
        err.print(f"  … and {len(exc.errors) - 200} more")
    if exc.status == 422:
        err.print("[yellow]fix:[/] correct these rows, or import the rest with --skip-bad-rows")
