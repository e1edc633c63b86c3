"""Bluesky Jetstream commits (v1 wire: `{"did", "time_us", "kind": "commit", "commit": {...}}`)
as social actions: `app.bsky.feed.like` and `app.bsky.feed.repost` (the subject's AT-URI is the
target), and `app.bsky.feed.post` (a reply's parent, a quote's embedded record, and each
hashtag facet). Pure: the acting accounts' profiles come from a cache the caller fills with
`getProfiles` (sources.py); an unknown account has no profile and is refused `no_profile`.

The action time is `time_us` (when Jetstream saw it), not the client-declared `createdAt`,
as in the voice source (voice/sources/bluesky.py): a client can claim any time."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from wefirst.domain.social import Account, SocialAction, SocialActionKind

LIKE, REPOST, POST = "app.bsky.feed.like", "app.bsky.feed.repost", "app.bsky.feed.post"


def parse_frame(raw: str | bytes) -> Mapping[str, Any] | None:
    try:
        frame = json.loads(raw)
    except ValueError:
        return None
    return frame if isinstance(frame, Mapping) else None


def actions_of(frame: Mapping[str, Any], profiles: Mapping[str, Account]) -> list[SocialAction]:
    """The social actions one commit makes (none for deletes, other collections, bad frames)."""
    commit = frame.get("commit")
    did = frame.get("did")
    t = frame.get("time_us")
    if frame.get("kind") != "commit" or not isinstance(commit, Mapping) or not isinstance(did, str):
        return []
    if commit.get("operation") != "create" or not isinstance(t, int):
        return []
    record = commit.get("record")
    if not isinstance(record, Mapping):
        return []
    when = datetime.fromtimestamp(t / 1_000_000, UTC)
    account = profiles.get(did) or Account(did, None, 0)
    collection = commit.get("collection")
    if collection in (LIKE, REPOST):
        subject = record.get("subject")
        uri = subject.get("uri") if isinstance(subject, Mapping) else None
        if not isinstance(uri, str):
            return []
        kind: SocialActionKind = "like" if collection == LIKE else "repost"
        record_uri = f"at://{did}/{collection}/{commit.get('rkey')}"
        return [SocialAction("bluesky", kind, uri, account, when, record=record_uri)]
    if collection != POST:
        return []
    own = f"at://{did}/{POST}/{commit.get('rkey')}"
    out: list[SocialAction] = []
    reply = record.get("reply")
    parent = reply.get("parent") if isinstance(reply, Mapping) else None
    if isinstance(parent, Mapping) and isinstance(parent.get("uri"), str):
        out.append(SocialAction("bluesky", "reply", parent["uri"], account, when, uri=own, record=own))
    embed = record.get("embed")
    quoted = embed.get("record") if isinstance(embed, Mapping) else None
    if isinstance(quoted, Mapping) and isinstance(quoted.get("record"), Mapping):
        quoted = quoted["record"]  # app.bsky.embed.recordWithMedia: {record: {record: strongRef}}
    if isinstance(quoted, Mapping) and isinstance(quoted.get("uri"), str):
        out.append(SocialAction("bluesky", "quote", quoted["uri"], account, when, uri=own, record=own))
    tags = {
        str(f.get("tag"))
        for facet in record.get("facets") or ()
        if isinstance(facet, Mapping)
        for f in facet.get("features") or ()
        if isinstance(f, Mapping) and f.get("$type") == "app.bsky.richtext.facet#tag" and f.get("tag")
    }
    if out:  # an original post only: a reply or quote with the hashtag counts as what it is
        return out
    return [
        SocialAction("bluesky", "hashtag_post", f"#{tag}", account, when, uri=own, record=own)
        for tag in sorted(tags)
    ]


def deleted_record(frame: Mapping[str, Any]) -> str | None:
    """The AT-URI of the like, repost or post a delete commit withdraws (None otherwise): a
    delete names only the record, so the follower finds the counted action by `record_ref`."""
    commit = frame.get("commit")
    did = frame.get("did")
    if frame.get("kind") != "commit" or not isinstance(commit, Mapping) or not isinstance(did, str):
        return None
    collection, rkey = commit.get("collection"), commit.get("rkey")
    if commit.get("operation") != "delete" or collection not in (LIKE, REPOST, POST):
        return None
    if not isinstance(rkey, str) or not rkey:
        return None
    return f"at://{did}/{collection}/{rkey}"


def time_us(frame: Mapping[str, Any]) -> int | None:
    """Jetstream's cursor for this frame (when it saw the event)."""
    t = frame.get("time_us")
    return t if isinstance(t, int) and not isinstance(t, bool) else None
