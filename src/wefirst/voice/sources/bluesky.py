"""Bluesky through Jetstream (JSON over a websocket, v1 wire), with a tolerant parser.

Tolerant means: unknown fields and event kinds are ignored, a frame that is not JSON or lacks
what we need is counted and skipped (never an exception out of the stream loop), and the v2
framing (``{"$type": "message", "payload": {...}}``) is understood too, so a server upgrade
does not silently stop ingestion.

The dedupe key is the AT-URI ``at://{did}/app.bsky.feed.post/{rkey}``. Ordering and the resume
cursor use ``time_us`` (when Jetstream saw the event), not the client-declared ``createdAt``;
we reconnect a few seconds before the last cursor and rely on idempotent storage to drop the
overlap.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from wefirst.voice.posts import (
    Deletion,
    Engagement,
    Post,
    PostParseError,
    hash_author,
    parse_timestamp,
)

SOURCE = "bluesky"
POST_COLLECTION = "app.bsky.feed.post"
DEFAULT_URL = "wss://jetstream2.us-east.bsky.network/subscribe"
RESUME_OVERLAP_US = 5_000_000
#: a client can declare any createdAt; beyond this skew from time_us we trust time_us
MAX_CLOCK_SKEW = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Parsed:
    """One frame's outcome: at most one post or deletion, and the cursor it carries."""

    item: Post | Deletion | None
    time_us: int | None


def _v2_to_v1(frame: Mapping[str, Any]) -> Mapping[str, Any] | None:
    payload = frame.get("payload")
    if not isinstance(payload, Mapping):
        return None
    kind = str(payload.get("$type", "")).rsplit("#", 1)[-1]
    if kind != "commit":
        return None
    when = payload.get("time")
    time_us = None
    if isinstance(when, str):
        try:
            time_us = int(parse_timestamp(when).timestamp() * 1_000_000)
        except PostParseError:
            time_us = None
    return {
        "did": payload.get("did"),
        "time_us": time_us,
        "kind": "commit",
        "commit": {k: payload.get(k) for k in ("operation", "collection", "rkey", "record")},
    }


def parse_event(raw: str | bytes | Mapping[str, Any], salt: bytes) -> Parsed:
    """One Jetstream frame → Parsed. Raises PostParseError only for frames that are not JSON
    objects; everything else we do not use parses to ``Parsed(None, ...)``."""
    if isinstance(raw, str | bytes):
        try:
            frame = json.loads(raw)
        except ValueError as exc:
            raise PostParseError("frame is not JSON") from exc
    else:
        frame = raw
    if not isinstance(frame, Mapping):
        raise PostParseError("frame is not a JSON object")
    if frame.get("$type") == "message":
        converted = _v2_to_v1(frame)
        if converted is None:
            return Parsed(None, None)
        frame = converted
    time_us = frame.get("time_us")
    time_us = time_us if isinstance(time_us, int) and not isinstance(time_us, bool) else None
    did = frame.get("did")
    if not isinstance(did, str) or not did.startswith("did:"):
        return Parsed(None, time_us)
    kind = frame.get("kind")
    if kind == "account":
        account = frame.get("account")
        if isinstance(account, Mapping) and account.get("active") is False:
            return Parsed(Deletion(SOURCE, author_hash=hash_author(salt, SOURCE, did)), time_us)
        return Parsed(None, time_us)
    commit = frame.get("commit")
    if kind != "commit" or not isinstance(commit, Mapping):
        return Parsed(None, time_us)
    if commit.get("collection") != POST_COLLECTION:
        return Parsed(None, time_us)
    rkey = commit.get("rkey")
    if not isinstance(rkey, str) or not rkey:
        return Parsed(None, time_us)
    uri = f"at://{did}/{POST_COLLECTION}/{rkey}"
    operation = commit.get("operation")
    if operation == "delete":
        return Parsed(Deletion(SOURCE, external_id=uri), time_us)
    if operation not in ("create", "update"):
        return Parsed(None, time_us)
    record = commit.get("record")
    if not isinstance(record, Mapping):
        return Parsed(None, time_us)
    return Parsed(_post(did, rkey, uri, record, time_us, salt), time_us)


def _post(
    did: str, rkey: str, uri: str, record: Mapping[str, Any], time_us: int | None, salt: bytes
) -> Post | None:
    text = record.get("text")
    text = text if isinstance(text, str) else ""
    embed = record.get("embed")
    if isinstance(embed, Mapping):
        external = embed.get("external")
        if isinstance(external, Mapping) and isinstance(external.get("title"), str):
            text = f"{text}\n{external['title']}".strip()
    if not text:
        return None
    seen = datetime.fromtimestamp(time_us / 1_000_000, UTC) if time_us else None
    try:
        created = parse_timestamp(record.get("createdAt"))
    except PostParseError:
        created = None
    if created is None or (seen is not None and abs(created - seen) > MAX_CLOCK_SKEW):
        created = seen
    if created is None:
        return None
    tags: list[str] = []
    for facet in record.get("facets") or ():
        if not isinstance(facet, Mapping):
            continue
        for feature in facet.get("features") or ():
            if isinstance(feature, Mapping) and isinstance(feature.get("tag"), str):
                tags.append(feature["tag"])
    tags.extend(t for t in record.get("tags") or () if isinstance(t, str))
    langs = record.get("langs")
    language = None
    if isinstance(langs, list) and langs and isinstance(langs[0], str):
        language = langs[0].split("-")[0].lower() or None
    return Post(
        source=SOURCE,
        external_id=uri,
        author_hash=hash_author(salt, SOURCE, did),
        text=text,
        created_at=created,
        language=language,
        url=f"https://bsky.app/profile/{did}/post/{rkey}",
        engagement=Engagement(),
        tags=tuple(tags),
    )


class JetstreamSource:
    """Reads a Jetstream v1 endpoint; yields posts and deletions; reconnects with backoff."""

    def __init__(
        self,
        salt: bytes,
        url: str = DEFAULT_URL,
        cursor: int | None = None,
        open_timeout: float = 10.0,
        max_backoff: float = 60.0,
    ) -> None:
        self.salt = salt
        self.url = url
        self.cursor = cursor
        self.open_timeout = open_timeout
        self.max_backoff = max_backoff
        self.bad_frames = 0
        self.connections = 0

    def subscribe_url(self) -> str:
        params: list[tuple[str, str]] = [("wantedCollections", POST_COLLECTION)]
        if self.cursor is not None:
            params.append(("cursor", str(max(self.cursor - RESUME_OVERLAP_US, 0))))
        return f"{self.url}?{urlencode(params)}"

    async def events(self, reconnect: bool = True) -> AsyncIterator[Post | Deletion]:
        import websockets

        delay = 1.0
        while True:
            try:
                async with websockets.connect(
                    self.subscribe_url(), open_timeout=self.open_timeout, max_size=2**22
                ) as ws:
                    self.connections += 1
                    delay = 1.0
                    async for frame in ws:
                        try:
                            parsed = parse_event(frame, self.salt)
                        except PostParseError:
                            self.bad_frames += 1
                            continue
                        if parsed.time_us is not None:
                            self.cursor = max(self.cursor or 0, parsed.time_us)
                        if parsed.item is not None:
                            yield parsed.item
            except (OSError, websockets.exceptions.WebSocketException, TimeoutError):
                if not reconnect:
                    raise
            if not reconnect:
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_backoff)
