"""The witness submitter on a real database (SQLite or PostgreSQL) against real witnesses (the
witness code and its SQLite state, spoken to over the real add-checkpoint wire format through an
in-process HTTP transport): cosignatures kept and served, 409 resume, backoff, fork alarms,
receipts carrying the best-witnessed checkpoint, lag metrics, and random interleavings."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, generate_latest

from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.tlog.checkpoint import parse_signed_checkpoint, sign_checkpoint
from wefirst.tlog.cosignature import CosignatureSigner
from wefirst.tlog.cosignatures import WitnessRow, witness_rows
from wefirst.tlog.errors import VerificationError
from wefirst.tlog.note import parse_note
from wefirst.tlog.policy import parse_policy, require_quorum
from wefirst.tlog.queue import enqueue
from wefirst.tlog.receipts import commitment_of, parse_receipt
from wefirst.tlog.sequencer import integrate_batch
from wefirst.tlog.service import LogService
from wefirst.tlog.submitter import WitnessLag, WitnessSubmitter
from wefirst.tlog.witness_config import WitnessEndpoint, published_policy
from wefirst.tlog.witness_protocol import build_request
from wefirst.witness.add_checkpoint import Witness
from wefirst.witness.state import WitnessState

from waiting import wait_until

W1 = CosignatureSigner("charity.example/w", bytes(range(10, 42)))
W2 = CosignatureSigner("watchdog.example/w", bytes(range(50, 82)))


def entry(i: int, commitment: str | None = None) -> dict[str, object]:
    e: dict[str, object] = {
        "v": 1,
        "kind": "pledge",
        "campaign": "cmp_x",
        "at": "2026-11-26T06:00:00Z",
        "n": i,
    }
    if commitment:
        e["commitment"] = commitment
    return e


class Witnesses:
    """Two real witnesses (their code and SQLite state), reachable over an httpx transport
    that hands the raw request body to them and returns their raw answer; one can be "down"."""

    def __init__(self, tmp: Path, service: LogService) -> None:
        self.tmp = tmp
        self.service = service
        self.down: set[str] = set()
        self.lose_answers: set[str] = set()  # the witness answers, the answer never arrives
        self.requests: list[tuple[str, int]] = []  # (witness host, status)
        self.by_host = {"w1.test": self._make("w1", W1), "w2.test": self._make("w2", W2)}

    def _make(self, name: str, signer: CosignatureSigner) -> Witness:
        logs = {self.service.origin: self.service.signer.verifier}
        return Witness(signer, logs, WitnessState(self.tmp / f"{name}.db"))

    def restart(self, host: str) -> None:
        old = self.by_host[host]
        old.state.close()
        self.by_host[host] = Witness(old.signer, old.logs, WitnessState(old.state.path))

    def handle(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if host in self.down:
            raise httpx.ConnectError("connection refused", request=request)
        assert request.url.path == "/add-checkpoint"
        answer = self.by_host[host].add_checkpoint(request.content)
        self.requests.append((host, answer.status))
        if host in self.lose_answers:
            raise httpx.ReadError("connection reset after the witness answered", request=request)
        return httpx.Response(
            answer.status, content=answer.body, headers={"Content-Type": answer.content_type}
        )

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


@pytest.fixture
def service(settings: Settings, db: Database) -> LogService:
    configured = f"{W1.verifier.key_string} http://w1.test\n{W2.verifier.key_string} http://w2.test/"
    s = settings.model_copy(update={"tlog_witnesses": configured, "tlog_sequencer": False})
    return LogService(s, db)


@pytest.fixture
def witnesses(tmp_path: Path, service: LogService) -> Witnesses:
    return Witnesses(tmp_path, service)


def grow(service: LogService, start: int, count: int, secret_every: int = 0) -> None:
    with service.db.write() as conn:
        for i in range(start, start + count):
            c = commitment_of(f"secret-{i}") if secret_every and i % secret_every == 0 else None
            enqueue(conn, entry(i, c), commitment=c)
    while integrate_batch(service, 1000).integrated:
        pass


def submitter(service: LogService, witnesses: Witnesses, **kw: float) -> WitnessSubmitter:
    return WitnessSubmitter(
        service,
        service.witnesses,
        timeout=5,
        max_backoff=kw.get("max_backoff", 2.0),
        transport=witnesses.transport(),
    )


def drive(sub: WitnessSubmitter, rounds: int = 20) -> None:
    """Run rounds for every witness (no threads) until each is idle or backing off."""
    with httpx.Client(transport=sub.transport) as http:
        for w in sub.witnesses:
            for _ in range(rounds):
                if not sub.submit_once(w, http).busy:
                    break


def served(service: LogService) -> str:
    return service.checkpoint().note


def test_every_checkpoint_gets_both_cosignatures_and_the_served_checkpoint_carries_them(
    service: LogService, witnesses: Witnesses
) -> None:
    sub = submitter(service, witnesses)
    for start, count in ((0, 5), (5, 300), (305, 1)):
        grow(service, start, count)
        drive(sub)
        note = parse_note(served(service))
        assert [s.name for s in note.signatures] == [service.origin, W1.name, W2.name]
        assert W1.verifier.verify(note.text, note.signatures[1]) > 0
        assert W2.verifier.verify(note.text, note.signatures[2]) > 0
        assert parse_signed_checkpoint(served(service)).checkpoint.size == start + count
    policy = parse_policy(published_policy(service.signer.verifier.key_string, service.witnesses, 0))
    assert require_quorum(policy, parse_note(served(service)), 2_000_000_000).ok
    # Growth from the witness's last size carries a consistency proof (old > 0): no 409s needed.
    assert all(status == 200 for _, status in witnesses.requests)


def test_a_witness_that_is_down_does_not_stop_the_other(service: LogService, witnesses: Witnesses) -> None:
    sub = submitter(service, witnesses)
    witnesses.down.add("w2.test")
    grow(service, 0, 10)
    drive(sub)
    note = parse_note(served(service))
    assert [s.name for s in note.signatures] == [service.origin, W1.name]
    rows = _rows(service)
    assert rows[W2.verifier.key_string].failures == 1
    assert "unreachable" in (rows[W2.verifier.key_string].last_error or "")
    # Backing off: the next round does not even try.
    before = len(witnesses.requests)
    with httpx.Client(transport=sub.transport) as http:
        outcome = sub.submit_once(service.witnesses[1], http)
    assert outcome.wait > 0
    assert len(witnesses.requests) == before
    k2 = parse_policy(published_policy(service.signer.verifier.key_string, service.witnesses, 2))
    k1 = parse_policy(published_policy(service.signer.verifier.key_string, service.witnesses, 1))
    assert require_quorum(k1, note, 2_000_000_000).ok
    with pytest.raises(VerificationError, match=r"no cosignature from watchdog\.example/w"):
        require_quorum(k2, note, 2_000_000_000)


def test_a_409_resumes_from_the_witness_size(service: LogService, witnesses: Witnesses) -> None:
    """The submitter's memory is behind the witness (a kill -9 after the witness persisted):
    the 409 names the witness's size and the next request proves consistency from there."""
    grow(service, 0, 20)
    w1 = witnesses.by_host["w1.test"]
    assert w1.add_checkpoint(build_request(0, [], served(service))).status == 200
    grow(service, 20, 7)
    sub = submitter(service, witnesses)
    drive(sub)
    statuses = [s for host, s in witnesses.requests if host == "w1.test"]
    assert statuses == [409, 200]
    assert _rows(service)[W1.verifier.key_string].size == 27


def test_a_witness_holding_another_root_raises_the_alarm(
    service: LogService, witnesses: Witnesses, caplog: pytest.LogCaptureFixture
) -> None:
    grow(service, 0, 9)
    cp = parse_signed_checkpoint(served(service)).checkpoint
    forged = sign_checkpoint(cp.__class__(cp.origin, cp.size, bytes(32)), service.signer)
    assert witnesses.by_host["w1.test"].add_checkpoint(build_request(0, [], forged)).status == 200
    sub = submitter(service, witnesses)
    with caplog.at_level(logging.ERROR, logger="wefirst.tlog.witness"):
        drive(sub)
    assert "holds a different tree" in caplog.text
    row = _rows(service)[W1.verifier.key_string]
    assert row.failures >= 1
    assert W1.name not in served(service)
    assert W2.name in served(service)


def test_an_answer_that_is_not_the_witness_cosignature_is_refused(
    service: LogService, tmp_path: Path
) -> None:
    grow(service, 0, 3)
    impostor = CosignatureSigner(W1.name, bytes(range(1, 33)))  # same name, another key

    def handle(request: httpx.Request) -> httpx.Response:
        body = parse_signed_checkpoint(request.content.split(b"\n\n", 1)[1]).note.text
        return httpx.Response(200, content=impostor.cosign(body, 1).encode())

    sub = WitnessSubmitter(
        service, service.witnesses[:1], timeout=5, max_backoff=1, transport=httpx.MockTransport(handle)
    )
    drive(sub)
    assert W1.name not in served(service)
    assert "no cosignature from this witness" in (_rows(service)[W1.verifier.key_string].last_error or "")


def test_receipts_carry_the_best_witnessed_checkpoint(service: LogService, witnesses: Witnesses) -> None:
    sub = submitter(service, witnesses)
    grow(service, 0, 40, secret_every=10)
    drive(sub)
    grow(service, 40, 15, secret_every=10)  # a new checkpoint, not cosigned yet
    old = parse_receipt(service.receipt(commitment_of("secret-10")) or {})
    assert parse_signed_checkpoint(old.checkpoint).checkpoint.size == 40
    assert [s.name for s in parse_note(old.checkpoint).signatures] == [service.origin, W1.name, W2.name]
    new = parse_receipt(service.receipt(commitment_of("secret-50")) or {})
    assert parse_signed_checkpoint(new.checkpoint).checkpoint.size == 55
    assert len(parse_note(new.checkpoint).signatures) == 1
    drive(sub)
    again = parse_receipt(service.receipt(commitment_of("secret-10")) or {})
    assert parse_signed_checkpoint(again.checkpoint).checkpoint.size == 55
    assert len(parse_note(again.checkpoint).signatures) == 3


def test_metrics_show_each_witness_lag(service: LogService, witnesses: Witnesses) -> None:
    registry = CollectorRegistry()
    registry.register(WitnessLag(service.db, service.witnesses))
    sub = submitter(service, witnesses)
    grow(service, 0, 12)
    drive(sub)
    witnesses.down.add("w1.test")
    grow(service, 12, 30)
    drive(sub)
    text = generate_latest(registry).decode()
    assert 'wefirst_witness_lag_entries{witness="charity.example/w"} 30.0' in text
    assert 'wefirst_witness_lag_entries{witness="watchdog.example/w"} 0.0' in text
    assert 'wefirst_witness_cosigned_size{witness="charity.example/w"} 12.0' in text
    assert 'wefirst_witness_failures{witness="charity.example/w"} 1.0' in text
    lag = [
        line for line in text.splitlines() if line.startswith('wefirst_witness_lag_seconds{witness="charity')
    ]
    assert float(lag[0].split()[-1]) >= 0


def test_a_directory_log_publishes_cosignatures_and_never_goes_back(
    settings: Settings, db: Database, tmp_path: Path, witnesses: Witnesses
) -> None:
    configured = f"{W1.verifier.key_string} http://w1.test"
    s = settings.model_copy(update={"tlog_witnesses": configured, "tlog_tile_dir": tmp_path / "tiles"})
    dir_service = LogService(s, db)
    witnesses.service = dir_service
    witnesses.by_host["w1.test"] = Witness(
        W1, {dir_service.origin: dir_service.signer.verifier}, WitnessState(tmp_path / "d.db")
    )
    sub = submitter(dir_service, witnesses)
    grow(dir_service, 0, 6)
    drive(sub)
    published = (tmp_path / "tiles" / "checkpoint").read_text()
    assert published == served(dir_service)
    assert W1.name in published
    grow(dir_service, 6, 3)
    newer = (tmp_path / "tiles" / "checkpoint").read_text()
    assert parse_signed_checkpoint(newer).checkpoint.size == 9
    dir_service.publish_cosigned(6)  # a late cosignature for an older size changes nothing
    dir_service.store.put_many({"checkpoint": published.encode()})
    assert (tmp_path / "tiles" / "checkpoint").read_text() == newer


def test_one_submitter_runs_at_a_time(service: LogService, witnesses: Witnesses) -> None:
    a, b = submitter(service, witnesses), submitter(service, witnesses)
    try:
        a.start()
        wait_until(lambda: a.is_leader, what="the first submitter to take the lock")
        b.start()
        grow(service, 0, 4)
        a.wake()
        wait_until(
            lambda: W2.name in served(service) and W1.name in served(service),
            what="both witnesses' cosignatures to be served",
        )
        assert not b.is_leader
    finally:
        a.stop()
        b.stop()


def _rows(service: LogService) -> dict[str, WitnessRow]:
    with service.db.read() as conn:
        return witness_rows(conn)


Step = st.one_of(
    st.tuples(st.just("grow"), st.integers(1, 300)),
    st.tuples(st.just("submit"), st.sampled_from(["w1.test", "w2.test"])),
    st.tuples(st.just("restart-witness"), st.sampled_from(["w1.test", "w2.test"])),
    st.tuples(st.just("forget"), st.sampled_from(["w1.test", "w2.test"])),  # submitter state lost → 409
    st.tuples(st.just("down"), st.sampled_from(["w1.test", "w2.test"])),
    st.tuples(st.just("up"), st.sampled_from(["w1.test", "w2.test"])),
    # the witness cosigns and stores, the answer is lost (a reset, or the server killed)
    st.tuples(st.just("lose-answer"), st.sampled_from(["w1.test", "w2.test"])),
    st.tuples(st.just("restart-submitter"), st.just("")),  # a new server process
)


@pytest.mark.slow
@hsettings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(Step, min_size=1, max_size=14))
def test_random_interleavings_converge(
    settings: Settings,
    db: Database,
    tmp_path_factory: pytest.TempPathFactory,
    steps: list[tuple[str, object]],
) -> None:
    """Growth, witness restarts, lost submitter state (409s), answers lost after the witness
    stored its cosignature, submitter restarts and outages in any order: once the witnesses are
    reachable, both end up cosigning the latest checkpoint, every stored cosignature verifies,
    and no witness ever moved backwards."""
    _empty_log_tables(db)  # hypothesis runs many examples inside one test's fixtures
    tmp = tmp_path_factory.mktemp("interleave")
    configured = f"{W1.verifier.key_string} http://w1.test;{W2.verifier.key_string} http://w2.test"
    service = LogService(settings.model_copy(update={"tlog_witnesses": configured}), db)
    ws = Witnesses(tmp, service)
    sub = submitter(service, ws, max_backoff=0.001)
    size = 0
    seen: dict[str, int] = {"w1.test": 0, "w2.test": 0}
    for step, arg in steps:
        if step == "grow":
            grow(service, size, int(str(arg)))
            size += int(str(arg))
        elif step in ("submit", "lose-answer"):
            endpoint = service.witnesses[0 if arg == "w1.test" else 1]
            _clear_backoff(service)
            if step == "lose-answer":
                ws.lose_answers.add(str(arg))
            with httpx.Client(transport=sub.transport) as http:
                for _ in range(6):
                    if not sub.submit_once(endpoint, http).busy:
                        break
            ws.lose_answers.clear()
        elif step == "restart-submitter":
            service = LogService(service.settings, db)
            sub = submitter(service, ws, max_backoff=0.001)
        elif step == "restart-witness":
            ws.restart(str(arg))
        elif step == "forget":
            _forget(service, service.witnesses[0 if arg == "w1.test" else 1])
        elif step == "down":
            ws.down.add(str(arg))
        else:
            ws.down.discard(str(arg))
        for host, w in ws.by_host.items():
            current = {s.origin: s.size for s in w.state.logs()}.get(service.origin, 0)
            assert current >= seen[host], "a witness moved backwards"
            seen[host] = current
    ws.down.clear()
    _clear_backoff(service)
    drive(sub)
    note = parse_note(served(service))
    assert [s.name for s in note.signatures] == [service.origin, W1.name, W2.name]
    for w in ws.by_host.values():
        assert {s.origin: s.size for s in w.state.logs()}[service.origin] == size
        w.state.close()


def _empty_log_tables(db: Database) -> None:
    from sqlalchemy import delete

    from wefirst.store.tables_tlog import (
        tlog_checkpoints,
        tlog_cosignatures,
        tlog_entries,
        tlog_index,
        tlog_pending,
        tlog_tiles,
        tlog_witness_state,
    )

    with db.write() as conn:
        tables = (
            tlog_cosignatures,
            tlog_witness_state,
            tlog_tiles,
            tlog_checkpoints,
            tlog_index,
            tlog_pending,
        )
        for table in (*tables, tlog_entries):
            conn.execute(delete(table))


def _clear_backoff(service: LogService) -> None:
    from sqlalchemy import update

    from wefirst.store.tables_tlog import tlog_witness_state

    with service.db.write() as conn:
        conn.execute(update(tlog_witness_state).values(next_attempt_at=None))


def _forget(service: LogService, endpoint: WitnessEndpoint) -> None:
    from sqlalchemy import update

    from wefirst.store.tables_tlog import tlog_witness_state

    with service.db.write() as conn:
        conn.execute(
            update(tlog_witness_state).where(tlog_witness_state.c.witness == endpoint.key).values(size=0)
        )
