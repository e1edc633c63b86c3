"""Graceful shutdown: SIGTERM while purchases stream in. Every purchase the server answered
200 to is in the database afterwards (nothing acknowledged is lost), and the server exits
cleanly after finishing what was in flight."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from wefirst.pledges.model import order_hash
from wefirst.store.db import Database
from wefirst.store.tables_core import brands, pledges

from factories import HISTORY_WINDOW_HOURS, auth, make_beneficiary, make_brand, make_campaign, purchase
from waiting import PATIENCE, wait_for_http, wait_until


@pytest.mark.slow
def test_sigterm_finishes_in_flight_writes(
    client: TestClient, db: Database, admin_key: str, database_url: str, tmp_path: Path
) -> None:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    make_campaign(client, brand, ben.id)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = {
        **os.environ,
        "WEFIRST_DATABASE_URL": database_url,
        "WEFIRST_DATA_DIR": str(tmp_path),
        "WEFIRST_BASE_URL": "http://testserver",
        "WEFIRST_CLAIMS_MAX_AGE_HOURS": str(HISTORY_WINDOW_HOURS),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "wefirst.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    wait_for_http(base + "/healthz", proc=proc)

    acknowledged: list[str] = []
    lock = threading.Lock()

    def sender(worker: int) -> None:
        with httpx.Client(base_url=base, timeout=PATIENCE) as http:
            for i in range(200):
                order = f"S-{worker}-{i}"
                try:
                    r = http.post(
                        "/v1/purchases", json=purchase(order, ("PAMPERS-1", 1, 100)), headers=auth(brand.key)
                    )
                except httpx.HTTPError:
                    return  # the server is going away: later requests are refused, fine
                if r.status_code == 200 and r.json()["results"][0]["outcome"] == "pledged":
                    with lock:
                        acknowledged.append(order)

    threads = [threading.Thread(target=sender, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()

    def streaming() -> bool:
        assert any(t.is_alive() for t in threads), "every sender stopped before 20 pledges"
        return len(acknowledged) >= 20

    wait_until(streaming, what="20 acknowledged pledges")
    proc.send_signal(signal.SIGTERM)
    for t in threads:
        t.join(PATIENCE)
    _, stderr = proc.communicate(timeout=PATIENCE)
    log = stderr.decode()
    # uvicorn finishes in-flight requests, runs the app's shutdown, then re-raises the signal
    assert proc.returncode in (0, -signal.SIGTERM), log[-2000:]
    assert "Application shutdown complete." in log
    with db.read() as conn:
        stored: set[str] = set(conn.execute(select(pledges.c.line_key)).scalars())
        salt: bytes = conn.execute(select(brands.c.order_salt).where(brands.c.id == brand.id)).scalar_one()
    assert len(acknowledged) >= 20
    missing = [o for o in acknowledged if f"{order_hash(salt, o)}:1" not in stored]
    assert missing == []
