"""Alembic environment: runs against the connection handed over by `wefirst.store.migrate`
(or the URL in the config), with the one metadata for comparisons."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from wefirst.store.schema import metadata

config = context.config
connection = config.attributes.get("connection")


def _run(conn: Connection) -> None:
    context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    _run(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///wefirst.db")
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()  # its pooled connection would otherwise be left to the garbage collector
