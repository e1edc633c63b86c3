"""RSS 2.0 / Atom blog feeds: fetched with httpx (timeouts, ETag / Last-Modified so an
unchanged feed costs a 304), parsed with feedparser from the bytes.

``feedparser.parse(url)`` has no timeout, hence the split. An entry's key is its guid/atom id,
else its link, else a hash of title and date (an RSS item may have neither guid nor link).
"""

from __future__ import annotations

import calendar
import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from wefirst.outbound import OutboundPolicy, OutboundRefused, TooLarge, TooSlow, read_bounded
from wefirst.voice.posts import Engagement, Post, hash_author, html_to_text

SOURCE = "rss"


def parse_feed(
    content: bytes,
    feed_url: str,
    salt: bytes,
    content_type: str = "application/xml",
    now: datetime | None = None,
) -> list[Post]:
    """Entries of a feed document → posts (oldest first). Undated entries get ``now``."""
    import feedparser

    doc = feedparser.parse(
        content, response_headers={"content-type": content_type, "content-location": feed_url}
    )
    feed_lang = str(doc.feed.get("language") or "").split("-")[0].lower() or None
    posts: list[Post] = []
    for entry in doc.entries:
        post = _entry(entry, feed_url, feed_lang, salt, now or datetime.now(UTC))
        if post is not None:
            posts.append(post)
    posts.sort(key=lambda p: p.created_at)
    return posts


def _entry(
    entry: Mapping[str, Any], feed_url: str, feed_lang: str | None, salt: bytes, now: datetime
) -> Post | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    created = datetime.fromtimestamp(calendar.timegm(parsed), UTC) if parsed else now
    title = str(entry.get("title") or "").strip()
    summary = html_to_text(str(entry.get("summary") or ""))
    text = "\n".join(t for t in (title, summary) if t)
    if not text:
        return None
    link = entry.get("link")
    key = entry.get("id") or link
    if not key:
        digest = hashlib.sha256(f"{feed_url}\n{title}\n{created.isoformat()}".encode())
        key = "sha256:" + digest.hexdigest()[:32]
    author = entry.get("author")
    language = None
    detail = entry.get("title_detail")
    if isinstance(detail, Mapping) and detail.get("language"):
        language = str(detail["language"]).split("-")[0].lower()
    return Post(
        source=SOURCE,
        external_id=str(key),
        # an author on a blog is the blog's, scoped by the feed so two "Tom"s stay apart
        author_hash=hash_author(salt, SOURCE, f"{feed_url}#{author or ''}"),
        text=text,
        created_at=created,
        language=language or feed_lang,
        url=str(link) if link else None,
        engagement=Engagement(),
    )


@dataclass(slots=True)
class FeedState:
    etag: str | None = None
    last_modified: str | None = None
    not_modified: int = 0
    fetched: int = 0
    errors: list[str] = field(default_factory=list)


class FeedFetcher:
    """Conditional GETs of a set of feeds; one ``FeedState`` per URL."""

    def __init__(
        self,
        salt: bytes,
        client: httpx.Client | None = None,
        timeout: float = 10.0,
        max_bytes: int = 5_000_000,
        policy: OutboundPolicy | None = None,
    ) -> None:
        self.salt = salt
        # feeds are URLs a brand chose: every request and redirect passes the outbound guard
        self.client = client or (policy or OutboundPolicy()).client(
            timeout=timeout,
            follow_redirects=True,
            headers={"User-Agent": "wefirst-voice/1 (+https://wefirst.org)"},
        )
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.states: dict[str, FeedState] = {}

    def fetch(self, url: str) -> list[Post]:
        """New or changed entries are the caller's business (storage is idempotent); a 304 or
        an error yields nothing and is recorded in the feed's state."""
        state = self.states.setdefault(url, FeedState())
        headers: dict[str, str] = {}
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        deadline = time.monotonic() + 3 * self.timeout
        try:
            with self.client.stream("GET", url, headers=headers) as response:
                if response.status_code == 304:
                    state.not_modified += 1
                    return []
                if response.status_code != 200:
                    state.errors.append(f"HTTP {response.status_code}")
                    return []
                content = read_bounded(response, max_bytes=self.max_bytes, deadline=deadline)
        except OutboundRefused:
            state.errors.append("refused")  # a category, never an internal address
            return []
        except httpx.HTTPError as exc:
            state.errors.append(type(exc).__name__)
            return []
        except TooLarge:
            state.errors.append("feed too large")
            return []
        except TooSlow:
            state.errors.append("feed too slow")
            return []
        state.fetched += 1
        state.etag = response.headers.get("etag") or state.etag
        state.last_modified = response.headers.get("last-modified") or state.last_modified
        content_type = response.headers.get("content-type", "application/xml")
        return parse_feed(content, url, self.salt, content_type)

    def close(self) -> None:
        self.client.close()
