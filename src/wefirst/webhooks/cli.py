"""`wefirst webhooks`: operator commands over the outgoing-webhook queue — list a brand's
deliveries, re-queue one (the worker sends it; nothing is sent from here unless asked), and send
everything due now (a cron-less setup, or a queue to drain before an upgrade)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from wefirst.domain.clock import utcnow
from wefirst.errors import WefirstError
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.webhooks import outbox
from wefirst.webhooks import worker as webhook_worker

app = typer.Typer(help="Outgoing webhooks: deliveries, replay, send.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)


@contextmanager
def _db() -> Iterator[tuple[Settings, Database]]:
    settings = Settings()
    with Database(settings) as db:
        try:
            yield settings, db
        except WefirstError as exc:
            err.print(f"[bold red]error:[/] {exc.detail}")
            raise typer.Exit(2) from None


@app.command("deliveries")
def deliveries(
    brand: Annotated[str, typer.Argument(help="The brand id (brd_…).")],
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many, newest first.")] = 50,
) -> None:
    """A brand's webhook deliveries, newest first, with their state and attempts."""
    with _db() as (_settings, db), db.read() as conn:
        rows = outbox.deliveries(conn, brand, limit)
    table = Table("delivery", "event", "type", "state", "attempts", "next attempt")
    for r in rows:
        table.add_row(
            r["id"], r["event_id"], r["event_type"], r["state"], str(r["attempts"]), r["next_at"] or ""
        )
    out.print(table)


@app.command("replay")
def replay(
    brand: Annotated[str, typer.Argument(help="The brand id (brd_…).")],
    delivery: Annotated[str, typer.Argument(help="The delivery id (dly_…).")],
) -> None:
    """Queue a delivery's event again for its endpoint; a running worker sends it."""
    with _db() as (_settings, db), db.write() as conn:
        queued = outbox.replay(conn, brand, delivery, utcnow())
    out.print(f"queued {queued['delivery_id']} (replays {delivery}, event {queued['event_id']})")


@app.command("send")
def send() -> None:
    """Send every delivery due now, then stop."""
    with _db() as (settings, db):
        worker = webhook_worker.from_settings(db, settings)
        try:
            handled = worker.run_until_idle(rounds=10_000)
        finally:
            worker.stop()
    out.print(f"{handled} deliver(y/ies) attempted")


@app.command("work")
def work() -> None:
    """Run a webhook worker until interrupted (when API processes run with
    WEFIRST_WEBHOOKS_WORKER=false, or to add senders: deliveries are leased)."""
    import signal
    import threading

    from wefirst.checklist import check_at_start

    with _db() as (settings, db):
        check_at_start(settings, "wefirst webhooks work")
        worker = webhook_worker.from_settings(db, settings)
        done = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: done.set())
        worker.start()
        out.print("sending webhooks; Ctrl-C to stop")
        try:
            done.wait()
        except KeyboardInterrupt:
            pass
        finally:
            worker.stop()
