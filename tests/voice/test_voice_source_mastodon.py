from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from wefirst.voice.posts import Deletion, Post, PostParseError
from wefirst.voice.sources.mastodon import MastodonSource, parse_status

from voice.voice_fakes import ASSETS, fake_http

SALT = b"salt"
TIMELINE = (ASSETS / "mastodon" / "timeline_public_sample.json").read_bytes()
SSE = (ASSETS / "mastodon" / "streaming_public.sse").read_bytes()


def test_parse_fixture_statuses() -> None:
    posts = [parse_status(s, SALT) for s in json.loads(TIMELINE)]
    assert all(isinstance(p, Post) for p in posts)
    first = posts[0]
    assert first is not None
    assert first.external_id.startswith("https://")
    assert "/statuses/" in first.external_id
    assert first.created_at.tzinfo is not None
    assert "<" not in first.text
    assert "&#39;" not in first.text
    languages = sorted(p.language or "" for p in posts if p)
    assert languages == ["en", "fr", "fr"]
    assert any(p and p.engagement.likes > 0 for p in posts)
    assert all(p and p.author_hash and "@" not in p.author_hash for p in posts)


def test_boost_counts_its_inner_status_and_private_posts_are_skipped() -> None:
    inner = json.loads(TIMELINE)[0]
    wrapper = {
        "id": "9",
        "uri": "https://x.example/boost/9",
        "reblog": inner,
        "created_at": "2026-03-15T00:00:00Z",
        "content": "",
    }
    boosted = parse_status(wrapper, SALT)
    assert boosted is not None
    assert boosted.external_id == inner["uri"]
    assert parse_status({**inner, "visibility": "direct"}, SALT) is None


@pytest.mark.parametrize(
    "bad",
    [
        [],
        "x",
        {"content": "no uri", "created_at": "2026-03-14T00:00:00Z"},
        {"uri": "u", "created_at": "not a date", "content": "x"},
    ],
)
def test_bad_statuses_raise_the_parse_error(bad: object) -> None:
    with pytest.raises(PostParseError):
        parse_status(bad, SALT)  # type: ignore[arg-type]


def test_poll_hashtag_timeline_from_fake_server_then_only_newer() -> None:
    with fake_http() as server:
        server.static("/api/v1/timelines/tag/pampers", TIMELINE, "application/json")
        source = MastodonSource(server.url, SALT, hashtags=["#pampers"])
        posts = source.poll()
        assert len(posts) == 3
        assert posts == sorted(posts, key=lambda p: p.created_at)
        source.poll()
        queries = [r.path for r in server.requests if r.path.startswith("/api/v1/timelines")]
    newest = max((s["id"] for s in json.loads(TIMELINE)), key=lambda i: (len(i), i))
    assert "min_id" not in queries[0]
    assert f"min_id={newest}" in queries[1]


def test_stream_from_fake_sse_server() -> None:
    events: list[Post | Deletion] = []
    with fake_http() as server:
        server.static("/api/v1/streaming/public", SSE, "text/event-stream")
        source = MastodonSource(server.url, SALT, public=True, access_token="t")
        source.stream(events.append)
    kinds = [type(e).__name__ for e in events]
    # update, update, status.update (an edit of a known post), then its delete
    assert kinds.count("Post") == 3
    assert isinstance(events[-1], Deletion)
    posts = [e for e in events if isinstance(e, Post)]
    assert events[-1].external_id in {p.external_id for p in posts}
    assert all(p.created_at < datetime(2027, 1, 1, tzinfo=UTC) for p in posts)
