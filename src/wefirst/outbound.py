"""The one outbound guard: every request to an address a brand chose (webhook endpoints, RSS
feeds, Mastodon servers, WooCommerce call-backs) goes through it.

Why: a brand key could point those at loopback, the operator's private network or a cloud
metadata address, and read the attempts back: a port scanner for the operator's network
(issue 13, finding 3). The guard resolves the host once, refuses any non-global address
unless a setting allows its range (on-premise receivers), connects to that very address (so a
second DNS answer cannot swap in a private one), keeps the name for the Host header and TLS
(SNI and certificate check), and refuses plain http unless the setting allows it. A redirect
followed by a client goes through the transport again, so it is checked the same way."""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from wefirst.settings import Settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]


class OutboundRefused(httpx.TransportError):
    """The guard refused the target. A transport error, so every caller's existing handling
    of network failures applies; its text names the category, never an internal address."""


def _system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class OutboundPolicy:
    allowed_networks: tuple[Network, ...] = ()
    https_only: bool = True
    resolver: Resolver = _system_resolver

    @classmethod
    def from_settings(cls, settings: Settings) -> OutboundPolicy:
        nets = tuple(
            ipaddress.ip_network(part.strip(), strict=False)
            for part in settings.outbound_allowed_networks.split(",")
            if part.strip()
        )
        return cls(allowed_networks=nets, https_only=settings.outbound_https_only)

    def allows_address(self, address: Address) -> bool:
        if address.version == 6 and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if any(address in net for net in self.allowed_networks):
            return True
        return address.is_global and not address.is_multicast

    def check_scheme(self, url: httpx.URL) -> None:
        allowed = ("https",) if self.https_only else ("https", "http")
        if url.scheme not in allowed:
            raise OutboundRefused("refused: scheme (https only)")

    def resolve(self, host: str, port: int) -> Address:
        """The address to connect to: every address the name resolves to must be allowed (a
        name mixing public and private answers is refused, not raced)."""
        try:
            literal: Address | None = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        if literal is not None:
            candidates = [literal]
        else:
            try:
                candidates = [ipaddress.ip_address(a.split("%")[0]) for a in self.resolver(host, port)]
            except (OSError, UnicodeError) as exc:
                raise httpx.ConnectError("refused: name does not resolve") from exc
        if not candidates:
            raise httpx.ConnectError("refused: name does not resolve")
        if not all(self.allows_address(a) for a in candidates):
            raise OutboundRefused("refused: not a public address")
        return candidates[0]

    def check_url(self, url: str) -> Address:
        """Refuse now what `GuardedTransport` would refuse at send time (for clients we cannot
        route through it, and for early answers)."""
        parsed = httpx.URL(url)
        self.check_scheme(parsed)
        return self.resolve(parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80))

    def refused_at_registration(self, url: str) -> str | None:
        """What can be said without resolving (registration must work offline): the scheme,
        and a host that is a literal refused address or localhost. None when fine so far."""
        try:
            parsed = httpx.URL(url)
            self.check_scheme(parsed)
        except (OutboundRefused, httpx.InvalidURL):
            return "must be an https:// URL" if self.https_only else "must be an http(s):// URL"
        host = parsed.host.strip("[]").lower()
        if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
            return "must be a public address"
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            return None
        return None if self.allows_address(literal) else "must be a public address"

    def transport(self, inner: httpx.BaseTransport | None = None) -> GuardedTransport:
        return GuardedTransport(self, inner)

    def client(self, *, timeout: float, follow_redirects: bool = False, **kwargs: object) -> httpx.Client:
        """An httpx client whose every request (redirects included) passes the guard."""
        return httpx.Client(
            transport=self.transport(),
            timeout=timeout,
            follow_redirects=follow_redirects,
            max_redirects=5,
            **kwargs,  # type: ignore[arg-type]
        )


class GuardedTransport(httpx.BaseTransport):
    def __init__(self, policy: OutboundPolicy, inner: httpx.BaseTransport | None = None) -> None:
        self.policy = policy
        self.inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        self.policy.check_scheme(url)
        port = url.port or (443 if url.scheme == "https" else 80)
        address = self.policy.resolve(url.host, port)
        if str(address) != url.host.strip("[]"):
            # connect to the checked address; Host (set when the request was built) and the
            # TLS name stay the original host's
            request.extensions = {**request.extensions, "sni_hostname": url.host}
            request.url = url.copy_with(host=str(address))
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


class TooLarge(Exception):
    pass


class TooSlow(Exception):
    pass


def bounded_chunks(response: httpx.Response, *, max_bytes: int, deadline: float) -> Iterator[bytes]:
    """Read a streamed answer, stopping at `max_bytes` or at the monotonic `deadline`: the
    client's timeout bounds each read, not a server that trickles a byte at a time."""
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge
        if time.monotonic() > deadline:
            raise TooSlow
        yield chunk


def read_bounded(response: httpx.Response, *, max_bytes: int, deadline: float) -> bytes:
    return b"".join(bounded_chunks(response, max_bytes=max_bytes, deadline=deadline))
