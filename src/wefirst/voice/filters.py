"""What a reader narrows the voice series to: language, source, polarity and a date range.

One definition for the API's query parameters and the console's filter form, so both accept
and refuse the same things (a refused value is a 422 naming its field, never a silent
"everything")."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from wefirst.errors import FieldError, Invalid

SOURCES = ("file", "mastodon", "bluesky", "rss")
POLARITIES = ("negative", "neutral", "positive")
#: ISO 639-1/-3 codes as the language detector writes them, and "und" for undetermined
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
#: the longest range one request may ask for (a year of days)
MAX_DAYS = 366


@dataclass(frozen=True)
class VoiceFilter:
    language: str | None = None
    source: str | None = None
    polarity: str | None = None
    start: datetime | None = None  # inclusive
    end: datetime | None = None  # exclusive

    def as_query(self) -> dict[str, str]:
        """The filter as the console's query string (for links that keep it)."""
        out = {k: v for k, v in (("language", self.language), ("source", self.source)) if v}
        if self.polarity:
            out["polarity"] = self.polarity
        if self.start:
            out["from"] = self.start.date().isoformat()
        if self.end:
            out["to"] = (self.end - timedelta(days=1)).date().isoformat()
        return out


def check(
    *,
    language: str | None = None,
    source: str | None = None,
    polarity: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> VoiceFilter:
    """A filter from typed values; every wrong field is named in one 422."""
    problems: list[FieldError] = []
    if language is not None and not _LANGUAGE.match(language):
        problems.append(FieldError("language", "a language code such as en or fr"))
    if source is not None and source not in SOURCES:
        problems.append(FieldError("source", "|".join(SOURCES)))
    if polarity is not None and polarity not in POLARITIES:
        problems.append(FieldError("polarity", "|".join(POLARITIES)))
    if start is not None and start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    if end is not None and end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    if start is not None and end is not None:
        if end <= start:
            problems.append(FieldError("end", "must be after start"))
        elif end - start > timedelta(days=MAX_DAYS):
            problems.append(FieldError("end", f"at most {MAX_DAYS} days after start"))
    if problems:
        raise Invalid("; ".join(f"{p.field}: {p.reason}" for p in problems), problems)
    return VoiceFilter(language, source, polarity, start, end)


def _day(value: str, field: str, problems: list[FieldError]) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        problems.append(FieldError(field, "a date as YYYY-MM-DD"))
        return None


def from_form(query: Mapping[str, str]) -> VoiceFilter:
    """The console's filter form (empty fields mean "any"); `from` and `to` are whole days,
    `to` included."""
    problems: list[FieldError] = []
    start = end = None
    if first := (query.get("from") or "").strip():
        d = _day(first, "from", problems)
        start = datetime.combine(d, time(), UTC) if d else None
    if last := (query.get("to") or "").strip():
        d = _day(last, "to", problems)
        end = datetime.combine(d + timedelta(days=1), time(), UTC) if d else None
    if problems:
        raise Invalid("; ".join(f"{p.field}: {p.reason}" for p in problems), problems)
    try:
        return check(
            language=(query.get("language") or "").strip().lower() or None,
            source=query.get("source") or None,
            polarity=query.get("polarity") or None,
            start=start,
            end=end,
        )
    except Invalid as exc:  # the form's names for the range
        renamed = [FieldError({"end": "to"}.get(p.field, p.field), p.reason) for p in exc.errors]
        raise Invalid(str(exc.detail), renamed) from exc
