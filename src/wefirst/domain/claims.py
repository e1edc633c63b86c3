"""Claimed times against received times.

An event says when it happened (`occurred_at`); wefirst knows only when it heard of it. A sender
that could date a sale freely could fill past days' caps (which are counted per received day
anyway) or make the log say a promise was kept earlier than it was. So a claim is accepted only
inside a window around its receipt: not older than the configured age, not later than the
sender's clock could plausibly run ahead. Pure functions: the edges (API, connectors) decide
what a refusal looks like."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from wefirst.domain.clock import as_utc, rfc3339


@dataclass(frozen=True)
class ClaimWindow:
    """How old (and how far ahead) a claimed time may be, relative to its receipt."""

    max_age: timedelta
    skew: timedelta

    @classmethod
    def of(cls, max_age_hours: int, skew_seconds: int) -> ClaimWindow:
        return cls(timedelta(hours=max_age_hours), timedelta(seconds=skew_seconds))


def claim_refusal(claimed: datetime, received: datetime, window: ClaimWindow) -> str | None:
    """Why `claimed` cannot be accepted at `received`, or None when it can."""
    claimed, received = as_utc(claimed), as_utc(received)
    if claimed > received + window.skew:
        return f"{rfc3339(claimed)} is in the future (received {rfc3339(received)})"
    if claimed < received - window.max_age:
        hours = int(window.max_age.total_seconds() // 3600)
        return (
            f"{rfc3339(claimed)} is more than {hours} h before it was received ({rfc3339(received)}); "
            "older sales are reported as a sales report for their period"
        )
    return None
