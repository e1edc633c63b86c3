"""The one seam every outgoing webhook request goes through, and what an attempt's outcome is.

`HttpTransport` posts without following redirects (a redirect is an answer, not a new target),
bounds the whole exchange in time and reads at most `MAX_RESPONSE_BYTES` of the answer. Its
client connects through the outbound guard (wefirst.outbound): a brand's endpoint on loopback
or the operator's private network is refused (`Category.REFUSED`), and no other code path can
skip it.

Outcomes carry a *category*, never the exception's text: the text of a network error names
internal hosts and addresses, and brands can read their attempts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

import httpx

from wefirst.outbound import OutboundPolicy, OutboundRefused

MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "wefirst-webhooks/1"


class Category(StrEnum):
    OK = "ok"
    HTTP_STATUS = "http_status"  # the receiver answered, not 2xx
    TIMEOUT = "timeout"
    CONNECT = "connect"  # name did not resolve, connection refused or reset
    TLS = "tls"
    TOO_LARGE = "too_large"  # the answer exceeded MAX_RESPONSE_BYTES
    REFUSED = "refused"  # the outbound guard refused the target
    ERROR = "error"  # anything else


@dataclass(frozen=True)
class Outcome:
    category: Category
    status: int | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.category is Category.OK


class Transport(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> Outcome: ...

    def close(self) -> None: ...


def _elapsed_ms(start: float) -> int:
    return int((time.monotonic() - start) * 1000)


class HttpTransport:
    def __init__(self, policy: OutboundPolicy | None = None) -> None:
        self._client = httpx.Client(
            follow_redirects=False, transport=(policy or OutboundPolicy()).transport()
        )

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> Outcome:
        start = time.monotonic()
        sent = {"content-type": "application/json", "user-agent": USER_AGENT, **headers}
        if self._client.is_closed:  # the app was served again after a shutdown
            self._client = httpx.Client(follow_redirects=False)
        try:
            with self._client.stream("POST", url, content=body, headers=sent, timeout=timeout) as response:
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_RESPONSE_BYTES:
                        return Outcome(Category.TOO_LARGE, response.status_code, _elapsed_ms(start))
                    if time.monotonic() - start > timeout:
                        return Outcome(Category.TIMEOUT, response.status_code, _elapsed_ms(start))
                ok = 200 <= response.status_code < 300
                category = Category.OK if ok else Category.HTTP_STATUS
                return Outcome(category, response.status_code, _elapsed_ms(start))
        except OutboundRefused:
            return Outcome(Category.REFUSED, None, _elapsed_ms(start))
        except httpx.TimeoutException:
            return Outcome(Category.TIMEOUT, None, _elapsed_ms(start))
        except httpx.ConnectError as exc:
            tls = "SSL" in type(exc.__cause__).__name__ or "certificate" in str(exc).lower()
            return Outcome(Category.TLS if tls else Category.CONNECT, None, _elapsed_ms(start))
        except (httpx.NetworkError, httpx.RemoteProtocolError):
            return Outcome(Category.CONNECT, None, _elapsed_ms(start))
        except (httpx.HTTPError, ValueError):
            return Outcome(Category.ERROR, None, _elapsed_ms(start))

    def close(self) -> None:
        self._client.close()


@dataclass
class MemoryTransport:
    """The fake for tests and the demo: records what would have been sent and answers each
    request with the next of `statuses` (then 200); a status of 0 stands for a timeout."""

    statuses: list[int] = field(default_factory=list)
    sent: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> Outcome:
        self.sent.append((url, body, headers))
        status = self.statuses.pop(0) if self.statuses else 200
        if status == 0:
            return Outcome(Category.TIMEOUT, None, int(timeout * 1000))
        return Outcome(Category.OK if 200 <= status < 300 else Category.HTTP_STATUS, status, 1)

    def close(self) -> None:
        return None
