"""Public social actions become pledges, once per account per rule, through the pledge engine.

Sources (`wefirst.social.sources`) turn what a network says into `SocialAction` values; this
module decides and records, in the caller's transaction:

- **Idempotent.** One `social_actions` row per (campaign, rule, action commitment): a backfill
  or a repeated poll that sees the same action again changes nothing (`duplicate`, no row).
- **Once per account per rule.** The pledge's line key is the rule's key and a hash of the
  account (plus the UTC day for `period="day"`), and pledges are unique on (campaign, line
  key) under the campaign's counter lock (engine.py): a second action of the same account —
  a re-like after an un-like included — is recorded as `duplicate` and pledges nothing.
- **Criteria before pledging.** `domain.social.assess_account`; every refusal is a row with
  its reason: the campaign's fraud report (`social_report`).
- **Caps.** The campaign's caps and the rule's own `cap_units` (`domain.rules.social_rule_room`).
- **Withdrawn before settlement → reversed.** `retract_social_action` reverses the pledge of
  an un-liked/deleted action unless a settlement was reported after it was pledged (then the
  pledge was paid for and stays, `kept_settled`).
- **Checkable.** The pledge's log entry carries the action's commitment (SHA-256 of its public
  URI), never a handle; `social_status` answers "did my share count?" from the commitment."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar

from sqlalchemy import Connection, bindparam, func, insert, select, update

from wefirst.domain.campaigns import PerSocialActionRule
from wefirst.domain.clock import as_utc, utcnow
from wefirst.domain.rules import pledge_for_social, social_rule_room
from wefirst.domain.social import (
    REPORTED_BY_BRAND,
    SocialAction,
    account_key,
    action_commitment,
    assess_account,
    record_ref,
)
from wefirst.ledger.service import PledgeFacts
from wefirst.pledges.batch import Batch
from wefirst.pledges.engine import _reverse, _spend
from wefirst.store.tables_core import pledges, settlements
from wefirst.store.tables_social import social_actions

T = TypeVar("T")

# Units counted per (campaign, rule) within one engine batch: read once per batch, then kept
# up to date by the batch's own pledges (and dropped by its reversals) — one query per rule per
# batch instead of one per action. Keyed weakly: it goes with its batch.
_rule_units: weakref.WeakKeyDictionary[Batch, dict[tuple[str, str], int]] = weakref.WeakKeyDictionary()

# What this batch knows of `social_actions` rows, by (campaign, rule key, commitment): None =
# no row; (seq, record_ref) = a row (seq None: inserted by this batch, not read back). Filled by
# `prefetch_seen` with one query for a whole batch of actions, kept up to date by `_record`:
# the already-seen check then costs no statement per action.
_Known = tuple[int | None, str | None] | None
_seen: weakref.WeakKeyDictionary[Batch, dict[tuple[str, str, str], _Known]] = weakref.WeakKeyDictionary()

SocialOutcomeKind = Literal["counted", "refused", "duplicate", "over_cap", "carried", "no_rule", "inactive"]


@dataclass(frozen=True)
class SocialOutcome:
    outcome: SocialOutcomeKind
    commitment: str
    reason: str | None = None
    units: int = 0
    pledge_id: str | None = None


def _run(conn: Connection, batch: Batch | None, fn: Callable[[Batch], T]) -> T:
    own = batch is None
    b = batch or Batch(conn)
    result = fn(b)
    if own:
        b.flush()
    return result


def matching_rule(rules: tuple[Any, ...], a: SocialAction) -> PerSocialActionRule | None:
    for r in rules:
        if isinstance(r, PerSocialActionRule) and r.matches(a.network, a.action, a.target):
            return r
    return None


def apply_social_action(
    conn: Connection,
    campaign_id: str,
    action: SocialAction,
    *,
    received_at: datetime | None = None,
    batch: Batch | None = None,
) -> SocialOutcome:
    return _run(conn, batch, lambda b: _apply(b, campaign_id, action, received_at))


@dataclass(frozen=True)
class Seen:
    """One action under decision for one campaign's rule: what every row recorded for it says,
    whatever the outcome."""

    campaign_id: str
    rule: PerSocialActionRule
    action: SocialAction
    commitment: str
    received: datetime


def prefetch_seen(batch: Batch, campaign_id: str, actions: Iterable[SocialAction]) -> None:
    """Read, in one query per 500, which of these actions the campaign already has a row for,
    so that `apply_social_action` in the same batch does not ask one by one."""
    loaded = batch.campaign(campaign_id)
    keys = {
        (rule.key, action_commitment(a))
        for a in actions
        if (rule := matching_rule(loaded.campaign.rules, a)) is not None
    }
    known = _seen.setdefault(batch, {})
    wanted = sorted({c for _, c in keys})
    found: dict[tuple[str, str], tuple[int, str | None]] = {}
    for i in range(0, len(wanted), 500):
        for r in batch.conn.execute(_SEEN_MANY, {"cid": campaign_id, "cms": wanted[i : i + 500]}):
            found[(r.rule_key, r.commitment)] = (int(r.seq), r.record_ref)
    for rk, cm in keys:
        known.setdefault((campaign_id, rk, cm), found.get((rk, cm)))


def _record(
    batch: Batch,
    seen: Seen,
    outcome: str,
    *,
    reason: str | None = None,
    units: int = 0,
    pledge_id: str | None = None,
) -> None:
    a = seen.action
    batch.conn.execute(
        _INSERT,
        {
            "campaign_id": seen.campaign_id,
            "rule_key": seen.rule.key,
            "commitment": seen.commitment,
            "network": a.network,
            "action": a.action,
            "outcome": outcome,
            "reason": reason,
            "account_created_at": a.account.created_at if outcome == "counted" else None,
            "units": units,
            "pledge_id": pledge_id,
            "occurred_at": as_utc(a.occurred_at),
            "received_at": seen.received,
            "record_ref": record_ref(a.record) if a.record is not None else None,
        },
    )
    _seen.setdefault(batch, {})[(seen.campaign_id, seen.rule.key, seen.commitment)] = (
        None,
        record_ref(a.record) if a.record is not None else None,
    )


# Built once: the per-action statements skip SQLAlchemy's statement construction and
# cache-key work (a third of the full path's time in the profile, bench/bench_social.py).
_t = social_actions
_INSERT = insert(_t)
_SEEN = select(_t.c.seq, _t.c.record_ref).where(
    _t.c.campaign_id == bindparam("cid"), _t.c.rule_key == bindparam("rk"), _t.c.commitment == bindparam("cm")
)
_SEEN_MANY = select(_t.c.seq, _t.c.rule_key, _t.c.commitment, _t.c.record_ref).where(
    _t.c.campaign_id == bindparam("cid"), _t.c.commitment.in_(bindparam("cms", expanding=True))
)
_NEAR = select(_t.c.account_created_at).where(
    _t.c.campaign_id == bindparam("cid"),
    _t.c.rule_key == bindparam("rk"),
    _t.c.outcome == "counted",
    _t.c.account_created_at > bindparam("lo", type_=_t.c.account_created_at.type),
    _t.c.account_created_at < bindparam("hi", type_=_t.c.account_created_at.type),
)


def _row_of(campaign_id: str, rule_key: str, commitment: str) -> Any:
    return (
        social_actions.c.campaign_id == campaign_id,
        social_actions.c.rule_key == rule_key,
        social_actions.c.commitment == commitment,
    )


def _counted(campaign_id: str, rule: PerSocialActionRule) -> Any:
    return (
        social_actions.c.campaign_id == campaign_id,
        social_actions.c.rule_key == rule.key,
        social_actions.c.outcome == "counted",
    )


def _apply(batch: Batch, campaign_id: str, a: SocialAction, received_at: datetime | None) -> SocialOutcome:
    conn = batch.conn
    loaded = batch.campaign(campaign_id)
    c = loaded.campaign
    commitment = action_commitment(a)
    rule = matching_rule(c.rules, a)
    if rule is None:
        return SocialOutcome("no_rule", commitment)
    when = as_utc(a.occurred_at)
    if not c.is_open_at(when):
        return SocialOutcome("inactive", commitment)
    seen = Seen(
        campaign_id, rule, a, commitment, as_utc(received_at) if received_at is not None else utcnow()
    )
    st = batch.lock(loaded)
    cache = _seen.setdefault(batch, {})
    ck = (campaign_id, rule.key, commitment)
    if ck in cache:
        known = cache[ck]
    else:
        row = conn.execute(_SEEN, {"cid": campaign_id, "rk": rule.key, "cm": commitment}).first()
        known = (int(row.seq), row.record_ref) if row is not None else None
    if known is not None:
        if known[1] is None and a.record is not None:
            # first counted from a list (no record URI there), now seen on the stream: keep the
            # record so that its later delete finds it
            conn.execute(
                update(social_actions)
                .where(*_row_of(campaign_id, rule.key, commitment))
                .values(record_ref=record_ref(a.record))
            )
            cache[ck] = (known[0], record_ref(a.record))
        return SocialOutcome("duplicate", commitment)
    key = f"social:{rule.key}:{account_key(a.network, a.account.uri)}"
    if rule.period == "day":
        key += f":{when.date().isoformat()}"
    if batch.exists(campaign_id, key):
        _record(batch, seen, "duplicate")
        return SocialOutcome("duplicate", commitment)
    # the other criteria first, without the burst query (most refusals need no more reading)
    refusal = assess_account(rule.criteria, a.account, when, [])
    if refusal is None and a.account.created_at is not None:
        w = timedelta(hours=rule.criteria.burst_window_hours)
        born = as_utc(a.account.created_at)
        near = [
            as_utc(r[0])
            for r in conn.execute(_NEAR, {"cid": campaign_id, "rk": rule.key, "lo": born - w, "hi": born + w})
        ]
        refusal = assess_account(rule.criteria, a.account, when, near)
    if refusal is not None:
        _record(batch, seen, "refused", reason=refusal)
        return SocialOutcome("refused", commitment, refusal)
    units_by_rule = _rule_units.setdefault(batch, {})
    if (campaign_id, rule.key) not in units_by_rule:  # once per batch, then kept up to date
        units_by_rule[(campaign_id, rule.key)] = int(
            conn.execute(
                select(func.coalesce(func.sum(social_actions.c.units), 0)).where(*_counted(campaign_id, rule))
            ).scalar_one()
        )
    rule_units = units_by_rule[(campaign_id, rule.key)]
    draft, carry = pledge_for_social(c, rule, st.carry)
    out = _spend(
        batch,
        st,
        draft,
        carry,
        PledgeFacts(key, a.network, 1, when, seen.received),
        line_id=None,
        narrow=lambda room: social_rule_room(room, rule.cap_units, rule_units),
        commitment=commitment,
    )
    if out.outcome != "pledged":
        kind: SocialOutcomeKind = "over_cap" if out.outcome == "over_cap" else "carried"
        _record(batch, seen, kind)
        return SocialOutcome(kind, commitment)
    units_by_rule[(campaign_id, rule.key)] = rule_units + out.units
    _record(batch, seen, "counted", units=out.units, pledge_id=out.pledge_id)
    return SocialOutcome("counted", commitment, units=out.units, pledge_id=out.pledge_id)


RetractOutcome = Literal["reversed", "kept_settled", "not_counted"]


def retract_social_action(
    conn: Connection,
    campaign_id: str,
    commitment: str,
    *,
    at: datetime,
    received_at: datetime | None = None,
    batch: Batch | None = None,
) -> RetractOutcome:
    """An action seen counted was withdrawn (un-like, deleted repost or post)."""
    return _run(conn, batch, lambda b: _retract(b, campaign_id, commitment, at, received_at))


def _retract(
    batch: Batch, campaign_id: str, commitment: str, at: datetime, received_at: datetime | None
) -> RetractOutcome:
    conn = batch.conn
    batch.writer.flush(conn)  # the pledge may still be buffered in this batch
    batch.lock(batch.campaign(campaign_id))
    row = conn.execute(
        select(social_actions).where(
            social_actions.c.campaign_id == campaign_id,
            social_actions.c.commitment == commitment,
            social_actions.c.outcome == "counted",
        )
    ).first()
    if row is None or row.pledge_id is None:
        return "not_counted"
    p = conn.execute(select(pledges).where(pledges.c.id == row.pledge_id)).one()
    settled = conn.execute(
        select(settlements.c.id).where(
            settlements.c.campaign_id == campaign_id, settlements.c.reported_at >= p.received_at
        )
    ).first()
    if settled is not None:
        return "kept_settled"
    received = as_utc(received_at) if received_at is not None else utcnow()
    _reverse(
        batch,
        p,
        quantity=1,
        reversal_key=f"social-retract:{p.id}",
        reason="retracted",
        when=as_utc(at),
        received=received,
        line_id="social",
    )
    conn.execute(update(social_actions).where(social_actions.c.seq == row.seq).values(outcome="reversed"))
    _rule_units.get(batch, {}).pop((campaign_id, row.rule_key), None)  # re-read on next use
    return "reversed"


def counted_commitments(
    conn: Connection, campaign_id: str, rule_key: str, *, received_before: datetime | None = None
) -> set[str]:
    """Commitments counted (and not reversed) under one rule: what a poll compares with the
    network's current list to find withdrawn actions. `received_before` leaves out what a
    stream counted moments ago: the AppView indexes a like a little after Jetstream shows it,
    and a list read in between must not reverse it."""
    q = select(social_actions.c.commitment).where(
        social_actions.c.campaign_id == campaign_id,
        social_actions.c.rule_key == rule_key,
        social_actions.c.outcome == "counted",
    )
    if received_before is not None:
        q = q.where(social_actions.c.received_at < as_utc(received_before))
    return {r[0] for r in conn.execute(q)}


def retract_records(
    conn: Connection, refs: Sequence[str], *, at: datetime, batch: Batch | None = None
) -> list[RetractOutcome]:
    """Withdraw the counted actions whose acting record was deleted (a Jetstream delete names
    only the record: `record_ref` = SHA-256 of its AT-URI). Unknown records cost one query."""
    if not refs:
        return []
    found = conn.execute(
        select(social_actions.c.campaign_id, social_actions.c.commitment).where(
            social_actions.c.record_ref.in_(sorted(set(refs))), social_actions.c.outcome == "counted"
        )
    ).all()
    return [
        retract_social_action(conn, str(cid), str(c), at=at, received_at=at, batch=batch) for cid, c in found
    ]


def social_report(conn: Connection, campaign_id: str) -> dict[str, Any]:
    """The social tally and fraud report: per rule, what counted, what was reversed, and each
    refusal reason with its count (no handle or name anywhere)."""
    rows: Sequence[Any] = conn.execute(
        select(
            social_actions.c.rule_key,
            social_actions.c.network,
            social_actions.c.action,
            social_actions.c.outcome,
            social_actions.c.reason,
            func.count(),
            func.coalesce(func.sum(social_actions.c.units), 0),
        )
        .where(social_actions.c.campaign_id == campaign_id)
        .group_by(
            social_actions.c.rule_key,
            social_actions.c.network,
            social_actions.c.action,
            social_actions.c.outcome,
            social_actions.c.reason,
        )
    ).all()
    rules: dict[str, dict[str, Any]] = {}
    for key, network, action, outcome, reason, n, units in rows:
        r = rules.setdefault(
            key,
            {"rule_key": key, "network": network, "action": action, "counted": 0, "units": 0,
             "reversed": 0, "duplicate": 0, "over_cap": 0, "refused": {},
             "reported_by_brand": network in REPORTED_BY_BRAND},
        )  # fmt: skip
        if outcome == "refused":
            r["refused"][reason] = r["refused"].get(reason, 0) + int(n)
        elif outcome in ("counted", "reversed", "duplicate", "over_cap"):
            r[outcome] += int(n)
            if outcome == "counted":
                r["units"] += int(units)
    return {"campaign_id": campaign_id, "rules": sorted(rules.values(), key=lambda r: r["rule_key"])}


def social_status(conn: Connection, campaign_id: str, commitment: str) -> dict[str, Any] | None:
    """What happened to one action, found by its commitment ("did my share count?")."""
    row = conn.execute(
        select(social_actions).where(
            social_actions.c.campaign_id == campaign_id, social_actions.c.commitment == commitment
        )
    ).first()
    if row is None:
        return None
    return {
        "commitment": commitment,
        "outcome": row.outcome,
        "reason": row.reason,
        "units": row.units,
        "pledge_id": row.pledge_id,
        "network": row.network,
        "action": row.action,
        "reported_by_brand": row.network in REPORTED_BY_BRAND,
    }
