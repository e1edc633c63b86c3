"""Who liked, boosted or posted: read from the networks' public APIs, through the outbound guard.

- **Mastodon** (any instance): `GET /api/v1/statuses/:id/favourited_by` and `…/reblogged_by`
  (Account lists, paginated by the `Link` header's `rel="next"`), `GET /api/v1/timelines/tag/:tag`
  (Statuses, same pagination; boosts skipped: an original post counts), `…/:id/context` (its
  `descendants` whose `in_reply_to_id` is the post: direct replies) and `…/:id/quotes` (4.5+,
  listed only to the post's author: the brand's sealed token; only `accepted` quotes count).
  Account fields used: `url`, `created_at`, `statuses_count`, `bot`.
- **Bluesky** AppView (`https://public.api.bsky.app/xrpc/`): `app.bsky.feed.getLikes` and
  `app.bsky.feed.getRepostedBy` (cursor pagination); for posts, `app.bsky.feed.getQuotes`
  (quotes, cursor pagination), `app.bsky.feed.getPostThread` (`depth=1`: the direct replies)
  and `app.bsky.feed.searchPosts` (`tag=`, newest first: hashtag posts); then
  `app.bsky.actor.getProfiles` (the batched `getProfile`, 25 actors a call) for `createdAt`,
  `postsCount` and self-labels (`bot`). A post's time is the AppView's `indexedAt` (as the
  stream's `time_us`: a client can declare any `createdAt`); its commitment is its AT-URI, so
  the stream and the backfill agree.

A like or boost has no public URI these lists return, so its commitment is over
`<account> <action> <target>` (domain/social.py); a stream (Jetstream) gives the same values,
so a backfill after downtime meets what the stream counted as `duplicate`.

The `httpx.Client` is given: `OutboundPolicy.client` in production, so every request (each
page, each redirect) is checked — tests give the same guard over a fake network's transport."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from wefirst.domain.campaigns import PerSocialActionRule
from wefirst.domain.social import Account, SocialAction, SocialActionKind, normalize_target
from wefirst.voice.posts import PostParseError, parse_timestamp

MAX_PAGES = 500  # a bound on one poll: 500 pages of 80 accounts
BSKY_APPVIEW = "https://public.api.bsky.app"


class SourceError(Exception):
    """The network answered something we cannot read; the poll stops this rule, counts nothing."""


def _json(r: httpx.Response) -> Any:
    if r.status_code != 200:
        raise SourceError(f"{r.request.url.path}: HTTP {r.status_code}")
    try:
        return r.json()
    except ValueError as exc:
        raise SourceError(f"{r.request.url.path}: not JSON") from exc


def _when(v: Any) -> datetime | None:
    try:
        return parse_timestamp(v) if v else None
    except PostParseError:  # unknown: refused as no_profile, never guessed
        return None


def mastodon_account(a: Mapping[str, Any]) -> Account:
    url = a.get("url") or a.get("uri")
    if not isinstance(url, str) or not url:
        raise SourceError("account without url")
    posts = a.get("statuses_count")
    return Account(
        uri=url,
        created_at=_when(a.get("created_at")),
        posts=posts if isinstance(posts, int) else 0,
        bot=a.get("bot") is True,
    )


def mastodon_status_ref(target: str) -> tuple[str, str]:
    """https://instance/@user/123 → ("https://instance", "123")."""
    parts = urlsplit(target)
    sid = parts.path.rstrip("/").rsplit("/", 1)[-1]
    if parts.scheme != "https" or not parts.netloc or not sid.isdigit():
        raise SourceError("target: not a Mastodon status URL https://instance/@user/<id>")
    return f"https://{parts.netloc}", sid


def _bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def _mastodon_pages(
    client: httpx.Client, url: str, params: dict[str, Any], token: str | None = None
) -> Iterator[list[Any]]:
    next_url: str | None = url
    first = True
    for _ in range(MAX_PAGES):
        if next_url is None:
            return
        r = client.get(next_url, params=params if first else None, headers=_bearer(token))
        first = False
        if r.status_code in (401, 403) and token is None:
            raise SourceError(f"{r.request.url.path}: answered only to the post's author: set the "
                              "brand's token for this server (PUT /v1/brands/…/social/tokens)")  # fmt: skip
        page = _json(r)
        if not isinstance(page, list):
            raise SourceError("expected a JSON array")
        yield page
        nxt = r.links.get("next")
        next_url = nxt.get("url") if nxt else None
        if not page:
            return
    if next_url is not None:
        raise SourceError(f"more than {MAX_PAGES} pages: list not read to its end")


def mastodon_post(action: SocialActionKind, target: str, st: Mapping[str, Any]) -> SocialAction | None:
    """An original public post as the action it is (a reply, a quote, a hashtag post) on
    `target`; None for a boost, a private post or one without its URI, author or time. Its
    commitment is its `uri`: the stream and the lists agree."""
    if st.get("reblog") or st.get("visibility", "public") not in ("public", "unlisted"):
        return None
    created, uri, acc = _when(st.get("created_at")), st.get("uri"), st.get("account")
    if created is None or not isinstance(uri, str) or not isinstance(acc, Mapping):
        return None
    return SocialAction("mastodon", action, target, mastodon_account(acc), created, uri=uri)


def quoted_id(st: Mapping[str, Any]) -> str | None:
    """The id of the post an accepted quote quotes (Quote or ShallowQuote, Mastodon 4.5)."""
    q = st.get("quote")
    if not isinstance(q, Mapping) or q.get("state") != "accepted":
        return None
    inner = q.get("quoted_status")
    found = inner.get("id") if isinstance(inner, Mapping) else q.get("quoted_status_id")
    return str(found) if found is not None else None


def mastodon_actions(
    client: httpx.Client, rule: PerSocialActionRule, at: datetime, token: str | None = None
) -> Iterator[SocialAction]:
    """Every current action under `rule`. Favourites and boosts carry no time of their own in
    these lists: `at` (the poll's time) stands for when they were seen. `token`: the brand's,
    for its own server (quotes are listed only to the post's author)."""
    if rule.action == "hashtag_post":
        raise SourceError("hashtag_post on Mastodon needs the instance: use mastodon_hashtag")
    base, sid = mastodon_status_ref(rule.target)
    if rule.action in ("like", "repost"):
        path = "favourited_by" if rule.action == "like" else "reblogged_by"
        for page in _mastodon_pages(client, f"{base}/api/v1/statuses/{sid}/{path}", {"limit": 80}, token):
            for acc in page:
                if isinstance(acc, Mapping):
                    yield SocialAction("mastodon", rule.action, rule.target, mastodon_account(acc), at)
    elif rule.action == "reply":
        body = _json(client.get(f"{base}/api/v1/statuses/{sid}/context", headers=_bearer(token)))
        found = body.get("descendants") or () if isinstance(body, Mapping) else ()
        replies = [st for st in found if isinstance(st, Mapping) and str(st.get("in_reply_to_id")) == sid]
        yield from (a for st in replies if (a := mastodon_post("reply", rule.target, st)) is not None)
    else:  # quote
        for page in _mastodon_pages(client, f"{base}/api/v1/statuses/{sid}/quotes", {"limit": 40}, token):
            quotes = [st for st in page if isinstance(st, Mapping) and quoted_id(st) == sid]
            yield from (a for st in quotes if (a := mastodon_post("quote", rule.target, st)) is not None)


def mastodon_hashtag(
    client: httpx.Client, instance: str, rule: PerSocialActionRule, since: datetime | None = None
) -> Iterator[SocialAction]:
    """Original public posts with the rule's hashtag on one instance (newest first, stopping at
    `since`)."""
    tag = rule.target.strip().removeprefix("#")
    url = f"{instance.rstrip('/')}/api/v1/timelines/tag/{tag}"
    for page in _mastodon_pages(client, url, {"limit": 40}):
        for st in page:
            a = mastodon_post(rule.action, rule.target, st) if isinstance(st, Mapping) else None
            if a is None:
                continue
            if since is not None and a.occurred_at < since:
                return
            yield a


def _bsky_pages(
    client: httpx.Client, base: str, method: str, params: dict[str, Any], key: str
) -> Iterator[Any]:
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        q = {**params, "limit": 100}
        if cursor:
            q["cursor"] = cursor
        body = _json(client.get(f"{base}/xrpc/{method}", params=q))
        items = body.get(key) if isinstance(body, Mapping) else None
        if not isinstance(items, list):
            raise SourceError(f"{method}: no {key} list")
        yield from items
        cursor = body.get("cursor")
        if not cursor or not items:
            return
    raise SourceError(f"{method}: more than {MAX_PAGES} pages: list not read to its end")


def bluesky_profiles(client: httpx.Client, dids: list[str], base: str = BSKY_APPVIEW) -> dict[str, Account]:
    out: dict[str, Account] = {}
    for i in range(0, len(dids), 25):
        body = _json(
            client.get(f"{base}/xrpc/app.bsky.actor.getProfiles", params={"actors": dids[i : i + 25]})
        )
        for p in body.get("profiles") or () if isinstance(body, Mapping) else ():
            if not isinstance(p, Mapping) or not isinstance(p.get("did"), str):
                continue
            labels = {lab.get("val") for lab in p.get("labels") or () if isinstance(lab, Mapping)}
            posts = p.get("postsCount")
            out[p["did"]] = Account(
                uri=p["did"],
                created_at=_when(p.get("createdAt")),
                posts=posts if isinstance(posts, int) else 0,
                bot="bot" in labels,
            )
    return out


def bluesky_actions(
    client: httpx.Client, rule: PerSocialActionRule, at: datetime, base: str = BSKY_APPVIEW
) -> Iterator[SocialAction]:
    """Every current action under `rule` (likes, reposts, quotes and direct replies of the
    rule's post — an AT-URI — or original posts with its hashtag), each actor's profile read."""
    if rule.action in ("quote", "reply", "hashtag_post"):
        yield from _bluesky_posts(client, rule, at, base)
        return
    if not rule.target.startswith("at://"):
        raise SourceError("target: Bluesky backfill needs the post's AT-URI")
    if rule.action == "like":
        items = [
            (x.get("actor", {}).get("did"), _when(x.get("createdAt")))
            for x in _bsky_pages(client, base, "app.bsky.feed.getLikes", {"uri": rule.target}, "likes")
            if isinstance(x, Mapping)
        ]
    elif rule.action == "repost":
        items = [
            (x.get("did"), None)
            for x in _bsky_pages(
                client, base, "app.bsky.feed.getRepostedBy", {"uri": rule.target}, "repostedBy"
            )
            if isinstance(x, Mapping)
        ]
    else:
        raise SourceError(f"{rule.action} on Bluesky is not backfilled")
    dids = sorted({d for d, _ in items if isinstance(d, str)})
    profiles = bluesky_profiles(client, dids, base)
    for did, when in items:
        if not isinstance(did, str):
            continue
        account = profiles.get(did) or Account(did, None, 0)
        yield SocialAction("bluesky", rule.action, rule.target, account, when or at)


def _quoted(record: Mapping[str, Any]) -> str | None:
    embed = record.get("embed")
    quoted = embed.get("record") if isinstance(embed, Mapping) else None
    if isinstance(quoted, Mapping) and isinstance(quoted.get("record"), Mapping):
        quoted = quoted["record"]  # recordWithMedia
    uri = quoted.get("uri") if isinstance(quoted, Mapping) else None
    return uri if isinstance(uri, str) else None


def _parent(record: Mapping[str, Any]) -> str | None:
    reply = record.get("reply")
    parent = reply.get("parent") if isinstance(reply, Mapping) else None
    uri = parent.get("uri") if isinstance(parent, Mapping) else None
    return uri if isinstance(uri, str) else None


def _tags(record: Mapping[str, Any]) -> set[str]:
    found = {
        str(f["tag"]).casefold()
        for facet in record.get("facets") or ()
        if isinstance(facet, Mapping)
        for f in facet.get("features") or ()
        if isinstance(f, Mapping) and f.get("$type") == "app.bsky.richtext.facet#tag" and f.get("tag")
    }
    return found | {t.casefold() for t in record.get("tags") or () if isinstance(t, str)}


def _post_views(client: httpx.Client, rule: PerSocialActionRule, base: str) -> list[Mapping[str, Any]]:
    if rule.action == "hashtag_post":
        tag = rule.target.strip().removeprefix("#")
        params = {"q": f"#{tag}", "tag": tag, "sort": "latest"}
        return [p for p in _bsky_pages(client, base, "app.bsky.feed.searchPosts", params, "posts")
                if isinstance(p, Mapping)]  # fmt: skip
    if not rule.target.startswith("at://"):
        raise SourceError("target: Bluesky backfill needs the post's AT-URI")
    if rule.action == "quote":
        return [p for p in _bsky_pages(client, base, "app.bsky.feed.getQuotes", {"uri": rule.target}, "posts")
                if isinstance(p, Mapping)]  # fmt: skip
    body = _json(
        client.get(f"{base}/xrpc/app.bsky.feed.getPostThread", params={"uri": rule.target, "depth": 1,
                                                                         "parentHeight": 0})
    )  # fmt: skip
    thread = body.get("thread") if isinstance(body, Mapping) else None
    if not isinstance(thread, Mapping) or not isinstance(thread.get("post"), Mapping):
        raise SourceError("getPostThread: no thread (the post is deleted or blocked)")
    return [r["post"] for r in thread.get("replies") or ()
            if isinstance(r, Mapping) and isinstance(r.get("post"), Mapping)]  # fmt: skip


def _bluesky_posts(
    client: httpx.Client, rule: PerSocialActionRule, at: datetime, base: str
) -> Iterator[SocialAction]:
    """Quotes, replies or hashtag posts, as the stream sees them (jetstream.py): a reply or a
    quote counts as what it is, a hashtag post only when it is neither."""
    target = normalize_target(rule.action, rule.target)
    found: list[tuple[str, str, datetime]] = []
    for view in _post_views(client, rule, base):
        uri, record, author = view.get("uri"), view.get("record"), view.get("author")
        if not isinstance(uri, str) or not isinstance(record, Mapping) or not isinstance(author, Mapping):
            continue
        did = author.get("did")
        if not isinstance(did, str):
            continue
        if rule.action == "quote" and _quoted(record) != target:
            continue
        if rule.action == "reply" and _parent(record) != target:
            continue
        if rule.action == "hashtag_post" and (
            target not in _tags(record) or _parent(record) is not None or _quoted(record) is not None
        ):
            continue
        found.append((uri, did, _when(view.get("indexedAt")) or at))
    profiles = bluesky_profiles(client, sorted({d for _, d, _ in found}), base)
    for uri, did, when in found:
        account = profiles.get(did) or Account(did, None, 0)
        yield SocialAction("bluesky", rule.action, rule.target, account, when, uri=uri, record=uri)
