"""tlog_index: the entries' log indexes in a narrow table of their own, the queue as a narrow
table filled by a trigger (issue 18: the sequencer's claim rewrote each 427-byte payload row to
set `idx`; now it inserts two narrow rows per entry)

Existing data is carried: every assigned `idx` moves to `tlog_index` unchanged (so no leaf,
tile, bundle or checkpoint changes), every entry still waiting goes to `tlog_pending`.

Revision ID: 0029_tlog_index
Revises: 0028_social_tokens
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029_tlog_index"
down_revision = "0028_social_tokens"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# Every way an entry is inserted (one row, a multi-row INSERT, COPY on PostgreSQL) files its id
# in the queue, in the same statement. On PostgreSQL one statement-level call per INSERT/COPY
# (a transition table), not one per row; the function's search_path is pinned to the schema
# it was created in, whatever the session's path.
SQLITE_TRIGGER = """
CREATE TRIGGER tlog_entries_pending AFTER INSERT ON tlog_entries
BEGIN
    INSERT INTO tlog_pending (entry_id) VALUES (NEW.id);
END
"""
PG_FUNCTION = """
CREATE FUNCTION tlog_entries_pending() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO tlog_pending (entry_id) SELECT id FROM new_entries;
    RETURN NULL;
END
$$
"""
PG_TRIGGER = """
CREATE TRIGGER tlog_entries_pending AFTER INSERT ON tlog_entries
REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT
EXECUTE FUNCTION tlog_entries_pending()
"""


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "tlog_pending",
        sa.Column("entry_id", _ID, autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name="pk_tlog_pending"),
    )
    op.create_table(
        "tlog_index",
        sa.Column("idx", _ID, autoincrement=False, nullable=False),
        sa.Column("entry_id", _ID, nullable=False),
        sa.PrimaryKeyConstraint("idx", name="pk_tlog_index"),
        sa.UniqueConstraint("entry_id", name="uq_tlog_index_entry_id"),
    )
    op.execute(
        "INSERT INTO tlog_index (idx, entry_id) SELECT idx, id FROM tlog_entries WHERE idx IS NOT NULL"
    )
    op.execute("INSERT INTO tlog_pending (entry_id) SELECT id FROM tlog_entries WHERE idx IS NULL")
    op.drop_index("ix_tlog_entries_pending", table_name="tlog_entries")
    with op.batch_alter_table("tlog_entries") as batch:
        batch.drop_constraint("uq_tlog_entries_idx", type_="unique")
        batch.drop_column("idx")
    if sqlite:
        op.execute(SQLITE_TRIGGER)
    else:
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.execute("DROP TRIGGER tlog_entries_pending" + ("" if sqlite else " ON tlog_entries"))
    if not sqlite:
        op.execute("DROP FUNCTION tlog_entries_pending()")
    with op.batch_alter_table("tlog_entries") as batch:
        batch.add_column(sa.Column("idx", sa.BigInteger(), nullable=True))
        batch.create_unique_constraint("uq_tlog_entries_idx", ["idx"])
    op.execute(
        "UPDATE tlog_entries SET idx = (SELECT i.idx FROM tlog_index i WHERE i.entry_id = tlog_entries.id)"
    )
    op.create_index(
        "ix_tlog_entries_pending",
        "tlog_entries",
        ["id"],
        postgresql_where=sa.text("idx IS NULL"),
        sqlite_where=sa.text("idx IS NULL"),
    )
    op.drop_table("tlog_index")
    op.drop_table("tlog_pending")
