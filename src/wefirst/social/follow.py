"""The live follower: social actions pledged as they happen, and caught up after downtime.

One background thread (`SocialFollower`, started by the app when `WEFIRST_SOCIAL_FOLLOW` is on,
or by `wefirst social follow`) does two things:

- **Bluesky, live.** A reader thread holds a Jetstream websocket (`wantedCollections` = likes,
  reposts, posts) and queues the frames; about twice a second the follower matches them against
  the active campaigns' Bluesky rules in memory (the firehose is mostly other people's likes),
  reads the profiles of the few matching accounts (`getProfiles`, cached an hour, through the
  outbound guard), and pledges, refuses and reverses (deletes, by `record_ref`) in one
  transaction and one engine batch — with the stream's cursor (`time_us`) written in that same
  transaction. A crash loses nothing and repeats nothing: the next start resumes a few seconds
  before the committed cursor and what it sees again is a `duplicate`.
- **Backfill and Mastodon.** Every `social_poll_seconds` (and at start) each active campaign is
  polled (`poll.py`: Mastodon lists with Link-header pagination, the AppView's lists): what the
  stream missed while the process was down — or what Jetstream no longer holds — is counted
  then, and a like the stream already counted is a `duplicate` (the two agree on commitments).

A profile read that fails leaves the frames pending for the next round (never a `no_profile`
refusal for a network hiccup), and the cursor does not move past them."""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import Connection, select

from wefirst.background import BackgroundThread
from wefirst.catalog.service import load_campaign
from wefirst.domain.campaigns import PerSocialActionRule
from wefirst.domain.clock import utcnow
from wefirst.domain.social import Account, SocialAction, normalize_target, record_ref
from wefirst.outbound import OutboundPolicy
from wefirst.pledges.batch import Batch
from wefirst.pledges.social import apply_social_action, prefetch_seen, retract_records
from wefirst.secretbox import SecretBox
from wefirst.settings import Settings
from wefirst.social.jetstream import LIKE, POST, REPOST, actions_of, deleted_record, parse_frame, time_us
from wefirst.social.mastodon_stream import MastodonReader, Notification, notification_action
from wefirst.social.poll import poll_campaign
from wefirst.social.sources import BSKY_APPVIEW, SourceError, bluesky_profiles, mastodon_status_ref
from wefirst.social.tokens import server_of, tokens_for_servers
from wefirst.store.db import Database
from wefirst.store.tables_core import campaigns
from wefirst.store.tables_social import social_cursors

RESUME_OVERLAP_US = 5_000_000  # resume this far before the committed cursor (idempotent overlap)
PROFILE_TTL = 3600.0
MAX_FRAMES_PER_ROUND = 20_000
CURSOR_EVERY = 5.0  # seconds between cursor writes when nothing matched

Match = tuple[str, PerSocialActionRule]  # (campaign id, rule)


@dataclasses.dataclass(frozen=True)
class Targets:
    """What the active campaigns count, indexed for the stream: (network, action, normalised
    target) → the campaigns and rules counting it."""

    campaigns: tuple[str, ...] = ()
    rules: Mapping[tuple[str, str, str], tuple[Match, ...]] = dataclasses.field(default_factory=dict)

    def match(self, a: SocialAction) -> tuple[Match, ...]:
        return self.rules.get((a.network, a.action, normalize_target(a.action, a.target)), ())


def load_targets(conn: Connection) -> Targets:
    found: list[str] = []
    rules: dict[tuple[str, str, str], list[Match]] = {}
    ids = conn.execute(select(campaigns.c.id).where(campaigns.c.status == "active").order_by(campaigns.c.seq))
    for cid in (str(r[0]) for r in ids):
        social = [r for r in load_campaign(conn, cid).campaign.rules if isinstance(r, PerSocialActionRule)]
        if social:
            found.append(cid)
        for r in social:
            rules.setdefault((r.network, r.action, normalize_target(r.action, r.target)), []).append((cid, r))
    return Targets(tuple(found), {k: tuple(v) for k, v in rules.items()})


def read_cursor(conn: Connection, source: str) -> int | None:
    found = conn.execute(select(social_cursors.c.position).where(social_cursors.c.source == source)).scalar()
    return int(found) if found is not None else None


def write_cursor(conn: Connection, source: str, position: int, now: datetime) -> None:
    t = social_cursors
    done = conn.execute(t.update().where(t.c.source == source).values(position=position, updated_at=now))
    if done.rowcount == 0:
        conn.execute(t.insert().values(source=source, position=position, updated_at=now))


def subscribe_url(base: str, cursor: int | None) -> str:
    params = [("wantedCollections", c) for c in (LIKE, REPOST, POST)]
    if cursor is not None:
        params.append(("cursor", str(max(cursor - RESUME_OVERLAP_US, 0))))
    return f"{base}?{urlencode(params)}"


class JetstreamReader:
    """Holds the websocket and queues raw frames; reconnects with backoff from the last frame
    it received (the follower's committed cursor on the first connection)."""

    def __init__(self, url: str, start: int | None, frames: queue.Queue[str | bytes], stop: threading.Event):
        self.url = url
        self.last = start
        self.frames = frames
        self.stop = stop
        self.connections = 0
        self.paths: list[str] = []

    def run(self) -> None:
        from websockets.sync.client import connect

        delay = 1.0
        while not self.stop.is_set():
            try:
                url = subscribe_url(self.url, self.last)
                with connect(url, open_timeout=10, max_size=2**22) as ws:
                    self.connections += 1
                    self.paths.append(url)
                    delay = 1.0
                    while not self.stop.is_set():
                        try:
                            raw = ws.recv(timeout=0.5)
                        except TimeoutError:
                            continue
                        self.frames.put(raw)
                        frame = parse_frame(raw)
                        t = time_us(frame) if frame is not None else None
                        if t is not None:
                            self.last = max(self.last or 0, t)
            except Exception:  # closed, refused, reset: wait, then reconnect from `last`
                delay = min(delay * 2, 60.0)
            self.stop.wait(delay)


@dataclasses.dataclass(frozen=True)
class MastodonLive:
    """What following Mastodon live needs: the box that opens the brands' sealed tokens
    (streams and quotes answer only the post's author), and where to reach each server when
    not at its own address (tests, the demo)."""

    box: SecretBox
    servers: Mapping[str, str] = dataclasses.field(default_factory=dict)


class SocialFollower(BackgroundThread):
    thread_name = "wefirst-social-follow"

    def __init__(
        self,
        db: Database,
        client: Callable[[], AbstractContextManager[httpx.Client]],
        *,
        jetstream_url: str | None,
        poll_seconds: float,
        bsky_base: str = BSKY_APPVIEW,
        mastodon_instance: str | None = None,
        tick_seconds: float = 0.5,
        on_event: Callable[[str], None] | None = None,
        mastodon: MastodonLive | None = None,
    ) -> None:
        """Without `mastodon`, Mastodon is only polled (and its quotes not read)."""
        super().__init__()
        self.db = db
        self.client = client
        self.jetstream_url = jetstream_url
        self.source = f"jetstream {jetstream_url}"
        self.poll_seconds = poll_seconds
        self.bsky_base = bsky_base
        self.mastodon_instance = mastodon_instance
        self.tick = tick_seconds
        self.on_event = on_event
        self.frames: queue.Queue[str | bytes] = queue.Queue()
        self.pending: list[Mapping[str, Any]] = []
        self.profiles: dict[str, tuple[Account, float]] = {}
        self.targets = Targets()
        self.stats: dict[str, int] = {}
        self.position: int | None = None
        self.reader: JetstreamReader | None = None
        self.polls = 0
        self._cursor_written = 0.0
        self.box = mastodon.box if mastodon is not None else None
        self.mastodon_servers = dict(mastodon.servers) if mastodon is not None else {}
        self.notifications: queue.Queue[Notification] = queue.Queue()
        self.pending_notes: list[Notification] = []
        self.mastodon_readers: dict[str, MastodonReader] = {}
        self._reader_threads: list[threading.Thread] = []
        self.posts_by_server: dict[str, dict[str, str]] = {}  # server → post id → rule target

    def count(self, what: str, n: int = 1) -> None:
        self.stats[what] = self.stats.get(what, 0) + n

    def say(self, message: str) -> None:
        if self.on_event is not None:
            self.on_event(message)

    def _run(self) -> None:
        with self.db.read() as conn:
            self.position = read_cursor(conn, self.source)
        reader_thread = None
        if self.jetstream_url:
            self.reader = JetstreamReader(self.jetstream_url, self.position, self.frames, self._stop)
            reader_thread = threading.Thread(
                target=self.reader.run, name="wefirst-social-jetstream", daemon=True
            )
            reader_thread.start()
        next_poll = 0.0
        try:
            with self.client() as http:
                while not self._stop.is_set():
                    if time.monotonic() >= next_poll:
                        self.refresh_and_backfill(http)
                        next_poll = time.monotonic() + self.poll_seconds
                    try:
                        self.round(http)
                    except Exception as exc:  # a bad round must not end the follower
                        self.count("errors")
                        self.say(f"social follow: {exc}")
                    self._stop.wait(self.tick)
        finally:
            for t in [reader_thread, *self._reader_threads]:
                if t is not None:
                    t.join(5.0)

    def refresh_and_backfill(self, http: httpx.Client) -> None:
        with self.db.read() as conn:
            self.targets = load_targets(conn)
            self.posts_by_server = mastodon_posts(self.targets)
            try:
                self._start_mastodon_streams(conn)
            except Exception as exc:  # a token that no longer opens must not stop the follower
                self.count("errors")
                self.say(f"social follow: Mastodon streams not started ({exc})")
        for cid in self.targets.campaigns:
            try:
                result = poll_campaign(
                    self.db,
                    cid,
                    http,
                    utcnow(),
                    mastodon_instance=self.mastodon_instance,
                    bsky_base=self.bsky_base,
                    box=self.box,
                )
            except Exception as exc:  # one campaign's failure must not stop the others
                self.count("errors")
                self.say(f"social backfill {cid}: {exc}")
                continue
            for outcome, n in result.outcomes.items():
                self.count(outcome, n)
            for e in result.errors:
                self.count("errors")
                self.say(f"social backfill {cid}: {e}")
        self.polls += 1

    def _start_mastodon_streams(self, conn: Connection) -> None:
        """One notification stream per brand token on a server holding a counted post."""
        if self.box is None or not self.posts_by_server:
            return
        for (brand_id, server), token in tokens_for_servers(conn, self.box, "mastodon").items():
            source = f"mastodon {server} {brand_id}"
            if server not in self.posts_by_server or source in self.mastodon_readers:
                continue
            reader = MastodonReader(
                source, server, self.mastodon_servers.get(server, server), token, self.client,
                read_cursor(conn, source), self.notifications, self._stop,
            )  # fmt: skip
            reader.say = self.say
            self.mastodon_readers[source] = reader
            t = threading.Thread(target=reader.run, name="wefirst-social-mastodon", daemon=True)
            self._reader_threads.append(t)
            t.start()

    def _accounts(self, http: httpx.Client, dids: set[str]) -> dict[str, Account]:
        now = time.monotonic()
        fresh = {d: a for d, (a, t) in self.profiles.items() if d in dids and now - t < PROFILE_TTL}
        wanted = sorted(dids - fresh.keys())
        if wanted:
            got = bluesky_profiles(http, wanted, self.bsky_base)  # raises: the frames stay pending
            if len(self.profiles) > 50_000:
                self.profiles.clear()
            for d in wanted:
                acc = got.get(d) or Account(d, None, 0)
                self.profiles[d] = (acc, now)
                fresh[d] = acc
        return fresh

    def round(self, http: httpx.Client) -> int:
        """Process what the stream queued; returns the number of matching actions."""
        frames = self.pending
        self.pending = []
        while len(frames) < MAX_FRAMES_PER_ROUND:
            try:
                raw = self.frames.get_nowait()
            except queue.Empty:
                break
            frame = parse_frame(raw)
            if frame is not None:
                frames.append(frame)
        told = self._mastodon_round()
        if not frames:
            return told
        matched: list[tuple[Match, SocialAction]] = []
        deletes: list[str] = []
        top = self.position or 0
        for frame in frames:
            t = time_us(frame)
            if t is not None:
                top = max(top, t)
            gone = deleted_record(frame)
            if gone is not None:
                deletes.append(record_ref(gone))
                continue
            for a in actions_of(frame, {}):
                matched.extend((m, a) for m in self.targets.match(a))
        try:
            accounts = self._accounts(http, {a.account.uri for _, a in matched})
        except (SourceError, httpx.HTTPError) as exc:
            self.pending = frames  # retried next round; the cursor stays where it was
            self.count("errors")
            self.say(f"social follow: profiles not read ({exc}); retrying")
            return 0
        write_pos = bool(matched or deletes) or time.monotonic() - self._cursor_written >= CURSOR_EVERY
        if not matched and not deletes and not write_pos:
            self.position = top
            return 0
        acted = [
            (m, dataclasses.replace(a, account=accounts.get(a.account.uri, a.account))) for m, a in matched
        ]
        self._commit(acted, deletes, frames_top=top)
        self._cursor_written = time.monotonic()
        self.position = top
        return len(matched)

    def _mastodon_round(self) -> int:
        """The brands' Mastodon notifications queued by the readers: matched, pledged, and
        their cursors committed; kept for the next round if the transaction fails."""
        notes, self.pending_notes = self.pending_notes, []
        while True:
            try:
                notes.append(self.notifications.get_nowait())
            except queue.Empty:
                break
        if not notes:
            return 0
        cursors: dict[str, int] = {}
        matched: list[tuple[Match, SocialAction]] = []
        for n in notes:
            cursors[n.source] = max(cursors.get(n.source, 0), n.id)
            a = notification_action(n.body, self.posts_by_server.get(n.server, {}))
            if a is not None:
                matched.extend((m, a) for m in self.targets.match(a))
        try:
            self._commit(matched, [], cursors=cursors)
        except Exception:
            self.pending_notes = notes
            raise
        return len(matched)

    def _commit(
        self, matched: list[tuple[Match, SocialAction]], deletes: list[str], *,
        frames_top: int | None = None, cursors: Mapping[str, int] | None = None,
    ) -> None:  # fmt: skip
        """Pledge, refuse and reverse in one transaction with the cursors they came from."""
        now = utcnow()
        with self.db.write() as conn:
            batch = Batch(conn)
            for cid in sorted({cid for (cid, _), _ in matched}):
                prefetch_seen(batch, cid, [a for (c, _), a in matched if c == cid])
            for (cid, _rule), a in matched:
                self.count(apply_social_action(conn, cid, a, received_at=now, batch=batch).outcome)
            batch.flush()
            for outcome in retract_records(conn, deletes, at=now, batch=batch):
                self.count(outcome)
            batch.flush()
            if frames_top and self.jetstream_url:
                write_cursor(conn, self.source, frames_top, now)
            for source, position in (cursors or {}).items():
                write_cursor(conn, source, position, now)


def mastodon_posts(targets: Targets) -> dict[str, dict[str, str]]:
    """server → the counted post's id there → the rule's target (its URL): what a notification
    (which names the post by its id on the brand's server) is matched against."""
    out: dict[str, dict[str, str]] = {}
    for network, action, target in targets.rules:
        if network != "mastodon" or action == "hashtag_post":
            continue
        try:
            base, sid = mastodon_status_ref(target)
        except SourceError:
            continue
        out.setdefault(server_of(base), {})[sid] = target
    return out


def from_settings(db: Database, settings: Settings, **overrides: Any) -> SocialFollower:
    """The follower the app (`WEFIRST_SOCIAL_FOLLOW`) and `wefirst social follow` run: every
    request goes through the outbound guard."""
    policy = OutboundPolicy.from_settings(settings)
    options: dict[str, Any] = {
        "jetstream_url": settings.social_jetstream_url or None,
        "poll_seconds": float(settings.social_poll_seconds),
        "bsky_base": settings.social_bsky_appview.rstrip("/"),
        "mastodon_instance": settings.social_mastodon_instance,
        "mastodon": MastodonLive(SecretBox.from_settings(settings)),
    }
    options.update(overrides)
    return SocialFollower(db, lambda: policy.client(timeout=15.0), **options)
