"""Brand alerts for cases through the voice area's signed webhooks, received by a real HTTP
server on loopback: case.opened, case.answered, case.overdue, each signed and logged."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cases_kit import open_case
from fastapi.testclient import TestClient
from sqlalchemy import update

from wefirst.store.db import Database
from wefirst.store.tables_cases import cases
from wefirst.voice.alerts import SIGNATURE_HEADER, verify_header

from factories import auth, make_brand


class Receiver:
    def __init__(self) -> None:
        self.got: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.got.append((dict(self.headers.items()), body))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(b) for _, b in self.got]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    thread = threading.Thread(target=r.server.serve_forever, daemon=True)
    thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


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
    assert [e["type"] for e in receiver.events()] == ["case.opened"]
    headers, body = receiver.got[0]
    verify_header([secret], headers[SIGNATURE_HEADER], body)
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
    assert [e["type"] for e in receiver.events()] == ["case.opened", "case.answered"]

    overdue = open_case(
        client,
        brand.id,
        title="Packaging waste on the beach",
        what_happened="Hundreds of the brand's bottles wash up on the beach at Plouha every week.",
    )
    with db.write() as conn:
        conn.execute(
            update(cases)
            .where(cases.c.id == overdue["id"])
            .values(opened_at=datetime.now(UTC) - timedelta(days=9))
        )
    receiver.status = 500  # the receiver is down: the attempt is logged, the sweep stands
    r = client.post("/v1/cases/sweep", headers=auth(admin_key))
    assert r.json()["marked"] == [overdue["id"]]
    assert receiver.events()[-1]["type"] == "case.overdue"
    attempts = client.get(f"/v1/brands/{brand.id}/voice/alert-attempts", headers=auth(brand.key)).json()[
        "data"
    ]
    types = [(a["event_type"], a["ok"]) for a in attempts]
    assert ("case.overdue", False) in types
    assert ("case.opened", True) in types
    assert client.get(f"/v1/cases/{overdue['id']}").json()["unanswered"] is True
