"""What several voice test modules share: a keyword stand-in for the sentiment model, a toy
language detector, a brand's voice settings, a CSV of three and a half days of chatter with a
surge, a Mastodon post, and the detector tests' random arrivals (Poisson, busy days and quiet
nights)."""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from wefirst.voice.posts import Engagement, Post

from factories import auth

T0 = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday


class KeywordSentiment:
    """A tiny stand-in model passed in (the real one is another module's business)."""

    def __init__(self) -> None:
        self.calls = 0

    def predict(self, texts: Sequence[str], languages: Sequence[str]) -> list[tuple[str, float]]:
        self.calls += 1
        out = []
        for text in texts:
            t = text.lower()
            if any(w in t for w in ("awful", "worst", "nul", "scandal")):
                out.append(("negative", -0.8))
            elif any(w in t for w in ("thanks", "love", "merci")):
                out.append(("positive", 0.7))
            else:
                out.append(("neutral", 0.0))
        return out


def lang(text: str) -> str:
    return "fr" if " le " in f" {text.lower()} " else "en"


def configure(client: TestClient, brand_id: str, key: str, **extra: object) -> None:
    body = {
        "names": ["Acme"],
        "handles": ["acme"],
        "hashtags": ["acmefail"],
        "exclusions": ["acme corner"],
        **extra,
    }
    r = client.put(f"/v1/brands/{brand_id}/voice/settings", json=body, headers=auth(key))
    assert r.status_code == 200, r.text


def write_csv(path: Path, surge_hour: int = 66) -> int:
    """Three and a half days of chatter about Acme, with a surge of complaints on day 3."""
    rows = []
    n = 0
    for h in range(84):
        at = T0 + timedelta(hours=h)
        k = 3 if 8 <= at.hour <= 20 else 1
        texts = ["Acme is awful lately", "Acme delivered today", "thanks @acme"][:k] * 2
        if h in (surge_hour, surge_hour + 1):
            texts += [f"worst service ever, Acme refund scandal #{i}" for i in range(30)]
        for i, text in enumerate(texts):
            n += 1
            rows.append(
                {
                    "id": str(n),
                    "text": text,
                    "created_at": (at + timedelta(minutes=i)).isoformat(),
                    "author": f"user{n % 17}",
                }
            )
    rows.append(
        {"id": "x1", "text": "meet me at the Acme corner", "created_at": T0.isoformat(), "author": "z"}
    )
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["id", "text", "created_at", "author"])
        w.writeheader()
        w.writerows(rows)
    return n


def post(i: int, text: str, at: datetime) -> Post:
    return Post(
        "mastodon",
        f"https://m.example/s/{i}",
        f"a{i % 23}",
        text,
        at,
        language="en",
        url=f"https://m.example/@x/{i}",
        engagement=Engagement(likes=i % 5),
    )


def poisson(rng: random.Random, lam: float) -> int:
    # Knuth; fine for the small rates used here
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def diurnal(hour: int) -> float:
    """Busy days, quiet nights: 0.5 to 8 posts an hour."""
    return 0.5 + 7.5 * max(0.0, math.sin(math.pi * (hour - 6) / 16)) if 6 <= hour <= 22 else 0.5
