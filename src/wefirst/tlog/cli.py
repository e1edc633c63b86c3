"""`wefirst log`: operator commands for the transparency log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wefirst.tlog.errors import LogFormatError
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
