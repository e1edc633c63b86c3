"""Matching a click's Origin (or Referer) against a publisher's registered domains.

Browsers always send `Origin` on the widget's cross-origin `fetch`, and scripts outside a
browser can forge it, so this check stops embedding on sites the publisher does not own (and
counts that as `bad_origin`) rather than stopping determined scripts; the challenge, rate limits
and dedupe do that. Domains are stored normalised: lower-case host, optional `:port`, optional
leading `*.` for "any subdomain".
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOST_RE = re.compile(rf"^(\*\.)?{_LABEL}(\.{_LABEL})*(:[0-9]{{1,5}})?$")
_IPV4_RE = re.compile(r"^\d{1,3}(\.\d{1,3}){3}(:[0-9]{1,5})?$")


class DomainError(ValueError):
    """A domain a publisher tried to register that we cannot match reliably."""


def normalize_domain(value: str) -> str:
    """Accepts what people paste ("https://Blog.example.org/", "blog.example.org:8080",
    "*.example.org") and returns the stored form, or raises DomainError."""
    text = value.strip().lower()
    if "://" in text:
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or parts.username or parts.password:
            raise DomainError(f"{value!r} is not a site address")
        text = parts.netloc
    text = text.rstrip("/")
    if not text or "/" in text or "@" in text:
        raise DomainError(f"{value!r} is not a domain name")
    try:
        text = text.encode("idna").decode("ascii") if not text.isascii() else text
    except UnicodeError as exc:
        raise DomainError(f"{value!r} is not a valid international domain name") from exc
    if _IPV4_RE.match(text):
        host = text.split(":")[0]
        if any(int(part) > 255 for part in host.split(".")):
            raise DomainError(f"{value!r} is not a valid IPv4 address")
        return text
    if not _HOST_RE.match(text) or len(text) > 260:
        raise DomainError(f"{value!r} is not a domain name")
    if text.startswith("*.") and "." not in text[2:].split(":")[0]:
        raise DomainError(f"{value!r} would match every site under a top-level domain")
    return text


def _origin_host(origin_or_url: str) -> tuple[str, int | None] | None:
    try:
        parts = urlsplit(origin_or_url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None
        return parts.hostname.lower(), parts.port
    except ValueError:
        return None


def domain_matches(domain: str, host: str, port: int | None) -> bool:
    name, _, pinned = domain.partition(":")
    if pinned and (port is None or int(pinned) != port):
        return False
    if name.startswith("*."):
        base = name[2:]
        return host == base or host.endswith("." + base)
    return host == name


def origin_allowed(origin: str | None, referer: str | None, domains: list[str]) -> bool:
    """`Origin` wins when present (an opaque "null" origin is refused); `Referer` is the
    fallback for the rare browser that omits Origin. Neither present: refused."""
    source = origin if origin else referer
    if not source or source == "null":
        return False
    parsed = _origin_host(source)
    if parsed is None:
        return False
    host, port = parsed
    return any(domain_matches(d, host, port) for d in domains)
