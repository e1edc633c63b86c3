"""One network, one budget, whichever way its clicks come (issue 12, one network-key scheme):
the widget keyed a reader's network one way and `POST /v1/clicks` (a brand's server naming the
reader's address) another, so the same network got the per-campaign daily bound twice over.
Both now count under `pseudonyms.reader_network_key` (IPv4 /24, IPv6 /48, the day's salt)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from wefirst.settings import Settings

from factories import auth
from widget.widget_helpers import Clock, World, visitor_of

PER_DAY = 4


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"widget_network_counted_per_day": PER_DAY})


@pytest.fixture
def clock() -> Clock:
    """Now: `POST /v1/clicks` decides on the server's own time, so the widget must share its day."""
    return Clock(int(time.time() * 1000))


def _api_click(world: World, visitor: str, address: str) -> Any:
    r = world.client.post(
        "/v1/clicks",
        json={"campaign_id": world.campaign_id, "visitor": visitor, "visitor_ip": address},
        headers=auth(world.brand.key),
    )
    assert r.status_code == 200, r.text
    return r.json()


def _widget_click(world: World, client: TestClient, visitor: str) -> Any:
    """The widget's flow from a reader at `client`'s address."""
    saved = world.client
    world.client = client
    try:
        r = world.click(visitor)
    finally:
        world.client = saved
    assert r.status_code in (200, 201, 429), r.text
    return r.json()


@pytest.mark.parametrize(
    ("widget_address", "server_address"),
    [
        ("203.0.113.7", "203.0.113.200"),  # one IPv4 /24
        ("2001:db8:7:1::1", "2001:db8:7:ffff::2"),  # two /64s of one IPv6 /48
    ],
)
def test_a_network_is_bounded_once_through_the_widget_and_a_brands_server(
    world: World, widget_address: str, server_address: str
) -> None:
    with TestClient(world.client.app, client=(widget_address, 40000)) as reader:
        widget = [_widget_click(world, reader, visitor_of(f"w{i}"))["decision"] for i in range(2)]
        server = [_api_click(world, f"server-visitor-{i:08d}", server_address)["outcome"] for i in range(2)]
        assert widget == ["counted"] * 2
        assert server == ["pledged"] * 2
        # the network's day is spent: both paths refuse it, for the same reason
        refused = _widget_click(world, reader, visitor_of("w-late"))
        assert (refused["decision"], refused["detail"]) == ("rate_limited", "network_daily")
        late = _api_click(world, "server-visitor-late0000", server_address)
        assert (late["outcome"], late["detail"]) == ("rate_limited", "network_daily")
    balance = world.client.get(f"/v1/campaigns/{world.campaign_id}/balance").json()
    assert balance["pledged"]["units"] == PER_DAY


def test_another_network_keeps_its_own_budget(world: World) -> None:
    for i in range(PER_DAY):
        assert _api_click(world, f"server-visitor-{i:08d}", "198.51.100.9")["outcome"] == "pledged"
    with TestClient(world.client.app, client=("203.0.113.7", 40000)) as reader:
        assert _widget_click(world, reader, visitor_of("other"))["decision"] == "counted"
