"""Signatures per the Standard Webhooks specification (https://www.standardwebhooks.com), so
receivers can use its libraries (Python, JavaScript, Go, ...) or a few lines of their own:

    webhook-id: <event id, the same on every retry and replay: the receiver's dedupe key>
    webhook-timestamp: <unix seconds of this attempt>
    webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")> [v1,<...> ...]

The key is the base64-decoded part of the `whsec_<base64>` secret. While a secret is being
rotated, both the new and the old secret sign (space-separated), and a receiver holding either
verifies. Receivers reject timestamps outside a tolerance (5 minutes) to stop replays.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence

PREFIX = "whsec_"
TOLERANCE_SECONDS = 300
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"


class SignatureError(ValueError):
    """Missing or malformed headers, a timestamp outside the tolerance, or no signature matches."""


def new_secret() -> str:
    """A fresh secret: 32 random bytes, standard base64, with the spec's prefix."""
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_` secret."""
    if not secret.startswith(PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    try:
        return base64.b64decode(secret[len(PREFIX) :], validate=True)
    except binascii.Error:
        raise ValueError("a webhook secret is whsec_ and standard base64") from None


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(msg_id: str, timestamp: int, body: bytes, signing_secrets: Sequence[str]) -> dict[str, str]:
    """The three headers of one attempt, signed with every current secret."""
    if not signing_secrets:
        raise ValueError("at least one secret is needed to sign")
    return {
        ID_HEADER: msg_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: " ".join(sign(s, msg_id, timestamp, body) for s in signing_secrets),
    }


def verify(
    secret: str,
    received: Mapping[str, str],
    body: bytes,
    now: float,
    tolerance: int = TOLERANCE_SECONDS,
) -> str:
    """What a receiver does (and what docs/webhooks.md shows): returns the message id, or
    raises `SignatureError`. `received` maps lower-case header names to values."""
    msg_id = received.get(ID_HEADER)
    stamp = received.get(TIMESTAMP_HEADER)
    signatures = received.get(SIGNATURE_HEADER)
    if not msg_id or not stamp or not signatures:
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature")
    if not stamp.isdigit():
        raise SignatureError("webhook-timestamp is not an integer")
    if abs(now - int(stamp)) > tolerance:
        raise SignatureError("webhook-timestamp outside the tolerance (a replay?)")
    expected = sign(secret, msg_id, int(stamp), body).encode()
    for candidate in signatures.split(" "):
        if hmac.compare_digest(expected, candidate.encode()):
            return msg_id
    raise SignatureError("no signature matches")
