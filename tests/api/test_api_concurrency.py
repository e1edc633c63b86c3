"""Caps are exact under concurrency: several real server processes on PostgreSQL, many
clients at once, and the campaign never pledges past its cap. On SQLite the same race runs
inside one process (writers are serialised by BEGIN IMMEDIATE)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from wefirst.store.db import Database

from factories import HISTORY_WINDOW_HOURS, auth, make_beneficiary, make_brand, make_campaign, purchase
from waiting import PATIENCE, wait_for_http

CAP = 40
ORDERS = 100


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _assert_exact(client: TestClient, cid: str, outcomes: list[str]) -> None:
    assert outcomes.count("pledged") == CAP
    assert outcomes.count("over_cap") == ORDERS - CAP
    bal = client.get(f"/v1/campaigns/{cid}/balance").json()
    assert bal["pledged"]["units"] == CAP


@pytest.mark.slow
def test_cap_is_exact_with_two_server_processes(
    client: TestClient, db: Database, admin_key: str, database_url: str, tmp_path: Path
) -> None:
    if db.is_sqlite:
        pytest.skip("several server processes need PostgreSQL")
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    cid = make_campaign(client, brand, ben.id, caps={"total_units": CAP})
    port = _free_port()
    env = {
        **os.environ,
        "WEFIRST_DATABASE_URL": database_url,
        "WEFIRST_LOG_JSON": "true",
        "WEFIRST_DATA_DIR": str(tmp_path),
        "WEFIRST_BASE_URL": "http://testserver",
        "WEFIRST_CLAIMS_MAX_AGE_HOURS": str(HISTORY_WINDOW_HOURS),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "wefirst.cli", "serve", "--workers", "2", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(base + "/healthz", proc=proc)

        def send(i: int) -> str:
            with httpx.Client(base_url=base, timeout=PATIENCE) as http:
                r = http.post(
                    "/v1/purchases", json=purchase(f"C-{i}", ("PAMPERS-1", 1, 100)), headers=auth(brand.key)
                )
                assert r.status_code == 200, r.text
                return str(r.json()["results"][0]["outcome"])

        with ThreadPoolExecutor(max_workers=12) as pool:
            outcomes = list(pool.map(send, range(ORDERS)))
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=PATIENCE)
    assert proc.returncode == 0, stderr.decode()[-2000:]
    _assert_exact(client, cid, outcomes)


def test_cap_is_exact_with_concurrent_threads(client: TestClient, db: Database, admin_key: str) -> None:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    cid = make_campaign(client, brand, ben.id, caps={"total_units": CAP})

    def send(i: int) -> str:
        r = client.post(
            "/v1/purchases", json=purchase(f"T-{i}", ("PAMPERS-1", 1, 100)), headers=auth(brand.key)
        )
        assert r.status_code == 200, r.text
        return str(r.json()["results"][0]["outcome"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(send, range(ORDERS)))
    _assert_exact(client, cid, outcomes)
