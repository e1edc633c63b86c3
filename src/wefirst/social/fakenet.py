"""A fake Mastodon instance and Bluesky AppView speaking the real wire formats, for tests and
the demo: Account/Status JSON as Mastodon documents them with `Link`-header pagination
(`max_id`), and getLikes/getRepostedBy/getProfiles outputs with `cursor` pagination.

An `httpx` handler (`handle`), so it runs behind `httpx.MockTransport` — under the real
outbound guard — without a socket. Names are invented; nothing here reaches a network."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

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
    requests: list[httpx.Request] = field(default_factory=list)

    def account(self, name: str, created_at: datetime, posts: int, bot: bool = False) -> str:
        self.accounts[name] = FakeAccount(name, created_at, posts, bot)
        return name

    def mastodon_url(self, name: str) -> str:
        return f"https://{self.mastodon_host}/@{name}"

    def did(self, name: str) -> str:
        return "did:plc:" + name.lower().ljust(24, "0")[:24]

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

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        host = request.headers.get("host", request.url.host)
        path = request.url.path
        if host == self.mastodon_host and path.startswith("/api/v1/statuses/"):
            _, _, _, _, sid, kind = path.split("/")
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
        if host == self.bsky_host and path == "/xrpc/app.bsky.actor.getProfiles":
            by_did = {self.did(n): n for n in self.accounts}
            dids = request.url.params.get_list("actors")
            return httpx.Response(
                200, json={"profiles": [self._profile_detailed(by_did[d]) for d in dids if d in by_did]}
            )
        return httpx.Response(404, content=json.dumps({"error": "NotFound"}).encode())
