"""The witness as a charity runs it: `wefirst witness keygen|serve|follow|status`, a real
process, and kill -9 while checkpoints stream in."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from wefirst.tlog.cosignature import parse_cosigner_key
from wefirst.tlog.note import parse_note
from wefirst.witness.cli import app
from wefirst.witness.process import start_witness

from growing_log import LOG_SIGNER, GrowingLog
from waiting import PATIENCE

runner = CliRunner()
LOG_KEY = LOG_SIGNER.verifier.key_string


def test_keygen_writes_a_private_key_0600_and_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "w.key"
    r = runner.invoke(app, ["keygen", "--name", "charity.example/w", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert parse_cosigner_key(r.output.strip()).name == "charity.example/w"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_text().startswith("PRIVATE+KEY+charity.example/w+")
    again = runner.invoke(app, ["keygen", "--name", "charity.example/w", "--out", str(out)])
    assert again.exit_code == 1
    assert "refusing to overwrite" in again.output


def test_first_serve_needs_a_name_and_a_log(tmp_path: Path) -> None:
    r = runner.invoke(app, ["serve", "--dir", str(tmp_path)])
    assert r.exit_code == 2
    assert "--name" in r.output
    r = runner.invoke(app, ["serve", "--dir", str(tmp_path), "--name", "charity.example/w"])
    assert r.exit_code == 2
    assert "--follow" in r.output
    assert (tmp_path / "witness.key").exists()  # the key is made once, on first use


def test_follow_and_status(tmp_path: Path) -> None:
    assert (
        runner.invoke(
            app, ["keygen", "--name", "c.example/w", "--out", str(tmp_path / "witness.key")]
        ).exit_code
        == 0
    )
    r = runner.invoke(app, ["follow", LOG_KEY, "--dir", str(tmp_path)])
    assert r.exit_code == 2  # no configuration yet and no name
    (tmp_path / "witness.toml").write_text('name = "c.example/w"\n')
    r = runner.invoke(app, ["follow", LOG_KEY, "--dir", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert f'key = "{LOG_KEY}"' in (tmp_path / "witness.toml").read_text()
    r = runner.invoke(app, ["status", "--dir", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert f"{LOG_SIGNER.name}: cosigned size 0" in r.output
    r = runner.invoke(app, ["follow", "not-a-key", "--dir", str(tmp_path)])
    assert r.exit_code == 2
    assert "verifier key" in r.output


def test_a_key_for_another_name_is_refused(tmp_path: Path) -> None:
    runner.invoke(app, ["keygen", "--name", "other.example/w", "--out", str(tmp_path / "witness.key")])
    r = runner.invoke(app, ["serve", "--dir", str(tmp_path), "--name", "c.example/w", "--follow", LOG_KEY])
    assert r.exit_code == 2
    assert "other.example/w" in r.output


def test_the_witness_runs_without_the_database_or_web_code() -> None:
    """What a charity installs runs alone: importing the witness pulls in no database, API,
    ledger or page code (and so none of their settings)."""
    code = (
        "import sys, wefirst.witness.cli, wefirst.witness.app, wefirst.witness.add_checkpoint;"
        "prefixes = ('wefirst', 'sqlalchemy', 'fastapi');"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith(prefixes))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert not [m for m in out if m.startswith(("sqlalchemy", "fastapi", "wefirst.store", "wefirst.api"))], (
        out
    )
    assert all(m.startswith(("wefirst.tlog", "wefirst.witness")) or m == "wefirst" for m in out), out


@pytest.mark.slow
def test_kill_9_mid_submission_loses_nothing_and_never_cosigns_out_of_order(tmp_path: Path) -> None:
    """A real witness process is killed with SIGKILL three times while a client streams growing
    checkpoints at it. After every restart the witness remembers at least the largest size it
    ever answered with a cosignature, and over the whole run cosignatures ordered by time have
    non-decreasing sizes."""
    log = GrowingLog()
    cosigned: list[tuple[int, int]] = []  # (timestamp, size) of every 200
    w = start_witness(tmp_path, name="charity.example/w", follow=[LOG_KEY], timeout=PATIENCE)
    verifier = parse_cosigner_key(w.key)
    known = 0
    for _round in range(3):
        stop = threading.Event()
        sent = threading.Event()

        def stream(url: str, stop: threading.Event, sent: threading.Event) -> None:
            nonlocal known
            with httpx.Client(base_url=url, timeout=5) as http:
                while not stop.is_set():
                    log.grow(1 + len(cosigned) % 7)
                    try:
                        r = http.post("/add-checkpoint", content=log.request(known))
                    except httpx.HTTPError:
                        return  # killed under us
                    if r.status_code == 409:
                        known = int(r.text)
                        continue
                    assert r.status_code == 200, r.text
                    note = parse_note(log.checkpoint() + r.text)
                    (line,) = [s for s in note.signatures if verifier.matches(s)]
                    cosigned.append((verifier.verify(note.text, line), log.size))
                    known = log.size
                    sent.set()

        t = threading.Thread(target=stream, args=(w.url, stop, sent))
        t.start()
        assert sent.wait(60), "no cosignature before the kill"
        os.kill(w.proc.pid, 9)
        w.kill()
        stop.set()
        t.join(30)
        largest_answered = max(size for _, size in cosigned)
        w = start_witness(tmp_path, name="charity.example/w", follow=[LOG_KEY], timeout=PATIENCE)
        remembered = int(httpx.get(w.url + "/").json()["logs"][0]["size"])
        assert remembered >= largest_answered
        known = remembered
    w.kill()
    # One client, one request at a time: the order of answers is the order of signing.
    stamps = [ts for ts, _ in cosigned]
    sizes = [size for _, size in cosigned]
    assert stamps == sorted(stamps)
    assert sizes == sorted(sizes)
    assert len(cosigned) >= 3
