"""Who is who without keeping more than needed: a supporter counts once through a keyed
hash of their normalised address; rate limits key on hashed addresses and networks; the
opener proves authorship with a secret token only its hash of which is stored; e-mailed
verification links carry a signed, expiring token.

The keyed hash and the network policy are the shared ones (`wefirst.pseudonyms`), the
address's normal form the shared one (`wefirst.emails.person_key`)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from wefirst.emails import person_key
from wefirst.pseudonyms import keyed_hash, network_key, server_key


def email_hash(secret: str, raw: str) -> str:
    """One person, one key: the keyed hash of `emails.person_key`. Raises `BadEmailError` for
    unusable input."""
    return keyed_hash(server_key(secret), "cases.email", person_key(raw))


def network_hash(secret: str, ip: str) -> str:
    """The caller's network (`pseudonyms.network_of`), as the key of the cases' rate limits."""
    return network_key(server_key(secret), "cases.net", ip)


def new_opener_token() -> str:
    return "cot_" + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Plain SHA-256 is enough here: the token has 256 random bits, nothing to brute-force."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(token_hash(token), stored_hash)


_SALTS: Final = {
    "cosign": "wefirst.cases.cosign.v1",
    "erase": "wefirst.cases.erase.v1",
    "follow": "wefirst.cases.follow.v1",
    "unfollow": "wefirst.cases.unfollow.v1",
}


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
