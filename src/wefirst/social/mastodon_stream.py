"""Mastodon, live: the brand's notifications as they happen (streaming API, server-sent events).

Who liked, boosted, replied to or quoted the brand's post is told to the brand: its server sends
a `notification` event (`favourite`, `reblog`, `mention`, `quote`) on
`GET /api/v1/streaming/user/notification`, which — like every stream since Mastodon 4.2 — needs a
user token: the brand's own, sealed (`social/tokens.py`). Mastodon streams do not replay, so a
reader resumes with `GET /api/v1/notifications?since_id=<cursor>` right after the stream
answers (the stream is open first: nothing falls between the two); what it sees twice is
skipped by notification id here and would be a `duplicate` by commitment anyway (the stream and
the lists — favourited_by, context, quotes — give the same commitments). The follower commits
the last notification id with the pledges it led to (`social_cursors`)."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import httpx

from wefirst.domain.social import SocialAction, SocialActionKind
from wefirst.social.sources import SourceError, _when, mastodon_account, mastodon_post, quoted_id

STREAM_PATH = "/api/v1/streaming/user/notification"
KINDS = ("favourite", "reblog", "mention", "quote")


def sse_events(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(event, data) from server-sent event lines; `:` lines are heartbeats."""
    event, data = "", list[str]()
    for line in lines:
        if line == "":
            if data:
                yield event or "message", "\n".join(data)
            event, data = "", []
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)


def notification_action(n: Mapping[str, Any], targets: Mapping[str, str]) -> SocialAction | None:
    """The action a notification tells, on one of `targets` (the brand's post id on this
    server → the rule's target, its URL); None for another post or another kind."""
    status, acc = n.get("status"), n.get("account")
    if not isinstance(status, Mapping) or not isinstance(acc, Mapping):
        return None
    kind = n.get("type")
    if kind in ("favourite", "reblog"):
        target = targets.get(str(status.get("id")))
        when = _when(n.get("created_at"))
        if target is None or when is None:
            return None
        action: SocialActionKind = "like" if kind == "favourite" else "repost"
        return SocialAction("mastodon", action, target, mastodon_account(acc), when)
    if kind == "mention":
        target = targets.get(str(status.get("in_reply_to_id")))
        return mastodon_post("reply", target, status) if target is not None else None
    if kind == "quote":
        target = targets.get(quoted_id(status) or "")
        return mastodon_post("quote", target, status) if target is not None else None
    return None


@dataclass(frozen=True)
class Notification:
    source: str  # the cursor's name: "mastodon <server> <brand>"
    server: str  # https://host, as rule targets name it
    id: int
    body: Mapping[str, Any]


class MastodonReader:
    """Holds one brand's notification stream on one server and queues what it says; on every
    (re)connection, catches up from the last notification it queued (the committed cursor on
    the first)."""

    def __init__(
        self,
        source: str,
        server: str,
        base: str,
        token: str,
        client: Callable[[], AbstractContextManager[httpx.Client]],
        start: int | None,
        out: queue.Queue[Notification],
        stop: threading.Event,
    ) -> None:
        self.source, self.server, self.base = source, server, base.rstrip("/")
        self.token, self.client = token, client
        self.last = start
        self.out = out
        self.stop = stop
        self.connections = 0
        self.failures = 0
        self.say: Callable[[str], None] | None = None  # where a failed connection is told

    def _take(self, body: Any) -> None:
        try:
            nid = int(body["id"])
        except (KeyError, TypeError, ValueError):
            return
        if self.last is not None and nid <= self.last:
            return  # seen on the catch-up and again on the stream
        self.out.put(Notification(self.source, self.server, nid, body))
        self.last = nid

    def catch_up(self, http: httpx.Client) -> None:
        params: dict[str, Any] = {"limit": 80, "types[]": list(KINDS)}
        if self.last is not None:
            params["since_id"] = str(self.last)
        r = http.get(f"{self.base}/api/v1/notifications", params=params, headers=self._auth())
        if r.status_code != 200:
            raise SourceError(f"notifications: HTTP {r.status_code}")
        page = r.json()
        for body in reversed(page if isinstance(page, list) else []):  # oldest first
            self._take(body)

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def _until_stopped(self, lines: Iterator[str]) -> Iterator[str]:
        """Lines until the follower stops: a heartbeat (every ~15 s) is enough to notice."""
        for line in lines:
            if self.stop.is_set():
                return
            yield line

    def run(self) -> None:
        delay = 1.0
        while not self.stop.is_set():
            try:
                with self.client() as http, http.stream(
                    "GET", self.base + STREAM_PATH, headers=self._auth(),
                    timeout=httpx.Timeout(10.0, read=90.0),  # the server sends a heartbeat every ~15 s
                ) as r:  # fmt: skip
                    if r.status_code != 200:
                        why = " (the brand's token is refused)" if r.status_code in (401, 403) else ""
                        raise SourceError(f"stream: HTTP {r.status_code}{why}")
                    self.connections += 1
                    self.catch_up(http)
                    delay = 1.0
                    for event, data in sse_events(self._until_stopped(r.iter_lines())):
                        if event == "notification":
                            self._take(json.loads(data))
            except Exception as exc:  # closed, refused, reset, bad token: wait, then reconnect from `last`
                self.failures += 1
                if self.say is not None:
                    self.say(f"social follow: {self.source}: {exc}; reconnecting")
                delay = min(delay * 2, 60.0)
            self.stop.wait(delay)
