"""The already-seen check for a whole batch in one query (`prefetch_seen`), as the follower, a
poll, an import and the benchmark use it: the same outcomes as asking one by one, and no
per-action lookup left."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import event, select

from wefirst.domain.social import Account, SocialAction, record_ref
from wefirst.pledges.batch import Batch
from wefirst.pledges.social import apply_social_action, prefetch_seen
from wefirst.store.db import Database
from wefirst.store.tables_social import social_actions

from factories import make_beneficiary, make_brand, make_campaign

POST = "https://masto.example/@pampy/111"
AT = datetime(2026, 3, 14, 10, tzinfo=UTC)


def _like(i: int) -> SocialAction:
    born = AT - timedelta(days=300 + 30 * i)
    return SocialAction("mastodon", "like", POST, Account(f"https://masto.example/@fan{i}", born, 50), AT)


@contextmanager
def _lookups(db: Database) -> Iterator[list[str]]:
    """The one-by-one already-seen lookups run (commitment compared with `=`)."""
    seen: list[str] = []

    def count(_c: object, _cur: object, statement: str, *_: object) -> None:
        if "FROM social_actions" in statement and "social_actions.commitment =" in statement:
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_prefetched_batch_decides_as_one_by_one_without_a_lookup_per_action(
    client: TestClient, db: Database, admin_key: str
) -> None:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    rule = {"kind": "per_social_action", "action": "like", "network": "mastodon", "target": POST,
            "units_per_action": 1}  # fmt: skip
    cid = make_campaign(client, brand, ben.id, rules=[rule])
    with db.write() as conn:  # an earlier poll counted fan0 and fan1 (from a list: no record)
        for i in (0, 1):
            assert apply_social_action(conn, cid, _like(i), received_at=AT).outcome == "counted"
    # now the stream: fan0 again (with its record), fan2..fan5, fan2 twice in the same batch
    streamed = [replace(_like(0), record="at://x/like/0"), *(_like(i) for i in (2, 3, 4, 5)), _like(2)]
    with _lookups(db) as lookups, db.write() as conn:
        batch = Batch(conn)
        prefetch_seen(batch, cid, streamed)
        outcomes = [apply_social_action(conn, cid, a, received_at=AT, batch=batch).outcome for a in streamed]
        batch.flush()
    assert outcomes == ["duplicate", "counted", "counted", "counted", "counted", "duplicate"]
    assert lookups == []  # every already-seen answer came from the one prefetch
    with db.read() as conn:
        refs = conn.execute(select(social_actions.c.record_ref).where(social_actions.c.outcome == "counted"))
        assert record_ref("at://x/like/0") in {r[0] for r in refs}  # its later delete will find it
        assert len(conn.execute(select(social_actions.c.seq)).all()) == 6
    with _lookups(db) as lookups, db.write() as conn:  # without the prefetch: one lookup each
        assert apply_social_action(conn, cid, _like(9), received_at=AT).outcome == "counted"
    assert len(lookups) == 1
