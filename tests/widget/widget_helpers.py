"""Widget test helpers: a clock the tests move, and a `World` (a campaign with a per-click
rule, a verified publisher that joined it and that the brand approved) that plays the widget
over the real API."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from wefirst.store.db import Database
from wefirst.widget.pow import solve
from wefirst.widget.service import WidgetService

from factories import Tenant, approve_publisher, auth, campaign_body

CHROME_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
BLOG = "https://carnet-de-camille.fr"
DAY_MS = 86_400_000
T0 = 1_795_000_000_000  # 2026-11-18T11:06:40Z, inside the campaign's dates


def water_unit() -> dict[str, Any]:
    return {
        "labels": {
            "en": {"singular": "day of clean water", "plural": "days of clean water"},
            "fr": {"singular": "jour d'eau potable", "plural": "jours d'eau potable"},
        },
        "cost_per_unit": {"amount": 5, "currency": "EUR"},
        "cost_source": "Water NGO 2026 cost sheet",
        "cost_date": "2026-01-15",
        "mode": "funds",
    }


def visitor_of(name: str) -> str:
    return hashlib.sha256(f"wefirst-visitor\n{name}".encode()).hexdigest()


class Clock:
    def __init__(self, now_ms: int = T0) -> None:
        self.now_ms = now_ms

    def __call__(self) -> int:
        return self.now_ms

    def advance(self, ms: int) -> None:
        self.now_ms += ms


@dataclass
class World:
    client: TestClient
    db: Database
    admin_key: str
    brand: Tenant
    campaign_id: str
    publisher_id: str
    publisher_key: str
    clock: Clock
    service: WidgetService
    extra: dict[str, Any] = field(default_factory=dict)

    def new_campaign(self, **overrides: Any) -> str:
        body = campaign_body(
            self.extra["beneficiary_id"],
            name="Un clic = une journée d'eau",
            impact_unit=water_unit(),
            rules=[{"kind": "per_click", "units_per_click": 1}],
        )
        body.update(overrides)
        r = self.client.post("/v1/campaigns", json=body, headers=auth(self.brand.key))
        assert r.status_code == 201, r.text
        cid = str(r.json()["id"])
        r = self.client.post(
            f"/v1/publishers/{self.publisher_id}/campaigns",
            json={"campaign_id": cid},
            headers=auth(self.publisher_key),
        )
        assert r.status_code == 200, r.text
        approve_publisher(self.client, self.brand.key, cid, self.publisher_id)
        return cid

    def state(
        self,
        visitor: str,
        *,
        campaign_id: str | None = None,
        origin: str | None = BLOG,
        publisher_id: str | None = None,
    ) -> Any:
        headers = {"Origin": origin} if origin else {}
        return self.client.get(
            f"/v1/widget/campaigns/{campaign_id or self.campaign_id}/state",
            params={"publisher": publisher_id or self.publisher_id, "visitor": visitor},
            headers=headers,
        )

    def click(
        self,
        visitor: str,
        *,
        token: str | None = None,
        campaign_id: str | None = None,
        origin: str | None = BLOG,
        ua: str | None = CHROME_UA,
        wait_ms: int = 1_000,
        pow_nonce: str | None = None,
        fetch: bool = True,
        publisher_id: str | None = None,
    ) -> Any:
        """What the widget does: fetch a challenge, solve its proof of work when it asks for one
        (unless the test gives a nonce), let a person's reaction time pass, click."""
        cid = campaign_id or self.campaign_id
        if token is None and fetch:
            r = self.state(visitor, campaign_id=cid, publisher_id=publisher_id)
            assert r.status_code == 200, r.text
            challenge = r.json()["challenge"]
            token = challenge["token"]
            if pow_nonce is None and challenge["pow_bits"] > 0:
                pow_nonce = solve(token, challenge["pow_bits"])
        self.clock.advance(wait_ms)
        headers = {"Origin": origin} if origin else {}
        if ua is not None:
            headers["User-Agent"] = ua
        body: dict[str, Any] = {
            "campaign": cid,
            "publisher": publisher_id or self.publisher_id,
            "visitor": visitor,
            "challenge": token,
        }
        if pow_nonce is not None:
            body["pow"] = pow_nonce
        return self.client.post("/v1/widget/clicks", json=body, headers=headers)
