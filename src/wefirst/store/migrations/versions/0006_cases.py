"""cases: accountability cases, supporters, answers, commitments, verdicts, moderation

Revision ID: 0006_cases
Revises: 0001_core
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_cases"
down_revision = "0005_widget"
branch_labels = None
depends_on = None

ID = 40


def _tz() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("brand_id", sa.String(ID), nullable=False),
        sa.Column("campaign_id", sa.String(ID), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("category", sa.String(24), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("what_happened", sa.Text(), nullable=False),
        sa.Column("what_is_asked", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("opener_token_hash", sa.String(64), nullable=False),
        sa.Column("cosign_count", sa.Integer(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("hidden_reason", sa.Text(), nullable=True),
        sa.Column("unanswered_at", _tz(), nullable=True),
        sa.Column("opened_at", _tz(), nullable=False),
        sa.Column("answered_at", _tz(), nullable=True),
        sa.Column("closed_at", _tz(), nullable=True),
        sa.Column("updated_at", _tz(), nullable=False),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], name="fk_cases_brand_id_brands"),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name="fk_cases_campaign_id_campaigns"),
        sa.PrimaryKeyConstraint("seq", name="pk_cases"),
        sa.UniqueConstraint("id", name="uq_cases_id"),
    )
    op.create_index("ix_cases_brand_state", "cases", ["brand_id", "state"])

    op.create_table(
        "case_supporters",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("case_id", sa.String(ID), nullable=False),
        sa.Column("email_hash", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", _tz(), nullable=False),
        sa.Column("verified_at", _tz(), nullable=True),
        sa.Column("erased_at", _tz(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_supporters_case_id_cases"),
        sa.PrimaryKeyConstraint("seq", name="pk_case_supporters"),
        sa.UniqueConstraint("id", name="uq_case_supporters_id"),
        sa.UniqueConstraint("case_id", "email_hash", name="uq_case_supporters_case_email"),
    )
    op.create_index("ix_case_supporters_verified", "case_supporters", ["case_id", "verified_at"])

    op.create_table(
        "case_answers",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("case_id", sa.String(ID), nullable=False),
        sa.Column("brand_id", sa.String(ID), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("key_id", sa.String(ID), nullable=True),
        sa.Column("created_at", _tz(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_answers_case_id_cases"),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], name="fk_case_answers_brand_id_brands"),
        sa.PrimaryKeyConstraint("seq", name="pk_case_answers"),
        sa.UniqueConstraint("id", name="uq_case_answers_id"),
    )
    op.create_index("ix_case_answers_case_id", "case_answers", ["case_id"])

    op.create_table(
        "case_commitments",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("answer_id", sa.String(ID), nullable=False),
        sa.Column("case_id", sa.String(ID), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("created_at", _tz(), nullable=False),
        sa.ForeignKeyConstraint(
            ["answer_id"], ["case_answers.id"], name="fk_case_commitments_answer_id_case_answers"
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_commitments_case_id_cases"),
        sa.PrimaryKeyConstraint("seq", name="pk_case_commitments"),
    )
    op.create_index("ix_case_commitments_answer_id", "case_commitments", ["answer_id"])

    op.create_table(
        "case_verdicts",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(ID), nullable=False),
        sa.Column("answer_id", sa.String(ID), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", _tz(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_verdicts_case_id_cases"),
        sa.ForeignKeyConstraint(
            ["answer_id"], ["case_answers.id"], name="fk_case_verdicts_answer_id_case_answers"
        ),
        sa.PrimaryKeyConstraint("seq", name="pk_case_verdicts"),
    )
    op.create_index("ix_case_verdicts_case_id", "case_verdicts", ["case_id"])

    op.create_table(
        "case_reports",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("case_id", sa.String(ID), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", _tz(), nullable=False),
        sa.Column("closed_at", _tz(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_reports_case_id_cases"),
        sa.PrimaryKeyConstraint("seq", name="pk_case_reports"),
        sa.UniqueConstraint("id", name="uq_case_reports_id"),
    )
    op.create_index("ix_case_reports_case_id", "case_reports", ["case_id"])

    op.create_table(
        "case_moderation_log",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(ID), nullable=False),
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("public_reason", sa.Text(), nullable=False),
        sa.Column("report_id", sa.String(ID), nullable=True),
        sa.Column("moderator_key_id", sa.String(ID), nullable=True),
        sa.Column("at", _tz(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_moderation_log_case_id_cases"),
        sa.PrimaryKeyConstraint("seq", name="pk_case_moderation_log"),
    )
    op.create_index("ix_case_moderation_log_case_id", "case_moderation_log", ["case_id"])

    op.create_table(
        "case_rate_events",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(72), nullable=False),
        sa.Column("at", _tz(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_case_rate_events"),
    )
    op.create_index("ix_case_rate_events_lookup", "case_rate_events", ["action", "key_hash", "at"])

    op.create_table(
        "case_brand_contacts",
        sa.Column("brand_id", sa.String(ID), nullable=False),
        sa.Column("alert_email", sa.String(320), nullable=False),
        sa.Column("updated_at", _tz(), nullable=False),
        sa.ForeignKeyConstraint(["brand_id"], ["brands.id"], name="fk_case_brand_contacts_brand_id_brands"),
        sa.PrimaryKeyConstraint("brand_id", name="pk_case_brand_contacts"),
    )


def downgrade() -> None:
    for table in (
        "case_brand_contacts",
        "case_rate_events",
        "case_moderation_log",
        "case_reports",
        "case_verdicts",
        "case_commitments",
        "case_answers",
        "case_supporters",
        "cases",
    ):
        op.drop_table(table)
