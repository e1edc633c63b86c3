"""Secrets encrypted at rest (AES-256-GCM): connectors' signing secrets and platform API keys,
and the brands' own voice source tokens. One box per app (`Services.secret_box`).

A database dump alone must not let anyone forge deliveries for a brand's shop. What a secret
belongs to (a connection id, a brand and source) is the associated data, so a ciphertext copied
onto another row does not decrypt."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from wefirst.settings import Settings

_VERSION = b"\x01"


class SecretBoxError(Exception):
    """A stored secret cannot be decrypted: wrong key in settings, or a tampered row."""


class SecretBox:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the connectors encryption key must be 32 bytes")
        self._aead = AESGCM(key)
        self._fp_key = hashlib.sha256(b"wefirst fingerprint\x00" + key).digest()

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        if settings.connectors_encryption_key:
            try:
                key = base64.b64decode(settings.connectors_encryption_key, validate=True)
            except binascii.Error as exc:
                raise ValueError("WEFIRST_CONNECTORS_ENCRYPTION_KEY is not base64") from exc
            return cls(key)
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"wefirst connectors secrets v1")
        return cls(hkdf.derive(settings.secret_key.encode("utf-8")))

    def seal(self, plaintext: str, *, bound_to: str) -> bytes:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), bound_to.encode("utf-8"))
        return _VERSION + nonce + sealed

    def open(self, blob: bytes, *, bound_to: str) -> str:
        if len(blob) < 1 + 12 + 16 or blob[:1] != _VERSION:
            raise SecretBoxError("not a sealed secret")
        try:
            plain = self._aead.decrypt(blob[1:13], blob[13:], bound_to.encode("utf-8"))
        except InvalidTag as exc:
            raise SecretBoxError("stored secret does not decrypt with this key") from exc
        return plain.decode("utf-8")

    def fingerprint(self, secret: str) -> str:
        """Lets a brand tell its secrets apart without them leaving the server; keyed, so a
        weak secret cannot be brute-forced from the fingerprint."""
        return hmac.new(self._fp_key, secret.encode("utf-8"), hashlib.sha256).hexdigest()[:12]
