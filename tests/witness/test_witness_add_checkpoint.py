"""`POST /add-checkpoint` answers exactly as C2SP tlog-witness says, against a log grown with the
real integration code, through the witness's real HTTP app and SQLite state."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from wefirst.tlog.checkpoint import parse_signed_checkpoint
from wefirst.tlog.cosignature import CosignatureSigner
from wefirst.tlog.hashing import EMPTY_HASH
from wefirst.tlog.note import Signer, b64encode, parse_note
from wefirst.tlog.witness_protocol import SIZE_CONTENT_TYPE, build_request
from wefirst.witness.add_checkpoint import Witness
from wefirst.witness.app import create_witness_app
from wefirst.witness.state import WitnessState

from growing_log import LOG_ORIGIN, LOG_SIGNER, GrowingLog, forged_checkpoint

WITNESS = CosignatureSigner("witness-test.example/w1", bytes(range(40, 72)))


class Clock:
    def __init__(self, t: float = 1_800_000_000) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "witness.db"


@pytest.fixture
def witness(state_path: Path, clock: Clock) -> Iterator[Witness]:
    w = Witness(WITNESS, {LOG_ORIGIN: LOG_SIGNER.verifier}, WitnessState(state_path), clock)
    yield w
    w.state.close()


@pytest.fixture
def http(witness: Witness) -> Iterator[TestClient]:
    with TestClient(create_witness_app(witness)) as c:
        yield c


def post(http: TestClient, body: bytes) -> tuple[int, str, str]:
    r = http.post("/add-checkpoint", content=body)
    return r.status_code, r.headers["content-type"], r.text


def stored_size(http: TestClient) -> int:
    return int(http.get("/").json()["logs"][0]["size"])


def cosignature_timestamp(checkpoint: str, answer: str) -> int:
    note = parse_note(checkpoint + answer)
    (line,) = [s for s in note.signatures if WITNESS.verifier.matches(s)]
    return WITNESS.verifier.verify(note.text, line)


def test_first_checkpoint_is_cosigned_with_a_valid_timestamped_line(http: TestClient, clock: Clock) -> None:
    log = GrowingLog()
    log.grow(5)
    status, _, body = post(http, log.request(0))
    assert status == 200, body
    assert body.startswith("— witness-test.example/w1 ")
    assert body.endswith("\n")
    assert body.count("\n") == 1
    assert cosignature_timestamp(log.checkpoint(), body) == int(clock.t)
    assert stored_size(http) == 5


def test_growth_with_a_valid_proof_is_cosigned_again(http: TestClient) -> None:
    log = GrowingLog()
    log.grow(3)
    assert post(http, log.request(0))[0] == 200
    for n in (1, 250, 7, 1000):
        old = log.size
        log.grow(n)
        status, _, body = post(http, log.request(old))
        assert status == 200, body
    assert stored_size(http) == log.size


def test_unknown_origin_is_404(http: TestClient) -> None:
    other = GrowingLog(Signer("other.example/log", bytes(range(32))))
    other.grow(2)
    assert post(http, other.request(0))[0] == 404


def test_checkpoint_not_signed_by_the_configured_key_is_403(http: TestClient) -> None:
    impostor = GrowingLog(Signer(LOG_ORIGIN, bytes(range(1, 33))))  # same origin, another key
    impostor.grow(2)
    status, _, body = post(http, impostor.request(0))
    assert status == 403, body
    log = GrowingLog()
    log.grow(2)
    cp = log.checkpoint()
    tampered = cp.replace(f"\n2\n{b64encode(log.roots[2])}", f"\n2\n{b64encode(bytes(32))}")
    assert post(http, build_request(0, [], tampered))[0] == 403
    assert stored_size(http) == 0


def test_old_size_above_the_checkpoint_size_is_400(http: TestClient) -> None:
    log = GrowingLog()
    log.grow(4)
    assert post(http, build_request(9, [bytes(32)], log.checkpoint()))[0] == 400


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"old 0\n",  # no blank line, no checkpoint
        b"old 00\n\n" + GrowingLog().checkpoint().encode(),  # leading zero
        b"old -1\n\n" + GrowingLog().checkpoint().encode(),
        b"new 0\n\n" + GrowingLog().checkpoint().encode(),
        b"old 1\nnot base64!\n\n" + GrowingLog().checkpoint().encode(),
        b"old 1\nAAAA\n\n" + GrowingLog().checkpoint().encode(),  # 3 bytes, not 32
        b"old 1\n" + b"".join(b64encode(bytes(32)).encode() + b"\n" for _ in range(64)) + b"\n",
        b"old 0\n" + b64encode(bytes(32)).encode() + b"\n\n" + GrowingLog().checkpoint().encode(),
        b"old 0\n\n\xff\xfe",
        b"old 0\n\nnot a checkpoint\n",
    ],
)
def test_malformed_requests_are_400_and_change_nothing(http: TestClient, body: bytes) -> None:
    status, _, text = post(http, body)
    assert status == 400, text
    assert stored_size(http) == 0


def test_stale_old_size_gets_409_with_the_witness_size_then_resumes(http: TestClient) -> None:
    log = GrowingLog()
    log.grow(10)
    assert post(http, log.request(0))[0] == 200
    log.grow(5)
    status, ctype, body = post(http, log.request(0))  # the submitter forgot what it sent
    assert (status, ctype, body) == (409, SIZE_CONTENT_TYPE, "10\n")
    status, _, body = post(http, log.request(int(body)))
    assert status == 200, body
    assert stored_size(http) == 15


def test_bad_consistency_proof_is_422_and_kept_as_evidence(http: TestClient) -> None:
    log = GrowingLog()
    log.grow(10)
    assert post(http, log.request(0))[0] == 200
    log.grow(7)
    proof = log.proof(10)
    proof[0] = bytes(32)
    status, _, body = post(http, build_request(10, proof, log.checkpoint()))
    assert status == 422, body
    assert stored_size(http) == 10
    (ev,) = http.get("/evidence").json()["evidence"]
    assert ev["kind"] == "inconsistent-proof"
    assert parse_signed_checkpoint(ev["cosigned_checkpoint"]).checkpoint.size == 10
    assert parse_signed_checkpoint(ev["submitted_checkpoint"]).checkpoint.size == 17


def test_a_fork_at_the_cosigned_size_is_409_and_both_checkpoints_are_published(http: TestClient) -> None:
    log = GrowingLog()
    log.grow(8)
    assert post(http, log.request(0))[0] == 200
    assert post(http, log.request(8))[0] == 200  # same size, same root: cosigned again
    fork = forged_checkpoint(8, bytes(range(32)))
    status, ctype, body = post(http, build_request(8, [], fork))
    assert (status, ctype, body) == (409, SIZE_CONTENT_TYPE, "8\n")
    # The fork is refused even when sent with a stale old size.
    assert post(http, build_request(0, [], fork))[0] == 409
    assert stored_size(http) == 8
    (ev,) = http.get("/evidence").json()["evidence"]
    assert ev["kind"] == "same-size-different-root"
    assert ev["cosigned_checkpoint"] == log.checkpoint()
    assert ev["submitted_checkpoint"] == fork


def test_growth_from_a_forked_branch_is_422(http: TestClient) -> None:
    log = GrowingLog()
    log.grow(8)
    assert post(http, log.request(0))[0] == 200
    branch = GrowingLog(prefix="other")
    branch.grow(12)
    status, _, _ = post(http, branch.request(8))
    assert status == 422
    assert stored_size(http) == 8


def test_signatures_from_unknown_keys_are_ignored(http: TestClient) -> None:
    log = GrowingLog()
    log.grow(3)
    stranger = CosignatureSigner("stranger.example/w", bytes(range(7, 39)))
    cp = log.checkpoint()
    with_extra = cp + stranger.cosign(parse_signed_checkpoint(cp).note.text, 5)
    assert post(http, build_request(0, [], with_extra))[0] == 200


def test_empty_tree_with_a_wrong_root_is_refused(http: TestClient) -> None:
    assert post(http, build_request(0, [], forged_checkpoint(0, bytes(32))))[0] == 422
    assert post(http, build_request(0, [], forged_checkpoint(0, EMPTY_HASH)))[0] == 200


def test_oversized_body_is_413(http: TestClient) -> None:
    assert post(http, b"old 0\n" + b"A" * 70_000)[0] == 413


def test_state_survives_a_restart(state_path: Path, clock: Clock) -> None:
    log = GrowingLog()
    log.grow(6)
    first = Witness(WITNESS, {LOG_ORIGIN: LOG_SIGNER.verifier}, WitnessState(state_path), clock)
    assert first.add_checkpoint(log.request(0)).status == 200
    first.state.close()
    second = Witness(WITNESS, {LOG_ORIGIN: LOG_SIGNER.verifier}, WitnessState(state_path), clock)
    answer = second.add_checkpoint(log.request(0))
    assert (answer.status, answer.body) == (409, b"6\n")
    second.state.close()


def test_timestamps_never_go_backwards_when_the_clock_does(http: TestClient, clock: Clock) -> None:
    log = GrowingLog()
    log.grow(2)
    first = post(http, log.request(0))[2]
    clock.t -= 3600
    log.grow(2)
    second = post(http, log.request(2))[2]
    assert cosignature_timestamp(log.checkpoint(4), second) >= cosignature_timestamp(log.checkpoint(2), first)


def test_concurrent_submissions_for_one_log_are_serialised(witness: Witness) -> None:
    """Twelve requests race from the same old size to different new sizes: exactly one wins,
    the others get 409 with the winner's size, and the stored size is the winner's."""
    log = GrowingLog()
    log.grow(4)
    assert witness.add_checkpoint(log.request(0)).status == 200
    for _ in range(12):
        log.grow(3)
    bodies = [log.request(4, 4 + 3 * (i + 1)) for i in range(12)]
    answers: list[tuple[int, bytes]] = []
    lock = threading.Lock()
    start = threading.Barrier(len(bodies))

    def submit(body: bytes) -> None:
        start.wait()
        a = witness.add_checkpoint(body)
        with lock:
            answers.append((a.status, a.body))

    threads = [threading.Thread(target=submit, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    winners = [a for a in answers if a[0] == 200]
    assert len(winners) == 1, answers
    (state,) = witness.state.logs()
    assert sorted({a[1] for a in answers if a[0] == 409}) == [f"{state.size}\n".encode()]
    assert state.size > 4
