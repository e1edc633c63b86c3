"""Follow mails the mail server refused, tried again: the webhooks outbox's schedule
(`webhooks.outbox.backoff`: 10 s doubling to an hour) up to `MAX_ATTEMPTS` in all (about
three and a half hours), then given up and deleted — a mail server down longer than that is
an operator's matter (the warning is logged), and the address is not kept for retries that
will not come.

The mail is kept as it was built, because its follower's row may be gone by the time it is
retried (the resolution deletes the case's followers once its mails are built). Unsubscribing
deletes the follower's pending retries too. A claim moves `next_at` forward by a lease with a
guarded update, so of several processes exactly one tries each row at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import Connection, delete, insert, select, update

from wefirst.mail import Mail
from wefirst.store.tables_cases import case_follow_retries
from wefirst.webhooks.outbox import backoff

MAX_ATTEMPTS: Final = 12
"""Attempts in all, the first one included."""

LEASE: Final = timedelta(minutes=5)
"""How long a claimed retry is left to its sender before another may try it (a sender that
died mid-send leaves the row to the others after this)."""


@dataclass(frozen=True)
class Retry:
    seq: int
    follower_id: str
    mail: Mail
    attempts: int  # made so far


def keep(conn: Connection, follower_id: str, mail: Mail, now: datetime) -> None:
    """After a first attempt failed: the second is due after the first backoff step."""
    conn.execute(
        insert(case_follow_retries).values(
            follower_id=follower_id,
            mail_to=mail.to,
            subject=mail.subject,
            body=mail.body,
            headers=dict(mail.headers),
            attempts=1,
            next_at=now + backoff(1),
            created_at=now,
        )
    )


def next_due(conn: Connection) -> datetime | None:
    return conn.execute(
        select(case_follow_retries.c.next_at).order_by(case_follow_retries.c.next_at).limit(1)
    ).scalar()


def claim_due(conn: Connection, now: datetime, limit: int = 20) -> list[Retry]:
    """Retries due now, each leased to this caller."""
    r = case_follow_retries.c
    rows = conn.execute(
        select(r.seq, r.follower_id, r.mail_to, r.subject, r.body, r.headers, r.attempts, r.next_at)
        .where(r.next_at <= now)
        .order_by(r.next_at, r.seq)
        .limit(limit)
    ).all()
    mine = []
    for row in rows:
        taken = conn.execute(
            update(case_follow_retries)
            .where(r.seq == row.seq, r.next_at == row.next_at)
            .values(next_at=now + LEASE)
        ).rowcount
        if taken:
            mail = Mail(to=row.mail_to, subject=row.subject, body=row.body, headers=dict(row.headers))
            mine.append(Retry(row.seq, row.follower_id, mail, int(row.attempts)))
    return mine


def sent(conn: Connection, retry: Retry) -> None:
    conn.execute(delete(case_follow_retries).where(case_follow_retries.c.seq == retry.seq))


def failed(conn: Connection, retry: Retry, now: datetime) -> bool:
    """Record one more failed attempt; False when that was the last one (the row is gone)."""
    made = retry.attempts + 1
    r = case_follow_retries.c
    if made >= MAX_ATTEMPTS:
        conn.execute(delete(case_follow_retries).where(r.seq == retry.seq))
        return False
    conn.execute(
        update(case_follow_retries)
        .where(r.seq == retry.seq)
        .values(attempts=made, next_at=now + backoff(made))
    )
    return True


def forget_follower(conn: Connection, follower_id: str) -> None:
    """The person unsubscribed: nothing pending reaches them any more."""
    conn.execute(delete(case_follow_retries).where(case_follow_retries.c.follower_id == follower_id))
