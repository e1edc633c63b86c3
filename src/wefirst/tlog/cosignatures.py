"""Cosignatures kept with each checkpoint, and what the submitter knows of each witness.

Cosignature rows are appended once per (checkpoint size, witness) and never changed; the
checkpoint a reader gets is the log's signed note followed by these lines, sorted by witness
key so the same rows always give the same bytes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects import postgresql, sqlite

from wefirst.store.tables_tlog import tlog_checkpoints, tlog_cosignatures, tlog_witness_state


def _insert(conn: Connection, table: Any) -> Any:
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def add_cosignature(conn: Connection, size: int, witness: str, line: str, timestamp: int) -> None:
    """Keep a witness's line for a checkpoint; a later line for the same pair is not stored
    (append-only: what was served stays served)."""
    conn.execute(
        _insert(conn, tlog_cosignatures)
        .values(size=size, witness=witness, line=line, timestamp=timestamp, created_at=datetime.now(UTC))
        .on_conflict_do_nothing()
    )


def lines_for(conn: Connection, sizes: Iterable[int]) -> dict[int, list[str]]:
    wanted = sorted(set(sizes))
    out: dict[int, list[str]] = {s: [] for s in wanted}
    if not wanted:
        return out
    rows = conn.execute(
        select(tlog_cosignatures.c.size, tlog_cosignatures.c.line)
        .where(tlog_cosignatures.c.size.in_(wanted))
        .order_by(tlog_cosignatures.c.size, tlog_cosignatures.c.witness)
    )
    for row in rows:
        out[int(row.size)].append(str(row.line))
    return out


def witnesses_of(conn: Connection, size: int) -> set[str]:
    """The witness keys that cosigned the checkpoint of ``size``."""
    rows = conn.execute(select(tlog_cosignatures.c.witness).where(tlog_cosignatures.c.size == size))
    return set(rows.scalars())


def with_lines(note: str, lines: list[str]) -> str:
    """The signed note with cosignature lines appended (each already ends in a newline)."""
    return note + "".join(lines)


@dataclass(frozen=True)
class WitnessRow:
    witness: str
    url: str
    size: int | None
    failures: int
    last_error: str | None
    next_attempt_at: datetime | None
    updated_at: datetime


def witness_rows(conn: Connection) -> dict[str, WitnessRow]:
    rows = conn.execute(select(tlog_witness_state)).all()
    return {
        r.witness: WitnessRow(
            r.witness,
            r.url,
            None if r.size is None else int(r.size),
            int(r.failures),
            r.last_error,
            _utc(r.next_attempt_at),
            _utc(r.updated_at) or datetime.now(UTC),
        )
        for r in rows
    }


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes for what was stored as UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def save_witness_row(conn: Connection, row: WitnessRow) -> None:
    values = {
        "witness": row.witness,
        "url": row.url,
        "size": row.size,
        "failures": row.failures,
        "last_error": row.last_error,
        "next_attempt_at": row.next_attempt_at,
        "updated_at": row.updated_at,
    }
    stmt = _insert(conn, tlog_witness_state).values(**values)
    conn.execute(stmt.on_conflict_do_update(index_elements=["witness"], set_=values))


def oldest_checkpoint_after(conn: Connection, size: int) -> datetime | None:
    """When the first checkpoint the witness has not cosigned was made (for its lag)."""
    value = conn.execute(
        select(func.min(tlog_checkpoints.c.created_at)).where(tlog_checkpoints.c.size > size)
    ).scalar()
    return _utc(value)
