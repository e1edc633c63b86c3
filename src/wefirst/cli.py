"""The `wefirst` command. Areas add their sub-apps here with one `app.add_typer` line each."""

from __future__ import annotations

import sys
from typing import Annotated, Any, Final

import typer
from rich.console import Console

from wefirst.cases import cli as cases_cli
from wefirst.checklist import check_at_start
from wefirst.ingest.connectors import cli as connectors_cli
from wefirst.settings import Settings
from wefirst.social import cli as social_cli
from wefirst.social import recount
from wefirst.tlog import cli as tlog_cli
from wefirst.tlog import verify_cli
from wefirst.voice import cli as voice_cli
from wefirst.web import cli as web_cli
from wefirst.webhooks import cli as webhooks_cli
from wefirst.witness import cli as witness_cli

app = typer.Typer(no_args_is_help=True, help="wefirst: brands' social promises, real and checkable.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
keys_app = typer.Typer(no_args_is_help=True, help="API keys.")
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(tlog_cli.app, name="log")
# `verify social` reads the networks with the social area's reader (the verifier sits below it)
verify_readers = verify_cli.Readers(networks=recount.read_for_verify)
app.add_typer(verify_cli.app, name="verify", context_settings={"obj": verify_readers})
app.add_typer(connectors_cli.connectors_app, name="connectors")
app.add_typer(connectors_cli.sales_app, name="sales")
app.add_typer(cases_cli.app, name="cases")
app.add_typer(web_cli.app, name="web")
app.add_typer(voice_cli.app, name="voice")
app.add_typer(witness_cli.app, name="witness")
app.add_typer(webhooks_cli.app, name="webhooks")
app.add_typer(social_cli.app, name="social")

err = Console(stderr=True)


def fail(message: str, fix: str | None = None, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {message}")
    if fix:
        err.print(f"[yellow]fix:[/] {fix}")
    raise typer.Exit(code)


UVICORN_OPTIONS: Final[dict[str, Any]] = {
    "factory": True,
    "log_config": None,
    "timeout_graceful_shutdown": 20,
    # uvicorn kills a worker that does not answer its health check within this time and
    # starts another: at its 5 s default, on a busy host, a worker still importing the app
    # is killed before it ever serves, forever.
    "timeout_worker_healthcheck": 60,
    "proxy_headers": True,
    # uvicorn's access log writes client addresses and full paths, and paths carry receipt
    # secrets, magic-link, co-sign and erasure tokens: the app's own request log (route
    # templates, status, time; no address) replaces it
    "access_log": False,
}
"""What `wefirst serve` gives uvicorn besides the address and workers; the write-path bench
runs its bare baseline app with the same, so the comparison stays like for like."""


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Server processes.")] = 1,
) -> None:
    """Run the API (and pages) with uvicorn. Several workers need PostgreSQL."""
    import uvicorn

    from wefirst.app import configure_logging

    settings = Settings()
    check_at_start(settings, "wefirst serve")
    if workers > 1 and settings.is_sqlite:
        fail(
            "several workers need a database server; SQLite is for one process",
            "set WEFIRST_DATABASE_URL=postgresql+psycopg://user@host/db, or use --workers 1",
        )
    _upgrade(settings)
    configure_logging(settings.log_json)
    uvicorn.run(
        "wefirst.app:create_app_from_env",
        host=host,
        port=port,
        workers=workers,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        **UVICORN_OPTIONS,
    )


def _upgrade(settings: Settings) -> None:
    from wefirst.store import migrate
    from wefirst.store.db import Database

    with Database(settings) as db:
        migrate.upgrade(db)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the latest version."""
    settings = Settings()
    _upgrade(settings)
    Console().print(f"schema up to date on {settings.database_url.split('@')[-1]}")


@db_app.command("purge")
def db_purge() -> None:
    """Run the upkeep pass now: the cases sweep and every purge the retention settings ask for
    (Idempotency-Key answers, co-sign requests, rate-limit rows, sign-in links, old webhook
    deliveries). The app runs it by itself every `maintenance_interval_seconds`."""
    from wefirst.domain.clock import utcnow
    from wefirst.maintenance import run_pass
    from wefirst.store.db import Database

    settings = Settings()
    with Database(settings) as db, db.write() as conn:
        done = run_pass(conn, settings, utcnow())
    out = Console()
    n = done.pop("idempotency_records")
    out.print(f"purged {n} idempotency records older than {settings.idempotency_retention_days} days")
    for kind, count in done.items():
        out.print(f"{kind.replace('_', ' ')}: {count}")


@db_app.command("erase-text")
def db_erase_text(
    sha256: Annotated[str, typer.Argument(help="The commitment the log and the pages show beside the text.")],
) -> None:
    """Erase a free text (a payment reference, an evidence link, a note) and its salt: the log
    keeps only the commitment, which then proves nothing about what the text was."""
    from wefirst.commitments import erase
    from wefirst.domain.clock import utcnow
    from wefirst.errors import WefirstError
    from wefirst.store.db import Database

    settings = Settings()
    try:
        with Database(settings) as db, db.write() as conn:
            table, row_id, field = erase(conn, sha256, utcnow())
    except WefirstError as exc:
        fail(str(exc), "copy the sha256 shown beside the text on its page or in the API's logged_as")
    Console().print(f"erased {field} of {row_id} ({table}); the log keeps its commitment {sha256}")


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="admin, brand, beneficiary, publisher or moderator.")],
    owner: Annotated[str | None, typer.Option(help="The brand/beneficiary/publisher id.")] = None,
    label: Annotated[str | None, typer.Option(help="A note to recognise the key by.")] = None,
) -> None:
    """Create an API key and print it once (only its hash is stored)."""
    from wefirst.auth.keys import ROLES, create_key
    from wefirst.errors import WefirstError
    from wefirst.store.db import Database

    if role not in ROLES:
        fail(f"unknown role {role!r}", f"use --role one of: {', '.join(ROLES)}")
    settings = Settings()
    _upgrade(settings)
    try:
        with Database(settings) as db, db.write() as conn:
            secret, record = create_key(conn, role, owner, label=label)  # type: ignore[arg-type]
    except WefirstError as exc:
        fail(exc.detail, f"check --owner: it must be the id of an existing {role} (e.g. brd_… for a brand)")
    Console().print(f"key {record['id']} ({role}{' for ' + owner if owner else ''}):")
    sys.stdout.write(secret + "\n")


@app.command("settings-doc")
def settings_doc() -> None:
    """Print the settings reference (docs/settings.md is this output)."""
    from wefirst.settings_doc import render

    sys.stdout.write(render())


@app.command("cli-doc")
def cli_doc() -> None:
    """Print the command-line reference (docs/cli.md is this output)."""
    from wefirst.cli_doc import render
    from wefirst.witness.cli import app as witness_app

    sys.stdout.write(render([("wefirst", app), ("wefirst-witness", witness_app)]))


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="TCP port of the demo server.")] = 8000,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Seed, print and exit.")] = False,
    scale: Annotated[float, typer.Option(min=0.01, max=10, help="Size of the replayed stream.")] = 1.0,
) -> None:
    """Seed two classic campaigns, replay a realistic stream, print URLs and an admin key."""
    from wefirst.demo import run

    run(host=host, port=port, serve=not no_serve, scale=scale)


if __name__ == "__main__":  # pragma: no cover
    app()
