"""C2SP signed-note with Ed25519 keys, compatible with Go's golang.org/x/mod/sumdb/note.

Key strings:
- verifier key  ``<name>+<8 hex key id>+<base64(0x01 || 32-byte public key)>``
- signer key    ``PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 || 32-byte seed)>``
The key id is the first 4 bytes of SHA-256(name || "\\n" || 0x01 || public key)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
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

ALG_ED25519 = 0x01
SIG_PREFIX = "— "  # U+2014 EM DASH then a space
MAX_SIGNATURES = 100
_HEX_ID = re.compile(r"[0-9a-f]{8}")


def b64decode_strict(text: str, what: str) -> bytes:
    """Standard padded base64 only; anything else is a format error, never binascii.Error."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise LogFormatError(f"{what}: not valid standard base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise LogFormatError(f"{what}: base64 is not in canonical padded form")
    return raw


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def check_name(name: str) -> None:
    """Key names (and so log origins): non-empty, no whitespace, no '+'."""
    if not name:
        raise LogFormatError("key name is empty")
    if "+" in name:
        raise LogFormatError(f"key name {name!r} contains '+'")
    if any(ch.isspace() for ch in name):
        raise LogFormatError(f"key name {name!r} contains whitespace")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name):
        raise LogFormatError(f"key name {name!r} contains a control character")


def key_id(name: str, public_key: bytes, alg: int = ALG_ED25519) -> bytes:
    """SHA-256(name || "\\n" || signature type || public key)[:4]; the type byte keeps a key
    used for checkpoints (0x01) apart from the same key used for cosignatures (0x04)."""
    material = name.encode("utf-8") + b"\n" + bytes([alg]) + public_key
    return hashlib.sha256(material).digest()[:4]


def _public_bytes(pub: Ed25519PublicKey) -> bytes:
    return pub.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class Verifier:
    name: str
    key_id: bytes
    public_key: bytes

    @property
    def key_string(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{b64encode(bytes([ALG_ED25519]) + self.public_key)}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


class Signer:
    """An Ed25519 note signer; keeps the seed private and exposes the matching verifier."""

    def __init__(self, name: str, seed: bytes) -> None:
        check_name(name)
        if len(seed) != 32:
            raise LogFormatError(f"Ed25519 seed must be 32 bytes, got {len(seed)}")
        self.name = name
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self._seed = seed
        pub = _public_bytes(self._key.public_key())
        self.verifier = Verifier(name, key_id(name, pub), pub)

    @property
    def key_id(self) -> bytes:
        return self.verifier.key_id

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    @property
    def private_key_string(self) -> str:
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{b64encode(bytes([ALG_ED25519]) + self._seed)}"


def generate_signer(name: str) -> Signer:
    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return Signer(name, seed)


def split_key(text: str, parts: int, what: str) -> list[str]:
    # The base64 part may itself hold '+': split on the first (parts - 1) separators only.
    fields = text.split("+", parts - 1)
    if len(fields) != parts:
        raise LogFormatError(f"{what}: expected {parts} '+'-separated fields")
    return fields


def decode_key_material(name: str, hex_id: str, b64: str, what: str, alg: int = ALG_ED25519) -> bytes:
    """The 32 key bytes after the algorithm byte of a verifier or signer key string."""
    check_name(name)
    if not _HEX_ID.fullmatch(hex_id):
        raise LogFormatError(f"{what}: key id {hex_id!r} is not 8 lowercase hex digits")
    raw = b64decode_strict(b64, f"{what} key material")
    if len(raw) != 33:
        raise LogFormatError(f"{what}: key material is {len(raw)} bytes, expected 33")
    if raw[0] != alg:
        raise LogFormatError(f"{what}: algorithm byte 0x{raw[0]:02x}, expected 0x{alg:02x}")
    return raw[1:]


def parse_verifier_key(text: str) -> Verifier:
    text = text.strip()
    name, hex_id, b64 = split_key(text, 3, "verifier key")
    pub = decode_key_material(name, hex_id, b64, "verifier key")
    try:
        Ed25519PublicKey.from_public_bytes(pub)
    except ValueError:
        raise LogFormatError("verifier key: not a valid Ed25519 public key") from None
    if key_id(name, pub).hex() != hex_id:
        raise LogFormatError(f"verifier key: key id {hex_id} does not match the public key")
    return Verifier(name, bytes.fromhex(hex_id), pub)


def parse_signer_key(text: str) -> Signer:
    text = text.strip()
    fields = split_key(text, 5, "signer key")
    if fields[0] != "PRIVATE" or fields[1] != "KEY":
        raise LogFormatError("signer key: must start with PRIVATE+KEY+")
    name, hex_id, b64 = fields[2], fields[3], fields[4]
    seed = decode_key_material(name, hex_id, b64, "signer key")
    signer = Signer(name, seed)
    if signer.key_id.hex() != hex_id:
        raise LogFormatError(f"signer key: key id {hex_id} does not match the key")
    return signer


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[NoteSignature, ...]


def _check_text(text: str, what: str) -> None:
    for ch in text:
        o = ord(ch)
        if (o < 0x20 and ch != "\n") or o == 0x7F:
            raise LogFormatError(f"{what} contains control character U+{o:04X}")


def sign_note(text: str, signers: Sequence[Signer]) -> str:
    if not text.endswith("\n"):
        raise LogFormatError("note text must end with a newline")
    _check_text(text, "note text")
    msg = text.encode("utf-8")
    lines = [f"{SIG_PREFIX}{s.name} {b64encode(s.key_id + s.sign(msg))}\n" for s in signers]
    return text + "\n" + "".join(lines)


def parse_note(data: bytes | str) -> Note:
    """Split a signed note into its text and signature lines; checks syntax only."""
    if isinstance(data, bytes):
        try:
            msg = data.decode("utf-8")
        except UnicodeDecodeError:
            raise LogFormatError("signed note is not valid UTF-8") from None
    else:
        msg = data
    _check_text(msg, "signed note")
    if "\r" in msg:
        raise LogFormatError("signed note uses CR line ends; only LF is allowed")
    split = msg.rfind("\n\n")
    if split < 0:
        raise LogFormatError("signed note has no blank line before its signatures")
    text, sigblock = msg[: split + 1], msg[split + 2 :]
    if not sigblock.endswith("\n"):
        raise LogFormatError("signed note does not end with a newline")
    sigs: list[NoteSignature] = []
    for lineno, line in enumerate(sigblock[:-1].split("\n"), 1):
        if not line.startswith(SIG_PREFIX):
            raise LogFormatError(f"signature line {lineno} does not start with '— '")
        body = line[len(SIG_PREFIX) :]
        name, sep, b64 = body.partition(" ")
        if not sep or not b64 or " " in b64:
            raise LogFormatError(f"signature line {lineno}: expected '— <name> <base64>'")
        check_name(name)
        raw = b64decode_strict(b64, f"signature line {lineno}")
        if len(raw) < 5:
            raise LogFormatError(f"signature line {lineno}: signature too short")
        sigs.append(NoteSignature(name, raw[:4], raw[4:]))
        if len(sigs) > MAX_SIGNATURES:
            raise LogFormatError(f"signed note has more than {MAX_SIGNATURES} signatures")
    if not sigs:
        raise LogFormatError("signed note has no signature lines")
    return Note(text, tuple(sigs))


def open_note(data: bytes | str, verifiers: Iterable[Verifier]) -> Note:
    """Parse and check that every known verifier among the signatures verifies, and at least one
    does. Signatures from unknown keys (e.g. witnesses we do not follow) are kept, unchecked."""
    note = parse_note(data)
    known = {(v.name, v.key_id): v for v in verifiers}
    msg = note.text.encode("utf-8")
    verified = 0
    for sig in note.signatures:
        v = known.get((sig.name, sig.key_id))
        if v is None:
            continue
        if not v.verify(msg, sig.signature):
            raise VerificationError(
                f"signature by {sig.name}+{sig.key_id.hex()} does not verify over the note text"
            )
        verified += 1
    if verified == 0:
        names = ", ".join(f"{s.name}+{s.key_id.hex()}" for s in note.signatures)
        expected = ", ".join(f"{n}+{k.hex()}" for n, k in known) or "none"
        raise VerificationError(
            f"no signature from a trusted key: note is signed by {names}; trusted: {expected}"
        )
    return note
