"""Issue 13 #3 (DNS rebinding): the Mastodon client (Mastodon.py, on `requests`) connects
through the outbound guard: each request resolves the server's name with the policy, is refused
unless the address is allowed, and connects to that very address. A name that answered a public
address when the source was checked and a private one at request time reaches nothing."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import pytest
from mastodon.errors import MastodonNetworkError

from wefirst.outbound import OutboundPolicy
from wefirst.voice.sources.mastodon import MastodonSource

from voice.test_voice_source_mastodon import SALT, TIMELINE
from voice.voice_fakes import fake_http

NAME = "mastodon.example"


def test_the_client_connects_to_the_address_the_guard_checked() -> None:
    with fake_http() as server:
        server.static("/api/v1/timelines/tag/pampers", TIMELINE, "application/json")
        port = urlsplit(server.url).port
        asked: list[str] = []

        def resolver(host: str, port: int) -> list[str]:
            asked.append(host)
            return ["127.0.0.1"]

        policy = OutboundPolicy(
            allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),), https_only=False, resolver=resolver
        )
        source = MastodonSource(f"http://{NAME}:{port}", SALT, hashtags=["pampers"], policy=policy)
        assert len(source.poll()) == 3
    # every request was resolved by the guard, and went to the address it gave (the name itself
    # resolves nowhere: only the guard's answer leads to the fake server)
    assert asked == [NAME] * len(server.requests)
    assert {r.headers["Host"] for r in server.requests} == {f"{NAME}:{port}"}  # the name kept


def test_a_rebound_name_reaches_nothing() -> None:
    calls: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        calls.append(host)  # public when checked, loopback ever after
        return ["93.184.216.34"] if len(calls) == 1 else ["127.0.0.1"]

    policy = OutboundPolicy(https_only=False, resolver=resolver)
    with fake_http() as server:
        server.static("/api/v1/timelines/tag/pampers", TIMELINE, "application/json")
        port = urlsplit(server.url).port
        url = f"http://{NAME}:{port}"
        policy.check_url(url)  # what `voice listen` checks before building the source
        source = MastodonSource(url, SALT, hashtags=["pampers"], policy=policy)
        with pytest.raises(MastodonNetworkError):
            source.poll()
    assert len(calls) > 1  # the guard looked again at request time
    assert server.requests == []
