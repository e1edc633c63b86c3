"""Transparency-log tables.

`tlog_entries` holds each entry's exact canonical bytes, written in the same transaction as the
ledger change it records; a row never changes. Inserting it also files its id in
`tlog_pending` (a database trigger, so every way in — one row, a multi-row INSERT, PostgreSQL
COPY — queues the entry without another statement). The sequencer's claim moves ids from
`tlog_pending` to `tlog_index` (entry id -> `idx`, its position in the log): two narrow rows
per entry, never a rewrite of the payload. `tlog_checkpoints` keeps every signed tree head (the
latest one is the log's state); `tlog_tiles` is the default tile store, keyed by the public URL
path."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from wefirst.store.meta import metadata

# BIGINT on PostgreSQL; INTEGER on SQLite, where only INTEGER PRIMARY KEY autoincrements.
_ID = BigInteger().with_variant(Integer(), "sqlite")

tlog_entries = Table(
    "tlog_entries",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("data", LargeBinary, nullable=False),
    Column("commitment", String(64), nullable=True, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# The queue proper: the ids of entries not yet given an index, filled by the trigger
# `tlog_entries_pending` (migration 0029) and emptied by the sequencer's claim, so "oldest
# waiting first" costs the size of the batch, not of the whole log.
tlog_pending = Table(
    "tlog_pending",
    metadata,
    Column("entry_id", _ID, primary_key=True, autoincrement=False),
)

# Where each integrated (or claimed) entry sits in the log: set once by the claim, never
# changed. `idx` is the global index (it continues across key rotations).
tlog_index = Table(
    "tlog_index",
    metadata,
    Column("idx", _ID, primary_key=True, autoincrement=False),
    Column("entry_id", _ID, nullable=False, unique=True),
)

tlog_checkpoints = Table(
    "tlog_checkpoints",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", LargeBinary(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

tlog_tiles = Table(
    "tlog_tiles",
    metadata,
    Column("path", String(80), primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

# Witnessing (docs/witnessing.md). One row per configured witness, keyed by its verifier key:
# the size it last cosigned (as far as the submitter knows) and the state of the retries.
tlog_witness_state = Table(
    "tlog_witness_state",
    metadata,
    Column("witness", String(300), primary_key=True),
    Column("url", Text, nullable=False),
    Column("size", BigInteger, nullable=True),  # None until the witness has told us
    Column("failures", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Cosignature lines received for each checkpoint, appended once and never changed: the served
# checkpoint and receipts carry them after the log's own signature line.
tlog_cosignatures = Table(
    "tlog_cosignatures",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("witness", String(300), primary_key=True),
    Column("line", Text, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Key rotation (docs/tlog.md): every log after the first, in order. A log never changes key;
# rotating starts the next one (new origin, new key) whose entry 0 is a handover signed by the
# previous key. Entries keep one global index across logs: log N's entry i has index base + i,
# and its checkpoints and cosignatures are stored under the global size base + size.
tlog_logs = Table(
    "tlog_logs",
    metadata,
    Column("generation", Integer, primary_key=True, autoincrement=False),
    Column("origin", String(300), nullable=False, unique=True),
    Column("key", Text, nullable=False),  # the verifier key line
    Column("key_path", Text, nullable=False),  # where the signer key file lives
    Column("base", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
