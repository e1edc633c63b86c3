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
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from wefirst.domain.social import SocialAction
from wefirst.tlog import misbehaviour
from wefirst.tlog.audit import AuditReport, audit_tiles
from wefirst.tlog.balances import BalanceDeriver, EntryProblem, compare
from wefirst.tlog.checkpoint import SignedCheckpoint
from wefirst.tlog.errors import LogFormatError, NotFoundError, PendingError, VerificationError
from wefirst.tlog.hashing import leaf_hash
from wefirst.tlog.note import Verifier, parse_verifier_key
from wefirst.tlog.proofs import (
    consistency_proof,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from wefirst.tlog.publishers import PublisherClicks
from wefirst.tlog.publishers import compare as compare_publisher
from wefirst.tlog.reader import TileHashReader
from wefirst.tlog.receipts import commitment_of, parse_receipt
from wefirst.tlog.social import SocialTally, action_from_json
from wefirst.tlog.social import compare as compare_social
from wefirst.tlog.source import LogSource, SourceUnavailable, api_base_for
from wefirst.tlog.trust import Trust, load_policy, successor_of

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
PolicyOpt = Annotated[
    str | None,
    typer.Option(
        "--policy",
        envvar="WEFIRST_LOG_POLICY",
        help="Trust policy (a file, or its text with ';' between lines): the log key, the witnesses "
        "and how many must cosign. Replaces --key; get it from somewhere other than the log's host.",
    ),
]
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


def resolve_trust(
    source: LogSource | None, key: str | None, key_file: Path | None, policy: str | None
) -> Trust:
    if policy is not None:
        if key or key_file:
            fail(EXIT_USAGE, "--policy already names the log key: pass either --policy or --key")
        return Trust(None, load_policy(policy))
    return Trust(resolve_key(source, key, key_file), None)


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


def current_checkpoint(source: LogSource, trust: Trust) -> SignedCheckpoint:
    return trust.open(source.require("checkpoint"), source)


def report_misbehaviour(m: misbehaviour.Misbehaviour) -> NoReturn:
    """Both signed checkpoints on stdout (the evidence), the reason as the failure."""
    typer.echo(m.render(), nl=False)
    raise VerificationError(m.reason)


def prove_consistent(
    source: LogSource,
    old: SignedCheckpoint,
    new: SignedCheckpoint,
    old_label: str = "earlier checkpoint",
    new_label: str = "current checkpoint",
) -> None:
    """The new checkpoint extends the old one, proven from the new tree's published tiles. Two
    roots for one size, or a smaller size after a larger one, is reported as misbehaviour with
    both checkpoints printed."""
    found = misbehaviour.compare(old, new, old_label, new_label)
    if found is not None:
        report_misbehaviour(found)
    o, n = old.checkpoint, new.checkpoint
    proof = consistency_proof(TileHashReader(source.fetch, n.size), o.size, n.size)
    try:
        verify_consistency(o.size, n.size, o.root, n.root, proof)
    except VerificationError as e:
        report_misbehaviour(misbehaviour.inconsistent(old, new, old_label, new_label, f"fork: {e}"))


@app.command("checkpoint")
def checkpoint_cmd(
    log: LogOpt = DEFAULT_LOG, key: KeyOpt = None, key_file: KeyFileOpt = None, policy: PolicyOpt = None
) -> None:
    """Check the current checkpoint's format and signature (and, with --policy, its witness
    cosignatures), and that the published tiles lead to its root."""
    with reporting(), LogSource(log) as source:
        trust = resolve_trust(source, key, key_file, policy)
        signed = current_checkpoint(source, trust)
        cp = signed.checkpoint
        verifier = trust.verifier_for(cp.origin)
        if tree_root(TileHashReader(source.fetch, cp.size), cp.size) != cp.root:
            raise VerificationError(f"the published tiles do not lead to the signed root of size {cp.size}")
        report = trust.witnessed(signed)
        typer.echo(f"OK: checkpoint of {cp.origin} signed by {verifier.key_string}")
        typer.echo(f"size {cp.size}, root {cp.root.hex()}")
        successor = successor_of(source, cp.size)
        if successor is not None:
            typer.echo(
                f"this log has ended (key rotation): it continues as {successor.get('next_origin')} "
                f"with key {successor.get('next_key')}"
            )
        checked = (
            {trust.policy.witnesses[n].verifier.name for n in report.valid}
            if report and trust.policy
            else set()
        )
        others = [s.name for s in signed.note.signatures if s.name != verifier.name and s.name not in checked]
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
    policy: PolicyOpt = None,
    api: ApiOpt = None,
    secret: Annotated[
        str | None, typer.Option("--secret", help="Also check the entry is this secret's.")
    ] = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Do not compare with the log's current state.")
    ] = False,
) -> None:
    """Check that a receipt's entry is in the log: its inclusion proof against the signed
    checkpoint, the commitment to the secret, that the current log extends it and, with
    --policy, that enough witnesses cosigned (the receipt's checkpoint, or offline only that)."""
    with reporting():
        if offline and not (key or key_file or policy):
            raise NotFoundError("--offline needs the verifier key: pass --key, --key-file or --policy")
        source = None if offline else LogSource(log)
        try:
            api_root = api or api_base_for(log)
            data, from_secret = _load_receipt(source, what, api_root)
            secret = secret or from_secret
            receipt = parse_receipt(data)
            trust = resolve_trust(source, key, key_file, policy)
            signed = trust.open(receipt.checkpoint, source)
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
            witness_problem: VerificationError | None = None
            try:
                trust.witnessed(signed)
            except VerificationError as e:
                if source is None:
                    raise
                witness_problem = e
            typer.echo(
                f"OK: entry {receipt.index} is in {cp.origin} under the signed checkpoint of size {cp.size}"
            )
            if isinstance(entry, dict):
                typer.echo(
                    f"kind {entry.get('kind')}, campaign {entry.get('campaign')}, at {entry.get('at')}"
                )
            if secret is not None:
                typer.echo("the entry carries this receipt secret's commitment")
            if source is not None:
                current = current_checkpoint(source, trust)
                prove_consistent(
                    source, signed, current, "the receipt's checkpoint", "the log's current checkpoint"
                )
                typer.echo(f"the current log (size {current.checkpoint.size}) extends that checkpoint")
                if witness_problem is not None:
                    # The entry is in the receipt's tree, which the witnessed current tree extends.
                    typer.echo(f"the receipt's checkpoint is not witnessed yet: {witness_problem}")
                    trust.witnessed(current)
        finally:
            if source is not None:
                source.close()


@app.command("consistency")
def consistency_cmd(
    old_checkpoint: Annotated[Path, typer.Argument(help="An earlier checkpoint file.")],
    log: LogOpt = DEFAULT_LOG,
    key: KeyOpt = None,
    key_file: KeyFileOpt = None,
    policy: PolicyOpt = None,
) -> None:
    """Check that the log only grew since OLD_CHECKPOINT: same history, nothing removed. Two
    roots for one size, or a smaller size now, is printed as proof of misbehaviour."""
    with reporting(), LogSource(log) as source:
        trust = resolve_trust(source, key, key_file, policy)
        old = trust.open(old_checkpoint.read_bytes())
        new = current_checkpoint(source, trust)
        if old.checkpoint.origin != new.checkpoint.origin:
            raise VerificationError(
                f"{old_checkpoint} is a checkpoint of {old.checkpoint.origin}, the log at --log is "
                f"{new.checkpoint.origin}: check it against its own log"
            )
        prove_consistent(source, old, new, f"{old_checkpoint} (kept earlier)", "the log's current checkpoint")
        trust.witnessed(new)
        typer.echo(
            f"OK: {new.checkpoint.origin} grew from {old.checkpoint.size} to "
            f"{new.checkpoint.size} entries and kept every earlier one"
        )


def _evidence_records(where: str) -> list[Any]:
    """Every record a witness publishes at <url>/evidence (all pages), or a saved JSON file."""
    if not where.startswith(("http://", "https://")):
        try:
            data = json.loads(Path(where).read_bytes())
        except ValueError:
            raise LogFormatError(f"{where} is not JSON") from None
        records = data.get("evidence") if isinstance(data, dict) else None
        if not isinstance(records, list):
            raise LogFormatError(f'{where}: expected {{"evidence": [...]}}')
        return records
    out: list[Any] = []
    with LogSource(where) as probe:
        after = 0
        while True:
            body = probe.get_url(f"{where.rstrip('/')}/evidence?after={after}&limit=100")
            if body is None:
                raise NotFoundError(f"{where} publishes no /evidence")
            try:
                page = json.loads(body).get("evidence")
            except (ValueError, AttributeError):
                raise LogFormatError(f"{where}/evidence is not the witness evidence JSON") from None
            if not isinstance(page, list) or not page:
                return out
            out.extend(page)
            last = page[-1].get("id") if isinstance(page[-1], dict) else None
            if not isinstance(last, int) or last <= after:
                return out
            after = last


@app.command("evidence")
def evidence_cmd(
    witness: Annotated[
        str, typer.Argument(help="A witness URL (reads <url>/evidence) or a saved evidence JSON file.")
    ],
    log: Annotated[
        str | None,
        typer.Option("--log", help="The log, to test refused consistency proofs against its own tree."),
    ] = None,
    key: KeyOpt = None,
    key_file: KeyFileOpt = None,
    policy: PolicyOpt = None,
) -> None:
    """Check a witness's evidence of refused checkpoints: two checkpoints validly signed by the
    log's key for one size with different roots prove it showed two histories (exit 1, both
    printed). Records whose checkpoints are not both signed by the trusted key prove nothing."""
    with reporting():
        source = LogSource(log) if log else None
        try:
            trust = resolve_trust(source, key, key_file, policy)
            records = _evidence_records(witness)
            found = 0
            for i, rec in enumerate(records):
                where = f"record {rec.get('id', i) if isinstance(rec, dict) else i}"
                try:
                    if not isinstance(rec, dict):
                        raise LogFormatError("not a JSON object")
                    first = trust.open(str(rec.get("cosigned_checkpoint")))
                    second = trust.open(str(rec.get("submitted_checkpoint")))
                except (LogFormatError, VerificationError) as e:
                    typer.echo(
                        f"{where}: proves nothing (not two checkpoints signed by the trusted key: {e})"
                    )
                    continue
                labels = ("checkpoint the witness had cosigned", "checkpoint the witness refused")
                m = misbehaviour.compare(first, second, *labels)
                if m is None and first.checkpoint.size != second.checkpoint.size and source is not None:
                    small, large = sorted((first, second), key=lambda c: c.checkpoint.size)
                    s, n = small.checkpoint, large.checkpoint
                    try:
                        proof = consistency_proof(TileHashReader(source.fetch, n.size), s.size, n.size)
                        verify_consistency(s.size, n.size, s.root, n.root, proof)
                    except (VerificationError, LogFormatError, NotFoundError) as e:
                        m = misbehaviour.inconsistent(small, large, *labels, str(e))
                if m is not None:
                    found += 1
                    typer.echo(m.render(), nl=False)
                elif first.checkpoint.size != second.checkpoint.size and source is None:
                    typer.echo(
                        f"{where}: the witness refused a consistency proof from size {first.checkpoint.size} "
                        f"to {second.checkpoint.size}; pass --log to test it against the log's tree"
                    )
                else:
                    typer.echo(
                        f"{where}: both checkpoints belong to one history (a bad submission, not a fork)"
                    )
            if found:
                fail(EXIT_FAILED, f"{found} of {len(records)} evidence records prove that the log misbehaved")
            typer.echo(f"OK: no proof of misbehaviour in {len(records)} evidence records")
        finally:
            if source is not None:
                source.close()


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


def audit_entries(
    source: LogSource, trust: Trust, add: Callable[[dict[str, Any]], None], *, strict: bool = False
) -> tuple[SignedCheckpoint, AuditReport]:
    """The one audit loop of `audit`, `publisher` and `social`: the current checkpoint (checked
    against the key or policy and its witnesses), every tile and bundle re-hashed against it,
    and each entry that is a JSON object given to `add`. `strict` (the full audit) also fails on
    an entry that is not a JSON object and names the entry `add` refuses; the publisher and
    social tallies skip what is not theirs."""
    signed = current_checkpoint(source, trust)
    trust.witnessed(signed)

    def on_entry(index: int, data: bytes) -> None:
        try:
            entry = json.loads(data)
        except ValueError:
            raise VerificationError(f"entry {index} is not JSON") from None
        if not isinstance(entry, dict):
            if strict:
                raise VerificationError(f"entry {index} is not a JSON object")
            return
        try:
            add(entry)
        except EntryProblem as e:
            if not strict:
                raise
            raise VerificationError(f"entry {index}: {e}") from None

    return signed, audit_tiles(source.fetch, signed, on_entry)


@app.command("audit")
def audit_cmd(
    log: LogOpt = DEFAULT_LOG,
    key: KeyOpt = None,
    key_file: KeyFileOpt = None,
    policy: PolicyOpt = None,
    api: ApiOpt = None,
    no_balances: Annotated[
        bool, typer.Option("--no-balances", help="Check the tree only, not the balances.")
    ] = False,
) -> None:
    """Download every tile and bundle, recompute every hash and the signed root, re-derive
    every campaign's balances from the entries and compare them with the API."""
    with reporting(), LogSource(log) as source:
        trust = resolve_trust(source, key, key_file, policy)
        deriver = BalanceDeriver()
        started = time.perf_counter()
        signed, report = audit_entries(source, trust, deriver.add, strict=True)
        verifier = trust.verifier_for(signed.checkpoint.origin)
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


@app.command("publisher")
def publisher_cmd(
    publisher: Annotated[str, typer.Argument(help="The publisher id (pub_…).")],
    log: LogOpt = DEFAULT_LOG,
    key: KeyOpt = None,
    key_file: KeyFileOpt = None,
    policy: PolicyOpt = None,
    api: ApiOpt = None,
) -> None:
    """Re-derive a publisher's counted clicks from the log alone (every tile and bundle is
    re-hashed against the signed checkpoint, as in `audit`), per campaign, and compare them
    with the deployment's public publisher page."""
    with reporting(), LogSource(log) as source:
        trust = resolve_trust(source, key, key_file, policy)
        derived = PublisherClicks(publisher)
        _signed, report = audit_entries(source, trust, derived.add)
        typer.echo(f"OK: {report.size} entries re-hashed against the signed checkpoint")
        for row in derived.as_json()["campaigns"]:
            typer.echo(f"{row['campaign']}: {row['clicks']} counted clicks, {row['units']} units")
        total = derived.total
        typer.echo(f"{publisher}: {total.clicks} counted clicks, {total.units} units in all")
        api_root = api or api_base_for(log)
        if api_root is None:
            typer.echo("page not compared: pass --api URL for a directory log")
            return
        data = source.get_url(f"{api_root.rstrip('/')}/publishers/{publisher}.json")
        if data is None:
            fail(EXIT_FAILED, f"the deployment has no public page for {publisher}")
        try:
            page = json.loads(data)
        except ValueError:
            raise LogFormatError(f"the page of {publisher} is not JSON") from None
        if not isinstance(page, dict):
            raise LogFormatError(f"the page of {publisher} is not a JSON object")
        problems = compare_publisher(derived, page)
        if page.get("log_size") != report.size:
            typer.echo(f"the page counted {page.get('log_size')} entries, the checkpoint has {report.size}")
            if problems:
                typer.echo("differences (the log grew in between; run again):\n" + "\n".join(problems))
            return
        if problems:
            for p in problems:
                typer.echo(f"MISMATCH {p}", err=True)
            fail(EXIT_FAILED, f"the page of {publisher} differs from the log")
        typer.echo(f"OK: the public page of {publisher} matches the log")


NetworkReader = Callable[[LogSource, str, str, str | None, str | None], tuple[list[SocialAction], list[str]]]
"""Reads a campaign's social rules from its public JSON and each rule's public actions now:
(actions seen, rules read not to their end). Exits 2 with the fix for bad input."""


@dataclass(frozen=True)
class Readers:
    """What the command that mounts these commands passes them, as the click context's object:
    the `wefirst` command gives `verify social` the networks' reader (wefirst.social.recount),
    `app.add_typer(verify_cli.app, context_settings={"obj": Readers(read_for_verify)})`. The
    log's verifier sits below the social area, so `python -m wefirst.tlog.verify_cli` alone has
    none: it stays light and reads saved exports."""

    networks: NetworkReader


def _network_reader(ctx: typer.Context) -> NetworkReader | None:
    return ctx.obj.networks if isinstance(ctx.obj, Readers) else None


@app.command("social")
def social_cmd(
    ctx: typer.Context,
    campaign: Annotated[str, typer.Argument(help="The campaign id (cmp_…).")],
    export: Annotated[
        Path | None,
        typer.Option(
            "--export",
            help="The networks' public lists saved as JSON lines (wefirst social poll --save-export); "
            "without it, the networks' public APIs are read now.",
        ),
    ] = None,
    log: LogOpt = DEFAULT_LOG,
    key: KeyOpt = None,
    key_file: KeyFileOpt = None,
    policy: PolicyOpt = None,
    api: ApiOpt = None,
    mastodon_instance: Annotated[
        str | None,
        typer.Option(help="Instance whose hashtag timeline to read for a Mastodon hashtag rule."),
    ] = None,
    bsky_appview: Annotated[
        str | None, typer.Option(help="Bluesky AppView base URL (default: the public AppView).")
    ] = None,
) -> None:
    """Re-derive a campaign's counted social actions from the log alone (every tile re-hashed
    against the signed checkpoint, as in `audit`) and compare them with what the networks show:
    their public APIs read now (the campaign's rules from the API, through the outbound guard),
    or a saved export. Prints the differences: an action the log counts that the networks no
    longer show fails (possibly withdrawn after counting); a public action not counted is
    listed with the fraud report's reason. Exit 2, having read nothing more, for an unknown
    campaign or an unreachable network."""
    if export is not None:
        try:
            lines = [ln for ln in export.read_text(encoding="utf-8").splitlines() if ln.strip()]
            seen = [action_from_json(json.loads(ln)) for ln in lines]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            fail(EXIT_FAILED, f"cannot read the export {export}: {exc} (one JSON action per line)")
    with reporting(), LogSource(log) as source:
        api_root = api or api_base_for(log)
        partial: list[str] = []
        if export is None:
            if api_root is None:
                fail(EXIT_USAGE, "the campaign's rules come from the API: pass --api URL (or --export FILE)")
            read_networks = _network_reader(ctx)
            if read_networks is None:
                fail(
                    EXIT_USAGE,
                    "this verifier alone reads a saved export only: pass --export FILE, "
                    "or run `wefirst verify social`, which reads the networks",
                )
            seen, partial = read_networks(source, api_root, campaign, mastodon_instance, bsky_appview)
        trust = resolve_trust(source, key, key_file, policy)
        tally = SocialTally(campaign)
        _signed, report = audit_entries(source, trust, tally.add)
        typer.echo(f"OK: {report.size} entries re-hashed against the signed checkpoint")
        typer.echo(f"{campaign}: {len(tally.counted)} counted social actions, {tally.units} units in the log")
        diff = compare_social(tally, seen)
        where = "in the export" if export is not None else "on the networks now"
        typer.echo(f"{len(seen)} actions {where}; {diff.seen_not_counted} of them not counted")
        if export is None and api_root is not None and diff.not_counted:
            _print_reasons(source, api_root, campaign, diff.not_counted)
        for c in diff.counted_not_seen:
            typer.echo(
                f"MISMATCH counted in the log, not on the networks (withdrawn after counting?): {c}", err=True
            )
        for rule in partial:
            typer.echo(f"note: {rule} is read not to its end; an unseen action there may be older")
        if not diff.ok:
            fail(EXIT_FAILED, f"{len(diff.counted_not_seen)} counted actions are not on the networks")
        typer.echo("OK: every counted action is on the networks")


CHECK_AT_MOST = 50  # the public check is limited per network: name a sample, count the rest


def _print_reasons(source: LogSource, api_root: str, campaign: str, commitments: list[str]) -> None:
    """Why each public action was not counted, from the campaign's fraud report (the public
    "did my share count?" answer for its commitment); no account is named."""
    base = f"{api_root.rstrip('/')}/v1/campaigns/{campaign}/social/check?commitment="
    for n, c in enumerate(commitments):
        if n == CHECK_AT_MOST:
            typer.echo(f"{len(commitments) - n} more not counted; reasons not asked (limit {CHECK_AT_MOST})")
            return
        status, body = source.get_status(base + c)
        if status == 429:
            typer.echo(f"{len(commitments) - n} more not counted; the check limit is spent, ask again later")
            return
        answer: dict[str, Any] = {}
        if status == 200:
            try:
                loaded = json.loads(body)
                answer = loaded if isinstance(loaded, dict) else {}
            except ValueError:
                pass
        outcome, reason = answer.get("outcome", f"HTTP {status}"), answer.get("reason")
        typer.echo(f"public, not counted: {c} ({outcome}{': ' + str(reason) if reason else ''})")


if __name__ == "__main__":  # `python -m wefirst.tlog.verify_cli`: the verifier alone, light
    app()
