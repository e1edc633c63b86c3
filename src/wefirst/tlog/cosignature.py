"""C2SP tlog-cosignature, Ed25519 `cosignature/v1`: a witness's timestamped statement that a
checkpoint is the largest consistent tree head it has seen for that log.

- verifier key  ``<name>+<8 hex key id>+<base64(0x04 || 32-byte public key)>`` (signed-note vkey
  with signature type 0x04)
- signer key    ``PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x04 || 32-byte seed)>`` (the Go note
  private-key line with the cosignature type byte, so a key file says what it is for)
- key ID        ``SHA-256(name || "\\n" || 0x04 || public key)[:4]``
- signature     ``base64(key ID || u64 big-endian timestamp || Ed25519 signature)`` over
  ``"cosignature/v1\\n" || "time <timestamp>\\n" || checkpoint body``

Pure: no clock, no I/O. The caller passes the timestamp, so golden vectors are reproducible."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from wefirst.tlog.errors import LogFormatError, VerificationError
from wefirst.tlog.note import (
    SIG_PREFIX,
    NoteSignature,
    b64encode,
    check_name,
    decode_key_material,
    key_id,
    split_key,
)

ALG_COSIGNATURE_V1 = 0x04
HEADER = "cosignature/v1\n"
MAX_TIMESTAMP = (1 << 63) - 1
SIGNATURE_SIZE = 8 + 64  # timestamp then the Ed25519 signature, after the 4-byte key ID


def signed_message(body: str, timestamp: int) -> bytes:
    """What the witness signs: the header line, the time line, then the checkpoint body."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise LogFormatError(f"cosignature timestamp {timestamp} is out of range")
    if not body.endswith("\n"):
        raise LogFormatError("checkpoint body must end with a newline")
    return f"{HEADER}time {timestamp}\n{body}".encode()


@dataclass(frozen=True)
class CosignatureVerifier:
    name: str
    key_id: bytes
    public_key: bytes

    @property
    def key_string(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{b64encode(bytes([ALG_COSIGNATURE_V1]) + self.public_key)}"

    def matches(self, sig: NoteSignature) -> bool:
        """Name and key ID both equal: the only lines this witness's key may be checked on."""
        return sig.name == self.name and sig.key_id == self.key_id

    def verify(self, body: str, sig: NoteSignature) -> int:
        """The cosignature's timestamp if it is this witness's valid signature over ``body``."""
        if not self.matches(sig):
            raise VerificationError(f"signature line is not from witness {self.name}+{self.key_id.hex()}")
        if len(sig.signature) != SIGNATURE_SIZE:
            raise VerificationError(
                f"cosignature by {self.name} is {len(sig.signature)} bytes, expected {SIGNATURE_SIZE}"
            )
        timestamp = int.from_bytes(sig.signature[:8], "big")
        if timestamp > MAX_TIMESTAMP:
            raise VerificationError(f"cosignature by {self.name} has an out-of-range timestamp")
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(
                sig.signature[8:], signed_message(body, timestamp)
            )
        except (InvalidSignature, ValueError):
            raise VerificationError(
                f"cosignature by witness {self.name} does not verify over this checkpoint"
            ) from None
        return timestamp


class CosignatureSigner:
    """A witness's Ed25519 key; keeps the seed private."""

    def __init__(self, name: str, seed: bytes) -> None:
        check_name(name)
        if len(seed) != 32:
            raise LogFormatError(f"Ed25519 seed must be 32 bytes, got {len(seed)}")
        self.name = name
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self._seed = seed
        pub = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.verifier = CosignatureVerifier(name, key_id(name, pub, ALG_COSIGNATURE_V1), pub)

    def cosign(self, body: str, timestamp: int) -> str:
        """One note signature line (ending in a newline) cosigning the checkpoint ``body``."""
        sig = self._key.sign(signed_message(body, timestamp))
        raw = self.verifier.key_id + timestamp.to_bytes(8, "big") + sig
        return f"{SIG_PREFIX}{self.name} {b64encode(raw)}\n"

    def sign_raw(self, message: bytes) -> bytes:
        """A bare Ed25519 signature (the benchmark's baseline), never a cosignature."""
        return self._key.sign(message)

    @property
    def private_key_string(self) -> str:
        material = b64encode(bytes([ALG_COSIGNATURE_V1]) + self._seed)
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+{material}"


def generate_cosigner(name: str) -> CosignatureSigner:
    key = Ed25519PrivateKey.generate()
    return CosignatureSigner(name, key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))


def parse_cosigner_key(text: str) -> CosignatureVerifier:
    """A witness verifier key (vkey with type 0x04)."""
    name, hex_id, b64 = split_key(text.strip(), 3, "witness key")
    pub = decode_key_material(name, hex_id, b64, "witness key", ALG_COSIGNATURE_V1)
    try:
        Ed25519PublicKey.from_public_bytes(pub)
    except ValueError:
        raise LogFormatError("witness key: not a valid Ed25519 public key") from None
    if key_id(name, pub, ALG_COSIGNATURE_V1).hex() != hex_id:
        raise LogFormatError(f"witness key: key id {hex_id} does not match the name and public key")
    return CosignatureVerifier(name, bytes.fromhex(hex_id), pub)


def parse_cosigner_signer_key(text: str) -> CosignatureSigner:
    fields = split_key(text.strip(), 5, "witness signer key")
    if fields[0] != "PRIVATE" or fields[1] != "KEY":
        raise LogFormatError("witness signer key: must start with PRIVATE+KEY+")
    name, hex_id, b64 = fields[2], fields[3], fields[4]
    seed = decode_key_material(name, hex_id, b64, "witness signer key", ALG_COSIGNATURE_V1)
    signer = CosignatureSigner(name, seed)
    if signer.verifier.key_id.hex() != hex_id:
        raise LogFormatError(f"witness signer key: key id {hex_id} does not match the key")
    return signer
