"""`wefirst voice listen`: live sources in, posts through the service, alerts out."""

from __future__ import annotations

import queue
import threading
import time
from collections import defaultdict
from typing import Any

import httpx
from sqlalchemy import Connection, select

from wefirst.outbound import OutboundPolicy
from wefirst.secretbox import SecretBox, SecretBoxError
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_voice import voice_brand_settings
from wefirst.voice.brand_settings import SEALED, open_token
from wefirst.voice.post_store import author_salt, hide
from wefirst.voice.posts import Deletion, Post
from wefirst.voice.service import VoiceService
from wefirst.voice.sources.mastodon import MastodonSource
from wefirst.voice.sources.rss import FeedFetcher
from wefirst.webhooks import worker as webhook_worker


def live_sources(conn: Connection) -> dict[str, Any]:
    """The union of every brand's configured live sources (one connection per source, the
    matcher then assigns posts to brands)."""
    mastodon: dict[tuple[str, bool], set[str]] = defaultdict(set)
    streams: list[tuple[str, bool, tuple[str, ...], str, dict[str, Any]]] = []
    rss: set[str] = set()
    bluesky = False
    for row in conn.execute(select(voice_brand_settings.c.brand_id, voice_brand_settings.c.sources)):
        src = row.sources or {}
        for m in src.get("mastodon") or ():
            tags = tuple(sorted(h.lstrip("#") for h in m.get("hashtags") or ()))
            if m.get(SEALED):
                # streaming needs a user token (Mastodon >= 4.2): the brand's own, stored sealed
                # (voice/brand_settings.py); never anything of this process's environment
                streams.append((str(m["server"]), bool(m.get("public")), tags, row.brand_id, dict(m)))
            else:
                mastodon[(str(m["server"]), bool(m.get("public")))].update(tags)
        rss.update(src.get("rss") or ())
        bluesky = bluesky or bool(src.get("bluesky"))
    return {
        "mastodon": [(server, public, sorted(tags)) for (server, public), tags in sorted(mastodon.items())],
        "mastodon_streams": sorted(streams, key=lambda s: (s[0], s[3], s[2])),
        "rss": sorted(rss),
        "bluesky": bluesky,
    }


def listen(
    db: Database,
    settings: Settings,
    *,
    once: bool = False,
    duration: float | None = None,
    console: Any = None,
    service: VoiceService | None = None,
) -> dict[str, int]:
    """`wefirst voice listen`: poll Mastodon timelines and RSS feeds every
    ``voice_poll_seconds``, stream Bluesky Jetstream in a thread, and push what arrives through
    the pipeline about once a second (a group commit, not one per post)."""
    return Listener(db, settings, console=console, service=service).run(once=once, duration=duration)


class Listener:
    """One run of `wefirst voice listen`: its sources, the inbox their threads fill, and the
    counts it reports. This process sends the alerts it raises (and any other due webhook:
    workers share the queue through leases), so listening needs no API server beside it."""

    def __init__(
        self, db: Database, settings: Settings, *, console: Any = None, service: VoiceService | None = None
    ) -> None:
        self.db = db
        self.settings = settings
        self.console = console
        self.sender = webhook_worker.from_settings(db, settings)
        self.svc = service or VoiceService(db, settings)
        self.stats = {"posts": 0, "matched": 0, "new": 0, "deletions": 0, "events": 0, "errors": 0}
        self.salt = author_salt(settings)
        self.inbox: queue.Queue[Post | Deletion] = queue.Queue()
        self.stop = threading.Event()
        self.policy = OutboundPolicy.from_settings(settings)
        self.mastodons: list[MastodonSource] = []
        self.feeds = FeedFetcher(self.salt, policy=self.policy)
        self.rss: list[str] = []

    def say(self, message: str) -> None:
        if self.console is not None:
            self.console.print(message, highlight=False)

    def reachable(self, server: str) -> bool:
        """Mastodon.py makes its own requests: its servers are checked before use (a name
        that later resolves elsewhere is not caught here; feeds and webhooks connect to the
        checked address)."""
        try:
            self.policy.check_url(server)
        except httpx.HTTPError:
            self.stats["errors"] += 1
            self.say(f"mastodon {server}: refused by the outbound guard")
            return False
        return True

    def run(self, *, once: bool = False, duration: float | None = None) -> dict[str, int]:
        self.svc.sink.on_queued = self.sender.wake
        self.sender.start()
        self.svc.warm_up()
        with self.db.read() as conn:
            sources = live_sources(conn)
        self.rss = sources["rss"]
        self.mastodons = [
            MastodonSource(server, self.salt, hashtags=tags, public=public, policy=self.policy)
            for server, public, tags in sources["mastodon"]
            if self.reachable(server)
        ]
        self.start_streams(sources["mastodon_streams"])
        if sources["bluesky"] and not once:
            threading.Thread(
                target=_bluesky_worker,
                args=(self.settings, self.salt, self.inbox, self.stop),
                daemon=True,
                name="voice-jetstream",
            ).start()
        started = time.monotonic()
        next_poll = 0.0
        try:
            while True:
                now = time.monotonic()
                if now >= next_poll:
                    self.poll()
                    next_poll = now + self.settings.voice_poll_seconds
                self.drain()
                if once or (duration is not None and now - started >= duration):
                    break
                time.sleep(1.0)
        finally:
            self.stop.set()
            self.feeds.close()
            self.sender.run_until_idle()  # what is due now leaves before the process does
            self.sender.stop()
        return self.stats

    def start_streams(self, streams: list[tuple[str, bool, tuple[str, ...], str, dict[str, Any]]]) -> None:
        """One streaming thread per Mastodon source that carries the brand's own sealed token."""
        box = SecretBox.from_settings(self.settings)
        for server, public, tags, brand_id, source in streams:
            if not self.reachable(server):
                continue
            try:
                token = open_token(box, brand_id, source)
            except SecretBoxError:
                token = None
            if token is None:
                self.stats["errors"] += 1
                self.say(f"mastodon {server}: the stored token does not open; not streaming")
                continue
            streamer = MastodonSource(
                server, self.salt, hashtags=list(tags), public=public, access_token=token, policy=self.policy
            )
            threading.Thread(
                target=_mastodon_worker,
                args=(streamer, self.inbox, self.stop),
                daemon=True,
                name=f"voice-mastodon-{server}",
            ).start()

    def poll(self) -> None:
        if self.svc.refresh():  # a brand changed its settings: new terms, maybe new sources
            with self.db.read() as conn:
                fresh = live_sources(conn)
            known = {(m.api_base_url, m.public, tuple(m.hashtags)) for m in self.mastodons}
            for server, public, tags in fresh["mastodon"]:
                if (server.rstrip("/"), public, tuple(tags)) not in known and self.reachable(server):
                    self.mastodons.append(
                        MastodonSource(server, self.salt, hashtags=tags, public=public, policy=self.policy)
                    )
            self.rss = fresh["rss"]
        for source in self.mastodons:
            try:
                for p in source.poll():
                    self.inbox.put(p)
            except Exception as exc:  # a server down must not stop the others
                self.stats["errors"] += 1
                self.say(f"mastodon {source.api_base_url}: {exc}")
        for url in self.rss:
            for p in self.feeds.fetch(url):
                self.inbox.put(p)

    def flush(self, batch: list[Post]) -> None:
        if batch:
            result = self.svc.ingest(batch)
            self.stats["posts"] += result.seen
            self.stats["matched"] += result.matched
            self.stats["new"] += result.new
            self.stats["events"] += len(result.events)
            batch.clear()

    def drain(self) -> None:
        batch: list[Post] = []
        while True:
            try:
                item = self.inbox.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, Deletion):
                self.flush(batch)  # a delete may concern a post of this very batch
                self.stats["deletions"] += hide(self.db, item)
            else:
                batch.append(item)
        self.flush(batch)
        self.stats["events"] += len(self.svc.tick())


def _mastodon_worker(source: Any, inbox: Any, stop: Any) -> None:
    """Stream until told to stop; reconnect with backoff when the server closes or fails."""
    delay = 1.0
    while not stop.is_set():
        try:
            source.stream(inbox.put)
            delay = 1.0
        except Exception:  # network errors of any kind: wait, then reconnect
            delay = min(delay * 2, 60.0)
        stop.wait(delay)


def _bluesky_worker(settings: Settings, salt: bytes, inbox: Any, stop: Any) -> None:
    import asyncio

    from wefirst.voice.sources.bluesky import JetstreamSource

    async def consume() -> None:
        source = JetstreamSource(salt, url=settings.voice_jetstream_url)
        async for item in source.events(reconnect=True):
            if stop.is_set():
                return
            inbox.put(item)

    asyncio.run(consume())
