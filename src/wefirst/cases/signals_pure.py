"""Co-sign counting rules with no I/O: milestones worth a log entry and an alert, and
per-hour counts that the voice timeline shows as a mobilization signal."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Final

MILESTONES: Final = (10, 100, 1000, 10_000, 100_000)


def crossed_milestones(before: int, after: int) -> list[int]:
    """Milestones reached when the verified count goes from `before` to `after`; usually
    zero or one, but a batch of verifications can cross several."""
    return [m for m in MILESTONES if before < m <= after]


def hour_of(at: datetime) -> datetime:
    """The UTC hour containing `at`; naive datetimes are taken as UTC (SQLite returns them)."""
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.replace(minute=0, second=0, microsecond=0)


def hourly_counts(times: Iterable[datetime]) -> list[tuple[datetime, int]]:
    """Sparse series: only hours with at least one co-sign, oldest first."""
    counts = Counter(hour_of(t) for t in times)
    return sorted(counts.items())


def densify(
    series: list[tuple[datetime, int]], since: datetime, until: datetime
) -> list[tuple[datetime, int]]:
    """Fill the missing hours with zeros between `since` and `until` (both included), for
    charts that need one point per hour."""
    known = dict(series)
    out = []
    hour = hour_of(since)
    end = hour_of(until)
    while hour <= end:
        out.append((hour, known.get(hour, 0)))
        hour += timedelta(hours=1)
    return out


def recent_velocity(series: list[tuple[datetime, int]], now: datetime, hours: int = 1) -> int:
    """Co-signs in the last `hours` whole hours including the current one."""
    start = hour_of(now) - timedelta(hours=hours - 1)
    return sum(c for h, c in series if h >= start)
