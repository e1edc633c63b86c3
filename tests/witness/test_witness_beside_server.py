"""Two witnesses as separate processes (`wefirst-witness serve`) beside a real `wefirst serve`
process, on the test database (SQLite, or PostgreSQL with WEFIRST_TEST_DATABASE_URL): the
server's own submitter gets every checkpoint cosigned by both and serves the lines with
/log/checkpoint; with one witness down the other keeps cosigning, so a 2-of-2 policy fails naming
the missing witness while 1-of-2 passes; a forged fork made with the log's key is refused by both
witnesses and proven by `wefirst verify`; kill -9 of the server and of a witness while
submissions run loses nothing and no witness ever cosigns a smaller size after a larger one.

Entries are queued straight into the database (the queue the ledger writes to); everything
after that — sequencing, submission, serving — is the server's own background work."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_tlog import tlog_entries
from wefirst.tlog import cli as log_cli
from wefirst.tlog.checkpoint import Checkpoint, sign_checkpoint
from wefirst.tlog.policy import simple_policy
from wefirst.tlog.witness_protocol import build_request

from server_process import start_server
from witnessed_deployment import NAMES, Deployment, verify, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def deployment(tmp_path: Path, settings: Settings, db: Database, database_url: str) -> Iterator[Deployment]:
    d = Deployment(tmp_path, settings, db, database_url)
    try:
        yield d
    finally:
        d.close()


def metric(base: str, name: str, witness: str) -> float | None:
    text = httpx.get(base + "/metrics", timeout=5).text
    m = re.search(rf'^{name}{{witness="{re.escape(witness)}"}} (\S+)$', text, re.M)
    return float(m.group(1)) if m else None


def test_both_cosign_one_down_keeps_cosigning_and_a_forged_fork_is_refused_and_proven(
    deployment: Deployment, tmp_path: Path
) -> None:
    d = deployment
    charity, watchdog = NAMES
    # Every checkpoint, as the log grows, gets both cosignatures on /log/checkpoint.
    sizes = []
    for count in (3, 1, 5):
        size = d.grow(count)
        d.wait_cosigned(size)
        sizes.append(size)
    kept = d.stored_cosignatures()
    for name in NAMES:
        assert set(sizes) <= {size for size, _ in kept[name]}, name
    code, out = verify("checkpoint", "--log", d.log_url, "--policy", d.policy(2))
    assert code == 0, out
    assert "quorum 2 of 2" in out
    assert metric(d.server.url, "wefirst_witness_lag_entries", charity) == 0.0
    assert metric(d.server.url, "wefirst_witness_cosigned_size", watchdog) == sizes[-1]

    # One witness down: the other keeps cosigning; 2 of 2 fails naming it, 1 of 2 passes.
    d.witnesses[watchdog].kill()
    size = d.grow(4)
    signed = d.wait_cosigned(size, (charity,))
    assert d.served()[1] == {charity}
    code, out = verify("checkpoint", "--log", d.log_url, "--policy", d.policy(2))
    assert code == 1, out
    assert f"no cosignature from {watchdog}" in out
    code, out = verify("checkpoint", "--log", d.log_url, "--policy", d.policy(1))
    assert code == 0, out
    lag, failures = "wefirst_witness_lag_entries", "wefirst_witness_failures"
    wait_for("the lag metric", lambda: (metric(d.server.url, lag, watchdog) or 0) >= 4)
    wait_for("failures counted", lambda: (metric(d.server.url, failures, watchdog) or 0) >= 1)

    # Back up on its port: it catches up (a proof from the size it last cosigned).
    d.start_witness(watchdog, d.witnesses[watchdog].port)
    signed = d.wait_cosigned(size)

    # A forged fork: the log's key signs a second checkpoint of the cosigned size with another
    # root, and a larger one that claims to extend it. Both witnesses refuse both and keep them.
    cp = signed.checkpoint
    same_size = sign_checkpoint(Checkpoint(cp.origin, cp.size, bytes(32)), d.signer)
    larger = sign_checkpoint(Checkpoint(cp.origin, cp.size + 3, bytes(range(32))), d.signer)
    for name in NAMES:
        url = d.witnesses[name].url + "/add-checkpoint"
        r = httpx.post(url, content=build_request(cp.size, [], same_size), timeout=10)
        assert r.status_code == 409, (name, r.status_code, r.text)
        assert r.text == f"{cp.size}\n"
        r = httpx.post(url, content=build_request(cp.size, [bytes(32)] * 3, larger), timeout=10)
        assert r.status_code == 422, (name, r.status_code, r.text)
        assert d.witness_size(name) == cp.size  # nothing changed
        code, out = verify("evidence", d.witnesses[name].url, "--log", d.log_url, "--policy", d.policy(2))
        assert code == 1, out
        assert "2 of 2 evidence records prove that the log misbehaved" in out
        assert same_size.split("\n\n")[0] in out
        assert signed.note.text.rstrip("\n") in out
    # A reader who kept the forged checkpoint catches the fork against the served log.
    forged = tmp_path / "forged.checkpoint"
    forged.write_text(same_size)
    code, out = verify("consistency", str(forged), "--log", d.log_url, "--policy", d.policy(1))
    assert code == 1, out
    assert same_size.split("\n\n")[0] in out

    # The real log goes on being cosigned by both.
    d.wait_cosigned(d.grow(2))


def test_kill_9_of_server_and_witness_mid_submission_loses_nothing_and_never_cosigns_out_of_order(
    deployment: Deployment,
) -> None:
    """Entries stream in all along; the server and each witness are SIGKILLed while the server
    submits. After each restart every witness remembers at least what the server kept from it;
    at the end every entry is in the log, both witnesses cosigned the final size, and for each
    witness a larger size never carries an earlier timestamp."""
    d = deployment
    stop = threading.Event()
    errors: list[BaseException] = []

    def stream() -> None:
        try:
            while not stop.is_set():
                d.grow(1 + d.queued % 5)
                stop.wait(0.02)
        except BaseException as e:  # reported by the test thread
            errors.append(e)

    def cosigned_beyond(size: int) -> Callable[[], bool]:
        def check() -> bool:
            kept = d.stored_cosignatures()
            return all(any(s > size for s, _ in kept[n]) for n in NAMES)

        return check

    grower = threading.Thread(target=stream, daemon=True)
    grower.start()
    try:
        high = 0
        for victim in ("server", NAMES[0], "server", NAMES[1]):
            wait_for(f"cosignatures beyond size {high}", cosigned_beyond(high))
            if victim == "server":
                d.restart_server()
            else:
                d.restart_witness(victim)
            kept = d.stored_cosignatures()
            for name in NAMES:
                largest = max(s for s, _ in kept[name])
                assert d.witness_size(name) >= largest, f"{name} forgot a size it cosigned"
            high = max(s for rows in kept.values() for s, _ in rows)
    finally:
        stop.set()
        grower.join(30)
    assert not errors, errors
    final = d.queued
    d.wait_cosigned(final)
    with d.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(tlog_entries)).scalar_one() == final
    for name in NAMES:
        assert d.witness_size(name) == final
        pairs = sorted(d.stored_cosignatures()[name])
        stamps = [ts for _, ts in pairs]
        assert stamps == sorted(stamps), f"{name} cosigned a larger size with an earlier timestamp: {pairs}"
    code, out = verify("checkpoint", "--log", d.log_url, "--policy", d.policy(2))
    assert code == 0, out


def test_kill_9_of_the_server_after_the_witness_cosigned_loses_nothing(
    tmp_path: Path, settings: Settings, db: Database, database_url: str
) -> None:
    """The exact moment that matters: the witness has cosigned and durably stored size n, and
    the server dies (SIGKILL) before the answer arrives. After a restart the server learns the
    witness's size from a 409, resumes from there, gets size n cosigned again and serves it with
    both lines; the witness never went back and its timestamps grow with the sizes."""
    d = Deployment(tmp_path, settings, db, database_url, proxied=True)
    try:
        charity = NAMES[0]
        proxy = d.proxies[charity]
        d.wait_cosigned(d.grow(3))
        proxy.victim = d.server.kill
        proxy.armed.set()
        size = d.grow(2)
        wait_for("the kill after the witness's answer", proxy.fired.is_set)
        assert d.witness_size(charity) == size  # the witness stored it …
        assert size not in {s for s, _ in d.stored_cosignatures()[charity]}  # … the server never heard
        proxy.statuses.clear()
        d.server = start_server(d.env, port=d.server.port, log=tmp_path / "server.log")
        d.wait_cosigned(size)
        assert 409 in proxy.statuses, proxy.statuses  # told the witness's size, it resumed from there
        assert d.witness_size(charity) == size
        pairs = sorted(d.stored_cosignatures()[charity])
        assert [s for s, _ in pairs][-1] == size
        assert [ts for _, ts in pairs] == sorted(ts for _, ts in pairs)
        code, out = verify("checkpoint", "--log", d.log_url, "--policy", d.policy(2))
        assert code == 0, out
    finally:
        d.close()


def test_a_rotated_log_is_witnessed_by_each_witness_once_it_follows_the_new_key(
    deployment: Deployment,
) -> None:
    """The rotation drill with real witnesses: servers stopped, `wefirst log rotate`, servers
    restarted. A witness that does not follow the new key yet refuses it (404) and the submitter
    backs off; one that follows it cosigns the new log from its first checkpoint; when both do,
    the new log meets a 2-of-2 policy for its new key."""
    d = deployment
    charity, watchdog = NAMES
    d.wait_cosigned(d.grow(3))
    d.server.stop()
    result = CliRunner().invoke(log_cli.app, ["rotate"], env=d.env)
    assert result.exit_code == 0, result.output
    found = re.search(r"wefirst witness follow '([^']+)'", result.output)
    assert found is not None, result.output
    new_key = found.group(1)

    d.witnesses[charity].kill()
    d.start_witness(charity, d.witnesses[charity].port, also_follow=(new_key,))
    d.server = start_server(d.env, port=d.server.port, log=d.tmp / "server.log")
    d.log_number = 2
    d.grow(2)
    d.wait_cosigned(3, (charity,))  # the handover and two entries, cosigned by the witness that follows
    failures = "wefirst_witness_failures"
    wait_for("the refusal counted", lambda: (metric(d.server.url, failures, watchdog) or 0) >= 1)
    new_policy = simple_policy(new_key, [d.witnesses[n].key for n in NAMES], 2)
    code, out = verify("checkpoint", "--log", d.log_url, "--policy", new_policy)
    assert code == 1, out
    assert f"no cosignature from {watchdog}" in out

    d.witnesses[watchdog].kill()
    d.start_witness(watchdog, d.witnesses[watchdog].port, also_follow=(new_key,))
    d.wait_cosigned(3)
    code, out = verify("checkpoint", "--log", d.log_url, "--policy", new_policy)
    assert code == 0, out
    # The old log, frozen, is still served under its own key; each witness kept it apart.
    logs = httpx.get(d.witnesses[charity].url + "/", timeout=5).json()["logs"]
    assert {lg["origin"]: lg["size"] for lg in logs} == {d.origin: 3, f"{d.origin}/2": 3}
