"""File import: CSV (RFC 4180, quoted newlines) and JSONL, with a column mapping.

Known layouts are recognised from the header, so the shared airline and scandal data import
as they are; any other file names its columns (``ColumnMapping``). A row that cannot become a
post is reported with its line number and skipped; the rest of the file still imports.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TextIO

from wefirst.voice.posts import (
    Engagement,
    Post,
    PostParseError,
    as_int,
    hash_author,
    parse_timestamp,
)

SOURCE = "file"


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    text: str = "text"
    created_at: str = "created_at"
    id: str | None = "id"
    author: str | None = "author"
    language: str | None = "language"
    url: str | None = "url"
    url_template: str | None = None  # e.g. "https://twitter.com/i/web/status/{id}"
    likes: str | None = "likes"
    reposts: str | None = "reposts"
    replies: str | None = "replies"
    label: str | None = None
    reason: str | None = None
    #: a fixed language for every row when the file has no language column
    default_language: str | None = None
    #: prefix of external ids, so ids from two unrelated files never collide
    namespace: str = ""

    @classmethod
    def from_options(cls, base: ColumnMapping, options: Mapping[str, str]) -> ColumnMapping:
        """Override some columns (``--column text=body``); unknown names are an error."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - names)
        if unknown:
            raise ValueError(f"unknown mapping keys: {', '.join(unknown)}")
        changes: dict[str, Any] = {k: (v or None) for k, v in options.items()}
        return replace(base, **changes)


PRESETS: dict[str, ColumnMapping] = {
    # Twitter US Airline Sentiment (Kaggle Tweets.csv): ../shared/data/voice/airline_*.csv
    "airline": ColumnMapping(
        text="text",
        created_at="tweet_created",
        id="tweet_id",
        author="name",
        language=None,
        url=None,
        url_template="https://twitter.com/i/web/status/{id}",
        likes=None,
        reposts="retweet_count",
        replies=None,
        label="airline_sentiment",
        reason="negativereason",
        default_language="en",
        namespace="twitter:",
    ),
    # officinadata scandal top tweets: no tweet id, so the key is a content hash
    "scandals": ColumnMapping(
        text="text",
        created_at="created_at",
        id=None,
        author="user_username",
        language=None,
        url=None,
        likes="like_count",
        reposts="retweet_count",
        replies="reply_count",
        namespace="twitter:",
    ),
    "generic": ColumnMapping(),
}


def detect_preset(header: list[str]) -> str:
    cols = set(header)
    if {"tweet_id", "tweet_created", "text", "airline_sentiment"} <= cols:
        return "airline"
    if {"user_username", "created_at", "text", "like_count"} <= cols:
        return "scandals"
    return "generic"


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    reason: str


@dataclass(slots=True)
class FileRead:
    posts: list[Post] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    preset: str = "generic"
    rows: int = 0


def _cell(row: Mapping[str, Any], column: str | None) -> str | None:
    if not column:
        return None
    value = row.get(column)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def row_to_post(row: Mapping[str, Any], mapping: ColumnMapping, salt: bytes) -> Post:
    text = _cell(row, mapping.text)
    if text is None:
        raise PostParseError(f"empty or missing text column {mapping.text!r}")
    created = parse_timestamp(_cell(row, mapping.created_at))
    author = _cell(row, mapping.author)
    raw_id = _cell(row, mapping.id)
    if raw_id is None:
        digest = hashlib.sha256(f"{created.isoformat()}\n{author or ''}\n{text}".encode())
        raw_id = "sha256:" + digest.hexdigest()[:32]
    url = _cell(row, mapping.url)
    if url is None and mapping.url_template and not raw_id.startswith("sha256:"):
        url = mapping.url_template.format(id=raw_id)
    language = _cell(row, mapping.language) or mapping.default_language
    label = _cell(row, mapping.label)
    return Post(
        source=SOURCE,
        external_id=mapping.namespace + raw_id,
        author_hash=hash_author(salt, SOURCE, author) if author else None,
        text=text,
        created_at=created,
        language=language.lower()[:2] if language else None,
        url=url,
        engagement=Engagement(
            replies=as_int(_cell(row, mapping.replies)),
            reposts=as_int(_cell(row, mapping.reposts)),
            likes=as_int(_cell(row, mapping.likes)),
        ),
        source_label=label.lower() if label else None,
        reason=_cell(row, mapping.reason),
    )


Rows = Iterator[tuple[int, Mapping[str, Any]]]


@contextmanager
def _rows(path: Path) -> Iterator[tuple[list[str], Rows]]:
    """The header (the first JSON object's keys for JSONL) and the rows with their line
    numbers; the file is closed when the block ends, also when the caller gives up early
    (a missing column) before reading any row."""
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        with path.open(encoding="utf-8") as handle:
            first: list[str] = []
            for line in handle:
                if line.strip():
                    try:
                        obj = json.loads(line)
                        first = list(obj) if isinstance(obj, dict) else []
                    except ValueError:
                        first = []
                    break
            handle.seek(0)
            yield first, _json_rows(handle)
        return
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        yield list(reader.fieldnames or []), _csv_rows(reader)


def _json_rows(handle: TextIO) -> Rows:
    for lineno, line in enumerate(handle, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            yield lineno, {"__error__": "line is not JSON"}
            continue
        yield lineno, obj if isinstance(obj, dict) else {"__error__": "not an object"}


def _csv_rows(reader: csv.DictReader[str]) -> Rows:
    start = reader.line_num + 1
    for row in reader:
        yield start, row  # the line the row starts on (quoted newlines span lines)
        start = reader.line_num + 1


def read_file(
    path: Path, salt: bytes, mapping: ColumnMapping | None = None, preset: str | None = None
) -> FileRead:
    """Read every row; posts come back sorted by time (the detector wants time order)."""
    with _rows(path) as (header, rows):
        name = preset or detect_preset(header)
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}")
        chosen = mapping or PRESETS[name]
        missing = [c for c in (chosen.text, chosen.created_at) if header and c not in header]
        if missing:
            raise ValueError(
                f"{path.name}: missing column(s) {', '.join(missing)}; header is {', '.join(header)}"
            )
        result = FileRead(preset=name if mapping is None else "custom")
        for lineno, row in rows:
            result.rows += 1
            if "__error__" in row:
                result.errors.append(RowError(lineno, str(row["__error__"])))
                continue
            try:
                result.posts.append(row_to_post(row, chosen, salt))
            except PostParseError as exc:
                result.errors.append(RowError(lineno, str(exc)))
        result.posts.sort(key=lambda p: p.created_at)
        return result
