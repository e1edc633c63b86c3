"""Mastodon: hashtag and public timelines (REST, polled forward with ``min_id``) and streaming,
through Mastodon.py.

The dedupe key is the status ``uri`` (global), not ``id`` (local to the server we asked): the
same post has a different id on every server. A boost counts its inner status once. Stream
payloads differ by event in Mastodon.py 2.3.3 (``update`` is cast, ``status.update`` is not), so
everything goes through one parser that accepts both.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from wefirst.outbound import OutboundPolicy
from wefirst.voice.posts import (
    Deletion,
    Engagement,
    Post,
    PostParseError,
    as_int,
    hash_author,
    html_to_text,
    parse_timestamp,
)

SOURCE = "mastodon"


def parse_status(status: Mapping[str, Any], salt: bytes) -> Post | None:
    """A Status (raw JSON dict or Mastodon.py's Status) → Post; None for non-public posts."""
    if not isinstance(status, Mapping):
        raise PostParseError("a status must be a JSON object")
    inner = status.get("reblog")
    if isinstance(inner, Mapping):
        status = inner
    if status.get("visibility", "public") not in ("public", "unlisted"):
        return None
    uri = status.get("uri") or status.get("url")
    if not isinstance(uri, str) or not uri:
        raise PostParseError("status has no uri")
    text = html_to_text(str(status.get("content") or ""))
    spoiler = str(status.get("spoiler_text") or "").strip()
    if spoiler:
        text = f"{spoiler}\n{text}"
    card = status.get("card")
    if isinstance(card, Mapping) and card.get("title"):
        # a linked blog post's title is often the only mention of the brand
        text = f"{text}\n{card.get('title')}".strip()
    account = status.get("account")
    acct = account.get("acct") if isinstance(account, Mapping) else None
    language = status.get("language")
    tags = tuple(str(t["name"]) for t in status.get("tags") or () if isinstance(t, Mapping) and t.get("name"))
    url = status.get("url")
    return Post(
        source=SOURCE,
        external_id=uri,
        author_hash=hash_author(salt, SOURCE, str(acct)) if acct else None,
        text=text,
        created_at=parse_timestamp(status.get("created_at")),
        language=str(language).lower()[:2] if language else None,
        url=str(url) if url else uri,
        engagement=Engagement(
            replies=as_int(status.get("replies_count")),
            reposts=as_int(status.get("reblogs_count")),
            likes=as_int(status.get("favourites_count")),
        ),
        tags=tags,
    )


def _client(
    api_base_url: str, access_token: str | None, timeout: float, policy: OutboundPolicy | None
) -> Any:
    from mastodon import Mastodon

    return Mastodon(
        api_base_url=api_base_url,
        access_token=access_token,
        request_timeout=timeout,
        version_check_mode="none",
        ratelimit_method="throw",
        session=pinned_session(policy) if policy is not None else None,
    )


def pinned_session(policy: OutboundPolicy) -> Any:
    """A `requests` session (Mastodon.py's client) that goes through the outbound guard like
    our httpx clients: each request, redirects and the stream included, resolves the host once
    with the policy, is refused unless the address is allowed, and connects to that very address
    (the name kept for the Host header, SNI and the certificate check), so a second DNS answer
    cannot swap in a private address after the check (DNS rebinding). No proxy from the
    environment: the connection must go where the guard looked."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util import parse_url

    class PinnedAdapter(HTTPAdapter):
        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            url = parse_url(request.url)
            policy.check_scheme(httpx.URL(request.url))
            host = (url.host or "").strip("[]")
            address = policy.resolve(host, url.port or (443 if url.scheme == "https" else 80))
            if str(address) != host:
                request.headers["Host"] = url.netloc
                request.wefirst_name = host
                pinned = f"[{address}]" if address.version == 6 else str(address)
                request.url = url._replace(host=pinned).url
            return super().send(request, *args, **kwargs)

        def build_connection_pool_key_attributes(self, request: Any, verify: Any, cert: Any = None) -> Any:
            host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
            name = getattr(request, "wefirst_name", None)
            if name and host_params.get("scheme") == "https":
                pool_kwargs["server_hostname"] = name
                pool_kwargs["assert_hostname"] = name
            return host_params, pool_kwargs

    session = requests.Session()
    session.trust_env = False
    adapter = PinnedAdapter(max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class MastodonSource:
    """One server; hashtag timelines and/or the public timeline."""

    def __init__(
        self,
        api_base_url: str,
        salt: bytes,
        hashtags: Sequence[str] = (),
        public: bool = False,
        access_token: str | None = None,
        timeout: float = 15.0,
        policy: OutboundPolicy | None = None,
    ) -> None:
        self.api_base_url = api_base_url.rstrip("/")
        self.salt = salt
        self.hashtags = [h.lstrip("#") for h in hashtags]
        self.public = public
        self.access_token = access_token
        self.client = _client(self.api_base_url, access_token, timeout, policy)
        #: per timeline, the newest local id seen: the next poll asks only for newer ones
        self.since: dict[str, str] = {}
        #: local id → uri, because a delete event carries only the local id
        self.uri_by_id: dict[str, str] = {}
        self.errors = 0

    def _timelines(self) -> list[tuple[str, Callable[..., Any]]]:
        calls: list[tuple[str, Callable[..., Any]]] = []
        for tag in self.hashtags:
            calls.append((f"tag:{tag}", lambda tag=tag, **kw: self.client.timeline_hashtag(tag, **kw)))
        if self.public:
            calls.append(("public", lambda **kw: self.client.timeline_public(**kw)))
        return calls

    def poll(self, limit: int = 40) -> list[Post]:
        """New statuses since the last poll on every configured timeline, oldest first."""
        posts: list[Post] = []
        for name, call in self._timelines():
            since = self.since.get(name)
            page = call(limit=limit, min_id=since) if since else call(limit=limit)
            for status in page or ():
                local_id = str(status.get("id"))
                if _id_gt(local_id, self.since.get(name)):
                    self.since[name] = local_id
                try:
                    post = parse_status(status, self.salt)
                except PostParseError:
                    self.errors += 1
                    continue
                if post is not None:
                    self.uri_by_id[local_id] = post.external_id
                    posts.append(post)
        posts.sort(key=lambda p: p.created_at)
        return posts

    def stream(
        self,
        on_event: Callable[[Post | Deletion], None],
        run_async: bool = False,
    ) -> Any:
        """Stream the public timeline (or the first hashtag); needs a user token since 4.2."""
        from mastodon import StreamListener

        source = self

        class Listener(StreamListener):
            def on_update(self, status: Any) -> None:
                source._emit(status, on_event)

            def on_status_update(self, status: Any) -> None:
                source._emit(status, on_event)

            def on_delete(self, status_id: Any) -> None:
                uri = source.uri_by_id.get(str(status_id))
                if uri is not None:
                    on_event(Deletion(SOURCE, external_id=uri))

        listener = Listener()
        if self.public or not self.hashtags:
            return self.client.stream_public(listener, run_async=run_async)
        return self.client.stream_hashtag(self.hashtags[0], listener, run_async=run_async)

    def _emit(self, status: Any, on_event: Callable[[Post | Deletion], None]) -> None:
        try:
            post = parse_status(status, self.salt)
        except PostParseError:
            self.errors += 1
            return
        if post is not None:
            with _lock:
                self.uri_by_id[str(status.get("id"))] = post.external_id
            on_event(post)


_lock = threading.Lock()


def _id_gt(a: str, b: str | None) -> bool:
    """Mastodon ids are snowflake-like decimal strings: compare by length, then text."""
    if b is None:
        return True
    return (len(a), a) > (len(b), b)
