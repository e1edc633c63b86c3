"""Social actions through the engine: once per account per rule, criteria refusals in the fraud
report, caps, withdrawals reversed before settlement only, idempotent backfill, and log entries
that carry the action's commitment and no handle."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from wefirst.catalog.service import load_campaign
from wefirst.domain.social import Account, SocialAction, action_commitment
from wefirst.ledger.balances import campaign_balance
from wefirst.ledger.service import report_settlement
from wefirst.pledges.batch import Batch
from wefirst.pledges.social import (
    SocialOutcome,
    apply_social_action,
    retract_social_action,
    social_report,
    social_status,
)
from wefirst.store.db import Database
from wefirst.store.tables_tlog import tlog_entries

from factories import make_beneficiary, make_brand, make_campaign

POST = "https://masto.example/@pampy/111"
AT = datetime(2026, 3, 14, 10, tzinfo=UTC)
OLD = AT - timedelta(days=400)


def _rule(**over: Any) -> dict[str, Any]:
    return {"kind": "per_social_action", "action": "like", "network": "mastodon", "target": POST,
            "units_per_action": 1, **over}  # fmt: skip


def _setup(client: TestClient, db: Database, admin_key: str, *rules: dict[str, Any], **extra: Any) -> str:
    brand = make_brand(client, db, admin_key)
    ben = make_beneficiary(client, db, admin_key)
    return make_campaign(client, brand, ben.id, rules=list(rules) or [_rule()], **extra)


def _like(n: int | str, *, born: datetime = OLD, posts: int = 50, bot: bool = False,
          at: datetime = AT, action: str = "like") -> SocialAction:  # fmt: skip
    acc = Account(f"https://masto.example/@fan{n}", born, posts, bot)
    return SocialAction("mastodon", action, POST, acc, at)  # type: ignore[arg-type]


def _apply(db: Database, cid: str, a: SocialAction) -> SocialOutcome:
    with db.write() as conn:
        return apply_social_action(conn, cid, a, received_at=a.occurred_at)


def _units(db: Database, cid: str) -> int:
    with db.read() as conn:
        bal = campaign_balance(conn, cid)
    assert bal is not None
    return bal.pledged_units


def test_an_action_counts_once_per_account_per_rule_and_backfill_is_idempotent(
    client: TestClient, db: Database, admin_key: str
) -> None:
    cid = _setup(client, db, admin_key)
    assert _apply(db, cid, _like(1)).outcome == "counted"
    assert _apply(db, cid, _like(1)).outcome == "duplicate"  # a backfill seeing it again
    # the same account's second like (another Bluesky record, say) does not count twice
    again = SocialAction("mastodon", "like", POST, _like(1).account, AT, uri="https://masto.example/x/2")
    assert _apply(db, cid, again).outcome == "duplicate"
    with db.write() as conn:  # in one batch too
        b = Batch(conn)
        outs = [apply_social_action(conn, cid, _like(2), received_at=AT, batch=b) for _ in range(3)]
        b.flush()
    assert [o.outcome for o in outs] == ["counted", "duplicate", "duplicate"]
    assert _units(db, cid) == 2
    other = SocialAction("mastodon", "like", "https://masto.example/@pampy/999", _like(3).account, AT)
    assert _apply(db, cid, other).outcome == "no_rule"
    assert _apply(db, cid, _like(4, at=datetime(2025, 1, 1, tzinfo=UTC))).outcome == "inactive"
    with db.read() as conn:
        rep = social_report(conn, cid)["rules"][0]
    assert (rep["counted"], rep["units"], rep["duplicate"]) == (2, 2, 1)


def test_a_per_day_rule_counts_an_account_once_a_day(
    client: TestClient, db: Database, admin_key: str
) -> None:
    cid = _setup(client, db, admin_key, _rule(period="day", action="hashtag_post", target="#DoudouVaccins"))

    def post(day: int, n: int) -> SocialAction:
        acc = _like(1).account
        when = AT + timedelta(days=day, hours=n)
        return SocialAction("mastodon", "hashtag_post", "#doudouvaccins", acc, when, uri=f"{POST}/{day}/{n}")

    assert [_apply(db, cid, post(d, n)).outcome for d, n in [(0, 1), (0, 2), (1, 1)]] == [
        "counted", "duplicate", "counted",
    ]  # fmt: skip


def test_every_refusal_is_in_the_fraud_report_with_its_reason(
    client: TestClient, db: Database, admin_key: str
) -> None:
    crit = {"min_account_age_days": 30, "min_posts": 5, "burst_window_hours": 24, "burst_max": 3}
    cid = _setup(client, db, admin_key, _rule(criteria=crit))
    assert _apply(db, cid, _like("young", born=AT - timedelta(days=2))).reason == "too_young"
    assert _apply(db, cid, _like("empty", posts=1)).reason == "too_few_posts"
    assert _apply(db, cid, _like("robot", bot=True)).reason == "bot"
    farm = [_apply(db, cid, _like(f"farm{i}", born=OLD + timedelta(minutes=i))) for i in range(10)]
    assert [o.outcome for o in farm].count("counted") == 3
    assert {o.reason for o in farm if o.outcome == "refused"} == {"burst"}
    with db.read() as conn:
        rep = social_report(conn, cid)["rules"][0]
        status = social_status(conn, cid, action_commitment(_like("robot", bot=True)))
    assert rep["refused"] == {"too_young": 1, "too_few_posts": 1, "bot": 1, "burst": 7}
    assert rep["counted"] == 3
    assert status is not None
    assert (status["outcome"], status["reason"]) == ("refused", "bot")
    assert "fanrobot" not in json.dumps(rep)
    assert _units(db, cid) == 3


def test_the_rules_cap_and_the_campaigns_cap_both_hold(
    client: TestClient, db: Database, admin_key: str
) -> None:
    cid = _setup(client, db, admin_key, _rule(cap_units=3), _rule(action="repost"), caps={"total_units": 5})
    likes = [_apply(db, cid, _like(i)).outcome for i in range(6)]
    assert likes == ["counted"] * 3 + ["over_cap"] * 3
    boosts = [_apply(db, cid, _like(i, action="repost")).outcome for i in range(4)]
    assert boosts == ["counted"] * 2 + ["over_cap"] * 2
    assert _units(db, cid) == 5


def test_a_withdrawal_before_settlement_reverses_after_it_stays(
    client: TestClient, db: Database, admin_key: str
) -> None:
    cid = _setup(client, db, admin_key)
    a, b = _like(1), _like(2)
    _apply(db, cid, a)
    _apply(db, cid, b)
    with db.write() as conn:
        assert retract_social_action(conn, cid, action_commitment(a), at=AT, received_at=AT) == "reversed"
        assert retract_social_action(conn, cid, action_commitment(a), at=AT) == "not_counted"
    assert _units(db, cid) == 1
    with db.write() as conn:
        campaign = load_campaign(conn, cid).campaign
        report_settlement(
            conn, campaign, amount=30, external_reference="vir-1", paid_at=AT + timedelta(days=1)
        )
    with db.write() as conn:
        assert retract_social_action(conn, cid, action_commitment(b), at=AT) == "kept_settled"
    assert _units(db, cid) == 1
    assert _apply(db, cid, SocialAction("mastodon", "like", POST, a.account, AT, uri="relike")).outcome == (
        "duplicate"
    )  # like/un-like cycles never count the account again


def test_log_entries_carry_the_actions_commitment_and_no_handle(
    client: TestClient, db: Database, admin_key: str
) -> None:
    cid = _setup(client, db, admin_key)
    a = _like("alice")
    out = _apply(db, cid, a)
    with db.read() as conn:
        rows = conn.execute(select(tlog_entries.c.data, tlog_entries.c.commitment)).all()
    mine = [json.loads(r.data) for r in rows if r.commitment == out.commitment]
    assert len(mine) == 1
    assert mine[0]["kind"] == "pledge"
    assert mine[0]["rule"] == "per_social_action"
    assert mine[0]["commitment"] == action_commitment(a)
    assert all(b"fanalice" not in r.data for r in rows)  # the brand's own post URL is in its rules
