"""Follow mails the mail server refuses are tried again with backoff up to a bound, and the
follow mailer wakes when a case is resolved instead of waiting for its next poll (issue 15)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from wefirst.cases import follow_retries, follow_sender, followers
from wefirst.mail import MemoryMailer
from wefirst.services import services_of
from wefirst.store.db import Database
from wefirst.store.tables_cases import case_follow_retries

from waiting import wait_until
from web.test_web_case_follow import TITLE, answer, ask_to_follow, confirm, flush, mailer, open_case, sent_to
from web.web_helpers import seed_story, with_pages

__all__ = ["mailer"]  # the fixture, shared with the follow tests


class Clock:
    """The follow mailer's clock, moved by the test (the retry schedule is minutes long)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def retries(db: Database) -> list[int]:
    """Attempts made, per pending retry."""
    with db.read() as conn:
        return [int(r.attempts) for r in conn.execute(case_follow_retries.select())]


def following(
    app: FastAPI, client: TestClient, db: Database, admin_key: str, mailer: MemoryMailer
) -> tuple[str, str, str]:
    """A case Léa follows (confirmation mail sent and used): (case id, opener token, brand key)."""
    story = seed_story(client, db, admin_key)
    case_id, opener = open_case(client, story.brand.id)
    web = TestClient(with_pages(app))
    assert ask_to_follow(web, case_id, "lea@example.org").status_code == 303
    confirm(web, mailer.sent[-1])
    return case_id, opener, story.brand.key


def by_hand(app: FastAPI) -> None:
    """From now on only the test sends: the app's follow mailer thread is stopped. It shares
    the test's clock, so once the clock is moved a pass of its own (its poll, or the answer's
    wake) could claim the due retry while the test's `run_once` finds nothing to do, then record
    the attempt after the test looked (seen once on PostgreSQL under load: [1] == [2])."""
    services_of(app).follow_sender.stop()


def test_a_refused_follow_mail_is_sent_later_once(
    app: FastAPI, client: TestClient, db: Database, admin_key: str, mailer: MemoryMailer
) -> None:
    case_id, _, brand_key = following(app, client, db, admin_key, mailer)
    clock = Clock()
    services_of(app).follow_sender.clock = clock
    mailer.fail = True
    answer(client, case_id, brand_key)
    flush(app)
    wait_until(lambda: retries(db) == [1], what=lambda: f"one retry kept, got {retries(db)}")
    by_hand(app)
    assert len(sent_to(mailer, "lea@example.org")) == 1  # the confirmation only

    mailer.fail = False
    flush(app)  # not due yet: the first retry waits 10 s
    assert retries(db) == [1]
    clock.now += timedelta(seconds=11)
    flush(app)
    wait_until(lambda: len(sent_to(mailer, "lea@example.org")) == 2, what="the retried answer mail")
    assert sent_to(mailer, "lea@example.org")[-1]["Subject"] == f"Pampy answered: {TITLE}"
    assert retries(db) == []
    flush(app)
    assert len(sent_to(mailer, "lea@example.org")) == 2  # sent once


def test_retries_back_off_and_stop_at_the_bound(
    app: FastAPI, client: TestClient, db: Database, admin_key: str, mailer: MemoryMailer
) -> None:
    case_id, _, brand_key = following(app, client, db, admin_key, mailer)
    clock = Clock()
    sender = services_of(app).follow_sender
    sender.clock = clock
    mailer.fail = True
    answer(client, case_id, brand_key)
    flush(app)
    wait_until(lambda: retries(db) == [1], what="one retry kept")
    by_hand(app)
    waits = []
    for made in range(1, follow_retries.MAX_ATTEMPTS):
        with db.read() as conn:
            due = follow_retries.next_due(conn)
        assert due is not None
        waits.append(round((due.replace(tzinfo=UTC) - clock.now).total_seconds()))
        clock.now = due.replace(tzinfo=UTC)
        sender.run_once()
        assert retries(db) == ([made + 1] if made + 1 < follow_retries.MAX_ATTEMPTS else [])
    assert waits[:4] == [10, 20, 40, 80]  # the webhooks' schedule, doubling ...
    assert max(waits) == 3600  # ... up to an hour
    mailer.fail = False
    clock.now += timedelta(days=1)
    sender.run_once()
    assert len(sent_to(mailer, "lea@example.org")) == 1  # given up: the address is not kept either


def test_unsubscribing_ends_pending_retries(
    app: FastAPI, client: TestClient, db: Database, admin_key: str, mailer: MemoryMailer
) -> None:
    case_id, _, brand_key = following(app, client, db, admin_key, mailer)
    services_of(app).follow_sender.clock = clock = Clock()
    mailer.fail = True
    answer(client, case_id, brand_key)
    flush(app)
    wait_until(lambda: retries(db) == [1], what="one retry kept")
    with db.read() as conn:
        follower_id = conn.execute(case_follow_retries.select()).one().follower_id
    token = followers.unfollow_token(services_of(app).settings, follower_id)
    assert TestClient(with_pages(app)).post(f"/cases/unfollow/{token}").status_code == 200
    assert retries(db) == []
    mailer.fail = False
    clock.now += timedelta(hours=1)
    flush(app)
    assert len(sent_to(mailer, "lea@example.org")) == 1


@pytest.fixture
def slow_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    """The mailer's poll an hour long, from before the app starts: only a wake sends soon."""
    monkeypatch.setattr(follow_sender, "POLL_SECONDS", 3600.0)


def test_the_resolution_mail_goes_without_waiting_for_a_poll(
    slow_poll: None, app: FastAPI, client: TestClient, db: Database, admin_key: str, mailer: MemoryMailer
) -> None:
    case_id, opener, brand_key = following(app, client, db, admin_key, mailer)
    answer(client, case_id, brand_key)
    wait_until(lambda: len(sent_to(mailer, "lea@example.org")) == 2, what="the answer's mail, woken")
    r = client.post(f"/v1/cases/{case_id}/accept", json={"opener_token": opener, "note": ""})
    assert r.status_code == 200, r.text
    wait_until(lambda: len(sent_to(mailer, "lea@example.org")) == 3, what="the resolution mail, woken")
