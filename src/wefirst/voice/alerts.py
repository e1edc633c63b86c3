"""Signed alert webhooks for voice episodes.

Signature scheme (documented in docs/voice-detection.md, the same shape as Stripe's so that
receivers can reuse what they know):

    Wefirst-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

The receiver recomputes the HMAC over the exact body bytes it received, compares it in
constant time, and rejects timestamps older than its tolerance (replays). During a secret
rotation we send one ``v1=`` per active secret.

Delivery: the first attempt is immediate (an alert must land within a minute of the data that
shows the episode); failures are retried with exponential backoff (10 s, 20 s, 40 s ... capped at
1 h, for about a day). Every attempt is recorded, success or not.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

SIGNATURE_HEADER = "Wefirst-Signature"
EVENT_ID_HEADER = "Wefirst-Event-Id"
EVENT_TYPE_HEADER = "Wefirst-Event-Type"
DEFAULT_TOLERANCE = 300
BACKOFF_FIRST = timedelta(seconds=10)
BACKOFF_CAP = timedelta(hours=1)
MAX_ATTEMPTS = 30  # 10 s doubling to 1 h, then hourly: ~ a day in all


class SignatureError(ValueError):
    """The header is missing, malformed, too old, or matches no secret."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    msg = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


def sign_header(secrets: Sequence[str], timestamp: int, body: bytes) -> str:
    if not secrets:
        raise ValueError("at least one secret is needed to sign")
    parts = [f"t={timestamp}", *(f"v1={signature(s, timestamp, body)}" for s in secrets)]
    return ",".join(parts)


def verify_header(
    secrets: Sequence[str],
    header: str | None,
    body: bytes,
    now: float | None = None,
    tolerance: int = DEFAULT_TOLERANCE,
) -> int:
    """Check a ``Wefirst-Signature`` header; return its timestamp or raise SignatureError."""
    if not header:
        raise SignatureError("missing signature header")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise SignatureError(f"malformed signature element {part!r}")
        if key == "t":
            if not value.isdigit():
                raise SignatureError("timestamp is not an integer")
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureError("signature header needs t= and at least one v1=")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError("timestamp outside the tolerance window (replay?)")
    for secret in secrets:
        expected = signature(secret, timestamp, body)
        if any(hmac.compare_digest(expected, c) for c in candidates):
            return timestamp
    raise SignatureError("no signature matches")


def backoff(attempt: int) -> timedelta:
    """Delay before attempt ``attempt + 1`` (attempt counts from 1)."""
    delay: timedelta = BACKOFF_FIRST * (2 ** min(max(attempt - 1, 0), 20))
    return delay if delay < BACKOFF_CAP else BACKOFF_CAP


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: str
    brand_id: str
    url: str
    secrets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AlertEvent:
    id: str
    type: str  # voice.episode.started | voice.episode.ended
    created: datetime
    data: dict[str, Any]

    @classmethod
    def from_body(cls, body: bytes | str) -> AlertEvent:
        """The event back from the exact bytes it was sent as (``body()`` gives them again)."""
        doc = json.loads(body)
        created = datetime.fromisoformat(str(doc["created"]).replace("Z", "+00:00"))
        return cls(str(doc["id"]), str(doc["type"]), created, dict(doc["data"]))

    def body(self) -> bytes:
        doc = {
            "id": self.id,
            "type": self.type,
            "created": self.created.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "data": self.data,
        }
        return json.dumps(doc, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try at one endpoint; every attempt is kept (the receiver's owner can see them)."""

    delivery_id: str
    endpoint_id: str
    event_id: str
    attempt: int
    at: datetime
    status: int | None
    error: str | None
    ok: bool
    next_at: datetime | None


class Transport(Protocol):
    """POSTs bytes; returns the HTTP status or raises on a network error."""

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> int: ...


class HttpxTransport:
    def __init__(self) -> None:
        import httpx

        self._client = httpx.Client(follow_redirects=False)

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        response = self._client.post(url, content=body, headers=headers, timeout=timeout)
        return response.status_code

    def close(self) -> None:
        self._client.close()


@dataclass(slots=True)
class MemoryTransport:
    """The in-memory fake: records what would have been sent, answers ``statuses`` in turn."""

    statuses: list[int] = field(default_factory=list)
    sent: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        self.sent.append((url, body, headers))
        return self.statuses.pop(0) if self.statuses else 200


@dataclass(slots=True)
class _Pending:
    delivery_id: str
    endpoint: Endpoint
    event: AlertEvent
    attempt: int
    due: datetime


class Dispatcher:
    """Keeps due deliveries and runs them; time comes from ``clock`` so tests can simulate it.

    ``record`` is called for every attempt (the service writes it to the database).
    """

    def __init__(
        self,
        transport: Transport,
        clock: Callable[[], datetime],
        record: Callable[[Attempt], None] | None = None,
        timeout: float = 10.0,
        max_attempts: int = MAX_ATTEMPTS,
        new_delivery_id: Callable[[], str] | None = None,
    ) -> None:
        self.transport = transport
        self.clock = clock
        self.record = record or (lambda _a: None)
        self.timeout = timeout
        self.max_attempts = max_attempts
        self._pending: list[_Pending] = []
        self._seq = 0
        self._new_id = new_delivery_id or self._counter

    def _counter(self) -> str:
        self._seq += 1
        return f"dly_{self._seq}"

    def submit(self, event: AlertEvent, endpoints: Iterable[Endpoint]) -> list[Attempt]:
        """Queue the event for each endpoint and make the first attempts now."""
        now = self.clock()
        for ep in endpoints:
            self._pending.append(_Pending(self._new_id(), ep, event, 0, now))
        return self.run_due()

    def schedule(
        self,
        event: AlertEvent,
        endpoint: Endpoint,
        delivery_id: str,
        attempts_made: int,
        due: datetime,
    ) -> None:
        """Put back a delivery that was pending when a process stopped (resumed from the log)."""
        self._pending.append(_Pending(delivery_id, endpoint, event, attempts_made, due))

    def run_due(self) -> list[Attempt]:
        now = self.clock()
        due = [p for p in self._pending if p.due <= now]
        self._pending = [p for p in self._pending if p.due > now]
        attempts = []
        for p in due:
            attempt = self._try(p, now)
            attempts.append(attempt)
            if not attempt.ok and attempt.next_at is not None:
                self._pending.append(
                    _Pending(p.delivery_id, p.endpoint, p.event, p.attempt + 1, attempt.next_at)
                )
        return attempts

    def pending(self) -> int:
        return len(self._pending)

    def next_due(self) -> datetime | None:
        return min((p.due for p in self._pending), default=None)

    def _try(self, p: _Pending, now: datetime) -> Attempt:
        number = p.attempt + 1
        body = p.event.body()
        ts = int(now.timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "wefirst-alerts/1",
            SIGNATURE_HEADER: sign_header(p.endpoint.secrets, ts, body),
            EVENT_ID_HEADER: p.event.id,
            EVENT_TYPE_HEADER: p.event.type,
        }
        status: int | None = None
        error: str | None = None
        try:
            status = self.transport.post(p.endpoint.url, body, headers, self.timeout)
            ok = 200 <= status < 300
            if not ok:
                error = f"HTTP {status}"
        except Exception as exc:  # network errors of any transport: logged, retried
            ok = False
            error = f"{type(exc).__name__}: {exc}"[:500]
        next_at = None if ok or number >= self.max_attempts else now + backoff(number)
        attempt = Attempt(p.delivery_id, p.endpoint.id, p.event.id, number, now, status, error, ok, next_at)
        self.record(attempt)
        return attempt
