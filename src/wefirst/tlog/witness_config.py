"""The witnesses a deployment submits its checkpoints to (`WEFIRST_TLOG_WITNESSES`), and the
trust policy it publishes for them. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from wefirst.tlog.cosignature import CosignatureVerifier, parse_cosigner_key
from wefirst.tlog.errors import LogFormatError
from wefirst.tlog.policy import simple_policy


@dataclass(frozen=True)
class WitnessEndpoint:
    verifier: CosignatureVerifier
    url: str  # the witness's submission prefix, without a trailing slash

    @property
    def key(self) -> str:
        return self.verifier.key_string

    @property
    def add_checkpoint_url(self) -> str:
        return f"{self.url}/add-checkpoint"


def parse_witness_endpoints(text: str) -> list[WitnessEndpoint]:
    """'<witness key> <url>' per line or ';'-separated item; '#' starts a comment."""
    out: list[WitnessEndpoint] = []
    for n, item in enumerate(text.replace(";", "\n").split("\n"), 1):
        item = item.split("#", 1)[0].strip()
        if not item:
            continue
        parts = item.split()
        if len(parts) != 2:
            raise LogFormatError(f"witness {n}: expected '<witness key> <url>', got {item!r}")
        verifier = parse_cosigner_key(parts[0])
        url = parts[1].rstrip("/")
        split = urlsplit(url)
        if split.scheme not in ("http", "https") or not split.netloc or split.query or split.fragment:
            raise LogFormatError(f"witness {n}: {parts[1]!r} is not an http(s) URL prefix")
        if any(e.verifier.name == verifier.name for e in out):
            raise LogFormatError(f"witness {n}: {verifier.name} is listed twice")
        out.append(WitnessEndpoint(verifier, url))
    return out


def published_policy(log_key: str, witnesses: list[WitnessEndpoint], quorum: int) -> str:
    """The default policy a deployment shows (never the only place a reader should get it):
    its log key, its witnesses, and k of them (all when ``quorum`` is 0)."""
    k = min(quorum or len(witnesses), len(witnesses))
    return simple_policy(log_key, [w.key for w in witnesses], k)
