"""A rule's cap holds inside one engine batch (a poll, a follower round), where the rule's
units so far are read once and then kept by the batch itself; a reversal in the same batch
gives its room back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from wefirst.domain.social import Account, SocialAction, action_commitment
from wefirst.pledges.batch import Batch
from wefirst.pledges.social import apply_social_action, retract_social_action
from wefirst.store.db import Database

from factories import make_beneficiary, make_brand, make_campaign

POST = "https://masto.example/@pampy/111"
AT = datetime(2026, 3, 14, 10, tzinfo=UTC)


def _like(i: int) -> SocialAction:
    born = AT - timedelta(days=300 + 30 * i)
    return SocialAction("mastodon", "like", POST, Account(f"https://masto.example/@fan{i}", born, 50), AT)


def test_a_rules_cap_holds_within_one_batch_and_a_reversal_gives_room_back(
    client: TestClient, db: Database, admin_key: str
) -> None:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    rule = {"kind": "per_social_action", "action": "like", "network": "mastodon", "target": POST,
            "units_per_action": 2, "cap_units": 5}  # fmt: skip
    cid = make_campaign(client, brand, ben.id, rules=[rule])
    with db.write() as conn:
        batch = Batch(conn)
        first = [apply_social_action(conn, cid, _like(i), received_at=AT, batch=batch) for i in range(4)]
        assert [(o.outcome, o.units) for o in first] == [("counted", 2), ("counted", 2), ("counted", 1),
                                                         ("over_cap", 0)]  # fmt: skip
        gone = retract_social_action(
            conn, cid, action_commitment(_like(0)), at=AT, received_at=AT, batch=batch
        )
        assert gone == "reversed"
        again = apply_social_action(conn, cid, _like(9), received_at=AT, batch=batch)
        assert (again.outcome, again.units) == ("counted", 2)
        late = apply_social_action(conn, cid, _like(10), received_at=AT, batch=batch)
        assert late.outcome == "over_cap"
        batch.flush()
    with db.write() as conn:  # a new batch reads the same total from the table
        assert apply_social_action(conn, cid, _like(11), received_at=AT).outcome == "over_cap"
