"""Signed notes, checkpoints and key strings: the good forms round-trip, every malformed form is
a LogFormatError and every bad signature a VerificationError — never a raw ValueError."""

import base64
from pathlib import Path

import pytest

from wefirst.tlog.checkpoint import (
    Checkpoint,
    open_checkpoint,
    parse_body,
    parse_signed_checkpoint,
    sign_checkpoint,
)
from wefirst.tlog.errors import LogFormatError, VerificationError
from wefirst.tlog.hashing import EMPTY_HASH
from wefirst.tlog.keys import load_key, load_or_create, write_new_key
from wefirst.tlog.note import (
    Signer,
    generate_signer,
    open_note,
    parse_note,
    parse_signer_key,
    parse_verifier_key,
    sign_note,
)

GOLDEN = (Path(__file__).resolve().parents[1] / "assets" / "tlog" / "golden.checkpoint").read_text()
SIGNER = Signer("log.example/golden", bytes(range(32)))
VKEY = SIGNER.verifier


def test_private_key_string_round_trips_like_go_note() -> None:
    text = SIGNER.private_key_string
    assert text.startswith("PRIVATE+KEY+log.example/golden+15cad01a+")
    again = parse_signer_key(text)
    assert again.verifier == VKEY
    assert parse_verifier_key(VKEY.key_string) == VKEY


def test_verifier_key_with_plus_in_base64_is_split_on_first_two_only() -> None:
    assert "+" in VKEY.key_string.split("+", 2)[2]
    assert parse_verifier_key(VKEY.key_string + "\n").public_key == VKEY.public_key


B64_PUB = VKEY.key_string.split("+", 2)[2]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "log.example/golden",
        "log.example/golden+15cad01a",
        f"log.example/golden+15CAD01A+{B64_PUB}",
        f"log.example/golden+15cad01+{B64_PUB}",
        f"log.example/golden+15cad01b+{B64_PUB}",  # id does not match
        f"other.example+15cad01a+{B64_PUB}",
        f"log example+15cad01a+{B64_PUB}",
        "log.example/golden+15cad01a+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG",  # bad padding
        "log.example/golden+15cad01a+" + base64.b64encode(b"\x02" + bytes(32)).decode(),
        "log.example/golden+15cad01a+" + base64.b64encode(b"\x01" + bytes(31)).decode(),
        "log.example/golden+15cad01a+!!!!",
        f"+15cad01a+{B64_PUB}",
    ],
)
def test_bad_verifier_keys(text: str) -> None:
    with pytest.raises(LogFormatError):
        parse_verifier_key(text)


@pytest.mark.parametrize(
    "text",
    [
        "PRIVATE+KEY+log.example/golden+15cad01a",
        SIGNER.private_key_string.replace("PRIVATE", "PUBLIC"),
        SIGNER.private_key_string.replace("15cad01a", "15cad01b"),
        SIGNER.private_key_string[:-4] + "====",
        VKEY.key_string,
    ],
)
def test_bad_signer_keys(text: str) -> None:
    with pytest.raises(LogFormatError):
        parse_signer_key(text)


def test_key_files(tmp_path: Path) -> None:
    path = tmp_path / "k" / "log.key"
    signer = write_new_key(path, "demo.example/log")
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_key(path).verifier == signer.verifier
    with pytest.raises(FileExistsError):
        write_new_key(path, "demo.example/log")
    assert load_or_create(path, "demo.example/log").verifier == signer.verifier
    with pytest.raises(LogFormatError, match="origin"):
        load_or_create(path, "other.example/log")
    fresh = load_or_create(tmp_path / "new.key", "x.example")
    assert fresh.name == "x.example"
    (tmp_path / "bad.key").write_bytes(b"\xff\xfe")
    with pytest.raises(LogFormatError):
        load_key(tmp_path / "bad.key")


def test_checkpoint_round_trip_and_empty_tree() -> None:
    signed = open_checkpoint(GOLDEN, VKEY)
    assert signed.checkpoint.body() + "\n" + GOLDEN.split("\n\n", 1)[1] == GOLDEN
    empty = sign_checkpoint(Checkpoint(SIGNER.name, 0, EMPTY_HASH), SIGNER)
    assert empty.split("\n")[1] == "0"
    assert open_checkpoint(empty.encode(), VKEY).checkpoint.root == EMPTY_HASH


def test_extra_cosignature_lines_are_kept_and_unknown_ones_ignored() -> None:
    witness = generate_signer("witness.example")
    body = parse_body(GOLDEN.split("\n\n")[0] + "\n").body()
    cosigned = GOLDEN + sign_note(body, [witness]).split("\n\n", 1)[1]
    signed = open_checkpoint(cosigned, VKEY)
    assert [s.name for s in signed.note.signatures] == [SIGNER.name, "witness.example"]
    open_checkpoint(cosigned, VKEY, [witness.verifier])


ROOT_LINE = GOLDEN.split("\n")[2]


@pytest.mark.parametrize(
    "body",
    [
        "log.example/golden\n3\n",
        f"log.example/golden\n03\n{ROOT_LINE}\n",
        f"log.example/golden\n-3\n{ROOT_LINE}\n",
        f"log.example/golden\n3.0\n{ROOT_LINE}\n",
        f"log.example/golden\n 3\n{ROOT_LINE}\n",
        f"log.example/golden\n99999999999999999999\n{ROOT_LINE}\n",
        f"log.example/golden\n3\n{ROOT_LINE}",
        f"log.example/golden\n3\n{ROOT_LINE[:-1]}\n",
        f"log.example/golden\n3\n{base64.b64encode(bytes(31)).decode()}\n",
        f"log.example/golden\n3\n{ROOT_LINE}\n\n",
        f"\n3\n{ROOT_LINE}\n",
        f"log example\n3\n{ROOT_LINE}\n",
        f"log+example\n3\n{ROOT_LINE}\n",
    ],
)
def test_bad_checkpoint_bodies(body: str) -> None:
    with pytest.raises(LogFormatError):
        parse_body(body)


SIG_LINE = GOLDEN.split("\n\n")[1]


@pytest.mark.parametrize(
    "note",
    [
        b"\xff" + GOLDEN.encode(),
        GOLDEN.replace("\n", "\r\n"),
        GOLDEN.replace("\n\n", "\n"),
        GOLDEN[:-1],
        GOLDEN.replace("— ", "- "),
        GOLDEN.replace("— ", "—"),
        GOLDEN.replace(SIG_LINE, SIG_LINE.replace(" Fcr", "  Fcr")),
        GOLDEN.replace(SIG_LINE, "— log.example/golden AAAA\n"),
        GOLDEN.replace(SIG_LINE, "— log.example/golden not*base64\n"),
        GOLDEN.replace(SIG_LINE, "— log.example/golden\n"),
        GOLDEN.replace(SIG_LINE, ""),
        GOLDEN.replace("log.example/golden\n3", "log.example/golden\x07\n3"),
        GOLDEN + "\n".join([SIG_LINE.strip()] * 101) + "\n",
    ],
)
def test_bad_notes(note: str | bytes) -> None:
    with pytest.raises(LogFormatError):
        parse_signed_checkpoint(note)


def test_bad_signatures_are_verification_errors() -> None:
    other = generate_signer("log.example/golden")
    with pytest.raises(VerificationError, match="trusted"):
        open_checkpoint(GOLDEN, other.verifier)
    tampered = GOLDEN.replace("\n3\n", "\n4\n")
    with pytest.raises(VerificationError, match="does not verify"):
        open_checkpoint(tampered, VKEY)
    # A checkpoint signed by the right key but for another origin.
    impostor = Signer("evil.example", bytes(range(32)))
    text = sign_checkpoint(Checkpoint("evil.example", 3, EMPTY_HASH), impostor)
    with pytest.raises(VerificationError):
        open_checkpoint(text, VKEY)
    with pytest.raises(LogFormatError):
        sign_checkpoint(Checkpoint("evil.example", 3, EMPTY_HASH), SIGNER)


def test_note_rules() -> None:
    with pytest.raises(LogFormatError):
        sign_note("no newline", [SIGNER])
    note = parse_note(sign_note("hello\n", [SIGNER]))
    assert note.text == "hello\n"
    assert open_note(sign_note("hello\n", [SIGNER]), [VKEY]).text == "hello\n"
