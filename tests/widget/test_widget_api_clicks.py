"""The widget path over HTTP: state, challenge, click, dedupe, every refusal reason, receipts,
and the fraud report that adds them up."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text

from wefirst.store.tables_core import pledges
from wefirst.store.tables_shared import pseudonym_salts
from wefirst.store.tables_widget import widget_decisions
from wefirst.widget.pow import solve

from factories import auth, signup_publisher
from widget.widget_helpers import BLOG, CHROME_UA, World, visitor_of

DAY_MS = 86_400_000


def _decision(r: Any) -> str:
    return str(r.json()["decision"])


def test_state_shows_counter_words_and_a_challenge(world: World) -> None:
    r = world.state(visitor_of("alice"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["campaign"]["state"] == "active"
    assert body["campaign"]["line"]["fr"] == "Chaque clic finance 1 jour d'eau potable"
    assert body["counter"]["units"] == 0
    assert body["counter"]["label"]["fr"] == {"one": "jour d'eau potable", "other": "jours d'eau potable"}
    assert body["counted_today"] is False
    assert body["challenge"]["token"].startswith("w1.")
    assert body["challenge"]["pow_bits"] == 0
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["cache-control"] == "no-store"


def test_click_counts_once_per_day_with_a_receipt(world: World) -> None:
    alice = visitor_of("alice")
    r = world.click(alice)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["decision"] == "counted"
    assert body["units"] == 1
    assert body["counter"] == {"units": 1}
    assert body["receipt"]["url"] == f"http://testserver/receipts#{body['receipt']['token']}"
    assert r.headers["access-control-allow-origin"] == "*"

    again = world.click(alice)
    assert again.status_code == 200
    assert _decision(again) == "duplicate"
    assert again.json()["counter"] == {"units": 1}
    assert world.state(alice).json()["counted_today"] is True

    world.clock.advance(DAY_MS)
    tomorrow = world.click(alice)
    assert _decision(tomorrow) == "counted"
    assert tomorrow.json()["counter"] == {"units": 2}

    with world.db.read() as conn:
        rows = conn.execute(
            select(pledges.c.source, pledges.c.units, pledges.c.commitment)
            .where(pledges.c.campaign_id == world.campaign_id)
            .order_by(pledges.c.seq)
        ).all()
    assert [(r.source, r.units) for r in rows] == [("click", 1), ("click", 1)]
    assert rows[0].commitment == body["receipt"]["commitment"]


def test_other_visitors_count_separately(world: World) -> None:
    for name in ("alice", "bob", "chloé"):
        assert _decision(world.click(visitor_of(name))) == "counted"
    assert world.state(visitor_of("dan")).json()["counter"]["units"] == 3


def test_bad_origin(world: World) -> None:
    alice = visitor_of("alice")
    token = world.state(alice).json()["challenge"]["token"]
    for origin in ("https://evil.example", None):
        r = world.click(alice, token=token, origin=origin)
        assert r.status_code == 403
        assert r.headers["content-type"] == "application/problem+json"
        assert _decision(r) == "bad_origin"
    refused = world.state(alice, origin="https://copycat.example")
    assert refused.status_code == 403
    assert refused.json()["decision"] == "bad_origin"
    assert refused.headers["access-control-allow-origin"] == "*"
    # Referer is the fallback when a browser sends no Origin.
    r = world.client.post(
        "/v1/widget/clicks",
        headers={
            "Referer": BLOG + "/2026/11/gr20",
            "User-Agent": CHROME_UA,
        },
        json={
            "campaign": world.campaign_id,
            "publisher": world.publisher_id,
            "visitor": alice,
            "challenge": token,
        },
    )
    world.clock.advance(1_000)
    assert _decision(r) != "bad_origin"


def test_a_publisher_that_did_not_join_is_a_bad_origin(world: World) -> None:
    other = signup_publisher(world.client, "Other", ["other.example"], "other@example.org")[0].id
    assert (
        world.state(visitor_of("a"), publisher_id=other, origin="https://other.example").json()["decision"]
        == "bad_origin"
    )


def test_automation(world: World) -> None:
    alice = visitor_of("alice")
    headless = CHROME_UA.replace("Chrome/", "HeadlessChrome/")
    r = world.click(alice, ua=headless)
    assert (r.status_code, _decision(r), r.json()["detail"]) == (403, "automated", "user_agent")
    r = world.click(alice, ua="python-httpx/0.28.1")
    assert (_decision(r), r.json()["detail"]) == ("automated", "user_agent")
    r = world.click(alice, fetch=False)
    assert (_decision(r), r.json()["detail"]) == ("automated", "missing_challenge")
    r = world.click(alice, wait_ms=100)
    assert (_decision(r), r.json()["detail"]) == ("automated", "too_fast")


def test_bad_challenges(world: World) -> None:
    alice, bob = visitor_of("alice"), visitor_of("bob")
    token = world.state(alice).json()["challenge"]["token"]
    r = world.click(bob, token=token)
    assert (_decision(r), r.json()["detail"]) == ("bad_challenge", "binding")
    r = world.click(alice, token=token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"))
    assert (_decision(r), r.json()["detail"]) == ("bad_challenge", "signature")
    r = world.click(alice, token="not-a-token")
    assert (_decision(r), r.json()["detail"]) == ("bad_challenge", "malformed")
    assert _decision(world.click(alice, token=token)) == "counted"
    r = world.click(alice, token=token)
    assert (r.status_code, _decision(r), r.json()["detail"]) == (403, "bad_challenge", "replayed")
    stale = world.state(bob).json()["challenge"]["token"]
    world.clock.advance(11 * 60_000)
    r = world.click(bob, token=stale)
    assert (_decision(r), r.json()["detail"]) == ("bad_challenge", "expired")


def test_paused_and_ended_campaigns(world: World) -> None:
    alice = visitor_of("alice")
    brand = auth(world.brand.key)
    r = world.client.post(
        f"/v1/campaigns/{world.campaign_id}/status", json={"status": "paused"}, headers=brand
    )
    assert r.status_code == 200, r.text
    assert world.state(alice).json()["campaign"]["state"] == "paused"
    r = world.click(alice)
    assert (r.status_code, _decision(r), r.json()["detail"]) == (409, "campaign_inactive", "paused")
    world.client.post(f"/v1/campaigns/{world.campaign_id}/status", json={"status": "ended"}, headers=brand)
    assert world.state(alice).json()["campaign"]["state"] == "ended"


def test_cap_reached(world: World) -> None:
    capped = world.new_campaign(caps={"total_units": 2})
    assert _decision(world.click(visitor_of("a"), campaign_id=capped)) == "counted"
    assert _decision(world.click(visitor_of("b"), campaign_id=capped)) == "counted"
    state = world.state(visitor_of("c"), campaign_id=capped).json()
    assert state["campaign"]["state"] == "cap_reached"
    assert state["counter"]["units"] == 2
    r = world.click(visitor_of("c"), campaign_id=capped)
    assert (r.status_code, _decision(r)) == (409, "cap_reached")


def test_cap_reached_inside_the_pledge_engine(world: World) -> None:
    """Two readers hold challenges while one unit of room is left: the engine's cap answer
    becomes `cap_reached` and frees the reader's daily slot."""
    capped = world.new_campaign(caps={"total_units": 1})
    a, b = visitor_of("a"), visitor_of("b")
    ta = world.state(a, campaign_id=capped).json()["challenge"]["token"]
    tb = world.state(b, campaign_id=capped).json()["challenge"]["token"]
    assert _decision(world.click(a, token=ta, campaign_id=capped)) == "counted"
    r = world.click(b, token=tb, campaign_id=capped)
    assert _decision(r) == "cap_reached"


def test_rate_limited_per_visitor(world: World) -> None:
    alice = visitor_of("alice")
    decisions = [_decision(world.click(alice, wait_ms=1_000)) for _ in range(7)]
    assert decisions[0] == "counted"
    assert decisions[1:6] == ["duplicate"] * 5
    r = world.click(alice)
    assert r.status_code == 429
    assert r.headers["retry-after"] == "60"
    assert (_decision(r), r.json()["detail"]) == ("rate_limited", "visitor")
    world.clock.advance(61_000)
    assert _decision(world.click(alice)) == "duplicate"


def test_rate_limited_per_network(world: World) -> None:
    world.service.config = type(world.service.config)(
        limits=type(world.service.config.limits)(network_counted_per_day=2),
        challenge_ttl_ms=world.service.config.challenge_ttl_ms,
        min_click_delay_ms=world.service.config.min_click_delay_ms,
        base_url=world.service.config.base_url,
    )
    assert _decision(world.click(visitor_of("a"))) == "counted"
    assert _decision(world.click(visitor_of("b"))) == "counted"
    r = world.click(visitor_of("c"))
    assert (_decision(r), r.json()["detail"]) == ("rate_limited", "network_daily")


def test_proof_of_work(world: World) -> None:
    r = world.client.put(
        f"/v1/widget/campaigns/{world.campaign_id}/settings",
        json={"pow_bits": 10},
        headers=auth(world.brand.key),
    )
    assert r.status_code == 200, r.text
    alice = visitor_of("alice")
    challenge = world.state(alice).json()["challenge"]
    assert challenge["pow_bits"] == 10
    r = world.click(alice, token=challenge["token"])
    assert (_decision(r), r.json()["detail"]) == ("bad_challenge", "pow")
    challenge = world.state(alice).json()["challenge"]
    nonce = solve(challenge["token"], 10)
    assert _decision(world.click(alice, token=challenge["token"], pow_nonce=nonce)) == "counted"


def test_every_reason_lands_in_the_fraud_report(world: World) -> None:
    """One scenario per reason, then the report must show each of them."""
    capped = world.new_campaign(caps={"total_units": 1})
    a, b, c = visitor_of("a"), visitor_of("b"), visitor_of("c")
    expect = [
        ("counted", world.click(a)),
        ("duplicate", world.click(a)),
        ("bad_origin", world.click(b, origin="https://evil.example")),
        ("automated", world.click(b, fetch=False)),
        ("automated", world.click(b, wait_ms=10)),
        ("bad_challenge", world.click(b, token="w1.bad.token")),
    ]
    expect += [("duplicate", world.click(a)) for _ in range(4)]
    expect.append(("rate_limited", world.click(a)))
    expect.append(("counted", world.click(c, campaign_id=capped)))
    expect.append(("cap_reached", world.click(b, campaign_id=capped)))
    world.client.post(
        f"/v1/campaigns/{world.campaign_id}/status", json={"status": "paused"}, headers=auth(world.brand.key)
    )
    expect.append(("campaign_inactive", world.click(c)))
    assert [_decision(r) for _, r in expect] == [reason for reason, _ in expect]

    def report(cid: str) -> dict[str, Any]:
        r = world.client.get(
            f"/v1/widget/campaigns/{cid}/fraud-report",
            params={"from": "2026-11-18", "to": "2026-11-18"},
            headers=auth(world.brand.key),
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    main, cap = report(world.campaign_id), report(capped)
    assert main["by_reason"] == {
        "counted": 1,
        "duplicate": 5,
        "rate_limited": 1,
        "bad_origin": 1,
        "bad_challenge": 1,
        "automated": 2,
        "campaign_inactive": 1,
        "cap_reached": 0,
    }
    assert main["details"]["automated"] == {"missing_challenge": 1, "too_fast": 1}
    assert main["attempts"] == 12
    assert main["refused"] == 11
    assert main["by_day"] == [{"day": "2026-11-18", **{k: v for k, v in main["by_reason"].items() if v}}]
    assert main["by_publisher"][0]["publisher_id"] == world.publisher_id
    assert cap["by_reason"]["cap_reached"] == 1
    assert cap["by_reason"]["counted"] == 1
    every = {k for k, v in main["by_reason"].items() if v} | {k for k, v in cap["by_reason"].items() if v}
    assert every == {
        "counted",
        "duplicate",
        "rate_limited",
        "bad_origin",
        "bad_challenge",
        "automated",
        "campaign_inactive",
        "cap_reached",
    }
    assert cap["attempts"] == 2


def test_fraud_report_is_the_brands_alone(world: World) -> None:
    url = f"/v1/widget/campaigns/{world.campaign_id}/fraud-report"
    assert world.client.get(url).status_code == 401
    assert world.client.get(url, headers=auth(world.publisher_key)).status_code == 403
    assert world.client.get(url, headers=auth(world.admin_key)).status_code == 200
    from factories import make_brand

    other = make_brand(world.client, world.db, world.admin_key, name="Other brand")
    assert world.client.get(url, headers=auth(other.key)).status_code == 403
    r = world.client.put(
        f"/v1/widget/campaigns/{world.campaign_id}/settings",
        json={"pow_bits": 30},
        headers=auth(world.brand.key),
    )
    assert r.status_code == 422


def test_cors_only_on_the_widget_endpoints(world: World) -> None:
    pre = world.client.options(
        "/v1/widget/clicks",
        headers={
            "Origin": BLOG,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == "*"
    assert "POST" in pre.headers["access-control-allow-methods"]
    assert pre.headers["access-control-allow-headers"] == "Content-Type"
    assert "access-control-allow-credentials" not in pre.headers
    state_pre = world.client.options(
        f"/v1/widget/campaigns/{world.campaign_id}/state", headers={"Origin": BLOG}
    )
    assert state_pre.headers["access-control-allow-origin"] == "*"
    for path in (
        "/v1/campaigns",
        f"/v1/widget/campaigns/{world.campaign_id}/fraud-report",
        f"/v1/publishers/{world.publisher_id}",
    ):
        r = world.client.get(path, headers={"Origin": BLOG, **auth(world.admin_key)})
        assert "access-control-allow-origin" not in r.headers, path
    bad = world.client.post(
        "/v1/widget/clicks", headers={"Origin": BLOG}, json={"campaign": world.campaign_id}
    )
    assert bad.status_code == 422
    assert bad.headers["access-control-allow-origin"] == "*"
    unknown = world.state(visitor_of("a"), campaign_id="cmp_" + "0" * 26)
    assert unknown.status_code == 404
    assert unknown.headers["access-control-allow-origin"] == "*"
    bad_visitor = world.state("Alice@example.org")
    assert bad_visitor.status_code == 422


def test_no_address_or_visitor_commitment_is_stored(world: World) -> None:
    alice = visitor_of("alice")
    world.click(alice)
    world.click(alice)
    world.click(visitor_of("bob"), origin="https://evil.example")
    with world.db.read() as conn:
        dump = [
            repr(tuple(row))
            for table in ("widget_decisions", "widget_click_slots", "pledges")
            for row in conn.execute(text(f"SELECT * FROM {table}"))
        ]
    blob = "\n".join(dump)
    assert "203.0.113" not in blob
    assert alice not in blob
    assert len(dump) >= 4


def test_salts_rotate_and_old_ones_are_deleted(world: World) -> None:
    world.click(visitor_of("alice"))
    for _ in range(3):
        world.clock.advance(DAY_MS)
        world.click(visitor_of("alice"))
    with world.db.read() as conn:
        days: list[str] = list(
            conn.execute(select(pseudonym_salts.c.day).order_by(pseudonym_salts.c.day)).scalars()
        )
        assert list(days) == ["2026-11-20", "2026-11-21"]
        keys: list[str] = list(conn.execute(select(widget_decisions.c.net_key)).scalars())
    assert len(set(keys)) == 4


def test_simultaneous_clicks_from_two_processes_count_once(world: World) -> None:
    """Two services (as two API processes would have) race the same reader's clicks: the
    unique dedupe slot lets exactly one count, on SQLite and on PostgreSQL."""
    import threading

    from wefirst.widget.service import ClickRequest, WidgetService

    other = WidgetService(world.db, world.service.config, "test-secret-" + "x" * 32, clock=world.clock)
    alice = visitor_of("alice")
    tokens = [world.state(alice).json()["challenge"]["token"] for _ in range(8)]
    world.clock.advance(1_000)
    results: list[str] = []

    def click(service: WidgetService, token: str) -> None:
        r = service.click(
            ClickRequest(
                world.campaign_id,
                world.publisher_id,
                alice,
                token,
                None,
                BLOG,
                None,
                CHROME_UA,
                "198.51.100.9",
            )
        )
        results.append(r.reason.value)

    threads = [
        threading.Thread(target=click, args=(svc, t))
        for svc, t in zip([world.service, other] * 4, tokens, strict=True)
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        other.writer.stop()  # its writer holds a pooled connection until stopped or idle
    assert results.count("counted") == 1
    # Serialised (SQLite), the 7th attempt within the minute is over the visitor limit of 6.
    assert set(results) - {"counted"} <= {"duplicate", "rate_limited"}
    assert len(results) == 8
    with world.db.read() as conn:
        n = conn.execute(select(pledges.c.id).where(pledges.c.campaign_id == world.campaign_id)).all()
    assert len(n) == 1
