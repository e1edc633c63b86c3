"""The one post record every source yields, so matching, scoring, storage and detection never
care where a post came from.

Authors are kept only as a salted hash: we need "same author" (dedupe, spam, counting distinct
voices) but never who the author is, and a salted hash cannot be reversed by hashing a list of
known handles without the salt.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from wefirst.store.tables_voice import REASON_LENGTH

SOURCES = frozenset({"mastodon", "bluesky", "rss", "file"})
POLARITIES = ("negative", "neutral", "positive")
#: Longest complaint reason kept (the store's column): cut here, once, so an episode's "top
#: reasons" read the same live and when re-detected from the store.
MAX_REASON = REASON_LENGTH


class PostParseError(ValueError):
    """A payload that cannot become a post (missing id, bad timestamp, not an object...)."""


@dataclass(frozen=True, slots=True)
class Engagement:
    """Counts as the source saw them when we read the post (a snapshot, often an undercount)."""

    replies: int = 0
    reposts: int = 0
    likes: int = 0


@dataclass(frozen=True, slots=True)
class Post:
    source: str
    external_id: str
    author_hash: str | None
    text: str
    created_at: datetime
    language: str | None = None
    url: str | None = None
    engagement: Engagement = field(default_factory=Engagement)
    tags: tuple[str, ...] = ()
    #: A sentiment label the source itself carries (labelled data sets); never trusted by default.
    source_label: str | None = None
    #: Why the post is negative when the source says so (the airline data's `negativereason`);
    #: at most `MAX_REASON` characters, blank is none.
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise PostParseError(f"unknown source {self.source!r}")
        if not self.external_id:
            raise PostParseError("a post needs an external id")
        if self.created_at.tzinfo is None or self.created_at.utcoffset() != UTC.utcoffset(None):
            raise PostParseError("created_at must be an aware UTC datetime")
        if self.reason is not None:
            object.__setattr__(self, "reason", self.reason.strip()[:MAX_REASON].rstrip() or None)

    @property
    def key(self) -> tuple[str, str]:
        """The idempotency key: the same post read twice is stored once."""
        return (self.source, self.external_id)


@dataclass(frozen=True, slots=True)
class Deletion:
    """A source told us a post (or every post of an author) must be hidden."""

    source: str
    external_id: str | None = None
    author_hash: str | None = None


def hash_author(salt: bytes, source: str, author: str) -> str:
    """HMAC-SHA256 of ``source:author`` under the deployment's salt (hex, 32 chars).

    The source is part of the message so that the same handle on two networks (different
    people, often) does not collapse into one author.
    """
    if not salt:
        raise ValueError("author hashing needs a non-empty salt")
    msg = f"{source}:{author.strip().lower()}".encode()
    return hmac.new(salt, msg, hashlib.sha256).hexdigest()[:32]


def to_utc(value: datetime) -> datetime:
    """Aware UTC; naive datetimes are taken to be UTC already (what our sources mean)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_timestamp(value: object) -> datetime:
    """RFC 3339 / ISO 8601 (``Z`` or offset), a datetime, or unix seconds → aware UTC."""
    if isinstance(value, datetime):
        return to_utc(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), UTC)
    if not isinstance(value, str) or not value.strip():
        raise PostParseError(f"not a timestamp: {value!r}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return to_utc(datetime.fromisoformat(text))
    except ValueError:
        pass
    for fmt in ("%Y-%m-%d %H:%M:%S %z", "%a %b %d %H:%M:%S %z %Y"):
        try:
            return to_utc(datetime.strptime(text, fmt))
        except ValueError:
            continue
    raise PostParseError(f"not a timestamp: {value!r}")


_TAG = re.compile(r"<[^>]*>")
_BLOCK = re.compile(r"</?(?:p|br|div|li|h[1-6])\b[^>]*>", re.IGNORECASE)
_SPACE = re.compile(r"[ \t\r\f\v]+")


def html_to_text(markup: str) -> str:
    """Strip tags, then unescape entities (that order, so ``&lt;b&gt;`` stays literal text)."""
    text = _BLOCK.sub("\n", markup)
    text = _TAG.sub("", text)
    text = html.unescape(text)
    lines = (_SPACE.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def as_int(value: object) -> int:
    """Engagement counts arrive as ints, strings or nulls; anything unusable counts as 0."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, str):
        try:
            return max(int(value.strip() or "0"), 0)
        except ValueError:
            return 0
    return 0
