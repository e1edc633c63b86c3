from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from wefirst.voice.posts import (
    Post,
    PostParseError,
    as_int,
    hash_author,
    html_to_text,
    parse_timestamp,
)

SALT = b"test-salt"


def test_author_hash_is_salted_and_scoped_by_source() -> None:
    a = hash_author(SALT, "mastodon", "dana_k@mastodon.online")
    assert a == hash_author(SALT, "mastodon", "  Dana_K@mastodon.online ")
    assert a != hash_author(b"other-salt", "mastodon", "dana_k@mastodon.online")
    assert a != hash_author(SALT, "bluesky", "dana_k@mastodon.online")
    assert len(a) == 32
    assert "dana" not in a
    with pytest.raises(ValueError, match="salt"):
        hash_author(b"", "mastodon", "x")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-03-14T13:47:22.000Z", datetime(2026, 3, 14, 13, 47, 22, tzinfo=UTC)),
        ("2015-02-24 11:35:52 -0800", datetime(2015, 2, 24, 19, 35, 52, tzinfo=UTC)),
        ("2026-03-14T14:47:22+01:00", datetime(2026, 3, 14, 13, 47, 22, tzinfo=UTC)),
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
        (datetime(2026, 1, 1, 1, tzinfo=timezone(timedelta(hours=1))), datetime(2026, 1, 1, 0, tzinfo=UTC)),
    ],
)
def test_timestamps_become_utc(raw: object, expected: datetime) -> None:
    got = parse_timestamp(raw)
    assert got == expected
    assert got.utcoffset() == timedelta(0)


@pytest.mark.parametrize("raw", [None, "", "yesterday", "2026-13-40", True, [1]])
def test_bad_timestamps_are_refused(raw: object) -> None:
    with pytest.raises(PostParseError):
        parse_timestamp(raw)


def test_html_is_stripped_then_unescaped() -> None:
    markup = '<p>L&#39;op&eacute;ration <a href="x">#<span>Pampers</span></a></p><p>&lt;b&gt;</p>'
    assert html_to_text(markup) == "L'opération #Pampers\n<b>"


def test_post_validates_its_invariants() -> None:
    now = datetime(2026, 3, 14, tzinfo=UTC)
    with pytest.raises(PostParseError, match="source"):
        Post("twitter", "1", None, "x", now)
    with pytest.raises(PostParseError, match="external id"):
        Post("file", "", None, "x", now)
    with pytest.raises(PostParseError, match="UTC"):
        Post("file", "1", None, "x", datetime(2026, 3, 14))
    with pytest.raises(PostParseError, match="UTC"):
        Post("file", "1", None, "x", datetime(2026, 3, 14, tzinfo=timezone(timedelta(hours=2))))
    assert Post("file", "1", None, "x", now).key == ("file", "1")


def test_counts_tolerate_junk() -> None:
    assert [as_int(v) for v in (3, "4", " 5 ", None, "n/a", -2, True, 1.5)] == [3, 4, 5, 0, 0, 0, 0, 0]
