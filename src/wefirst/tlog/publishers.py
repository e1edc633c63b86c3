"""A publisher's counted clicks derived from log entries alone, the way a blogger (or anyone)
can check them without trusting wefirst's database: every click pledge names the publisher
whose widget or server sent it, and a reversal names the pledge it takes back. Pure: no I/O.

Used by `wefirst verify publisher pub_…` (over the downloaded, re-hashed log) and by the public
per-publisher page (over the server's stored entry bytes), so both count the same way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Counted:
    clicks: int = 0
    units: int = 0


@dataclass
class PublisherClicks:
    publisher: str
    campaigns: dict[str, Counted] = field(default_factory=dict)
    _pledges: dict[str, str] = field(default_factory=dict)  # pledge id → campaign

    def add(self, entry: Mapping[str, Any]) -> None:
        kind = entry.get("kind")
        campaign = entry.get("campaign")
        if not isinstance(campaign, str):
            return
        if kind == "pledge" and entry.get("publisher") == self.publisher:
            c = self.campaigns.setdefault(campaign, Counted())
            c.clicks += _count(entry.get("quantity"), 1)
            c.units += _count(entry.get("units"), 0)
            pledge = entry.get("pledge")
            if isinstance(pledge, str):
                self._pledges[pledge] = campaign
        elif kind == "pledge_reversal" and entry.get("pledge") in self._pledges:
            c = self.campaigns[self._pledges[str(entry.get("pledge"))]]
            c.clicks -= _count(entry.get("quantity"), 0)
            c.units -= _count(entry.get("units"), 0)

    @property
    def total(self) -> Counted:
        return Counted(
            sum(c.clicks for c in self.campaigns.values()), sum(c.units for c in self.campaigns.values())
        )

    def as_json(self) -> dict[str, Any]:
        total = self.total
        return {
            "publisher": self.publisher,
            "campaigns": [
                {"campaign": cid, "clicks": c.clicks, "units": c.units}
                for cid, c in sorted(self.campaigns.items())
            ],
            "total": {"clicks": total.clicks, "units": total.units},
        }


def _count(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default


def compare(derived: PublisherClicks, published: Mapping[str, Any]) -> list[str]:
    """Differences between counts derived from the log and a page's JSON; empty when equal."""
    mine = {c["campaign"]: (c["clicks"], c["units"]) for c in derived.as_json()["campaigns"]}
    theirs: dict[str, tuple[Any, Any]] = {}
    rows = published.get("campaigns")
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, Mapping) and isinstance(row.get("campaign"), str):
            theirs[row["campaign"]] = (row.get("clicks"), row.get("units"))
    return [
        f"{cid}: log {mine.get(cid, (0, 0))}, page {theirs.get(cid, (0, 0))} (clicks, units)"
        for cid in sorted(set(mine) | set(theirs))
        if mine.get(cid, (0, 0)) != theirs.get(cid, (0, 0))
    ]
