"""Accountability cases: the case, its supporters, the brand's answers and commitments,
moderation reports and the moderation log, rate-limit events and brand alert contacts.

Answers, commitments, opener verdicts, reports and the moderation log are append-only
(a report's status is the one field that moves). `cases` holds the
current state plus `cosign_count`, a projection of verified supporters kept in the same
transaction so a case list does not count rows. Supporter e-mail addresses are the only
personal data: never returned by the API, and set to NULL on erasure (the keyed hash stays
so the person still counts once)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from wefirst.store.meta import ID, metadata

cases = Table(
    "cases",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(ID), nullable=False, unique=True),
    Column("brand_id", String(ID), ForeignKey("brands.id"), nullable=False),
    Column("campaign_id", String(ID), ForeignKey("campaigns.id")),
    Column("kind", String(16), nullable=False),
    Column("category", String(24), nullable=False),
    Column("language", String(2), nullable=False),
    Column("title", String(200), nullable=False),
    Column("what_happened", Text, nullable=False),
    Column("what_is_asked", Text, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("opener_token_hash", String(64), nullable=False),
    Column("cosign_count", Integer, nullable=False, default=0),
    Column("hidden", Boolean, nullable=False, default=False),
    Column("hidden_reason", Text),
    Column("unanswered_at", DateTime(timezone=True)),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("answered_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_cases_brand_state", "brand_id", "state"),
)

case_supporters = Table(
    "case_supporters",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(ID), nullable=False, unique=True),
    Column("case_id", String(ID), ForeignKey("cases.id"), nullable=False),
    Column("email_hash", String(64), nullable=False),
    Column("email", String(320)),
    Column("language", String(2), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("verified_at", DateTime(timezone=True)),
    Column("erased_at", DateTime(timezone=True)),
    UniqueConstraint("case_id", "email_hash", name="uq_case_supporters_case_email"),
    Index("ix_case_supporters_verified", "case_id", "verified_at"),
)

case_answers = Table(
    "case_answers",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(ID), nullable=False, unique=True),
    Column("case_id", String(ID), ForeignKey("cases.id"), nullable=False, index=True),
    Column("brand_id", String(ID), ForeignKey("brands.id"), nullable=False),
    Column("body", Text, nullable=False),
    Column("language", String(2), nullable=False),
    Column("key_id", String(ID)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

case_commitments = Table(
    "case_commitments",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("answer_id", String(ID), ForeignKey("case_answers.id"), nullable=False, index=True),
    Column("case_id", String(ID), ForeignKey("cases.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("due_on", Date),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

case_verdicts = Table(
    "case_verdicts",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(ID), ForeignKey("cases.id"), nullable=False, index=True),
    Column("answer_id", String(ID), ForeignKey("case_answers.id"), nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("note", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

case_reports = Table(
    "case_reports",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(ID), nullable=False, unique=True),
    Column("case_id", String(ID), ForeignKey("cases.id"), nullable=False, index=True),
    Column("reason", String(16), nullable=False),
    Column("note", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
)

case_moderation_log = Table(
    "case_moderation_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(ID), ForeignKey("cases.id"), nullable=False, index=True),
    Column("action", String(24), nullable=False),
    Column("public_reason", Text, nullable=False),
    Column("report_id", String(ID)),
    Column("moderator_key_id", String(ID)),
    Column("at", DateTime(timezone=True), nullable=False),
)

case_brand_contacts = Table(
    "case_brand_contacts",
    metadata,
    Column("brand_id", String(ID), ForeignKey("brands.id"), primary_key=True),
    Column("alert_email", String(320), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Followers of a case (issue 15): mailed when the brand answers, a commitment falls due, or the
# case is resolved. The address is kept only while the person follows: unsubscribing deletes
# the row; an unconfirmed request is forgotten when its link expires (as co-sign requests are).
case_followers = Table(
    "case_followers",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(ID), nullable=False, unique=True),
    Column("case_id", String(ID), ForeignKey("cases.id"), nullable=False),
    Column("email_hash", String(64), nullable=False),
    Column("email", String(320), nullable=False),
    Column("language", String(2), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("confirmed_at", DateTime(timezone=True)),
    UniqueConstraint("case_id", "email_hash", name="uq_case_followers_case_email"),
    Index("ix_case_followers_case_status", "case_id", "status"),
)

# What followers are told, queued in the transaction of the fact (an answer, a verdict, the
# sweep finding a commitment due) and sent later by the follow mailer (`cases/follow_sender.py`),
# never inside a request. One row per fact (`kind`, `ref` unique), so a commitment falls due
# once; `sent_at` is set when a sender claims the row. No personal data here.
case_follow_events = Table(
    "case_follow_events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(ID), ForeignKey("cases.id"), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("ref", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    UniqueConstraint("kind", "ref", name="uq_case_follow_events_ref"),
    Index("ix_case_follow_events_sent", "sent_at"),
)

# A follow mail the mail server refused, kept to be tried again (`cases/follow_retries.py`):
# the mail as built (the follower's row may be gone, e.g. after the resolution), the attempts
# made and when the next one is due. Deleted when it is sent, when the follower unsubscribes,
# or after the last attempt: the address is not kept longer than the retries.
case_follow_retries = Table(
    "case_follow_retries",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("follower_id", String(ID), nullable=False),
    Column("mail_to", String(320), nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("headers", JSON, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_case_follow_retries_next", "next_at"),
    Index("ix_case_follow_retries_follower", "follower_id"),
)
