"""Trust policy: which log keys and which witnesses a verifier trusts, and how many witnesses
must cosign a checkpoint before it is believed. Never fetched from the host it judges.

Syntax: the Sigsum policy file (line based, ``#`` comments, names defined before use), with
C2SP note verifier keys instead of raw hex keys, plus one wefirst line, ``max-age``::

    log example.org/log+1a2b3c4d+AQ…             [url]
    witness charity charity.example/w+5e6f7a8b+BA…  [url]
    witness watchdog watchdog.example/w+…+BA…       [url]
    group both 2 charity watchdog                 # k of the n members; also "any", "all"
    quorum both                                   # or a single witness name, or "none"
    max-age 86400                                 # report cosignatures older than this (s)

In a URL fragment or a command-line string, ``;`` may stand for a newline. Pure: the caller
passes the current time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from wefirst.tlog.checkpoint import Checkpoint, parse_body
from wefirst.tlog.cosignature import CosignatureVerifier, parse_cosigner_key
from wefirst.tlog.errors import LogFormatError, VerificationError
from wefirst.tlog.note import Note, Verifier, parse_verifier_key

FUTURE_SKEW = 60  # seconds a witness clock may run ahead of ours before its cosignature is refused
MAX_LINES = 200


@dataclass(frozen=True)
class PolicyLog:
    verifier: Verifier
    url: str | None = None


@dataclass(frozen=True)
class PolicyWitness:
    name: str  # the policy's own name for it (used by groups and quorum)
    verifier: CosignatureVerifier
    url: str | None = None


@dataclass(frozen=True)
class Group:
    name: str
    threshold: int
    members: tuple[str, ...]


@dataclass(frozen=True)
class Policy:
    logs: tuple[PolicyLog, ...]
    witnesses: Mapping[str, PolicyWitness]
    groups: Mapping[str, Group]
    quorum: str  # a witness or group name, or "none"
    max_age: int | None = None
    text: str = ""

    def log_for(self, origin: str) -> PolicyLog:
        for log in self.logs:
            if log.verifier.name == origin:
                return log
        known = ", ".join(lg.verifier.name for lg in self.logs)
        raise VerificationError(f"the policy trusts no log with origin {origin!r} (it lists: {known})")

    def satisfied(self, name: str, present: set[str]) -> bool:
        """Whether the witness or group ``name`` "acts" given the witnesses that validly cosigned."""
        if name == "none":
            return True
        if name in self.witnesses:
            return name in present
        group = self.groups[name]
        return sum(self.satisfied(m, present) for m in group.members) >= group.threshold

    def describe_quorum(self) -> str:
        if self.quorum == "none":
            return "no cosignature required"
        if self.quorum in self.witnesses:
            return f"a cosignature from {self.quorum}"
        g = self.groups[self.quorum]
        return f"{g.threshold} of {len(g.members)} ({', '.join(g.members)})"


def _split_lines(text: str) -> list[str]:
    return [part for line in text.replace(";", "\n").split("\n") if (part := line.split("#", 1)[0].strip())]


def parse_policy(text: str) -> Policy:
    logs: list[PolicyLog] = []
    witnesses: dict[str, PolicyWitness] = {}
    groups: dict[str, Group] = {}
    quorum: str | None = None
    max_age: int | None = None
    lines = _split_lines(text)
    if len(lines) > MAX_LINES:
        raise LogFormatError(f"policy has more than {MAX_LINES} lines")

    def defined(name: str) -> bool:
        return name == "none" or name in witnesses or name in groups

    for n, line in enumerate(lines, 1):
        words = line.split()
        kind, args = words[0], words[1:]
        where = f"policy line {n} ({kind})"
        if kind == "log":
            if len(args) not in (1, 2):
                raise LogFormatError(f"{where}: expected 'log <verifier key> [url]'")
            logs.append(PolicyLog(parse_verifier_key(args[0]), args[1] if len(args) == 2 else None))
        elif kind == "witness":
            if len(args) not in (2, 3):
                raise LogFormatError(f"{where}: expected 'witness <name> <witness key> [url]'")
            name = args[0]
            if defined(name):
                raise LogFormatError(f"{where}: the name {name!r} is already defined")
            witnesses[name] = PolicyWitness(
                name, parse_cosigner_key(args[1]), args[2] if len(args) == 3 else None
            )
        elif kind == "group":
            if len(args) < 3:
                raise LogFormatError(f"{where}: expected 'group <name> <k|any|all> <member>...'")
            name, rule, members = args[0], args[1], tuple(args[2:])
            if defined(name):
                raise LogFormatError(f"{where}: the name {name!r} is already defined")
            for m in members:
                if m == "none" or not defined(m):
                    raise LogFormatError(f"{where}: member {m!r} is not a witness or group defined above")
            if len(set(members)) != len(members):
                raise LogFormatError(f"{where}: a member is listed twice")
            if rule == "any":
                k = 1
            elif rule == "all":
                k = len(members)
            elif rule.isdigit() and 1 <= int(rule) <= len(members):
                k = int(rule)
            else:
                raise LogFormatError(f"{where}: threshold {rule!r} must be any, all or 1..{len(members)}")
            groups[name] = Group(name, k, members)
        elif kind == "quorum":
            if quorum is not None:
                raise LogFormatError(f"{where}: more than one quorum line")
            if len(args) != 1 or not defined(args[0]):
                raise LogFormatError(f"{where}: expected 'quorum <witness or group defined above | none>'")
            quorum = args[0]
        elif kind == "max-age":
            if len(args) != 1 or not args[0].isdigit() or int(args[0]) <= 0:
                raise LogFormatError(f"{where}: expected 'max-age <seconds>'")
            max_age = int(args[0])
        else:
            raise LogFormatError(f"policy line {n}: unknown keyword {kind!r}")
    if not logs:
        raise LogFormatError("policy names no log ('log <verifier key>')")
    if quorum is None:
        raise LogFormatError("policy has no quorum line ('quorum <name>' or 'quorum none')")
    return Policy(tuple(logs), witnesses, groups, quorum, max_age, text)


def simple_policy(log_key: str, witness_keys: list[str], k: int, *, max_age: int | None = None) -> str:
    """The usual policy text: one log, n witnesses (named after their keys), k of them needed."""
    lines = [f"log {log_key}"]
    names: list[str] = []
    for key in witness_keys:
        name = parse_cosigner_key(key).name
        while name in names or name in ("none", "witnesses"):
            name += "_"
        names.append(name)
        lines.append(f"witness {name} {key}")
    if witness_keys and k > 0:
        lines.append(f"group witnesses {k} {' '.join(names)}")
        lines.append("quorum witnesses")
    else:
        lines.append("quorum none")
    if max_age:
        lines.append(f"max-age {max_age}")
    return "\n".join(lines) + "\n"


@dataclass
class WitnessReport:
    """What a policy says about one checkpoint's cosignatures."""

    checkpoint: Checkpoint
    valid: dict[str, int] = field(default_factory=dict)  # policy name -> cosignature timestamp
    missing: list[str] = field(default_factory=list)
    future: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    ok: bool = False
    quorum: str = ""

    def summary(self) -> str:
        got = ", ".join(sorted(self.valid)) or "none"
        return f"witnessed by {got}; quorum {self.quorum}: {'met' if self.ok else 'NOT met'}"


def check_witnesses(policy: Policy, note: Note, now: int) -> WitnessReport:
    """Count the valid cosignatures of the policy's witnesses on a checkpoint note whose log
    signature the caller has already verified. A witness's line that fails to verify rejects
    the note (signed-note: a known key's bad signature is never ignored)."""
    cp = parse_body(note.text)
    report = WitnessReport(cp, quorum=policy.describe_quorum())
    for name, w in policy.witnesses.items():
        lines = [s for s in note.signatures if w.verifier.matches(s)]
        if not lines:
            report.missing.append(name)
            continue
        stamps = [w.verifier.verify(note.text, s) for s in lines]
        ts = max(stamps)
        if ts > now + FUTURE_SKEW:
            report.future.append(name)
            continue
        report.valid[name] = ts
        if policy.max_age is not None and now - ts > policy.max_age:
            report.stale.append(name)
    report.ok = policy.satisfied(policy.quorum, set(report.valid))
    return report


def require_quorum(policy: Policy, note: Note, now: int) -> WitnessReport:
    report = check_witnesses(policy, note, now)
    if not report.ok:
        parts = []
        if report.missing:
            parts.append("no cosignature from " + ", ".join(_named(policy, n) for n in report.missing))
        if report.future:
            parts.append("cosignature dated in the future from " + ", ".join(report.future))
        raise VerificationError(
            f"checkpoint of size {report.checkpoint.size} is not witnessed as the policy requires "
            f"({report.quorum}): " + "; ".join(parts)
        )
    return report


def _named(policy: Policy, name: str) -> str:
    key_name = policy.witnesses[name].verifier.name
    return name if name == key_name else f"{name} ({key_name})"
