"""The one MetaData every area's tables hang off, with a naming convention so that
Alembic migrations get stable constraint names on both SQLite and PostgreSQL."""

from sqlalchemy import MetaData

# Length of an id column: a type prefix, "_" and 26 base32 characters, with room to spare.
ID = 40

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
