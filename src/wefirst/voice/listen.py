"""`wefirst voice listen`: live sources in, posts through the service, alerts out."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import httpx
from sqlalchemy import Connection, select

from wefirst.ingest.connectors.crypto import SecretBox, SecretBoxError
from wefirst.outbound import OutboundPolicy
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_voice import voice_brand_settings
from wefirst.voice.brand_settings import SEALED, open_token
from wefirst.voice.post_store import author_salt, hide
from wefirst.voice.posts import Deletion, Post
from wefirst.voice.service import VoiceService
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
    import queue
    import threading
    import time

    from wefirst.voice.sources.mastodon import MastodonSource
    from wefirst.voice.sources.rss import FeedFetcher

    # This process sends the alerts it raises (and any other due webhook: workers share the
    # queue through leases), so listening needs no API server beside it.
    sender = webhook_worker.from_settings(db, settings)
    svc = service or VoiceService(db, settings)
    stats = {"posts": 0, "matched": 0, "new": 0, "deletions": 0, "events": 0, "errors": 0}
    svc.sink.on_queued = sender.wake
    sender.start()
    svc.warm_up()
    salt = author_salt(settings)
    with db.read() as conn:
        sources = live_sources(conn)
    inbox: queue.Queue[Post | Deletion] = queue.Queue()
    stop = threading.Event()
    policy = OutboundPolicy.from_settings(settings)

    def reachable(server: str) -> bool:
        """Mastodon.py makes its own requests: its servers are checked before use (a name
        that later resolves elsewhere is not caught here; feeds and webhooks connect to the
        checked address)."""
        try:
            policy.check_url(server)
        except httpx.HTTPError:
            stats["errors"] += 1
            if console is not None:
                console.print(f"mastodon {server}: refused by the outbound guard", highlight=False)
            return False
        return True

    mastodons = [
        MastodonSource(server, salt, hashtags=tags, public=public)
        for server, public, tags in sources["mastodon"]
        if reachable(server)
    ]
    feeds = FeedFetcher(salt, policy=policy)
    box = SecretBox.from_settings(settings)
    for server, public, tags, brand_id, source in sources["mastodon_streams"]:
        if not reachable(server):
            continue
        try:
            token = open_token(box, brand_id, source)
        except SecretBoxError:
            token = None
        if token is None:
            stats["errors"] += 1
            if console is not None:
                console.print(f"mastodon {server}: the stored token does not open; not streaming")
            continue
        streamer = MastodonSource(server, salt, hashtags=list(tags), public=public, access_token=token)
        threading.Thread(
            target=_mastodon_worker,
            args=(streamer, inbox, stop),
            daemon=True,
            name=f"voice-mastodon-{server}",
        ).start()
    if sources["bluesky"] and not once:
        threading.Thread(
            target=_bluesky_worker, args=(settings, salt, inbox, stop), daemon=True, name="voice-jetstream"
        ).start()

    def poll() -> None:
        if svc.refresh():  # a brand changed its settings: new terms, maybe new sources
            with db.read() as conn:
                fresh = live_sources(conn)
            known = {(m.api_base_url, m.public, tuple(m.hashtags)) for m in mastodons}
            for server, public, tags in fresh["mastodon"]:
                if (server.rstrip("/"), public, tuple(tags)) not in known and reachable(server):
                    mastodons.append(MastodonSource(server, salt, hashtags=tags, public=public))
            sources["rss"] = fresh["rss"]
        for source in mastodons:
            try:
                for p in source.poll():
                    inbox.put(p)
            except Exception as exc:  # a server down must not stop the others
                stats["errors"] += 1
                if console is not None:
                    console.print(f"mastodon {source.api_base_url}: {exc}", highlight=False)
        for url in sources["rss"]:
            for p in feeds.fetch(url):
                inbox.put(p)

    def flush(batch: list[Post]) -> None:
        if batch:
            result = svc.ingest(batch)
            stats["posts"] += result.seen
            stats["matched"] += result.matched
            stats["new"] += result.new
            stats["events"] += len(result.events)
            batch.clear()

    def drain() -> None:
        batch: list[Post] = []
        while True:
            try:
                item = inbox.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, Deletion):
                flush(batch)  # a delete may concern a post of this very batch
                stats["deletions"] += hide(db, item)
            else:
                batch.append(item)
        flush(batch)
        stats["events"] += len(svc.tick())

    started = time.monotonic()
    next_poll = 0.0
    try:
        while True:
            now = time.monotonic()
            if now >= next_poll:
                poll()
                next_poll = now + settings.voice_poll_seconds
            drain()
            if once or (duration is not None and now - started >= duration):
                break
            time.sleep(1.0)
    finally:
        stop.set()
        feeds.close()
        sender.run_until_idle()  # what is due now leaves before the process does
        sender.stop()
    return stats


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
