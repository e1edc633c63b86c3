"""Free text in the public log only as a commitment.

A payment's reference, an evidence link, a dispute's note or a reason are typed by people and
may hold anything: a name, an e-mail address, an account number. The log is public and can
never forget, so what it records is `sha256("<salt>:<text>")` with a random salt per text. The
text and its salt stay in the database beside the row they belong to, and the pages show them
beside the commitment, so anyone holding the text can check it against the log (`printf '%s'
'<salt>:<text>' | sha256sum`). Erasing a text deletes it and its salt: the commitment stays
in the log and proves nothing about what it was.

Log entries name the field with a `_sha256` suffix (`external_reference_sha256`, ...); entries
written before this hold the text itself under the plain name."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select, update

from wefirst.errors import NotFound
from wefirst.store.tables_core import deliveries, idempotency_records, settlements
from wefirst.store.tables_texts import public_texts

# The rows a text may come from; `field` is the column it is also kept in, blanked on erasure
# (a NOT NULL column gets the empty string).
_SOURCES: dict[str, Table] = {"settlements": settlements, "deliveries": deliveries}
_NOT_NULL = {"external_reference", "evidence_url"}


def digest(salt: str, text: str) -> str:
    return hashlib.sha256(f"{salt}:{text}".encode()).hexdigest()


def commit(conn: Connection, text: str, *, table: str, row_id: str, field: str, now: datetime) -> str:
    """Keep `text` (with a fresh salt) and return the commitment the log entry carries."""
    assert table in _SOURCES, table
    salt = secrets.token_hex(16)
    sha = digest(salt, text)
    conn.execute(
        insert(public_texts).values(
            sha256=sha,
            salt=salt,
            text=text,
            source_table=table,
            source_id=row_id,
            field=field,
            created_at=now,
        )
    )
    return sha


@dataclass(frozen=True)
class Shown:
    """A text as the pages and the API show it beside its commitment (None once erased)."""

    sha256: str
    salt: str | None
    text: str | None

    def as_json(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "salt": self.salt, "erased": self.text is None}


def shown_for(conn: Connection, row_ids: list[str]) -> dict[tuple[str, str], Shown]:
    """(row id, field) -> the commitment, salt and text, for the rows' logged texts."""
    if not row_ids:
        return {}
    t = public_texts.c
    rows = conn.execute(select(public_texts).where(t.source_id.in_(sorted(set(row_ids))))).all()
    return {(r.source_id, r.field): Shown(r.sha256, r.salt, r.text) for r in rows}


def erase(conn: Connection, sha256: str, now: datetime) -> tuple[str, str, str]:
    """Delete a text and its salt, and blank the column it came from; the log keeps the
    commitment. Returns (table, row id, field)."""
    t = public_texts.c
    row = conn.execute(select(public_texts).where(t.sha256 == sha256.strip().lower())).first()
    if row is None:
        raise NotFound(f"no text with commitment {sha256}")
    conn.execute(
        update(public_texts).where(t.sha256 == row.sha256).values(salt=None, text=None, erased_at=now)
    )
    if row.text:  # a stored answer to an Idempotency-Key request may repeat it: that copy goes too
        quoted = json.dumps(row.text)  # as `json.dumps` wrote it into the stored answer
        i = idempotency_records.c
        conn.execute(delete(idempotency_records).where(i.response.contains(quoted, autoescape=True)))
    source = _SOURCES[row.source_table]
    blank = "" if row.field in _NOT_NULL else None
    conn.execute(update(source).where(source.c.id == row.source_id).values({row.field: blank}))
    return row.source_table, row.source_id, row.field
