"""`wefirst social`: poll a campaign's social rules into pledges, and show its social tally
and fraud report (refusals by reason; no handle or name)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from wefirst.domain.clock import utcnow
from wefirst.errors import WefirstError
from wefirst.outbound import OutboundPolicy
from wefirst.pledges.social import social_report
from wefirst.secretbox import SecretBox
from wefirst.settings import Settings
from wefirst.social.poll import poll_campaign
from wefirst.social.sources import BSKY_APPVIEW
from wefirst.store.db import Database
from wefirst.tlog.social import action_to_json

app = typer.Typer(
    no_args_is_help=True, help="Pledges per public social action (likes, reposts, hashtag posts)."
)
err = Console(stderr=True)


@app.command("poll")
def poll_cmd(
    campaign: Annotated[str, typer.Argument(help="The campaign id (cmp_…).")],
    mastodon_instance: Annotated[
        str | None, typer.Option(help="Instance whose hashtag timeline to read, e.g. https://mastodon.social")
    ] = None,
    bsky_appview: Annotated[str, typer.Option(help="Bluesky AppView base URL.")] = BSKY_APPVIEW,
    save_export: Annotated[
        Path | None,
        typer.Option(help="Append what the networks showed (JSON lines) for `wefirst verify social`."),
    ] = None,
) -> None:
    """Read each social rule's current actions (through the outbound guard), pledge new ones,
    refuse those failing the criteria, reverse withdrawn ones; print what happened."""
    settings = Settings()
    try:
        with Database(settings) as db, OutboundPolicy.from_settings(settings).client(timeout=15.0) as http:
            result = poll_campaign(
                db, campaign, http, utcnow(), mastodon_instance=mastodon_instance, bsky_base=bsky_appview,
                on_rule=lambda r: err.print(f"polling {r.network} {r.action} {r.target}"),
                box=SecretBox.from_settings(settings),
            )  # fmt: skip
    except WefirstError as exc:
        err.print(f"[bold red]error:[/] {exc.detail}")
        raise typer.Exit(2) from None
    if save_export is not None:
        with save_export.open("a", encoding="utf-8") as f:
            f.writelines(action_to_json(a) + "\n" for a in result.seen)
    typer.echo(json.dumps(result.outcomes, sort_keys=True))
    for e in result.errors:
        err.print(f"[yellow]not polled:[/] {e}")
    if result.errors:
        raise typer.Exit(1)


@app.command("import")
def import_cmd(
    campaign: Annotated[str, typer.Argument(help="The campaign id (cmp_…).")],
    export: Annotated[Path, typer.Argument(help="The brand's own platform export, CSV (docs/social.md).")],
    network: Annotated[str, typer.Option(help="facebook, instagram or tiktok.")],
) -> None:
    """Count a brand's own Facebook/Instagram/TikTok export under the campaign's rules for that
    network, marked "reported by the brand" (never verified). The whole file is checked first:
    one bad row and nothing is imported. Importing the same file again changes nothing."""
    from wefirst.social.imports import ExportError, import_export

    settings = Settings()
    try:
        data = export.read_bytes()
    except OSError as exc:
        err.print(
            f"[bold red]error:[/] {export}: {exc.strerror}; give the path of the CSV file", highlight=False
        )
        raise typer.Exit(2) from None
    try:
        with Database(settings) as db:
            result = import_export(db, campaign, network, data, utcnow())
    except ExportError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    except WefirstError as exc:
        err.print(f"[bold red]error:[/] {exc.detail}", highlight=False)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(result.outcomes, sort_keys=True))
    if result.outcomes.get("no_rule"):
        err.print(
            f"[yellow]{result.outcomes['no_rule']} row(s) match no rule:[/] their action and target must be "
            f"exactly a {network} rule's (see `wefirst social report {campaign}`)",
            highlight=False,
        )


@app.command("follow")
def follow_cmd(
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: until interrupted).")
    ] = None,
) -> None:
    """Follow every active campaign's social rules live until interrupted: Bluesky through
    Jetstream (resuming from the stored cursor), and a backfill poll of each campaign every
    WEFIRST_SOCIAL_POLL_SECONDS (Mastodon, and whatever the stream missed while down). Run one
    when the API processes have WEFIRST_SOCIAL_FOLLOW off."""
    import signal
    import threading

    from wefirst.checklist import check_at_start
    from wefirst.social.follow import from_settings

    settings = Settings()
    check_at_start(settings, "wefirst social follow")
    with Database(settings) as db:
        follower = from_settings(db, settings, on_event=lambda m: err.print(m, highlight=False))
        done = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: done.set())
        follower.start()
        err.print("following social actions; Ctrl-C to stop")
        try:
            done.wait(duration)
        except KeyboardInterrupt:
            pass
        finally:
            follower.stop()
    typer.echo(json.dumps(follower.stats, sort_keys=True))


@app.command("report")
def report_cmd(campaign: Annotated[str, typer.Argument(help="The campaign id (cmp_…).")]) -> None:
    """The campaign's social tally and fraud report, as JSON."""
    settings = Settings()
    with Database(settings) as db, db.read() as conn:
        typer.echo(json.dumps(social_report(conn, campaign), indent=2, sort_keys=True))
