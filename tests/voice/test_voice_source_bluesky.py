from __future__ import annotations

import asyncio
import json

import pytest

from wefirst.voice.posts import Deletion, Post, PostParseError, hash_author
from wefirst.voice.sources.bluesky import JetstreamSource, parse_event

from voice.voice_fakes import ASSETS, fake_jetstream

SALT = b"salt"
V1 = (ASSETS / "bluesky" / "jetstream_v1_subscribe.jsonl").read_text().splitlines()
V2 = (ASSETS / "bluesky" / "jetstream_v2_subscribe_events.jsonl").read_text().splitlines()


def test_v1_fixture_creates_deletes_and_account_events() -> None:
    parsed = [parse_event(line, SALT) for line in V1]
    items = [p.item for p in parsed]
    posts = [i for i in items if isinstance(i, Post)]
    deletions = [i for i in items if isinstance(i, Deletion)]
    assert len(posts) == 3
    assert len(deletions) == 2
    first = posts[0]
    assert first.external_id == "at://did:plc:k3wq5xz7d2nvy4rfa6tmobhu/app.bsky.feed.post/3mgzl7gnvfcap"
    assert first.url == "https://bsky.app/profile/did:plc:k3wq5xz7d2nvy4rfa6tmobhu/post/3mgzl7gnvfcap"
    assert first.tags == ("1pack1vaccine", "Pampers")
    assert first.language == "en"
    assert deletions[0].external_id == first.external_id
    # the deactivated account hides every post of that author
    assert deletions[1].author_hash == hash_author(SALT, "bluesky", "did:plc:bd4fm6qx2ynh7wtc3vzjea5k")
    # the external embed's title is part of the text (it is often where the brand is named)
    assert "Un clic = une journée d’eau potable" in posts[2].text
    assert all(p.time_us for p in parsed)


def test_v2_framing_gives_the_same_posts() -> None:
    v1 = [p.item for p in (parse_event(x, SALT) for x in V1) if isinstance(p.item, Post)]
    v2 = [p.item for p in (parse_event(x, SALT) for x in V2) if isinstance(p.item, Post)]
    assert [(p.external_id, p.text) for p in v2] == [(p.external_id, p.text) for p in v1]


@pytest.mark.parametrize("frame", ["not json", "[1,2]", "42", b"\xff\xfe"])
def test_frames_that_are_not_objects_raise(frame: str | bytes) -> None:
    with pytest.raises(PostParseError):
        parse_event(frame, SALT)


@pytest.mark.parametrize(
    "frame",
    [
        {},
        {"did": 5, "kind": "commit"},
        {"did": "did:plc:x", "kind": "commit", "commit": "nope"},
        {
            "did": "did:plc:x",
            "kind": "commit",
            "commit": {"collection": "app.bsky.feed.like", "operation": "create", "rkey": "r"},
        },
        {
            "did": "did:plc:x",
            "kind": "commit",
            "commit": {"collection": "app.bsky.feed.post", "operation": "create", "rkey": "r"},
        },
        {
            "did": "did:plc:x",
            "kind": "commit",
            "commit": {
                "collection": "app.bsky.feed.post",
                "operation": "create",
                "rkey": "r",
                "record": {"text": ""},
            },
        },
        {"did": "did:plc:x", "kind": "identity", "identity": {"handle": "x"}},
        {"$type": "message", "payload": {"$type": "x#identity"}},
        {"$type": "error", "error": "bad"},
        {"did": "did:plc:x", "time_us": "soon", "kind": "future-kind", "extra": [1]},
    ],
)
def test_tolerant_parser_skips_what_it_does_not_use(frame: dict[str, object]) -> None:
    assert parse_event(json.dumps(frame), SALT).item is None


def test_backdated_created_at_falls_back_to_time_us() -> None:
    frame = json.loads(V1[0])
    frame["commit"]["record"]["createdAt"] = "1999-01-01T00:00:00Z"
    post = parse_event(frame, SALT).item
    assert isinstance(post, Post)
    assert post.created_at.year == 2026


def test_websocket_client_against_local_jetstream() -> None:
    frames = [*V1, "garbage frame"]

    async def collect(source: JetstreamSource) -> list[Post | Deletion]:
        return [item async for item in source.events(reconnect=False)]

    with fake_jetstream(frames) as (url, paths):
        source = JetstreamSource(SALT, url=url)
        items = asyncio.run(collect(source))
        assert len(items) == 5
        assert source.bad_frames == 1
        assert source.connections == 1
        assert source.cursor == json.loads(V1[-1])["time_us"]
        asyncio.run(collect(source))  # reconnect resumes a little before the cursor
    assert "wantedCollections=app.bsky.feed.post" in paths[0]
    assert "cursor" not in paths[0]
    assert f"cursor={json.loads(V1[-1])['time_us'] - 5_000_000}" in paths[1]
