"""`wefirst log`: operator commands for the transparency log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wefirst.tlog.errors import LogFormatError, TlogError
from wefirst.tlog.keys import write_new_key

app = typer.Typer(help="Operate the transparency log (keys, integration).", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Keeps `log` a command group even while it has a single command."""


@app.command("keygen")
def keygen(
    name: Annotated[
        str,
        typer.Option("--name", help="The log origin, e.g. transparency.example.org/log."),
    ],
    out: Annotated[Path, typer.Option("--out", help="Where to write the signer key (0600).")],
) -> None:
    """Write a new Ed25519 signer key file and print the verifier key to publish."""
    try:
        signer = write_new_key(out, name)
    except FileExistsError:
        typer.echo(f"FAIL: {out} exists; refusing to overwrite a signer key", err=True)
        raise typer.Exit(1) from None
    except LogFormatError as e:
        typer.echo(f"FAIL: {e}", err=True)
        raise typer.Exit(3) from None
    typer.echo(signer.verifier.key_string)


@app.command("integrate")
def integrate_cmd(
    once: Annotated[
        bool,
        typer.Option("--once", help="Integrate everything queued now, then exit."),
    ] = False,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", min=1, help="Override tlog_batch_size.")
    ] = None,
) -> None:
    """Run the sequencer in the foreground (a dedicated sequencer process), or with --once
    drain the queue and exit. Refuses when another sequencer holds the lock."""
    import time

    from wefirst.settings import Settings
    from wefirst.store.db import Database
    from wefirst.tlog.sequencer import Sequencer, integrate_batch, lock_for
    from wefirst.tlog.service import LogService

    settings = Settings()
    with Database(settings) as db:
        service = LogService(settings, db)
        size = batch_size or settings.tlog_batch_size
        if not once:
            # A process of its own: no commit of it wakes the sequencer, so it looks as often
            # as it waits between rounds.
            wait_ms = settings.tlog_batch_wait_ms
            seq = Sequencer(service, batch_size=size, wait_ms=wait_ms, idle_seconds=wait_ms / 1000)
            seq.start()
            typer.echo("sequencer running (standby until it holds the lock); Ctrl-C stops it")
            try:
                while True:
                    time.sleep(1)
            except KeyboardInterrupt:
                seq.stop()
            return
        lock = lock_for(db)
        if not lock.acquire():
            typer.echo("FAIL: another sequencer holds the lock; nothing done", err=True)
            raise typer.Exit(1)
        try:
            total = 0
            while True:
                result = integrate_batch(service, size)
                total += result.integrated
                if not result.integrated:
                    break
            typer.echo(f"integrated {total} entries; log size {service.checkpoint().size}")
        except TlogError as e:
            typer.echo(f"FAIL: {e}", err=True)
            raise typer.Exit(1) from None
        finally:
            lock.release()


@app.command("rotate")
def rotate_cmd(
    key_out: Annotated[
        Path | None,
        typer.Option(
            "--key-out", help="Where to write the new log's signer key (default data_dir/tlog-<n>.key)."
        ),
    ] = None,
) -> None:
    """Retire the log's key: the log gets a final entry naming its successor, and a new log
    (origin + "/<n>", new key) starts with a handover signed by the old key. Stop every server
    first; then tell the witnesses to follow the new key."""
    from wefirst.settings import Settings
    from wefirst.store.db import Database
    from wefirst.tlog.rotation import rotate
    from wefirst.tlog.service import LogService

    settings = Settings()
    with Database(settings) as db:
        service = LogService(settings, db)
        out = key_out or settings.data_dir / f"tlog-{service.current.number + 1}.key"
        try:
            done = rotate(service, out)
        except FileExistsError:
            typer.echo(f"FAIL: {out} exists; refusing to overwrite a signer key", err=True)
            raise typer.Exit(1) from None
        except TlogError as e:
            typer.echo(f"FAIL: {e}", err=True)
            raise typer.Exit(1) from None
    typer.echo(f"{done.old_origin} ended at size {done.old_final_size} (its last entry names the next log)")
    typer.echo(f"log {done.number}: {done.origin}, served under /log/{done.number}/, key in {out}")
    typer.echo(done.key)
    typer.echo(
        "Next: restart the servers; ask each witness to run: wefirst witness follow '" + done.key + "'"
    )
