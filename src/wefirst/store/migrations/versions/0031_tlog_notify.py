"""tlog_entries: on PostgreSQL, a statement trigger NOTIFYs the log's channel when entries are
queued, so the sequencer of another process (another uvicorn worker, a connector's or the CLI's)
is woken by the commit instead of finding the entries at its next idle look, up to a second
later (issue 18). A notification is delivered at commit and dropped on rollback, like
`store.db.signal` inside one process; the trigger costs the writer no statement.

The channel is the schema's own (`wefirst_tlog_` + 16 hex digits of its name's MD5), so two
deployments in one database do not wake each other; the notification carries the sending
server process's pid, so a process does not wake itself twice (`store.notify`). SQLite:
nothing (one process writes to it).

Revision ID: 0031_tlog_notify
Revises: 0030_voice_readings
"""

from __future__ import annotations

from alembic import op

revision = "0031_tlog_notify"
down_revision = "0030_voice_readings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION wefirst_tlog_queued() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM pg_notify('wefirst_tlog_' || left(md5(current_schema()), 16), '');
          RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER tlog_entries_queued AFTER INSERT ON tlog_entries"
        " FOR EACH STATEMENT EXECUTE FUNCTION wefirst_tlog_queued()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS tlog_entries_queued ON tlog_entries")
    op.execute("DROP FUNCTION IF EXISTS wefirst_tlog_queued()")
