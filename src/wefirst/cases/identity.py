"""Who is who without keeping more than needed: a supporter counts once through a keyed
hash of their normalised address; rate limits key on hashed addresses and networks; the
opener proves authorship with a secret token only its hash of which is stored; e-mailed
verification links carry a signed, expiring token.

Keyed (HMAC) rather than plain hashes, so a leaked table cannot be reversed by hashing a
list of known addresses or every IPv4 network."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from typing import Final

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

_LOCAL: Final = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}$")
_LABEL: Final = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_GMAIL: Final = frozenset({"gmail.com", "googlemail.com"})


class BadEmailError(ValueError):
    """The text is not an address we can send a verification link to."""


def normalise_email(raw: str) -> str:
    """The canonical form used to count a person once: lower case, `+tag` removed, and for
    Gmail the dots too (Gmail ignores them, so they would be free extra identities)."""
    addr = raw.strip()
    if len(addr) > 254 or addr.count("@") != 1:
        raise BadEmailError("an e-mail address has exactly one @ and at most 254 characters")
    local, domain = addr.rsplit("@", 1)
    domain = domain.lower().rstrip(".")
    if not _LOCAL.match(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        raise BadEmailError("the part before @ is not valid")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise BadEmailError("the domain is not valid") from None
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(lb) for lb in labels) or labels[-1].isdigit():
        raise BadEmailError("the domain is not valid")
    local = local.lower().split("+", 1)[0]
    if not local:
        raise BadEmailError("the part before @ is not valid")
    if domain in _GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def _keyed(secret: str, purpose: str, value: str) -> str:
    return hmac.new(secret.encode(), f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()


def email_hash(secret: str, raw: str) -> str:
    """Raises `BadEmailError` for unusable input."""
    return _keyed(secret, "cases.email", normalise_email(raw))


def network_of(ip: str) -> str:
    """The network a rate limit applies to: IPv4 /24, IPv6 /48 (one site's allocation), so
    rotating addresses inside one home or data-centre block does not buy more signatures."""
    try:
        addr = ipaddress.ip_address(ip.strip())
    except ValueError:
        return "unknown"
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    prefix = 24 if addr.version == 4 else 48
    return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False))


def network_hash(secret: str, ip: str) -> str:
    return _keyed(secret, "cases.net", network_of(ip))


def new_opener_token() -> str:
    return "cot_" + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Plain SHA-256 is enough here: the token has 256 random bits, nothing to brute-force."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(token_hash(token), stored_hash)


_SALTS: Final = {"cosign": "wefirst.cases.cosign.v1", "erase": "wefirst.cases.erase.v1"}


class BadTokenError(ValueError):
    """The link was altered, is for another server or purpose, or has expired."""


def sign_token(secret: str, purpose: str, subject: str) -> str:
    """A URL-safe, signed, timestamped token; `purpose` salts it so a co-sign link cannot
    be replayed as an erasure link or the other way round."""
    return URLSafeTimedSerializer(secret, salt=_SALTS[purpose]).dumps({"s": subject})


def read_token(secret: str, purpose: str, token: str, max_age_seconds: int) -> str:
    """The subject the token was issued for."""
    try:
        data = URLSafeTimedSerializer(secret, salt=_SALTS[purpose]).loads(token, max_age=max_age_seconds)
    except SignatureExpired:
        raise BadTokenError("the link has expired; ask for a new one") from None
    except BadSignature:
        raise BadTokenError("the link is not valid") from None
    if not isinstance(data, dict) or not isinstance(data.get("s"), str):
        raise BadTokenError("the link is not valid")
    return str(data["s"])


def sign_verification(secret: str, supporter_id: str) -> str:
    return sign_token(secret, "cosign", supporter_id)


def read_verification(secret: str, token: str, max_age_seconds: int) -> str:
    """The supporter id the co-sign confirmation link was issued for."""
    return read_token(secret, "cosign", token, max_age_seconds)
