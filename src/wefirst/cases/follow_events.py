"""What a case's followers are told, and when: a row in `case_follow_events` queued in the
transaction of the fact (the brand's answer, the opener's acceptance, the sweep finding a
commitment due), claimed later by the follow mailer (`follow_sender.py`), which builds the
mails (`follow_mails.py`).

Queuing in the fact's own transaction means no fact is told without having happened, and none
is lost when the process stops before the mail goes: the sender picks it up later. A claim is a
guarded update (`sent_at` from NULL), so of several processes exactly one sends each fact. A
mail the server refuses is retried on its own (`follow_retries.py`), never by re-sending the
fact, so the followers who got it are not sent it twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from sqlalchemy import Connection, insert, select, update

from wefirst.cases.states import State
from wefirst.store.tables_cases import case_commitments, case_follow_events, cases


class Event(StrEnum):
    answered = "answered"
    commitment_due = "commitment_due"
    resolved = "resolved"


@dataclass(frozen=True)
class Claimed:
    seq: int
    case_id: str
    kind: Event
    ref: str


def queue(conn: Connection, case_id: str, kind: Event, ref: str, now: datetime) -> None:
    """Queue one fact unless it already is (`ref`: the answer id, the commitment's number, or
    the case id for its resolution, which happens once)."""
    e = case_follow_events.c
    known = conn.execute(select(e.seq).where(e.kind == kind.value, e.ref == ref)).first()
    if known is None:
        conn.execute(
            insert(case_follow_events).values(case_id=case_id, kind=kind.value, ref=ref, created_at=now)
        )


LOOK_BACK: Final = timedelta(days=7)
"""How far back the sweep looks for due commitments: enough to cover a sweep that did not
run for days, without re-reading every commitment ever made on each pass."""


def queue_due_commitments(conn: Connection, now: datetime) -> int:
    """Commitments due in the last week up to today on cases still open to followers, not
    told yet (the sweep runs this; single-runner, so two processes never queue one twice)."""
    c, e = case_commitments.c, case_follow_events.c
    rows = conn.execute(
        select(c.seq, c.case_id)
        .join(cases, cases.c.id == c.case_id)
        .where(
            c.due_on.is_not(None),
            c.due_on <= now.date(),
            c.due_on >= (now - LOOK_BACK).date(),
            cases.c.state != State.resolved.value,
        )
        .order_by(c.seq)
    ).all()
    if not rows:
        return 0
    done: set[str] = set(
        conn.execute(
            select(e.ref).where(e.kind == Event.commitment_due.value, e.ref.in_([str(r.seq) for r in rows]))
        )
        .scalars()
        .all()
    )
    queued = 0
    for r in rows:
        if str(r.seq) not in done:
            queue(conn, r.case_id, Event.commitment_due, str(r.seq), now)
            queued += 1
    return queued


def has_pending(conn: Connection) -> bool:
    return (
        conn.execute(
            select(case_follow_events.c.seq).where(case_follow_events.c.sent_at.is_(None)).limit(1)
        ).first()
        is not None
    )


def claim(conn: Connection, now: datetime, limit: int = 20) -> list[Claimed]:
    """Take up to `limit` unsent facts for this process (oldest first)."""
    e = case_follow_events.c
    rows = conn.execute(
        select(e.seq, e.case_id, e.kind, e.ref).where(e.sent_at.is_(None)).order_by(e.seq).limit(limit)
    ).all()
    mine = []
    for r in rows:
        taken = conn.execute(
            update(case_follow_events).where(e.seq == r.seq, e.sent_at.is_(None)).values(sent_at=now)
        ).rowcount
        if taken:
            mine.append(Claimed(r.seq, r.case_id, Event(r.kind), r.ref))
    return mine
