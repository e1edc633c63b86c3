"""`wefirst verify`: check the public log from the outside, against a URL or a directory, with
no database and no trust in the server beyond its published verifier key.

Exit codes: 0 verified; 1 verification failed (signature, proof, fork, tile or balance
mismatch); 2 usage error; 3 malformed input (checkpoint, tile, bundle, key, receipt);
4 not found or unreachable; 5 receipt still pending."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from wefirst.tlog.audit import audit_tiles
from wefirst.tlog.balances import BalanceDeriver, EntryProblem, compare
from wefirst.tlog.checkpoint import SignedCheckpoint, open_checkpoint
from wefirst.tlog.errors import LogFormatError, NotFoundError, PendingError, VerificationError
from wefirst.tlog.hashing import leaf_hash
from wefirst.tlog.note import Verifier, parse_verifier_key
from wefirst.tlog.proofs import (
    consistency_proof,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from wefirst.tlog.reader import TileHashReader
from wefirst.tlog.receipts import commitment_of, parse_receipt
from wefirst.tlog.source import LogSource, SourceUnavailable, api_base_for

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_FORMAT = 3
EXIT_UNAVAILABLE = 4
EXIT_PENDING = 5

app = typer.Typer(
    help="Verify the public transparency log (URL or directory), with no database. "
    "Exit codes: 0 ok, 1 verification failed, 2 usage, 3 malformed input, "
    "4 not found/unreachable, 5 receipt pending.",
    no_args_is_help=True,
)

LogOpt = Annotated[
    str,
    typer.Option(
        "--log",
        envvar="WEFIRST_LOG_URL",
        help="Log prefix: http(s)://host/log or a directory with the same layout.",
    ),
]
KeyOpt = Annotated[
    str | None,
    typer.Option(
        "--key",
        envvar="WEFIRST_LOG_KEY",
        help="Verifier key <origin>+<id>+<base64>. Without it the key the log itself publishes "
        "is used (with a warning): pin it for real checks.",
    ),
]
KeyFileOpt = Annotated[Path | None, typer.Option("--key-file", help="File holding the verifier key line.")]
ApiOpt = Annotated[
    str | None,
    typer.Option(
        "--api", help="API root for receipts and balances (default: the log URL without its trailing /log)."
    ),
]
DEFAULT_LOG = "http://127.0.0.1:8000/log"


def fail(code: int, message: str) -> NoReturn:
    typer.echo(f"FAIL: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def reporting() -> Iterator[None]:
    """Map the log's error family onto the documented exit codes, with the message."""
    try:
        yield
    except VerificationError as e:
        fail(EXIT_FAILED, str(e))
    except LogFormatError as e:
        fail(EXIT_FORMAT, f"malformed: {e}")
    except (NotFoundError, SourceUnavailable) as e:
        fail(EXIT_UNAVAILABLE, str(e))
    except PendingError as e:
        fail(EXIT_PENDING, str(e))
    except OSError as e:
        fail(EXIT_UNAVAILABLE, str(e))


def resolve_key(source: LogSource | None, key: str | None, key_file: Path | None) -> Verifier:
    if key:
        return parse_verifier_key(key)
    if key_file is not None:
        try:
            return parse_verifier_key(key_file.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise LogFormatError(f"{key_file} is not a UTF-8 text file") from None
    published = source.fetch("key") if source is not None else None
    if published is None:
        raise NotFoundError("no verifier key: pass --key (the log publishes none)")
    try:
        verifier = parse_verifier_key(published.decode("utf-8"))
    except UnicodeDecodeError:
        raise LogFormatError("the log's published key is not UTF-8") from None
    typer.echo(
        f"warning: trusting the key the log itself publishes ({verifier.key_string}); pin it with --key",
        err=True,
    )
    return verifier


def current_checkpoint(source: LogSource, verifier: Verifier) -> SignedCheckpoint:
    return open_checkpoint(source.require("checkpoint"), verifier)


def prove_consistent(source: LogSource, old: SignedCheckpoint, new: SignedCheckpoint) -> None:
    """The new checkpoint extends the old one, proven from the new tree's published tiles."""
    o, n = old.checkpoint, new.checkpoint
    if n.size < o.size:
        raise VerificationError(
            f"the log shrank: current size {n.size} is below the earlier checkpoint's {o.size}"
        )
    proof = consistency_proof(TileHashReader(source.fetch, n.size), o.size, n.size)
    try:
        verify_consistency(o.size, n.size, o.root, n.root, proof)
    except VerificationError as e:
        raise VerificationError(
            f"fork: the checkpoint of size {o.size} is not a prefix of the current log (size {n.size}): {e}"
        ) from None


@app.command("checkpoint")
def checkpoint_cmd(log: LogOpt = DEFAULT_LOG, key: KeyOpt = None, key_file: KeyFileOpt = None) -> None:
    """Check the current checkpoint's format and signature, and that the published tiles
    lead to its root."""
    with reporting(), LogSource(log) as source:
        verifier = resolve_key(source, key, key_file)
        signed = current_checkpoint(source, verifier)
        cp = signed.checkpoint
        if tree_root(TileHashReader(source.fetch, cp.size), cp.size) != cp.root:
            raise VerificationError(f"the published tiles do not lead to the signed root of size {cp.size}")
        typer.echo(f"OK: checkpoint of {cp.origin} signed by {verifier.key_string}")
        typer.echo(f"size {cp.size}, root {cp.root.hex()}")
        others = [s.name for s in signed.note.signatures if s.name != verifier.name]
        if others:
            typer.echo(f"other signature lines (not checked): {', '.join(others)}")


def _load_receipt(source: LogSource | None, what: str, api: str | None) -> tuple[Any, str | None]:
    """A receipt file's JSON, or the server's answer for a secret."""
    path = Path(what)
    if path.is_file():
        return path.read_bytes(), None
    if len(what) > 200 or not what.strip():
        raise LogFormatError("argument is neither a receipt file nor a receipt secret")
    if api is None:
        raise NotFoundError(f"{what!r} is not a file; to look up a secret pass --api URL")
    probe = source or LogSource(api)
    try:
        status, content = probe.get_status(f"{api.rstrip('/')}/v1/receipts/{what}")
    finally:
        if probe is not source:
            probe.close()
    if status == 404:
        raise NotFoundError("the log knows no entry for this receipt secret")
    if status == 202:
        raise PendingError("the entry is queued but not yet integrated: try again in a few seconds")
    if status != 200:
        raise SourceUnavailable(f"the receipt lookup answered HTTP {status}")
    return content, what


@app.command("receipt")
def receipt_cmd(
    what: Annotated[str, typer.Argument(help="A receipt JSON file, or the receipt secret.")],
    log: LogOpt = DEFAULT_LOG,
    key: KeyOpt = None,
    key_file: KeyFileOpt = None,
    api: ApiOpt = None,
    secret: Annotated[
        str | None, typer.Option("--secret", help="Also check the entry is this secret's.")
    ] = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Do not compare with the log's current state.")
    ] = False,
) -> None:
    """Check that a receipt's entry is in the log: its inclusion proof against the signed
    checkpoint, the commitment to the secret, and that the current log extends it."""
    with reporting():
        if offline and not (key or key_file):
            raise NotFoundError("--offline needs the verifier key: pass --key or --key-file")
        source = None if offline else LogSource(log)
        try:
            api_root = api or api_base_for(log)
            data, from_secret = _load_receipt(source, what, api_root)
            secret = secret or from_secret
            receipt = parse_receipt(data)
            verifier = resolve_key(source, key, key_file)
            signed = open_checkpoint(receipt.checkpoint, verifier)
            cp = signed.checkpoint
            if receipt.tree_size is not None and receipt.tree_size != cp.size:
                raise VerificationError(
                    f"the proof is for a tree of size {receipt.tree_size}, the checkpoint "
                    f"is for size {cp.size}"
                )
            verify_inclusion(leaf_hash(receipt.entry), receipt.index, cp.size, receipt.proof, cp.root)
            try:
                entry = json.loads(receipt.entry)
            except ValueError:
                raise VerificationError("the entry is not JSON") from None
            if secret is not None:
                expected = commitment_of(secret)
                if not isinstance(entry, dict) or entry.get("commitment") != expected:
                    raise VerificationError(
                        f"the entry does not carry this secret's commitment (expected {expected})"
                    )
            typer.echo(
                f"OK: entry {receipt.index} is in {cp.origin} under the signed checkpoint of size {cp.size}"
            )
            if isinstance(entry, dict):
                typer.echo(
                    f"kind {entry.get('kind')}, campaign {entry.get('campaign')}, at {entry.get('at')}"
                )
            if secret is not None:
                typer.echo("the entry carries this receipt secret's commitment")
            if source is not None and not offline:
                current = current_checkpoint(source, verifier)
                prove_consistent(source, signed, current)
                typer.echo(f"the current log (size {current.checkpoint.size}) extends that checkpoint")
        finally:
            if source is not None:
                source.close()


@app.command("consistency")
def consistency_cmd(
    old_checkpoint: Annotated[Path, typer.Argument(help="An earlier checkpoint file.")],
    log: LogOpt = DEFAULT_LOG,
    key: KeyOpt = None,
    key_file: KeyFileOpt = None,
) -> None:
    """Check that the log only grew since OLD_CHECKPOINT: same history, nothing removed."""
    with reporting(), LogSource(log) as source:
        verifier = resolve_key(source, key, key_file)
        old = open_checkpoint(old_checkpoint.read_bytes(), verifier)
        new = current_checkpoint(source, verifier)
        prove_consistent(source, old, new)
        typer.echo(
            f"OK: {new.checkpoint.origin} grew from {old.checkpoint.size} to "
            f"{new.checkpoint.size} entries and kept every earlier one"
        )


def _balance_fetcher(source: LogSource, api: str) -> Callable[[str], Any]:
    def get(campaign: str) -> Any:
        data = source.get_url(f"{api.rstrip('/')}/v1/campaigns/{campaign}/balance")
        if data is None:
            return None
        try:
            return json.loads(data)
        except ValueError:
            raise LogFormatError(f"balance of {campaign} is not JSON") from None

    return get


@app.command("audit")
def audit_cmd(
    log: LogOpt = DEFAULT_LOG,
    key: KeyOpt = None,
    key_file: KeyFileOpt = None,
    api: ApiOpt = None,
    no_balances: Annotated[
        bool, typer.Option("--no-balances", help="Check the tree only, not the balances.")
    ] = False,
) -> None:
    """Download every tile and bundle, recompute every hash and the signed root, re-derive
    every campaign's balances from the entries and compare them with the API."""
    with reporting(), LogSource(log) as source:
        verifier = resolve_key(source, key, key_file)
        signed = current_checkpoint(source, verifier)
        deriver = BalanceDeriver()
        started = time.perf_counter()

        def on_entry(index: int, data: bytes) -> None:
            try:
                entry = json.loads(data)
            except ValueError:
                raise VerificationError(f"entry {index} is not JSON") from None
            if not isinstance(entry, dict):
                raise VerificationError(f"entry {index} is not a JSON object")
            try:
                deriver.add(entry)
            except EntryProblem as e:
                raise VerificationError(f"entry {index}: {e}") from None

        report = audit_tiles(source.fetch, signed, on_entry)
        typer.echo(
            f"OK: {report.size} entries, {report.bundles_read} bundles and "
            f"{report.tiles_checked} tiles recomputed; root {report.root.hex()} matches the "
            f"checkpoint signed by {verifier.key_string} "
            f"({time.perf_counter() - started:.1f}s)"
        )
        if no_balances:
            return
        api_root = api or api_base_for(log)
        if api_root is None:
            typer.echo("balances not compared: pass --api URL for a directory log")
            return
        get_balance = _balance_fetcher(source, api_root)
        mismatches = 0
        for campaign in sorted(deriver.campaigns):
            derived = deriver.campaigns[campaign]
            published = get_balance(campaign)
            if published is None:
                typer.echo(f"MISMATCH {campaign}: in the log, but the API has no balance", err=True)
                mismatches += 1
                continue
            problems = compare(derived, published)
            if problems:
                mismatches += 1
                typer.echo(f"MISMATCH {campaign}: " + "; ".join(problems), err=True)
        if mismatches:
            fail(
                EXIT_FAILED,
                f"{mismatches} of {len(deriver.campaigns)} campaigns differ from the log",
            )
        typer.echo(f"OK: balances of {len(deriver.campaigns)} campaigns match the log")


if __name__ == "__main__":  # `python -m wefirst.tlog.verify_cli`: the verifier alone, light
    app()
