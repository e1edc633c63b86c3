"""Brand alerts for cases through the shared webhooks, sent by the app's own worker to a real
HTTP server on loopback: case.opened, case.answered, case.overdue, each signed (Standard
Webhooks) and logged; and no request ever waits on the receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from wefirst.app import create_app
from wefirst.services import services_of
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_cases import cases
from wefirst.webhooks import signing
from wefirst.webhooks.transport import MemoryTransport, Outcome

from cases.cases_kit import open_case
from factories import auth, make_brand
from waiting import PATIENCE, wait_until


class Receiver:
    def __init__(self) -> None:
        self.got: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        self.arrived = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(outer.status)
                self.end_headers()
                with outer.arrived:
                    outer.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    outer.arrived.notify_all()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(b) for _, b in self.got]

    def wait_for(self, n: int) -> list[dict[str, Any]]:
        """The first `n` events, once the app's worker has delivered them."""
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.got) >= n, timeout=PATIENCE), self.events()
        return self.events()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    thread = threading.Thread(target=r.server.serve_forever, daemon=True)
    thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def client(settings: Settings, db: Database) -> Iterator[TestClient]:
    """The app with its webhook worker running, as in production."""
    with TestClient(create_app(settings.model_copy(update={"webhooks_worker": True}), db=db)) as c:
        yield c


def test_case_events_reach_the_brand_webhook(
    client: TestClient, db: Database, admin_key: str, receiver: Receiver
) -> None:
    brand = make_brand(client, db, admin_key)
    other = make_brand(client, db, admin_key, "Other")
    r = client.post(
        f"/v1/brands/{brand.id}/voice/alert-endpoints", json={"url": receiver.url}, headers=auth(brand.key)
    )
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]

    case = open_case(client, brand.id)
    open_case(client, other.id)  # another brand's case: not sent to this endpoint
    assert [e["type"] for e in receiver.wait_for(1)] == ["case.opened"]
    headers, body = receiver.got[0]
    signing.verify(secret, headers, body, datetime.now(UTC).timestamp())
    data = receiver.events()[0]["data"]
    assert data["case_id"] == case["id"]
    assert data["title"] == case["title"]
    assert "opener_token" not in body.decode()

    r = client.post(
        f"/v1/cases/{case['id']}/answers",
        json={"body": "We are on it and will report back.", "language": "en"},
        headers=auth(brand.key),
    )
    assert r.status_code == 201
    assert [e["type"] for e in receiver.wait_for(2)] == ["case.opened", "case.answered"]

    overdue = open_case(
        client,
        brand.id,
        title="Packaging waste on the beach",
        what_happened="Hundreds of the brand's bottles wash up on the beach at Plouha every week.",
    )
    receiver.wait_for(3)
    with db.write() as conn:
        conn.execute(
            update(cases)
            .where(cases.c.id == overdue["id"])
            .values(opened_at=datetime.now(UTC) - timedelta(days=9))
        )
    receiver.status = 500  # the receiver is down: the attempt is logged, the sweep stands
    r = client.post("/v1/cases/sweep", headers=auth(admin_key))
    assert r.json()["marked"] == [overdue["id"]]
    assert receiver.wait_for(4)[-1]["type"] == "case.overdue"  # opened (overdue one), overdue

    def types() -> list[tuple[str, bool]]:
        attempts = client.get(f"/v1/brands/{brand.id}/voice/alert-attempts", headers=auth(brand.key))
        return [(a["event_type"], a["ok"]) for a in attempts.json()["data"]]

    # the attempt is recorded just after the receiver answered
    wait_until(lambda: ("case.overdue", False) in types(), what="the failed attempt to be recorded")
    assert ("case.opened", True) in types()
    assert client.get(f"/v1/cases/{overdue['id']}").json()["unanswered"] is True


class Gated(MemoryTransport):
    """A receiver that never answers until the test says so, recording who called it."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.callers: list[str] = []

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> Outcome:
        self.callers.append(threading.current_thread().name)
        self.entered.set()
        assert self.gate.wait(PATIENCE)
        return super().post(url, body, headers, timeout)


def test_no_request_waits_on_a_silent_receiver(client: TestClient, db: Database, admin_key: str) -> None:
    """Before: POST /v1/cases (anonymous) delivered and retried every tenant's pending webhooks
    inside the request, so endpoints pointed at a silent host held case creation for everyone."""
    worker = services_of(client.app).webhook_worker
    assert worker is not None
    gated = Gated()
    worker.transport = gated
    brand = make_brand(client, db, admin_key)
    for n in range(3):
        r = client.post(
            f"/v1/brands/{brand.id}/voice/alert-endpoints",
            json={"url": f"https://silent-{n}.example/hook"},
            headers=auth(brand.key),
        )
        assert r.status_code == 201
    first = open_case(client, brand.id)  # returns although the receiver holds the worker
    assert gated.entered.wait(PATIENCE)
    second = open_case(
        client,
        brand.id,
        title="Another complaint about the refill stations",
        what_happened="The refill station in Nantes has been broken for six weeks and nobody came.",
    )
    assert first["id"] != second["id"]
    assert not gated.gate.is_set()  # both cases were created while the receiver was silent
    gated.gate.set()
    assert set(gated.callers) == {"webhook-worker"}  # never a request thread
