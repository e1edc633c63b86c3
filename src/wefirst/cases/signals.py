"""Co-sign velocity as a voice signal: verified co-signs per hour for one brand's visible
cases, so a fast-growing case shows as a mobilization on the brand's voice timeline."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from wefirst.cases.signals_pure import hour_of, hourly_counts
from wefirst.store.tables_cases import case_supporters, cases


def cosign_series(
    conn: Connection, brand_id: str, since: datetime, *, case_id: str | None = None
) -> list[tuple[datetime, int]]:
    """Sparse `(hour, count)` pairs, oldest first, UTC hours from the hour containing `since`;
    hours without co-signs are left out (`signals_pure.densify` fills them). Only verified
    signatures count, and hidden cases do not (moderation took them off the public record).

    Counting happens in Python over the verified times: a brand's co-signs since a date are
    thousands, not millions, and it keeps one query for SQLite and PostgreSQL (no
    dialect-specific date truncation)."""
    query = (
        select(case_supporters.c.verified_at)
        .join(cases, cases.c.id == case_supporters.c.case_id)
        .where(
            cases.c.brand_id == brand_id,
            cases.c.hidden.is_(False),
            case_supporters.c.status == "verified",
            case_supporters.c.verified_at >= hour_of(since),
        )
    )
    if case_id is not None:
        query = query.where(cases.c.id == case_id)
    times: list[datetime] = list(conn.execute(query).scalars())
    return hourly_counts(times)
