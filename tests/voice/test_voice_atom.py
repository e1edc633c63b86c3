from __future__ import annotations

from datetime import UTC, datetime

import feedparser

from wefirst.voice.atom import FeedEpisode, episodes_feed


def ep(i: int, end: datetime | None) -> FeedEpisode:
    return FeedEpisode(
        id=f"ep_{i}",
        polarity="negative" if i % 2 else "positive",
        start=datetime(2026, 3, 14, 10 + i, tzinfo=UTC),
        end=end,
        peak_hour=datetime(2026, 3, 14, 11 + i, tzinfo=UTC),
        peak_count=40,
        peak_expected=4.0,
        posts=90,
        expected=12.5,
        updated=datetime(2026, 3, 14, 12 + i, tzinfo=UTC),
        top_terms=["refund", "outrage & <script>"],
        top_reasons=["Lost Luggage"],
    )


def test_feed_parses_as_atom_with_stable_ids() -> None:
    xml = episodes_feed(
        brand_id="brd_1",
        brand_name="Acme & Co",
        feed_url="https://w.example/v1/f.atom",
        html_url="https://w.example/brands/brd_1/voice",
        episodes=[ep(3, None), ep(2, datetime(2026, 3, 14, 15, tzinfo=UTC))],
    )
    doc = feedparser.parse(xml)
    assert not doc.bozo
    assert doc.version == "atom10"
    assert doc.feed.title == "Acme & Co: mobilization episodes"
    assert doc.feed.updated == "2026-03-14T15:00:00Z"  # newest entry update
    first, second = doc.entries
    assert first.id == "tag:wefirst.org,2026:voice/brd_1/ep_3"
    assert first.title.startswith("Backlash against Acme & Co (ongoing, peak 40 posts/h, 10.0×")
    assert second.title.startswith("Wave of praise for Acme & Co (ended")
    assert "outrage & <script>" in first.summary or "outrage &amp; &lt;script&gt;" in first.summary
    assert first.link == "https://w.example/brands/brd_1/voice/ep_3"
    assert first.tags[0].term == "negative"


def test_empty_feed_is_valid() -> None:
    doc = feedparser.parse(
        episodes_feed(brand_id="b", brand_name="B", feed_url="u", html_url="h", episodes=[])
    )
    assert not doc.bozo
    assert doc.entries == []
