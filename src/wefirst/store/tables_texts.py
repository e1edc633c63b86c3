"""Free text typed by brands and beneficiaries (a payment's reference, an evidence link, a
dispute's note...) as the public log holds it: a salted SHA-256 commitment. The text and its
salt stay here, beside the row they belong to, until someone erases them; the log keeps only
the commitment, which without the salt says nothing about the text."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, String, Table, Text

from wefirst.store.meta import ID, metadata

public_texts = Table(
    "public_texts",
    metadata,
    #: hex SHA-256 of "<salt>:<text>" (UTF-8), as written in the log entry
    Column("sha256", String(64), primary_key=True),
    Column("salt", String(32)),  # None once erased
    Column("text", Text),  # None once erased
    #: where the text also lives (blanked on erasure): table, row id, column
    Column("source_table", String(40), nullable=False),
    Column("source_id", String(ID), nullable=False),
    Column("field", String(60), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("erased_at", DateTime(timezone=True)),
    Index("ix_public_texts_source", "source_id"),
)
