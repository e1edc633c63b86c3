"""Short-lived signed challenges that a click must carry.

A challenge is handed out with the widget's state and proves that whoever clicks loaded the
widget recently, for this campaign, this publisher and this visitor. It is an HMAC-SHA256 token
(stateless to issue, cheap to check) with a random nonce; the service stores used nonces until
the token expires so a token counts at most once (no replay). A click arriving sooner than
`min_delay_ms` after issue is a script, not a reader, and is refused as automated.

Token layout: ``w1.<base64url(JSON claims)>.<base64url(HMAC-SHA256)>``; the MAC covers a
domain-separation label and the exact claim bytes, so no other HMAC made with the server secret
can be replayed as a challenge.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from wefirst.widget.pow import pow_ok

VERSION = "w1"
_MAC_LABEL = b"wefirst/widget/challenge/v1\n"
_KEY_LABEL = b"wefirst/widget/challenge-key"
_VISITOR_RE = re.compile(r"^[0-9a-f]{64}$")
MAX_TOKEN_LENGTH = 1024
#: Clocks of several API processes differ a little; a token "from the future" within this margin
#: is accepted, beyond it the token is forged or the clock is wrong.
CLOCK_SKEW_MS = 2_000


class ChallengeFailure(StrEnum):
    """Why a presented challenge was not accepted (the fraud report's detail column)."""

    MISSING = "missing"
    MALFORMED = "malformed"
    SIGNATURE = "signature"
    BINDING = "binding"
    EXPIRED = "expired"
    FUTURE = "future"
    TOO_FAST = "too_fast"
    POW = "pow"
    REPLAYED = "replayed"


class ChallengeError(Exception):
    def __init__(self, failure: ChallengeFailure) -> None:
        super().__init__(failure.value)
        self.failure = failure


@dataclass(frozen=True)
class Claims:
    campaign_id: str
    publisher_id: str
    visitor: str
    issued_ms: int
    nonce: str
    pow_bits: int


def derive_key(secret: str) -> bytes:
    """A key used only for challenges, so the raw server secret never signs user-visible data."""
    return hmac.new(secret.encode(), _KEY_LABEL, hashlib.sha256).digest()


def valid_visitor(visitor: str) -> bool:
    """Visitors are hex SHA-256 commitments made by the widget, never raw identifiers."""
    return bool(_VISITOR_RE.match(visitor))


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class ChallengeSigner:
    def __init__(self, key: bytes, ttl_ms: int = 600_000, min_delay_ms: int = 600) -> None:
        if len(key) < 16:
            raise ValueError("challenge key must be at least 16 bytes")
        if ttl_ms <= min_delay_ms:
            raise ValueError("challenge ttl must be longer than the minimum click delay")
        self._key = key
        self.ttl_ms = ttl_ms
        self.min_delay_ms = min_delay_ms

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, _MAC_LABEL + payload, hashlib.sha256).digest()

    def issue(
        self, *, campaign_id: str, publisher_id: str, visitor: str, now_ms: int, pow_bits: int = 0
    ) -> str:
        if not valid_visitor(visitor):
            raise ValueError("visitor must be a hex SHA-256 commitment")
        claims = {
            "c": campaign_id,
            "p": publisher_id,
            "v": visitor,
            "t": now_ms,
            "n": _b64e(secrets.token_bytes(16)),
            "d": pow_bits,
        }
        payload = json.dumps(claims, separators=(",", ":"), sort_keys=True).encode()
        return f"{VERSION}.{_b64e(payload)}.{_b64e(self._mac(payload))}"

    def verify(
        self,
        token: str | None,
        *,
        campaign_id: str,
        publisher_id: str,
        visitor: str,
        now_ms: int,
        pow_nonce: str | None = None,
    ) -> Claims:
        """Checks everything that can be checked without storage; replay is the caller's job
        (it must record `Claims.nonce` as used, atomically with counting the click)."""
        if not token:
            raise ChallengeError(ChallengeFailure.MISSING)
        claims = self._parse(token)
        if (claims.campaign_id, claims.publisher_id, claims.visitor) != (
            campaign_id,
            publisher_id,
            visitor,
        ):
            raise ChallengeError(ChallengeFailure.BINDING)
        age = now_ms - claims.issued_ms
        if age < -CLOCK_SKEW_MS:
            raise ChallengeError(ChallengeFailure.FUTURE)
        if age > self.ttl_ms:
            raise ChallengeError(ChallengeFailure.EXPIRED)
        if claims.pow_bits and not pow_ok(token, pow_nonce, claims.pow_bits):
            raise ChallengeError(ChallengeFailure.POW)
        if age < self.min_delay_ms:
            raise ChallengeError(ChallengeFailure.TOO_FAST)
        return claims

    def _parse(self, token: str) -> Claims:
        if len(token) > MAX_TOKEN_LENGTH:
            raise ChallengeError(ChallengeFailure.MALFORMED)
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != VERSION:
            raise ChallengeError(ChallengeFailure.MALFORMED)
        try:
            payload = _b64d(parts[1])
            mac = _b64d(parts[2])
        except (binascii.Error, ValueError) as exc:
            raise ChallengeError(ChallengeFailure.MALFORMED) from exc
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise ChallengeError(ChallengeFailure.SIGNATURE)
        # Signed by us, so the shape is ours; still checked so a key leak cannot become a 500.
        try:
            raw = json.loads(payload)
            claims = Claims(
                campaign_id=raw["c"],
                publisher_id=raw["p"],
                visitor=raw["v"],
                issued_ms=raw["t"],
                nonce=raw["n"],
                pow_bits=raw["d"],
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ChallengeError(ChallengeFailure.MALFORMED) from exc
        if not (
            isinstance(claims.issued_ms, int)
            and isinstance(claims.pow_bits, int)
            and all(
                isinstance(v, str)
                for v in (claims.campaign_id, claims.publisher_id, claims.visitor, claims.nonce)
            )
        ):
            raise ChallengeError(ChallengeFailure.MALFORMED)
        return claims
