"""`wefirst cases`: operator commands — the unanswered sweep (for cron), listing and reading
cases, the moderation queue, hiding/restoring, and erasing a supporter's address on request.
The CLI acts with operator (admin) rights; its moderation acts are logged as key `cli`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from wefirst.auth.keys import Actor
from wefirst.cases import moderation, service, supporters, views
from wefirst.cases.sweep import run_sweep
from wefirst.domain.clock import utcnow
from wefirst.errors import WefirstError
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_cases import cases

app = typer.Typer(help="Accountability cases: sweep, read, moderate, erase.", no_args_is_help=True)
OPERATOR = Actor(role="admin", owner_id=None, key_id="cli", livemode=True)
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
            for e in exc.errors:
                err.print(f"  {e.field}: {e.reason}")
            raise typer.Exit(2) from None


def _print_json(data: Any) -> None:
    out.print_json(json.dumps(data, ensure_ascii=False))


@app.command("sweep")
def sweep() -> None:
    """Mark complaints with no answer after WEFIRST_CASES_ANSWER_WITHIN_HOURS as unanswered,
    forget expired unconfirmed co-sign requests, prune old rate-limit events. Run from cron."""
    with _db() as (settings, db):
        with db.write() as conn:
            swept = run_sweep(conn, settings, utcnow())
        marked = swept.marked
    out.print(f"{len(marked)} case(s) marked unanswered")
    out.print(f"{swept.purged_unconfirmed} expired unconfirmed co-sign or follow request(s) forgotten")
    for case_id in marked:
        out.print(f"  {case_id}")


@app.command("list")
def list_cases(
    brand: Annotated[str | None, typer.Option(help="Only this brand's cases.")] = None,
    state: Annotated[str | None, typer.Option(help="open, answered, resolved, not_accepted.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """Newest cases first."""
    query = select(cases).order_by(cases.c.seq.desc()).limit(limit)
    if brand:
        query = query.where(cases.c.brand_id == brand)
    if state:
        query = query.where(cases.c.state == state)
    with _db() as (_settings, db), db.read() as conn:
        rows = conn.execute(query).all()
    items = [views.case_summary(r, moderator=True) for r in rows]
    if as_json:
        _print_json(items)
        return
    table = Table("kind", "state", "co-signs", "title")
    table.add_column("id", no_wrap=True)
    for c in items:
        flags = (" (hidden)" if c["hidden"] else "") + (" (unanswered)" if c["unanswered"] else "")
        table.add_row(c["kind"], c["state"] + flags, str(c["cosigns"]), c["title"][:60], c["id"])
    out.print(table)


@app.command("show")
def show(case_id: str) -> None:
    """One case with its answers, verdicts, moderation record and promise gap (JSON)."""
    with _db() as (_settings, db), db.read() as conn:
        data = views.case_json(conn, service.get_case(conn, case_id), now=utcnow(), moderator=True)
    _print_json(data)


@app.command("reports")
def reports(status: Annotated[str, typer.Option(help="open, actioned or dismissed.")] = "open") -> None:
    """The moderation queue, oldest first."""
    with _db() as (_settings, db), db.read() as conn:
        rows, _more = moderation.list_reports(conn, OPERATOR, status=status, limit=1000, starting_after=None)
    _print_json([moderation.report_json(r) for r in rows])


@app.command("hide")
def hide(
    case_id: str,
    reason: Annotated[str, typer.Option(help="Public reason shown in place of the case.")],
    report: Annotated[str | None, typer.Option(help="The report this acts on.")] = None,
) -> None:
    """Hide a case with a public reason (logged, and recorded in the transparency log)."""
    with _db() as (_settings, db), db.write() as conn:
        moderation.hide_case(conn, OPERATOR, case_id, public_reason=reason, report_id=report, now=utcnow())
    out.print(f"{case_id} hidden")


@app.command("restore")
def restore(case_id: str, reason: Annotated[str, typer.Option(help="Public reason.")]) -> None:
    """Show a hidden case again."""
    with _db() as (_settings, db), db.write() as conn:
        moderation.restore_case(conn, OPERATOR, case_id, public_reason=reason, now=utcnow())
    out.print(f"{case_id} restored")


@app.command("erase-address")
def erase_address(email: str) -> None:
    """Erase a supporter's address from every case (a request received by letter or support).
    Their signatures stay counted; nothing can reach them any more."""
    with _db() as (settings, db), db.write() as conn:
        count = supporters.erase_address(conn, settings, email, utcnow())
    out.print(f"{count} signature(s) no longer hold this address")


@app.command("summary")
def summary(brand_id: str) -> None:
    """What the brand scorecard shows about its cases (JSON)."""
    with _db() as (_settings, db), db.read() as conn:
        data = service.brand_case_summary(conn, brand_id)
    _print_json({"brand_id": brand_id, **data})
