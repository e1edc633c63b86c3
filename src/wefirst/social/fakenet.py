"""A fake Mastodon instance and Bluesky AppView speaking the real wire formats, for tests and
the demo: Account/Status JSON as Mastodon documents them with `Link`-header pagination
(`max_id`), and getLikes/getRepostedBy/getProfiles outputs with `cursor` pagination; and a
Jetstream (v1) websocket server on 127.0.0.1 (`FakeJetstream`) that replays from a `cursor`
and then sends what the fake network does live (`FakeNetwork.bsky_like` and friends emit the
commit frames and update the AppView's lists alike).

The HTTP side is an `httpx` handler (`handle`), so it runs behind `httpx.MockTransport` — under
the real outbound guard — without a socket. Names are invented; nothing here reaches a network."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx


@dataclass
class FakeAccount:
    name: str
    created_at: datetime
    posts: int
    bot: bool = False


def _iso(d: datetime) -> str:
    return d.strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class FakeNetwork:
    now: datetime  # when the fake's likes and reposts say they were made
    mastodon_host: str = "masto.example"
    bsky_host: str = "appview.example"
    accounts: dict[str, FakeAccount] = field(default_factory=dict)
    favourites: dict[str, list[str]] = field(default_factory=dict)  # status id → account names
    reblogs: dict[str, list[str]] = field(default_factory=dict)
    bsky_likes: dict[str, list[str]] = field(default_factory=dict)  # post AT-URI → account names
    bsky_reposts: dict[str, list[str]] = field(default_factory=dict)
    bsky_posts: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # (uri, name, record)
    requests: list[httpx.Request] = field(default_factory=list)
    jetstream: FakeJetstream | None = None  # where bsky_like & co. emit their commit frames
    # Mastodon posts by others (replies, quotes) and the brand's notifications, oldest first
    mastodon_statuses: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    mastodon_token: str | None = None  # the brand's: notifications, quotes and streams need it
    changed: threading.Condition = field(default_factory=threading.Condition)
    _rkeys: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def account(self, name: str, created_at: datetime, posts: int, bot: bool = False) -> str:
        self.accounts[name] = FakeAccount(name, created_at, posts, bot)
        return name

    def mastodon_url(self, name: str) -> str:
        return f"https://{self.mastodon_host}/@{name}"

    def did(self, name: str) -> str:
        return "did:plc:" + name.lower().ljust(24, "0")[:24]

    # --- Bluesky, live: Jetstream commit frames ------------------------------------------
    def commit_frame(self, name: str, at: datetime, operation: str, collection: str, rkey: str,
                record: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
        commit: dict[str, Any] = {"rev": f"3l{rkey}", "operation": operation, "collection": collection,
                                  "rkey": rkey}  # fmt: skip
        if record is not None:
            commit.update(record=record, cid=f"bafyrei{rkey}")
        frame = {"did": self.did(name), "time_us": int(at.timestamp() * 1_000_000), "kind": "commit",
                 "commit": commit}  # fmt: skip
        if self.jetstream is not None:
            self.jetstream.emit(frame)
        return frame

    def bsky_act(self, name: str, action: str, subject: str, at: datetime) -> str:
        """`name` likes or reposts `subject` now: the frame goes out on Jetstream and the
        AppView's list shows it. Returns the like/repost record's rkey (to undo it)."""
        collection = "app.bsky.feed.like" if action == "like" else "app.bsky.feed.repost"
        rkey = f"3lk{next(self._rkeys):010d}"
        (self.bsky_likes if action == "like" else self.bsky_reposts).setdefault(subject, []).append(name)
        record = {"$type": collection, "subject": {"uri": subject, "cid": "bafyreisubject"},
                  "createdAt": _iso(at)}  # fmt: skip
        self.commit_frame(name, at, "create", collection, rkey, record)
        return rkey

    def bsky_undo(self, name: str, action: str, subject: str, rkey: str, at: datetime) -> None:
        collection = "app.bsky.feed.like" if action == "like" else "app.bsky.feed.repost"
        table = self.bsky_likes if action == "like" else self.bsky_reposts
        table[subject].remove(name)
        self.commit_frame(name, at, "delete", collection, rkey)

    def bsky_post(self, name: str, text: str, at: datetime, *, tags: tuple[str, ...] = (),
                  reply_to: str | None = None, quote: str | None = None) -> str:  # fmt: skip
        """An original post (with hashtag facets), a reply or a quote; returns its AT-URI."""
        rkey = f"3lp{next(self._rkeys):010d}"
        record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": text, "createdAt": _iso(at),
                                  "langs": ["en"]}  # fmt: skip
        if tags:
            record["facets"] = [
                {"index": {"byteStart": 0, "byteEnd": len(t) + 1},
                 "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": t}]}
                for t in tags
            ]  # fmt: skip
        if reply_to is not None:
            ref = {"uri": reply_to, "cid": "bafyreiparent"}
            record["reply"] = {"root": ref, "parent": ref}
        if quote is not None:
            record["embed"] = {"$type": "app.bsky.embed.record", "record": {"uri": quote, "cid": "bafyreiq"}}
        self.commit_frame(name, at, "create", "app.bsky.feed.post", rkey, record)
        uri = f"at://{self.did(name)}/app.bsky.feed.post/{rkey}"
        self.bsky_posts.append((uri, name, record))
        return uri

    # --- Mastodon -----------------------------------------------------------------------
    def _mastodon_account(self, name: str, n: int) -> dict[str, object]:
        a = self.accounts[name]
        url = self.mastodon_url(name)
        return {
            "id": str(100000 + n), "username": name, "acct": name, "display_name": name,
            "locked": False, "bot": a.bot, "discoverable": True, "group": False,
            "created_at": _iso(a.created_at.replace(hour=0, minute=0, second=0)), "note": "",
            "url": url, "uri": f"https://{self.mastodon_host}/users/{name}",
            "avatar": f"https://{self.mastodon_host}/avatars/original/missing.png",
            "avatar_static": f"https://{self.mastodon_host}/avatars/original/missing.png",
            "header": f"https://{self.mastodon_host}/headers/original/missing.png",
            "header_static": f"https://{self.mastodon_host}/headers/original/missing.png",
            "followers_count": 0, "following_count": 0, "statuses_count": a.posts,
            "last_status_at": None, "emojis": [], "fields": [],
        }  # fmt: skip

    def _mastodon_list(self, request: httpx.Request, sid: str, names: list[str], kind: str) -> httpx.Response:
        # newest first, as Mastodon lists them; max_id = the position to continue after
        ordered = list(reversed(names))
        limit = min(int(request.url.params.get("limit", "40")), 80)
        start = int(request.url.params.get("max_id", "0"))
        page = ordered[start : start + limit]
        body = [self._mastodon_account(n, ordered.index(n)) for n in page]
        headers = {}
        if start + limit < len(ordered):
            base = f"https://{self.mastodon_host}/api/v1/statuses/{sid}/{kind}"
            nxt = f"{base}?limit={limit}&max_id={start + limit}"
            headers["Link"] = f'<{nxt}>; rel="next"'
        return httpx.Response(200, json=body, headers=headers)

    def mastodon_status(self, name: str, sid: str, at: datetime, **extra: Any) -> dict[str, Any]:
        """A Status as Mastodon's REST and streaming APIs give it (the fields wefirst reads)."""
        return {
            "id": sid, "created_at": _iso(at), "in_reply_to_id": None, "in_reply_to_account_id": None,
            "sensitive": False, "spoiler_text": "", "visibility": "public", "language": "fr",
            "uri": f"https://{self.mastodon_host}/users/{name}/statuses/{sid}",
            "url": f"https://{self.mastodon_host}/@{name}/{sid}", "replies_count": 0,
            "reblogs_count": 0, "favourites_count": 0, "quotes_count": 0, "edited_at": None,
            "content": "<p>…</p>", "reblog": None, "account": self._mastodon_account(name, 0),
            "media_attachments": [], "mentions": [], "tags": [], "emojis": [], "card": None,
            "poll": None, "quote": None, **extra,
        }  # fmt: skip

    def _notify(self, kind: str, name: str, at: datetime, status: dict[str, Any]) -> None:
        with self.changed:
            nid = str(900000 + len(self.notifications) + 1)
            account = self._mastodon_account(name, 0)
            self.notifications.append({"id": nid, "type": kind, "created_at": _iso(at),
                                       "group_key": f"ungrouped-{nid}", "account": account,
                                       "status": status})  # fmt: skip
            self.changed.notify_all()

    def masto_act(self, name: str, action: str, brand: str, sid: str, at: datetime) -> str | None:
        """`name` likes, boosts, replies to or quotes the brand's post `sid`: the lists change
        and the brand gets its notification (as its server would stream it). Returns the new
        post's URI for a reply or a quote."""
        post = self.mastodon_status(brand, sid, at)
        if action in ("like", "repost"):
            (self.favourites if action == "like" else self.reblogs).setdefault(sid, []).append(name)
            self._notify("favourite" if action == "like" else "reblog", name, at, post)
            return None
        own = str(700000 + len(self.mastodon_statuses) + 1)
        if action == "reply":
            st = self.mastodon_status(name, own, at, in_reply_to_id=sid)
        else:
            st = self.mastodon_status(name, own, at, quote={"state": "accepted", "quoted_status": post})
        self.mastodon_statuses.append(st)
        self._notify("mention" if action == "reply" else "quote", name, at, st)
        return str(st["uri"])

    def _authorized(self, request: httpx.Request) -> bool:
        return self.mastodon_token is not None and (
            request.headers.get("authorization") == f"Bearer {self.mastodon_token}"
        )

    def _mastodon_posts(self, request: httpx.Request, sid: str, kind: str) -> httpx.Response:
        if kind == "context":
            replies = [st for st in self.mastodon_statuses if st["in_reply_to_id"] == sid]
            return httpx.Response(200, json={"ancestors": [], "descendants": replies})
        if not self._authorized(request):  # quotes are listed to the post's author only
            return httpx.Response(401, json={"error": "The access token is invalid"})
        quotes = [st for st in reversed(self.mastodon_statuses)
                  if st["quote"] and st["quote"]["quoted_status"]["id"] == sid]  # fmt: skip
        return httpx.Response(200, json=quotes)

    def notifications_since(self, since_id: str | None) -> list[dict[str, Any]]:
        """Newest first, as `GET /api/v1/notifications?since_id=` answers (one page)."""
        with self.changed:
            found = [n for n in self.notifications if since_id is None or int(n["id"]) > int(since_id)]
        return list(reversed(found))[:80]

    # --- Bluesky --------------------------------------------------------------------------
    def _profile_basic(self, name: str) -> dict[str, object]:
        a = self.accounts[name]
        return {"did": self.did(name), "handle": f"{name}.bsky.example", "labels": [],
                "createdAt": _iso(a.created_at), "indexedAt": _iso(a.created_at)}  # fmt: skip

    def _profile_detailed(self, name: str) -> dict[str, object]:
        a = self.accounts[name]
        labels = [{"src": self.did(name), "uri": f"at://{self.did(name)}/app.bsky.actor.profile/self",
                   "val": "bot", "cts": _iso(a.created_at)}] if a.bot else []  # fmt: skip
        return {**self._profile_basic(name), "labels": labels, "followersCount": 0,
                "followsCount": 0, "postsCount": a.posts}  # fmt: skip

    def _bsky_page(self, request: httpx.Request, names: list[str], key: str) -> httpx.Response:
        limit = min(int(request.url.params.get("limit", "50")), 100)
        start = int(request.url.params.get("cursor", "0"))
        page = names[start : start + limit]
        uri = request.url.params.get("uri")
        if key == "likes":
            items: list[object] = [
                {"indexedAt": _iso(self.now), "createdAt": _iso(self.now), "actor": self._profile_basic(n)}
                for n in page
            ]  # fmt: skip
        else:
            items = [self._profile_basic(n) for n in page]
        body: dict[str, object] = {"uri": uri, key: items}
        if start + limit < len(names):
            body["cursor"] = str(start + limit)
        return httpx.Response(200, json=body)

    def _post_view(self, uri: str, name: str, record: dict[str, Any]) -> dict[str, object]:
        return {"uri": uri, "cid": "bafyrei" + uri.rsplit("/", 1)[-1], "author": self._profile_basic(name),
                "record": record, "replyCount": 0, "repostCount": 0, "likeCount": 0, "quoteCount": 0,
                "indexedAt": record["createdAt"], "labels": []}  # fmt: skip

    def _posts_page(self, request: httpx.Request, found: list[dict[str, object]]) -> httpx.Response:
        limit = min(int(request.url.params.get("limit", "25")), 100)
        start = int(request.url.params.get("cursor", "0"))
        body: dict[str, object] = {"posts": found[start : start + limit]}
        if request.url.path.endswith("getQuotes"):
            body["uri"] = request.url.params.get("uri")
        if start + limit < len(found):
            body["cursor"] = str(start + limit)
        return httpx.Response(200, json=body)

    def _bsky_posts_route(self, request: httpx.Request) -> httpx.Response | None:
        method = request.url.path.removeprefix("/xrpc/")
        uri = request.url.params.get("uri", "")
        tag = request.url.params.get("tag", "").casefold()

        def quotes(r: dict[str, Any]) -> bool:
            return bool((r.get("embed") or {}).get("record", {}).get("uri") == uri)

        def replies_to(r: dict[str, Any]) -> bool:
            return bool((r.get("reply") or {}).get("parent", {}).get("uri") == uri)

        def tagged(r: dict[str, Any]) -> bool:
            return any(
                f.get("tag", "").casefold() == tag for x in r.get("facets") or () for f in x["features"]
            )

        def views(keep: Callable[[dict[str, Any]], bool]) -> list[dict[str, object]]:
            return [self._post_view(u, n, r) for u, n, r in reversed(self.bsky_posts) if keep(r)]

        if method == "app.bsky.feed.getQuotes":
            return self._posts_page(request, views(quotes))
        if method == "app.bsky.feed.searchPosts":
            return self._posts_page(request, views(tagged))
        if method != "app.bsky.feed.getPostThread":
            return None
        replies = [{"$type": "app.bsky.feed.defs#threadViewPost", "post": v, "replies": []}
                   for v in reversed(views(replies_to))]  # fmt: skip
        brand = {"did": uri.split("/")[2], "handle": "brand.example"}
        root = {"uri": uri, "cid": "bafyreiroot", "author": brand,
                "record": {"$type": "app.bsky.feed.post", "text": "our post", "createdAt": _iso(self.now)},
                "indexedAt": _iso(self.now), "labels": []}  # fmt: skip
        thread = {"$type": "app.bsky.feed.defs#threadViewPost", "post": root, "replies": replies}
        return httpx.Response(200, json={"thread": thread})

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        host = request.headers.get("host", request.url.host)
        path = request.url.path
        if host == self.mastodon_host and path == "/api/v1/notifications":
            if not self._authorized(request):
                return httpx.Response(401, json={"error": "The access token is invalid"})
            return httpx.Response(200, json=self.notifications_since(request.url.params.get("since_id")))
        if host == self.mastodon_host and path.startswith("/api/v1/statuses/"):
            _, _, _, _, sid, kind = path.split("/")
            if kind in ("context", "quotes"):
                return self._mastodon_posts(request, sid, kind)
            table = self.favourites if kind == "favourited_by" else self.reblogs
            if kind not in ("favourited_by", "reblogged_by") or sid not in table:
                return httpx.Response(404, json={"error": "Record not found"})
            return self._mastodon_list(request, sid, table[sid], kind)
        if host == self.bsky_host and path == "/xrpc/app.bsky.feed.getLikes":
            return self._bsky_page(request, self.bsky_likes.get(request.url.params["uri"], []), "likes")
        if host == self.bsky_host and path == "/xrpc/app.bsky.feed.getRepostedBy":
            return self._bsky_page(
                request, self.bsky_reposts.get(request.url.params["uri"], []), "repostedBy"
            )
        if host == self.bsky_host:
            posts = self._bsky_posts_route(request)
            if posts is not None:
                return posts
        if host == self.bsky_host and path == "/xrpc/com.atproto.identity.resolveHandle":
            name = request.url.params.get("handle", "").removesuffix(".bsky.example")
            if name not in self.accounts:  # the AppView's answer for an unknown handle
                body = {"error": "InvalidRequest", "message": "Unable to resolve handle"}
                return httpx.Response(400, json=body)
            return httpx.Response(200, json={"did": self.did(name)})
        if host == self.bsky_host and path == "/xrpc/app.bsky.actor.getProfiles":
            by_did = {self.did(n): n for n in self.accounts}
            dids = request.url.params.get_list("actors")
            return httpx.Response(
                200, json={"profiles": [self._profile_detailed(by_did[d]) for d in dids if d in by_did]}
            )
        return httpx.Response(404, content=json.dumps({"error": "NotFound"}).encode())


class FakeJetstream:
    """A Jetstream v1 endpoint on 127.0.0.1 (`/subscribe`): a client's `cursor` replays the
    frames whose `time_us` is at or after it, then each new frame is sent as it is emitted.
    `drop_clients` closes every open connection (a network cut, to test reconnecting)."""

    def __init__(self) -> None:
        self.frames: list[str] = []
        self.paths: list[str] = []
        self._cond = threading.Condition()
        self._generation = 0
        self._closing = False
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def emit(self, frame: dict[str, Any]) -> None:
        with self._cond:
            self.frames.append(json.dumps(frame))
            self._cond.notify_all()

    def drop_clients(self) -> None:
        with self._cond:
            self._generation += 1
            self._cond.notify_all()

    def _news(self, generation: int, sent: int) -> Callable[[], bool]:
        return lambda: self._closing or self._generation != generation or len(self.frames) > sent

    def _handler(self, ws: Any) -> None:
        path = ws.request.path if ws.request is not None else "/"
        self.paths.append(path)
        cursor = parse_qs(urlsplit(path).query).get("cursor")
        start = int(cursor[0]) if cursor else None
        with self._cond:
            generation = self._generation
            i = len(self.frames) if start is None else 0
            if start is not None:
                while i < len(self.frames) and json.loads(self.frames[i])["time_us"] < start:
                    i += 1
        while True:
            with self._cond:
                self._cond.wait_for(self._news(generation, i), timeout=1.0)
                if self._closing or self._generation != generation:
                    break
                out = self.frames[i:]
                i = len(self.frames)
            for raw in out:
                ws.send(raw)
        ws.close()

    def start(self) -> str:
        from websockets.sync.server import serve

        self._server = serve(self._handler, "127.0.0.1", 0)
        port = self._server.socket.getsockname()[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="fake-jetstream")
        self._thread.start()
        self.url = f"ws://127.0.0.1:{port}/subscribe"
        return self.url

    def stop(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._server is not None:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)
