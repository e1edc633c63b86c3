"""The outgoing-webhook package: deliveries queued with the change they report, sent only by
the worker, every attempt recorded with a category, exponential backoff to a bound, replay that
re-queues, removed endpoints that stop, leases so two workers never send one delivery twice,
and the real HTTP transport against loopback receivers."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from wefirst.secretbox import SecretBox
from wefirst.store.db import Database
from wefirst.store.tables_webhooks import webhook_attempts, webhook_deliveries
from wefirst.webhooks import endpoints, outbox, signing
from wefirst.webhooks.transport import Category, HttpTransport, MemoryTransport, Outcome
from wefirst.webhooks.worker import WebhookWorker

from factories import loopback_policy, make_brand

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


BOX = SecretBox(b"webhook-tests-key-32-bytes-long!")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def brand_id(client: TestClient, db: Database, admin_key: str) -> str:
    brand: str = make_brand(client, db, admin_key).id
    return brand


def add_endpoint(db: Database, brand_id: str, url: str = "https://hooks.example/a") -> dict[str, str]:
    with db.write() as conn:
        return endpoints.create(conn, BOX, brand_id, url, T0)


def queue(db: Database, brand_id: str, kind: str = "case.opened", at: datetime = T0) -> list[str]:
    with db.write() as conn:
        return outbox.enqueue(conn, brand_id, kind, {"case_id": "cas_1"}, at)


def attempts_of(db: Database, delivery_id: str) -> list[tuple[int, int | None, str, bool]]:
    a = webhook_attempts.c
    with db.read() as conn:
        rows = conn.execute(
            select(a.attempt, a.status, a.category, a.ok)
            .where(a.delivery_id == delivery_id)
            .order_by(a.attempt)
        ).all()
    return [(r.attempt, r.status, r.category, r.ok) for r in rows]


def delivery(db: Database, delivery_id: str) -> Any:
    with db.read() as conn:
        return conn.execute(select(webhook_deliveries).where(webhook_deliveries.c.id == delivery_id)).one()


def test_queued_with_the_change_and_sent_only_by_the_worker(db: Database, brand_id: str) -> None:
    first, second = (
        add_endpoint(db, brand_id, "https://a.example/h"),
        add_endpoint(db, brand_id, "https://b.example/h"),
    )
    assert queue(db, "brd_nobody_listens") == []  # no endpoint: nothing queued

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), db.write() as conn:  # noqa: PT012 (the change fails after queueing)
        outbox.enqueue(conn, brand_id, "case.opened", {}, T0)
        raise Rollback
    ids = queue(db, brand_id)
    assert len(ids) == 2  # one per endpoint; the rolled-back event left nothing
    transport = MemoryTransport()
    assert transport.sent == []  # queueing sends nothing
    worker = WebhookWorker(db, transport, BOX, clock=Clock())
    assert worker.run_until_idle() == 2
    assert sorted(url for url, _, _ in transport.sent) == ["https://a.example/h", "https://b.example/h"]
    url, body, headers = transport.sent[0]
    secret = first["secret"] if url == "https://a.example/h" else second["secret"]
    event = json.loads(body)
    assert event["type"] == "case.opened"
    assert event["timestamp"] == "2026-03-01T12:00:00Z"
    assert signing.verify(secret, headers, body, T0.timestamp()) == event["id"]
    assert {delivery(db, i).state for i in ids} == {"delivered"}
    assert worker.run_until_idle() == 0  # delivered once


def test_retries_back_off_exponentially_to_a_bound_and_record_categories(db: Database, brand_id: str) -> None:
    add_endpoint(db, brand_id)
    [dly] = queue(db, brand_id)
    clock = Clock()
    transport = MemoryTransport(statuses=[500, 0, 503, 500])
    worker = WebhookWorker(db, transport, BOX, clock=clock, max_attempts=4)
    waits = []
    for _ in range(4):
        assert worker.run_once() == 1
        row = delivery(db, dly)
        if row.next_at is not None:
            wait = row.next_at.replace(tzinfo=UTC) - clock.now
            waits.append(wait)
            assert worker.run_once() == 0  # not due yet
            clock.now += wait
    assert waits == [timedelta(seconds=10), timedelta(seconds=20), timedelta(seconds=40)]
    assert attempts_of(db, dly) == [
        (1, 500, "http_status", False),
        (2, None, "timeout", False),
        (3, 503, "http_status", False),
        (4, 500, "http_status", False),
    ]
    assert delivery(db, dly).state == "failed"
    clock.now += timedelta(days=2)
    assert worker.run_once() == 0  # the bound holds
    assert outbox.backoff(30) == timedelta(hours=1)


def test_the_same_event_id_on_every_attempt_fresh_timestamps(db: Database, brand_id: str) -> None:
    add_endpoint(db, brand_id)
    queue(db, brand_id)
    clock = Clock()
    transport = MemoryTransport(statuses=[500, 200])
    worker = WebhookWorker(db, transport, BOX, clock=clock)
    worker.run_once()
    clock.now += timedelta(seconds=10)
    worker.run_once()
    (_, b1, h1), (_, b2, h2) = transport.sent
    assert b1 == b2
    assert h1["webhook-id"] == h2["webhook-id"]
    assert int(h2["webhook-timestamp"]) - int(h1["webhook-timestamp"]) == 10


def test_replay_requeues_and_does_not_send(db: Database, brand_id: str) -> None:
    add_endpoint(db, brand_id)
    [dly] = queue(db, brand_id)
    transport = MemoryTransport(statuses=[410])
    worker = WebhookWorker(db, transport, BOX, clock=Clock(), max_attempts=1)
    worker.run_until_idle()
    assert delivery(db, dly).state == "failed"
    with db.write() as conn:
        again = outbox.replay(conn, brand_id, dly, T0)
    assert len(transport.sent) == 1  # queued, not sent
    assert again["replay_of"] == dly
    worker.run_until_idle()
    assert len(transport.sent) == 2
    assert transport.sent[0][1] == transport.sent[1][1]
    assert delivery(db, again["delivery_id"]).state == "delivered"
    with db.write() as conn, pytest.raises(Exception, match="does not exist"):
        outbox.replay(conn, "brd_other", dly, T0)  # another brand's delivery is not found


def test_a_removed_endpoint_stops_its_deliveries(db: Database, brand_id: str) -> None:
    hook = add_endpoint(db, brand_id)
    [dly] = queue(db, brand_id)
    with db.write() as conn:
        endpoints.deactivate(conn, brand_id, hook["id"])
    transport = MemoryTransport()
    WebhookWorker(db, transport, BOX, clock=Clock()).run_until_idle()
    assert transport.sent == []
    assert delivery(db, dly).state == "failed"
    assert attempts_of(db, dly) == []


def test_rotation_signs_with_both_secrets_for_a_day(db: Database, brand_id: str) -> None:
    hook = add_endpoint(db, brand_id)
    with db.write() as conn:
        rotated = endpoints.rotate(conn, BOX, brand_id, hook["id"], T0)
    clock = Clock()
    transport = MemoryTransport()
    worker = WebhookWorker(db, transport, BOX, clock=clock)
    queue(db, brand_id)
    worker.run_until_idle()
    _, body, headers = transport.sent[-1]
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (hook["secret"], rotated["secret"]):
        signing.verify(secret, headers, body, clock.now.timestamp())
    clock.now += timedelta(hours=25)
    queue(db, brand_id, at=clock.now)
    worker.run_until_idle()
    _, body, headers = transport.sent[-1]
    signing.verify(rotated["secret"], headers, body, clock.now.timestamp())
    with pytest.raises(signing.SignatureError):
        signing.verify(hook["secret"], headers, body, clock.now.timestamp())


def test_two_workers_never_send_one_delivery_twice(db: Database, brand_id: str) -> None:
    """Two workers (as on two hosts) drain 40 deliveries at once: each is sent exactly once."""
    add_endpoint(db, brand_id)
    for _ in range(40):
        queue(db, brand_id)
    transports = [MemoryTransport(), MemoryTransport()]
    workers = [WebhookWorker(db, t, BOX, clock=Clock(), batch=3) for t in transports]
    start = threading.Barrier(2)

    def drain(w: WebhookWorker) -> None:
        start.wait()
        w.run_until_idle(rounds=1000)

    threads = [threading.Thread(target=drain, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sent = [h["webhook-id"] for t in transports for _, _, h in t.sent]
    assert len(sent) == 40
    assert len(set(sent)) == 40


def test_a_dead_workers_lease_runs_out_and_another_resumes(db: Database, brand_id: str) -> None:
    add_endpoint(db, brand_id)
    [dly] = queue(db, brand_id)
    clock = Clock()
    with db.write() as conn:  # a worker claims, then dies before sending
        outbox.claim(conn, "dead-worker", clock.now, timedelta(minutes=2), 10)
    transport = MemoryTransport()
    other = WebhookWorker(db, transport, BOX, clock=clock)
    assert other.run_once() == 0  # leased
    clock.now += timedelta(minutes=3)
    assert other.run_once() == 1
    assert delivery(db, dly).state == "delivered"


def test_the_worker_thread_wakes_on_demand(db: Database, brand_id: str) -> None:
    add_endpoint(db, brand_id)
    transport = MemoryTransport()
    worker = WebhookWorker(db, transport, BOX, idle_seconds=60)
    worker.start()
    try:
        sent = threading.Event()
        original = transport.post

        def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Outcome:
            out = original(url, body, headers, timeout)
            sent.set()
            return out

        transport.post = post  # type: ignore[method-assign]
        queue(db, brand_id, at=datetime.now(UTC))
        worker.wake()
        assert sent.wait(30), "the worker did not send after wake()"
    finally:
        worker.stop()


# -- the real transport, against receivers on loopback --------------------------------------------


class _Server(ThreadingHTTPServer):
    got: list[tuple[dict[str, str], bytes]]


class _Receiver(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers["content-length"])
        body = self.rfile.read(length)
        self.server.got.append((dict(self.headers.items()), body))
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("location", "http://127.0.0.1:1/elsewhere")
            self.end_headers()
        elif self.path == "/large":
            self.send_response(200)
            self.send_header("content-length", str(200_000))
            self.end_headers()
            self.wfile.write(b"x" * 200_000)
        else:
            self.send_response(204)
            self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def receiver() -> Iterator[_Server]:
    server = _Server(("127.0.0.1", 0), _Receiver)
    server.got = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_http_transport_outcomes(receiver: _Server) -> None:
    base = f"http://127.0.0.1:{receiver.server_address[1]}"
    secret = signing.new_secret()
    body = b'{"type":"case.opened"}'
    headers = signing.headers("evt_1", int(datetime.now(UTC).timestamp()), body, [secret])
    transport = HttpTransport(loopback_policy())
    try:
        ok = transport.post(f"{base}/hook", body, headers, timeout=5)
        assert (ok.category, ok.status) == (Category.OK, 204)
        got_headers, got_body = receiver.got[0]
        received = {k.lower(): v for k, v in got_headers.items()}
        assert signing.verify(secret, received, got_body, datetime.now(UTC).timestamp()) == "evt_1"
        assert received["user-agent"] == "wefirst-webhooks/1"
        moved = transport.post(f"{base}/redirect", body, headers, timeout=5)
        assert (moved.category, moved.status) == (Category.HTTP_STATUS, 302)  # not followed
        assert len(receiver.got) == 2
        large = transport.post(f"{base}/large", body, headers, timeout=5)
        assert large.category is Category.TOO_LARGE
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
        refused = transport.post(f"http://127.0.0.1:{port}/", body, headers, timeout=5)
        assert (refused.category, refused.status) == (Category.CONNECT, None)
        with socket.socket() as silent:  # accepts, never answers
            silent.bind(("127.0.0.1", 0))
            silent.listen(1)
            slow = transport.post(f"http://127.0.0.1:{silent.getsockname()[1]}/", body, headers, timeout=0.5)
        assert (slow.category, slow.status) == (Category.TIMEOUT, None)
    finally:
        transport.close()
