"""The mails one queued fact becomes: one per confirmed follower of the case, in the
follower's language, with the follower's own unsubscribe link."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from wefirst.cases import followers, notify
from wefirst.cases.follow_events import Claimed, Event
from wefirst.mail import Mail
from wefirst.settings import Settings
from wefirst.store.tables_cases import case_answers, case_commitments, cases
from wefirst.store.tables_core import brands

ANSWER_EXCERPT = 600
"""Characters of the answer quoted in the mail; the page has the rest."""


def _facts(conn: Connection, event: Claimed) -> dict[str, Any] | None:
    """What the mail says, read when it is built (so a hidden case sends nothing)."""
    case = conn.execute(
        select(cases.c.title, cases.c.hidden, brands.c.name)
        .join(brands, brands.c.id == cases.c.brand_id)
        .where(cases.c.id == event.case_id)
    ).first()
    if case is None or case.hidden:
        return None
    facts: dict[str, Any] = {"title": case.title, "brand": case.name}
    if event.kind is Event.answered:
        body = conn.execute(
            select(case_answers.c.body).where(case_answers.c.id == event.ref)
        ).scalar_one_or_none()
        if body is None:
            return None
        facts["answer"] = body if len(body) <= ANSWER_EXCERPT else body[:ANSWER_EXCERPT].rstrip() + "…"
    elif event.kind is Event.commitment_due:
        c = case_commitments.c
        row = conn.execute(select(c.text, c.due_on).where(c.seq == int(event.ref))).first()
        if row is None:
            return None
        facts["commitment"], facts["due_on"] = row.text, row.due_on
    return facts


def mails_for(conn: Connection, settings: Settings, event: Claimed) -> list[tuple[str, Mail]]:
    """(follower id, mail): one per confirmed follower, in the follower's language, each with
    its own unsubscribe link (the id lets a retry of the mail end when the follower leaves).
    The resolution is the last thing a case tells: its followers' addresses are deleted once
    those mails are built."""
    facts = _facts(conn, event)
    people = followers.active_followers(conn, event.case_id)
    mails = []
    if facts is not None:
        for person in people:
            token = followers.unfollow_token(settings, person.id)
            mail = notify.follow_update(
                settings, person.email, person.language, event.kind.value, event.case_id, facts, token
            )
            mails.append((person.id, mail))
    if event.kind is Event.resolved:
        followers.forget_case(conn, event.case_id)
    return mails
