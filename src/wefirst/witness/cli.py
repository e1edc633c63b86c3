"""`wefirst witness` (also `wefirst-witness`): run a witness for one or more wefirst logs.

The first `serve` in an empty folder creates the witness's key (0600), its configuration and its
state there, and prints the witness key to send to the log operator; later runs reuse them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wefirst.tlog.cosignature import CosignatureSigner, generate_cosigner, parse_cosigner_signer_key
from wefirst.tlog.errors import LogFormatError
from wefirst.tlog.keys import read_key_text, write_secret_line
from wefirst.witness.config import CONFIG_NAME, WitnessConfig, load_config

app = typer.Typer(
    help="A transparency-log witness: cosigns a log's checkpoints only while the log only grows.",
    no_args_is_help=True,
)

DirOpt = Annotated[
    Path,
    typer.Option(
        "--dir", envvar="WEFIRST_WITNESS_DIR", help="Folder holding witness.toml, the key and the state."
    ),
]
FollowOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--follow",
        help="A log to cosign, by its verifier key (the log's /log/key line). Repeatable.",
    ),
]


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def new_key(path: Path, name: str) -> CosignatureSigner:
    signer = generate_cosigner(name)
    write_secret_line(path, signer.private_key_string)
    return signer


def load_signer(path: Path) -> CosignatureSigner:
    return parse_cosigner_signer_key(read_key_text(path))


def prepare(directory: Path, name: str | None, follow: list[str]) -> tuple[WitnessConfig, CosignatureSigner]:
    """Load (or on first use create) the configuration and key; add logs given by --follow."""
    path = directory / CONFIG_NAME
    if path.exists():
        cfg = load_config(path)
        if name is not None and name != cfg.name:
            raise LogFormatError(f"{path} is for the witness {cfg.name!r}, not {name!r}")
    else:
        if name is None:
            raise LogFormatError(
                f"no {CONFIG_NAME} in {directory}: name the witness on first use, e.g. "
                "--name charity.example/witness"
            )
        cfg = WitnessConfig(path, name)
    signer = load_signer(cfg.key_path) if cfg.key_path.exists() else new_key(cfg.key_path, cfg.name)
    if signer.name != cfg.name:
        raise LogFormatError(
            f"{cfg.key_path} is the key of {signer.name!r}, the configuration says {cfg.name!r}"
        )
    changed = not path.exists()
    for key in follow:
        before = cfg.logs.get(key.split("+", 1)[0])
        verifier = cfg.follow(key)
        changed = changed or before != verifier
    if changed:
        cfg.save()
    return cfg, signer


@app.command("keygen")
def keygen(
    name: Annotated[str, typer.Option("--name", help="The witness's name, e.g. charity.example/witness.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the private key (0600).")],
) -> None:
    """Write a new witness key and print its verifier key (name+id+base64(0x04‖key))."""
    try:
        signer = new_key(out, name)
    except FileExistsError:
        fail(f"{out} exists; refusing to overwrite a witness key", 1)
        return
    except LogFormatError as e:
        fail(str(e), 3)
        return
    typer.echo(signer.verifier.key_string)


@app.command("serve")
def serve(
    directory: DirOpt = Path("."),
    name: Annotated[
        str | None,
        typer.Option("--name", help="First run only: the witness's name, e.g. charity.example/witness."),
    ] = None,
    follow: FollowOpt = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 7380,
) -> None:
    """Serve POST /add-checkpoint (C2SP tlog-witness), GET / and GET /evidence."""
    import uvicorn

    from wefirst.witness.add_checkpoint import Witness
    from wefirst.witness.app import create_witness_app
    from wefirst.witness.state import WitnessState

    try:
        cfg, signer = prepare(directory, name, follow or [])
    except (LogFormatError, OSError) as e:
        fail(str(e))
        return
    if not cfg.logs:
        fail("this witness follows no log yet: add one with --follow '<the log's /log/key line>'")
    witness = Witness(signer, cfg.logs, WitnessState(cfg.state_path))
    typer.echo(f"witness {signer.name}")
    typer.echo(f"key {signer.verifier.key_string}")
    for origin in sorted(cfg.logs):
        typer.echo(f"follows {origin}")
    typer.echo(f"listening on http://{host}:{port}", err=True)
    uvicorn.run(
        create_witness_app(witness), host=host, port=port, log_level="warning", timeout_graceful_shutdown=5
    )


@app.command("follow")
def follow_cmd(
    key: Annotated[str, typer.Argument(help="The log's verifier key line (its /log/key).")],
    directory: DirOpt = Path("."),
) -> None:
    """Add a log to the configuration (restart `serve` to apply)."""
    try:
        cfg, _ = prepare(directory, None, [key])
    except (LogFormatError, OSError) as e:
        fail(str(e))
        return
    typer.echo(f"following {', '.join(sorted(cfg.logs))}")


@app.command("status")
def status(directory: DirOpt = Path(".")) -> None:
    """Print the witness key, the size last cosigned for each log, and evidence counts."""
    from wefirst.witness.state import WitnessState

    try:
        cfg, signer = prepare(directory, None, [])
    except (LogFormatError, OSError) as e:
        fail(str(e))
        return
    state = WitnessState(cfg.state_path)
    try:
        sizes = {s.origin: s.size for s in state.logs()}
        typer.echo(f"key {signer.verifier.key_string}")
        for origin in sorted(cfg.logs):
            typer.echo(f"{origin}: cosigned size {sizes.get(origin, 0)}")
        typer.echo(f"evidence records: {len(state.evidence(limit=100))}")
    finally:
        state.close()


if __name__ == "__main__":
    app()
