"""UTC everywhere: one way to get "now" and one way to print a time (RFC 3339, `Z`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

#: What code that must be testable against a simulated time takes instead of calling utcnow.
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(dt: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC, so say so."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def rfc3339(dt: datetime) -> str:
    dt = as_utc(dt)
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if dt.microsecond:
        text += f".{dt.microsecond:06d}".rstrip("0")
    return text + "Z"
