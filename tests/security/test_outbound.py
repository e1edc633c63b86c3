"""Issue 13, finding 3: outgoing requests went wherever a brand pointed them (alert webhooks,
RSS and Mastodon sources, WooCommerce call-backs with Basic auth over http), loopback and the
operator's private network included, and the attempts were readable: a port scanner. One
outbound guard (wefirst.outbound) now stands in front of all of them."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from wefirst.app import create_app
from wefirst.ingest.connectors.clients import HTTPWooRefunds, RemoteUnavailableError
from wefirst.outbound import OutboundPolicy, OutboundRefused, Resolver, TooLarge, TooSlow, read_bounded
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.voice.sources.rss import FeedFetcher
from wefirst.webhooks.endpoints import MAX_ENDPOINTS_PER_BRAND
from wefirst.webhooks.transport import Category, HttpTransport

from factories import auth, loopback_policy, make_brand
from voice.voice_fakes import fake_http

PRODUCTION = OutboundPolicy()

REFUSED_ADDRESSES = [
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0",  # noqa: S104 (a target to refuse, not a bind)
    "::1",
    "fc00::1",
    "fe80::1",
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "224.0.0.1",
]


@pytest.mark.parametrize("address", REFUSED_ADDRESSES)
def test_non_global_addresses_are_refused(address: str) -> None:
    assert not PRODUCTION.allows_address(ipaddress.ip_address(address))
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(OutboundRefused):
        PRODUCTION.check_url(f"https://{host}/hook")


def _resolving_to(answers: list[str]) -> Resolver:
    return lambda host, port: answers


def test_a_name_resolving_to_a_private_address_is_refused() -> None:
    """DNS is the attacker's too: a public-looking name that answers 127.0.0.1, or a mix."""
    for answers in (["127.0.0.1"], ["93.184.215.14", "10.0.0.7"]):
        policy = OutboundPolicy(resolver=_resolving_to(answers))
        with pytest.raises(OutboundRefused):
            policy.check_url("https://hooks.attacker.example/x")


def test_allowed_private_ranges_are_a_setting() -> None:
    settings = Settings(outbound_allowed_networks="10.20.0.0/16", secret_key="k" * 40)
    policy = OutboundPolicy.from_settings(settings)
    assert policy.allows_address(ipaddress.ip_address("10.20.3.4"))
    assert not policy.allows_address(ipaddress.ip_address("10.21.3.4"))
    assert not policy.allows_address(ipaddress.ip_address("127.0.0.1"))


def test_plain_http_is_refused_by_default() -> None:
    policy = OutboundPolicy(resolver=lambda host, port: ["93.184.215.14"])
    with pytest.raises(OutboundRefused):
        policy.check_url("http://shop.example/wp-json")
    assert str(policy.check_url("https://shop.example/wp-json")) == "93.184.215.14"


def test_the_guard_connects_to_the_address_it_checked() -> None:
    """Resolve once, connect there: a second DNS answer cannot swap in a private address.
    The name stays in the Host header and in TLS (SNI, certificate check)."""
    seen: list[httpx.Request] = []
    answers = iter([["93.184.215.14"], ["127.0.0.1"]])  # a rebinding resolver

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    policy = OutboundPolicy(resolver=lambda host, port: next(answers))
    with httpx.Client(transport=policy.transport(httpx.MockTransport(handler))) as client:
        assert client.post("https://hooks.brand.example/in").status_code == 200
        with pytest.raises(OutboundRefused):
            client.post("https://hooks.brand.example/in")  # the second answer is checked too
    [request] = seen
    assert request.url.host == "93.184.215.14"
    assert request.headers["host"] == "hooks.brand.example"
    assert request.extensions["sni_hostname"] == "hooks.brand.example"


def test_a_webhook_to_loopback_is_refused_and_never_connects() -> None:
    with fake_http() as server:
        outcome = HttpTransport(PRODUCTION).post(server.url + "/hook", b"{}", {}, timeout=2)
        assert outcome.category is Category.REFUSED
        assert outcome.status is None
        assert server.requests == []
        # the same receiver is reachable when the operator allows its range (on-premise use)
        allowed = HttpTransport(loopback_policy()).post(server.url + "/missing", b"{}", {}, timeout=5)
        assert allowed.category is Category.HTTP_STATUS
        assert len(server.requests) == 1


def test_a_feed_redirecting_to_a_private_address_is_refused() -> None:
    """The first hop is allowed (on-premise range), its redirect to the metadata address is
    checked again and refused; the feed's error is a category, not the address."""
    only_first = OutboundPolicy(allowed_networks=(ipaddress.ip_network("127.0.0.1/32"),), https_only=False)
    with fake_http() as server:
        server.route("/feed", lambda _r: (302, {"Location": "http://169.254.169.254/latest/meta-data"}, b""))
        fetcher = FeedFetcher(b"salt", timeout=2, policy=only_first)
        assert fetcher.fetch(server.url + "/feed") == []
        state = fetcher.states[server.url + "/feed"]
        fetcher.close()
    assert state.errors == ["refused"]
    assert "169.254" not in " ".join(state.errors)


def test_a_feed_on_loopback_is_refused_without_a_connection() -> None:
    with fake_http() as server:
        fetcher = FeedFetcher(b"salt", timeout=2)  # production policy
        assert fetcher.fetch(server.url + "/feed") == []
        fetcher.close()
        assert server.requests == []


def test_woocommerce_call_backs_never_send_basic_auth_to_http_or_private_sites() -> None:
    with fake_http() as server:
        for site in (server.url, "http://shop.example"):
            woo = HTTPWooRefunds(site, "ck_x", "cs_secret")
            with pytest.raises(RemoteUnavailableError) as caught:
                woo.get_refund("1", "2")
            assert "127.0.0.1" not in str(caught.value)
        assert server.requests == []


def test_answers_are_bounded_in_size_and_total_time() -> None:
    big = httpx.Response(200, content=b"x" * 10_000)
    with pytest.raises(TooLarge):
        read_bounded(big, max_bytes=1000, deadline=time.monotonic() + 60)
    slow = httpx.Response(200, content=b"x" * 10)
    with pytest.raises(TooSlow):
        read_bounded(slow, max_bytes=1000, deadline=time.monotonic() - 1)


@pytest.fixture
def production_app(settings: Settings, db: Database) -> FastAPI:
    """The app with the guard's production defaults (the shared fixture allows loopback)."""
    return create_app(
        settings.model_copy(update={"outbound_allowed_networks": "", "outbound_https_only": True}), db=db
    )


@pytest.fixture
def prod(production_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(production_app) as c:
        yield c


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.brand.example/in",
        "https://127.0.0.1:8000/admin",
        "https://[::1]/x",
        "https://169.254.169.254/latest/meta-data",
        "https://localhost/x",
        "https://db.internal/x",
    ],
)
def test_a_brand_cannot_register_an_endpoint_on_the_operators_network(
    prod: TestClient, db: Database, admin_key: str, url: str
) -> None:
    brand = make_brand(prod, db, admin_key)
    r = prod.post(f"/v1/brands/{brand.id}/voice/alert-endpoints", json={"url": url}, headers=auth(brand.key))
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["url"]


def test_a_brand_cannot_point_its_sources_at_the_operators_network(
    prod: TestClient, db: Database, admin_key: str
) -> None:
    brand = make_brand(prod, db, admin_key)
    r = prod.put(
        f"/v1/brands/{brand.id}/voice/settings",
        json={
            "sources": {
                "mastodon": [{"server": "https://10.0.0.5"}],
                "rss": ["https://blog.example/feed", "http://192.168.0.1/feed"],
            }
        },
        headers=auth(brand.key),
    )
    assert r.status_code == 422, r.text
    assert {e["field"] for e in r.json()["errors"]} == {"sources.mastodon[0].server", "sources.rss[1]"}


def test_endpoints_per_brand_are_capped(prod: TestClient, db: Database, admin_key: str) -> None:
    brand = make_brand(prod, db, admin_key)
    url = f"/v1/brands/{brand.id}/voice/alert-endpoints"
    for n in range(MAX_ENDPOINTS_PER_BRAND):
        r = prod.post(url, json={"url": f"https://h{n}.brand.example/in"}, headers=auth(brand.key))
        assert r.status_code == 201, r.text
    r = prod.post(url, json={"url": "https://one-more.brand.example/in"}, headers=auth(brand.key))
    assert r.status_code == 409, r.text
