"""Jetstream commits (fixture: tests/social/fixtures/jetstream_social.jsonl) become social actions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from wefirst.domain.social import Account
from wefirst.social.jetstream import actions_of, parse_frame

FIX = Path(__file__).parent / "fixtures" / "jetstream_social.jsonl"
BRAND_POST = "at://did:plc:pampybrand00000000000000/app.bsky.feed.post/3lbrandpost22"
FAN = "did:plc:fanone0000000000000000aa"


def test_likes_reposts_quotes_and_hashtags_from_the_stream() -> None:
    profiles = {FAN: Account(FAN, datetime(2023, 7, 4, tzinfo=UTC), 845)}
    frames = [parse_frame(line) for line in FIX.read_text(encoding="utf-8").splitlines()]
    assert frames[-1] is None  # a frame that is not JSON is skipped, never raised
    got = [a for f in frames if f is not None for a in actions_of(f, profiles)]
    assert [(a.action, a.target) for a in got] == [
        ("hashtag_post", "#1pack1vaccine"),
        ("hashtag_post", "#Pampers"),
        ("like", BRAND_POST),
        ("repost", BRAND_POST),
        ("quote", BRAND_POST),
    ]
    assert got[0].account.created_at is None  # unknown profile: refused no_profile by the engine
    assert got[2].account.posts == 845
    assert got[2].uri is None  # a like's commitment is over "<did> like <target>", as in getLikes
    assert got[4].uri == f"at://{FAN}/app.bsky.feed.post/3mgzl7zzzzcar"
    assert got[2].occurred_at == datetime.fromtimestamp(1773496400, UTC)
