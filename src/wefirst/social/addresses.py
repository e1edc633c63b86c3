"""bsky.app addresses → the AT-URIs and DIDs the protocol uses.

People copy `https://bsky.app/profile/<handle>/post/<rkey>` from their browser, but the stream,
the AppView's lists and the commitments all speak AT-URIs (`at://<did>/app.bsky.feed.post/<rkey>`)
and DIDs: a rule stored with the web address would never match a single action. A handle can
change owner; the DID cannot, so it is resolved once, when the address is given
(`com.atproto.identity.resolveHandle` on the AppView, through the outbound guard), and the
AT-URI is what is stored and matched."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import httpx

from wefirst.errors import WefirstError

POST_COLLECTION = "app.bsky.feed.post"
DID = re.compile(r"did:[a-z]+:[A-Za-z0-9._:%-]+")
AT_POST = re.compile(r"at://(did:[a-z]+:[A-Za-z0-9._:%-]+)/app\.bsky\.feed\.post/([A-Za-z0-9._~-]+)")
_WEB = re.compile(r"https://bsky\.app/profile/([^/\s?#]+)(?:/post/([A-Za-z0-9._~-]+))?/?")
# the atproto handle syntax: DNS labels, at least two, the last not starting with a digit
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
_HANDLE = re.compile(rf"(?:{_LABEL}\.)+[a-zA-Z](?:[a-zA-Z0-9-]{{0,61}}[a-zA-Z0-9])?")


class BadAddress(ValueError):
    """The address is not a Bluesky post/profile address, or its handle does not exist; the
    message says what to paste instead."""


class BlueskyUnreachable(WefirstError):
    """The AppView did not answer: nothing is stored, the same request can be sent again."""

    status = 503
    title = "Bluesky did not answer"
    slug = "bluesky-unreachable"


@dataclass(frozen=True)
class WebAddress:
    actor: str  # a handle or a DID, as the address gave it
    rkey: str | None  # the post's record key; None for a profile


def parse_web(address: str) -> WebAddress | None:
    """`https://bsky.app/profile/<actor>[/post/<rkey>]`, or None for anything else."""
    m = _WEB.fullmatch(address.strip())
    if m is None:
        return None
    actor = m.group(1)
    if not (DID.fullmatch(actor) or _HANDLE.fullmatch(actor)):
        raise BadAddress(f"{actor!r} is neither a Bluesky handle (name.bsky.social) nor a DID (did:plc:…)")
    return WebAddress(actor, m.group(2))


@dataclass
class Resolver:
    """Handle → DID through the AppView, each handle asked once per resolver (one request's
    worth, or one poll's). `client` opens a guarded httpx client (`OutboundPolicy.client`)."""

    client: Callable[[], AbstractContextManager[httpx.Client]]
    appview: str
    _dids: dict[str, str] = field(default_factory=dict)

    def did(self, actor: str) -> str:
        if DID.fullmatch(actor):
            return actor
        handle = actor.lower()
        if handle not in self._dids:
            self._dids[handle] = self._ask(handle)
        return self._dids[handle]

    def _ask(self, handle: str) -> str:
        url = f"{self.appview.rstrip('/')}/xrpc/com.atproto.identity.resolveHandle"
        try:
            with self.client() as http:
                r = http.get(url, params={"handle": handle})
        except httpx.HTTPError as exc:
            raise BlueskyUnreachable(f"Bluesky's AppView could not be reached ({exc}); try again") from exc
        body: Any = _json_or_none(r)
        if r.status_code == 400:  # XRPC InvalidRequest: "Unable to resolve handle"
            raise BadAddress(f"the handle {handle} does not exist on Bluesky: check the address, or paste "
                             "the post's AT-URI (at://did:…/app.bsky.feed.post/…)")  # fmt: skip
        did = body.get("did") if r.status_code == 200 and isinstance(body, dict) else None
        if not isinstance(did, str) or not DID.fullmatch(did):
            raise BlueskyUnreachable(f"Bluesky's AppView answered HTTP {r.status_code}, no DID; try again")
        return did

    def post_uri(self, address: str) -> str:
        """The post's AT-URI, from an AT-URI or a bsky.app post address."""
        a = address.strip()
        if AT_POST.fullmatch(a):
            return a
        web = parse_web(a)
        if web is None or web.rkey is None:
            raise BadAddress("a Bluesky post: https://bsky.app/profile/<handle>/post/<id> or its AT-URI")
        return f"at://{self.did(web.actor)}/{POST_COLLECTION}/{web.rkey}"


def _json_or_none(r: httpx.Response) -> Any:
    try:
        return r.json()
    except ValueError:
        return None
