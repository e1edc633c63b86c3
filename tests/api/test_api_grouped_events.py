"""API purchases, refunds and clicks go through the process's group-commit writer (issue 18):
events that arrive together commit in one transaction with a few statements each, the same
key twice in a group replays the first answer, and a refused event fails alone. (Server
clicks take the same path: tests/api/test_api_clicks_server.py.)"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import httpx
from fastapi.testclient import TestClient

from wefirst.api.grouped import event_writer
from wefirst.ingest.idempotency import NOT_REPLAYED
from wefirst.services import services_of
from wefirst.store.db import Database
from wefirst.store.groupcommit import GroupCommit, Tx

from factories import Tenant, auth, make_beneficiary, make_brand, make_campaign, purchase
from waiting import PATIENCE, wait_until
from writer_statements import writer_statements

N = 8


def _writer(client: TestClient) -> GroupCommit:
    return event_writer(services_of(client.app))


def _in_one_group(writer: GroupCommit, send: Callable[[int], httpx.Response], n: int) -> list[httpx.Response]:
    """Hold the writer with a first item until `n` requests are queued behind it, so that they
    are applied as one group (the writer takes everything waiting when it starts a group)."""
    entered, release = threading.Event(), threading.Event()

    def gate(tx: Tx) -> None:
        entered.set()
        release.wait(PATIENCE)

    held = writer.enqueue(gate)
    assert entered.wait(PATIENCE)
    with ThreadPoolExecutor(max_workers=n) as pool:
        futures: list[Future[httpx.Response]] = [pool.submit(send, i) for i in range(n)]
        wait_until(lambda: writer._queue.qsize() >= n or None, what=f"{n} requests queued")
        groups = writer.groups
        release.set()
        held.result(PATIENCE)
        answers = [f.result(PATIENCE) for f in futures]
    assert writer.groups - groups <= 2  # the gate's group, then all of them together
    return answers


def _post(client: TestClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
    answer: httpx.Response = client.post(path, json=body, headers=headers)
    return answer


def _shop(client: TestClient, db: Database, admin_key: str, **campaign: object) -> tuple[Tenant, str]:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    return brand, make_campaign(client, brand, ben.id, **campaign)


def test_purchases_arriving_together_commit_as_one_group_with_few_statements_each(
    client: TestClient, db: Database, admin_key: str
) -> None:
    brand, cid = _shop(client, db, admin_key, caps={"total_units": 5, "units_per_day": 50})
    writer = _writer(client)

    def send(i: int) -> httpx.Response:
        body = purchase(f"G-{i}", ("PAMPERS-1", 1, 100))
        return _post(client, "/v1/purchases", body, {**auth(brand.key), "Idempotency-Key": f"g-{i}"})

    with writer_statements(db, writer) as seen:
        answers = _in_one_group(writer, send, N)
    assert [a.status_code for a in answers] == [200] * N, [a.text for a in answers]
    outcomes = sorted(a.json()["results"][0]["outcome"] for a in answers)
    assert outcomes == ["over_cap"] * (N - 5) + ["pledged"] * 5  # the cap holds inside the group
    assert len(seen) / N <= 4, seen  # was 15 per purchase, one transaction each
    assert client.get(f"/v1/campaigns/{cid}/balance").json()["pledged"]["units"] == 5
    replay = send(0)
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.json()["results"][0]["pledge_id"] == answers[0].json()["results"][0]["pledge_id"]


def test_the_same_key_twice_in_one_group_pledges_once_and_replays(
    client: TestClient, db: Database, admin_key: str
) -> None:
    brand, cid = _shop(client, db, admin_key)

    def send(_i: int) -> httpx.Response:
        body = purchase("SAME", ("PAMPERS-1", 2, 100))
        return _post(client, "/v1/purchases", body, {**auth(brand.key), "Idempotency-Key": "same"})

    answers = _in_one_group(_writer(client), send, 2)
    assert [a.status_code for a in answers] == [200, 200]
    assert sorted(a.headers.get("Idempotent-Replayed", "false") for a in answers) == ["false", "true"]
    first, replayed = sorted(answers, key=lambda a: a.headers.get("Idempotent-Replayed", ""))
    a, b = first.json()["results"][0], replayed.json()["results"][0]
    assert (a["outcome"], a["pledge_id"], a["receipt"]["commitment"]) == (
        b["outcome"],
        b["pledge_id"],
        b["receipt"]["commitment"],
    )
    assert b["receipt"]["secret"] == NOT_REPLAYED  # shown once, as in separate transactions
    assert client.get(f"/v1/campaigns/{cid}/balance").json()["pledged"]["units"] == 2


def test_a_refused_event_fails_alone_and_changes_nothing(
    client: TestClient, db: Database, admin_key: str
) -> None:
    brand, cid = _shop(client, db, admin_key)

    def send(i: int) -> httpx.Response:
        when = "2001-01-01T00:00:00Z" if i == 1 else "2026-03-14T10:00:00Z"  # outside the claim window
        body = purchase(f"R-{i}", ("PAMPERS-1", 1, 100), when=when)
        return _post(client, "/v1/purchases", body, {**auth(brand.key), "Idempotency-Key": f"r-{i}"})

    answers = _in_one_group(_writer(client), send, 3)
    assert [a.status_code for a in answers] == [200, 422, 200]
    assert answers[1].json()["errors"][0]["field"] == "occurred_at"
    assert client.get(f"/v1/campaigns/{cid}/balance").json()["pledged"]["units"] == 2
    again = send(1)  # a refusal stored nothing: the key is free, and refused again
    assert again.status_code == 422
    assert again.headers.get("Idempotent-Replayed") is None


def test_a_refund_shares_the_group_with_purchases(client: TestClient, db: Database, admin_key: str) -> None:
    brand, cid = _shop(client, db, admin_key)
    first = client.post("/v1/purchases", json=purchase("F-1", ("PAMPERS-1", 3, 100)), headers=auth(brand.key))
    assert first.json()["results"][0]["outcome"] == "pledged"

    def send(i: int) -> httpx.Response:
        if i == 0:
            body = {"order_id": "F-1", "lines": [{"line_id": "1", "quantity": 1}]}
            return _post(client, "/v1/refunds", body, auth(brand.key))
        return _post(client, "/v1/purchases", purchase(f"F-{i + 1}", ("PAMPERS-1", 1, 100)), auth(brand.key))

    answers = _in_one_group(_writer(client), send, 3)
    assert [a.status_code for a in answers] == [200, 200, 200], [a.text for a in answers]
    assert answers[0].json()["results"][0]["outcome"] == "reversed"
    assert client.get(f"/v1/campaigns/{cid}/balance").json()["pledged"]["units"] == 3 - 1 + 2


def test_a_group_looks_its_keys_up_together_and_writes_in_one_statement_on_postgresql(
    client: TestClient, db: Database, admin_key: str
) -> None:
    """A group of purchases reads its idempotency keys and its order lines with one query each
    (`Tx.hints`), and on PostgreSQL sends every row and the counter's compare-and-set as one
    statement; keys and orders already stored are still found among those of the group."""
    brand, cid = _shop(client, db, admin_key, caps={"total_units": 100, "units_per_day": 100})
    headers = auth(brand.key)
    earlier = _post(
        client, "/v1/purchases", purchase("H-0", ("PAMPERS-1", 1, 100)), {**headers, "Idempotency-Key": "h-0"}
    )
    assert earlier.json()["results"][0]["outcome"] == "pledged"
    writer = _writer(client)

    def send(i: int) -> httpx.Response:
        # 0: the stored key again (a replay); 1: the stored order under a new key (a duplicate line)
        order = "H-0" if i in (0, 1) else f"H-{i}"
        key = "h-0" if i == 0 else f"h-new-{i}"
        return _post(
            client,
            "/v1/purchases",
            purchase(order, ("PAMPERS-1", 1, 100)),
            {**headers, "Idempotency-Key": key},
        )

    with writer_statements(db, writer) as seen:
        answers = _in_one_group(writer, send, N)
    assert [a.status_code for a in answers] == [200] * N, [a.text for a in answers]
    assert answers[0].headers.get("Idempotent-Replayed") == "true"
    assert answers[0].json()["results"][0]["pledge_id"] == earlier.json()["results"][0]["pledge_id"]
    outcomes = [a.json()["results"][0]["outcome"] for a in answers]
    assert outcomes == ["pledged", "duplicate"] + ["pledged"] * (N - 2)
    assert client.get(f"/v1/campaigns/{cid}/balance").json()["pledged"]["units"] == 1 + N - 2
    lookups = [s for s in seen if "FROM idempotency_records" in s or "FROM pledges" in s]
    # one for the keys, one for the lines (not one per request), and the stored answer replayed
    assert len(lookups) == 3, "\n\n".join(" ".join(x.split()) for x in lookups)
    if not db.is_sqlite:
        writes = [s for s in seen if s.lstrip().startswith(("INSERT", "UPDATE", "WITH"))]
        assert len(writes) == 1, writes
        assert len(seen) / N <= 1, seen


def test_a_lone_purchase_reads_its_campaigns_counters_and_keys_in_one_statement(
    client: TestClient, db: Database, admin_key: str
) -> None:
    """A purchase alone in its group: its idempotency key, then one read of the brand's
    campaigns with their counters, recent days and the held line keys (were two statements: the
    campaigns, then the counters with the line key; three in a group), then the writes —
    PostgreSQL one statement, SQLite one per table: 3 and 10 statements, were 4 and 11."""
    brand, cid = _shop(client, db, admin_key, caps={"total_units": 100, "units_per_day": 100})
    headers = auth(brand.key)
    writer = _writer(client)
    warm = purchase("L-0", ("PAMPERS-1", 1, 100))  # the definitions, read once per process
    assert _post(client, "/v1/purchases", warm, {**headers, "Idempotency-Key": "l-0"}).status_code == 200
    with writer_statements(db, writer) as seen:
        first = _post(
            client,
            "/v1/purchases",
            purchase("L-1", ("PAMPERS-1", 1, 100)),
            {**headers, "Idempotency-Key": "l-1"},
        )
    assert first.json()["results"][0]["outcome"] == "pledged"
    reads = [s for s in seen if s.lstrip().startswith("SELECT")]
    assert len(reads) == 2, reads  # the key, then campaigns + counters + days + line keys
    assert len(seen) <= (10 if db.is_sqlite else 3), seen
    again = _post(
        client, "/v1/purchases", purchase("L-1", ("PAMPERS-1", 1, 100)), {**headers, "Idempotency-Key": "l-2"}
    )
    assert again.json()["results"][0]["outcome"] == "duplicate"  # the held key was read with them
    assert client.get(f"/v1/campaigns/{cid}/balance").json()["pledged"]["units"] == 2
