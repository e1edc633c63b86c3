"""Clicks decided in one group of the event writer (issue 18): the limits count the group's own
decisions exactly as if each had been stored at once, and a click costs few statements — its
decision row goes in with the group's rows, and whether a pledge holds its line key comes with
its snapshot."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any

import pytest
from sqlalchemy import func, select

from wefirst.settings import Settings
from wefirst.store.groupcommit import GroupCommit, Tx
from wefirst.store.tables_widget import widget_decisions

from waiting import PATIENCE, wait_until
from widget.widget_helpers import BLOG, CHROME_UA, World, visitor_of
from writer_statements import writer_statements

NETWORK_DAILY = 5  # counted clicks a network may make on one campaign per day (here)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"widget_network_counted_per_day": NETWORK_DAILY})


def _token(world: World, visitor: str) -> str:
    r = world.state(visitor)
    assert r.status_code == 200, r.text
    return str(r.json()["challenge"]["token"])


def _queued(writer: GroupCommit, n: int) -> bool:
    return writer._queue.qsize() >= n


def _clicks_in_one_group(world: World, clicks: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Hold the writer until every click is queued behind the gate, so that they are decided in
    one group, in the order they were queued."""
    writer = world.service.writer
    entered, release = threading.Event(), threading.Event()

    def gate(tx: Tx) -> None:
        entered.set()
        release.wait(PATIENCE)

    def send(visitor: str, token: str) -> dict[str, Any]:
        body = {"campaign": world.campaign_id, "publisher": world.publisher_id, "visitor": visitor}
        headers = {"Origin": BLOG, "User-Agent": CHROME_UA}
        r = world.client.post("/v1/widget/clicks", json={**body, "challenge": token}, headers=headers)
        assert r.status_code in (200, 201, 403, 429), r.text
        answer: dict[str, Any] = r.json()
        return answer

    held = writer.enqueue(gate)
    assert entered.wait(PATIENCE)
    groups = writer.groups
    with ThreadPoolExecutor(max_workers=len(clicks)) as pool:
        futures: list[Future[dict[str, Any]]] = []
        for n, (visitor, token) in enumerate(clicks, 1):
            futures.append(pool.submit(send, visitor, token))
            wait_until(partial(_queued, writer, n), what=f"{n} clicks queued")
        release.set()
        held.result(PATIENCE)
        answers = [f.result(PATIENCE) for f in futures]
    assert writer.groups - groups == 2  # the gate's group, then all the clicks together
    return answers


def test_limits_count_the_groups_own_decisions_and_a_click_costs_few_statements(world: World) -> None:
    """12 readers once each and one reader 8 times (6 attempts a minute allowed: the widget
    fixture's), all from one network, in one group. Stored one by one, the decisions would be:
    the network's first NETWORK_DAILY clicks on the campaign counted (the repeated reader's
    first among them) and its later ones refused, the repeated reader's 7th and 8th attempts
    refused as too many and its others as already counted today. The group decides the same,
    although none of its rows is stored before the group's end (they were: each decision row
    was a statement of its own, and the next click's snapshot counted it)."""
    readers = [visitor_of(f"reader-{i}") for i in range(12)]
    repeated = visitor_of("repeated")
    clicks = [(v, _token(world, v)) for v in readers[:3]]
    clicks += [(repeated, _token(world, repeated)) for _ in range(8)]
    clicks += [(v, _token(world, v)) for v in readers[3:]]
    world.clock.advance(1_000)
    with writer_statements(world.db, world.service.writer) as seen:
        answers = _clicks_in_one_group(world, clicks)
    reasons = [(a["decision"], a["detail"]) for a in answers]
    assert reasons[:3] == [("counted", "ok")] * 3
    # the repeated reader: its first attempt counts (the network's 4th), the next five are
    # already counted today, the 7th and 8th are one attempt too many in a minute
    assert reasons[3] == ("counted", "ok")
    assert Counter(reasons[4:9]) == {("duplicate", "already_counted_today"): 5}
    assert reasons[9:11] == [("rate_limited", "visitor")] * 2
    assert reasons[11] == ("counted", "ok")  # the network's 5th counted click
    assert reasons[12:] == [("rate_limited", "network_daily")] * 8
    with world.db.read() as conn:
        stored = conn.execute(
            select(widget_decisions.c.reason, func.count()).group_by(widget_decisions.c.reason)
        ).all()
    assert dict(stored) == {"counted": 5, "duplicate": 5, "rate_limited": 10}
    balance = world.client.get(f"/v1/campaigns/{world.campaign_id}/balance", headers=_brand(world))
    assert balance.json()["pledged"]["units"] == NETWORK_DAILY
    # PostgreSQL, per click: its snapshot and its challenge's nonce, and a counted click its
    # slot (insert-or-fail: another process may decide a click with the same nonce or slot at
    # once); per group one writing statement with the compare-and-set. SQLite, per click: its
    # snapshot only (the writer holds the database: the snapshot and the group's own rows say
    # whether the nonce was used and which slot is free); per group one INSERT per table (nonces,
    # slots, decisions, ledger transactions, postings, pledges, log entries), the counters'
    # UPDATE and the day's upsert. Neither sends a line-key lookup, a decision row or a counter
    # read per click (each was a statement per click or group: 4.05 and 3.70 per click before).
    assert not [
        s for s in seen if s.startswith(("SELECT pledges.id FROM pledges", "SELECT campaign_counters"))
    ]
    per_table = 1 if world.db.is_sqlite else 0
    assert len([s for s in seen if s.startswith("INSERT INTO widget_decisions")]) == per_table
    nonces = [s for s in seen if s.startswith("INSERT INTO widget_nonces")]
    assert len(nonces) == (1 if world.db.is_sqlite else len(clicks))
    once = 1 + 2  # the nonces' sweep (once a minute); the definition, first read by this engine
    if world.db.is_sqlite:  # (BEGIN IMMEDIATE for the gate's group and this one)
        assert len(seen) <= len(clicks) + once + 2 + 9, seen
    else:
        assert len(seen) <= 2 * len(clicks) + NETWORK_DAILY + once + 1, seen
    assert len(seen) / len(clicks) <= 3


def _brand(world: World) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.brand.key}"}


def test_a_token_sent_twice_in_one_group_counts_once(world: World) -> None:
    """The second use of a challenge in the same group is a replay, although the first use's
    nonce is not stored before the group's end (on SQLite the group keeps it), and a token used
    in an earlier group is a replay too."""
    reader, other = visitor_of("twice"), visitor_of("other")
    token = _token(world, reader)
    world.clock.advance(1_000)
    answers = _clicks_in_one_group(world, [(reader, token), (reader, token), (other, _token(world, other))])
    assert [(a["decision"], a["detail"]) for a in answers[:2]] == [
        ("counted", "ok"),
        ("bad_challenge", "replayed"),
    ]
    world.clock.advance(1_000)
    later = _clicks_in_one_group(world, [(reader, token)])
    assert (later[0]["decision"], later[0]["detail"]) == ("bad_challenge", "replayed")
    with world.db.read() as conn:
        stored = conn.execute(select(func.count()).select_from(widget_decisions)).scalar_one()
    assert stored == 4
