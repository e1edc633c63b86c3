"""The per-day voice series of each brand as the scorecard shows it (posts per day by
polarity over the last VOICE_DAYS days), and share-of-voice tables, cached per process for
VOICE_TTL seconds."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from wefirst.voice import competitors as voice_competitors
from wefirst.voice import series as voice_series
from wefirst.voice.filters import VoiceFilter

VOICE_DAYS = 90
VOICE_TTL = 60.0
#: Share-of-voice tables kept at once: the read is public and every filter is a key, so the
#: table is bounded (oldest out first) rather than grown by whoever varies the dates.
MAX_SHARES = 512


@dataclass(frozen=True)
class VoiceDay:
    day: date
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def net(self) -> float | None:
        """(positive − negative) / all posts of the day, in [−1, 1]."""
        if not self.total:
            return None
        return (self.counts.get("positive", 0) - self.counts.get("negative", 0)) / self.total

    def as_json(self) -> dict[str, Any]:
        net = self.net
        return {
            "date": self.day.isoformat(),
            "posts": self.total,
            "positive": self.counts.get("positive", 0),
            "negative": self.counts.get("negative", 0),
            "neutral": self.counts.get("neutral", 0),
            "net_sentiment": None if net is None else round(net, 3),
        }


class VoiceCache:
    """The per-day voice series of each brand, kept VOICE_TTL seconds per process: counting a
    brand's posts of 90 days costs a scan of its mentions (about 0.2 s of CPU for 70,000
    posts), and a daily chart does not need to be fresher than a minute. Episodes and cases,
    which are small queries, are always read fresh."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, tuple[float, list[VoiceDay]]] = {}
        self._shares: OrderedDict[tuple[str, VoiceFilter, str], tuple[float, list[voice_competitors.Share]]]
        self._shares = OrderedDict()

    def shares(self, conn: Connection, brand_id: str, where: VoiceFilter) -> list[voice_competitors.Share]:
        """``competitors.share_of_voice``, kept VOICE_TTL seconds per brand, filter and
        competitor list. The counting join over every listed brand's mentions is what costs;
        the brand and its competitor list are read each time (two primary-key lookups), so a
        change of competitors shows at once and an unknown brand is still a 404."""
        from wefirst.voice.brand_settings import brand_exists

        brand_exists(conn, brand_id)
        key = (brand_id, where, repr(voice_competitors.stored(conn, brand_id)))
        now = time.monotonic()
        with self._lock:
            hit = self._shares.get(key)
        if hit is not None and now - hit[0] < VOICE_TTL:
            return hit[1]
        rows = voice_competitors.share_of_voice(conn, brand_id, where)
        with self._lock:
            self._shares[key] = (now, rows)
            self._shares.move_to_end(key)
            while len(self._shares) > MAX_SHARES:
                self._shares.popitem(last=False)
        return rows

    def days(self, conn: Connection, brand_id: str) -> list[VoiceDay]:
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(brand_id)
        if hit is not None and now - hit[0] < VOICE_TTL:
            return hit[1]
        start = datetime.now(UTC) - timedelta(days=VOICE_DAYS)
        data = voice_series.series(conn, brand_id, granularity="day", by="polarity", start=start)
        days = [VoiceDay(date.fromisoformat(p["t"][:10]), dict(p["counts"])) for p in data["data"]]
        with self._lock:
            self._items[brand_id] = (now, days)
        return days
