"""A scripted click attack over one simulated day, against the widget's real decision path.

Two attackers, each with forged headers (the publisher's registered blog as `Origin`, a desktop
Chrome `User-Agent`), a fresh visitor id for every attempt, the minimum delay waited out and the
proof of work solved exactly as the widget would:

- `ipv4`: one IPv4 address;
- `ipv6`: a different /64 for every attempt, all inside one /48.

Each runs `--attempts` attempts spread evenly over 24 simulated hours against one campaign,
then the same again spread over `--campaigns` campaigns (the limit across campaigns). It prints
attempts, counted and refused by reason, and the proof-of-work hashes the attacker paid.

    .venv/bin/python bench/attack_clicks.py [--attempts 288] [--campaigns 4]

Uses the defaults of `Settings` (docs/widget.md says which attack each bounds) on a scratch
SQLite database; nothing leaves the process."""

from __future__ import annotations

import argparse
import secrets
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from wefirst.catalog.models import BeneficiaryIn, BrandIn, CampaignIn
from wefirst.catalog.service import create_beneficiary, create_brand, create_campaign
from wefirst.settings import Settings
from wefirst.store import migrate
from wefirst.store.db import Database
from wefirst.widget import publishers as pubs
from wefirst.widget.pow import pow_ok
from wefirst.widget.service import ClickRequest, WidgetService

CHROME_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
BLOG = "https://carnet-de-camille.example"
DAY_MS = 86_400_000
T0 = 1_794_960_000_000  # 2026-11-18T00:00:00Z: the simulated day is one UTC day
console = Console(width=150)


class Clock:
    def __init__(self) -> None:
        self.now_ms = T0

    def __call__(self) -> int:
        return self.now_ms


@dataclass
class Tally:
    attempts: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    hashes: int = 0
    max_bits: int = 0


def _unit() -> dict[str, Any]:
    return {
        "labels": {"en": {"singular": "day of clean water", "plural": "days of clean water"}},
        "cost_per_unit": {"amount": 5, "currency": "EUR"},
        "cost_source": "cost sheet",
        "cost_date": "2026-01-15",
    }


@contextmanager
def world(folder: Path, campaigns: int) -> Iterator[tuple[WidgetService, Clock, str, list[str]]]:
    settings = Settings(database_url=f"sqlite:///{folder / 'attack.db'}", data_dir=folder, log_json=False)
    db = Database(settings)
    migrate.upgrade(db)
    with db.write() as conn:
        brand = create_brand(conn, BrandIn(name="Aqua"))["id"]
        ben = create_beneficiary(conn, BeneficiaryIn(name="Water NGO"))["id"]
        pub = pubs.create_publisher(conn, name="Blog", domains=["carnet-de-camille.example"])["id"]
        ids = []
        for i in range(campaigns):
            body = {
                "name": f"One click = one day of water {i}",
                "beneficiary_id": ben,
                "currency": "EUR",
                "starts_at": "2026-01-01T00:00:00Z",
                "ends_at": "2027-12-31T00:00:00Z",
                "impact_unit": _unit(),
                "rules": [{"kind": "per_click", "units_per_click": 1}],
                "status": "active",
            }
            cid = str(create_campaign(conn, brand, CampaignIn.model_validate(body))["id"])
            pubs.join_campaign(conn, pub, cid, approved=True)
            ids.append(cid)
    clock = Clock()
    service = WidgetService.from_settings(db, settings, clock=clock)
    try:
        yield service, clock, pub, ids
    finally:
        service.writer.stop()
        db.dispose()


def _solve(token: str, bits: int) -> tuple[str, int]:
    n = 0
    while not pow_ok(token, str(n), bits):
        n += 1
    return str(n), n + 1


def attack(
    service: WidgetService, clock: Clock, publisher: str, campaigns: list[str], address: Any, attempts: int
) -> Tally:
    tally = Tally()
    step = DAY_MS // attempts
    start = clock.now_ms
    for i in range(attempts):
        clock.now_ms = start + i * step
        cid = campaigns[i % len(campaigns)]
        visitor = secrets.token_hex(32)  # a fresh visitor id every time
        state = service.state(
            campaign_id=cid, publisher_id=publisher, visitor=visitor, origin=BLOG, referer=None
        )
        challenge = state["challenge"]
        bits = int(challenge["pow_bits"])
        tally.max_bits = max(tally.max_bits, bits)
        nonce, hashes = _solve(challenge["token"], bits) if bits else (None, 0)
        tally.hashes += hashes
        clock.now_ms += challenge["min_delay_ms"]  # waits the minimum delay, no more
        result = service.click(
            ClickRequest(
                campaign_id=cid,
                publisher_id=publisher,
                visitor=visitor,
                challenge=challenge["token"],
                pow_nonce=nonce,
                origin=BLOG,
                referer=f"{BLOG}/post",
                user_agent=CHROME_UA,
                client_ip=address(i),
            )
        )
        tally.attempts += 1
        tally.reasons[result.reason.value] += 1
    return tally


ATTACKERS = {
    "one IPv4 address": lambda i: "198.51.100.23",
    "one IPv6 /48 (a new /64 each time)": lambda i: f"2001:db8:4242:{i % 65536:x}::{(i * 7919) % 65536:x}",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=288, help="attempts per attacker per scenario")
    parser.add_argument("--campaigns", type=int, default=4, help="campaigns in the spread scenario")
    args = parser.parse_args()
    defaults = Settings()
    console.print(
        f"defaults: {defaults.widget_network_counted_per_day} counted per network per campaign per day, "
        f"{defaults.widget_network_counted_per_day_all_campaigns} across campaigns, "
        f"proof of work {defaults.widget_pow_bits_default} bits (raised under attack)"
    )
    table = Table(title="One simulated day of scripted clicks (forged Origin and User-Agent)")
    for col in (
        "attacker",
        "campaigns",
        "attempts",
        "counted",
        "refused by reason",
        "PoW hashes",
        "max bits",
    ):
        table.add_column(col)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("attacking", total=len(ATTACKERS) * 2)
        for n_campaigns in (1, args.campaigns):
            for name, address in ATTACKERS.items():
                with (
                    tempfile.TemporaryDirectory() as tmp,
                    world(Path(tmp), n_campaigns) as (service, clock, pub, ids),
                ):
                    t = attack(service, clock, pub, ids, address, args.attempts)
                refused = ", ".join(f"{r} {n}" for r, n in sorted(t.reasons.items()) if r != "counted")
                table.add_row(
                    name,
                    str(n_campaigns),
                    str(t.attempts),
                    str(t.reasons.get("counted", 0)),
                    refused or "none",
                    f"{t.hashes:,}",
                    str(t.max_bits),
                )
                progress.advance(task)
    console.print(table)


if __name__ == "__main__":
    main()
