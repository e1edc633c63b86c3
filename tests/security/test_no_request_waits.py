"""Issue 13, finding 4: `POST /v1/cases` (anonymous) delivered and retried every tenant's
pending webhooks inside the request; endpoints pointed at a silent host made case creation
take 30 s for every brand. Delivery belongs to the durable background worker: the request
queues and answers, and makes no outgoing connection at all."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from wefirst.store.db import Database
from wefirst.store.tables_webhooks import webhook_deliveries

from cases.cases_kit import open_case
from factories import auth, make_brand


@pytest.fixture
def silent_host() -> Iterator[socket.socket]:
    """Accepts connections (the kernel's backlog) and never answers."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    s.setblocking(False)
    yield s
    s.close()


def _connections(s: socket.socket) -> int:
    n = 0
    while True:
        try:
            conn, _ = s.accept()
        except BlockingIOError:
            return n
        conn.close()
        n += 1


def test_opening_a_case_never_contacts_a_webhook_receiver(
    client: TestClient, db: Database, admin_key: str, silent_host: socket.socket
) -> None:
    port = silent_host.getsockname()[1]
    brands = [make_brand(client, db, admin_key, f"Brand {n}") for n in range(3)]
    for b in brands:
        r = client.post(
            f"/v1/brands/{b.id}/voice/alert-endpoints",
            json={"url": f"http://127.0.0.1:{port}/hook"},
            headers=auth(b.key),
        )
        assert r.status_code == 201, r.text
    for b in brands:
        started = time.monotonic()
        open_case(client, b.id)
        assert time.monotonic() - started < 10  # the old inline delivery waited 10 s per endpoint
    assert _connections(silent_host) == 0  # nothing left the process during the requests
    with db.read() as conn:
        queued = conn.execute(select(func.count()).select_from(webhook_deliveries)).scalar_one()
    assert queued == 3  # one case.opened per brand, waiting for the worker
