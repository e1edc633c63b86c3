from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from voice_fakes import Recorded, fake_http

from wefirst.voice.alerts import (
    SIGNATURE_HEADER,
    AlertEvent,
    Attempt,
    Dispatcher,
    Endpoint,
    HttpxTransport,
    MemoryTransport,
    SignatureError,
    backoff,
    sign_header,
    signature,
    verify_header,
)

SECRET = "whsec_test_voice"
BODY = b'{"id":"evt_1","type":"voice.episode.started"}'


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), b"1773498730." + BODY, hashlib.sha256).hexdigest()
    assert signature(SECRET, 1773498730, BODY) == expected
    assert sign_header([SECRET], 1773498730, BODY) == f"t=1773498730,v1={expected}"


def test_verify_accepts_good_and_rotated_secrets() -> None:
    header = sign_header(["old", "new"], 1000, BODY)
    assert verify_header(["new"], header, BODY, now=1000) == 1000
    assert verify_header(["old"], header, BODY, now=1100) == 1000
    with pytest.raises(ValueError, match="at least one secret"):
        sign_header([], 1000, BODY)


@pytest.mark.parametrize(
    ("header", "body", "now", "message"),
    [
        (None, BODY, 1000, "missing"),
        ("", BODY, 1000, "missing"),
        ("garbage", BODY, 1000, "malformed"),
        ("t=abc,v1=00", BODY, 1000, "integer"),
        ("t=1000", BODY, 1000, "needs t= and"),
        ("v1=00", BODY, 1000, "needs t= and"),
        ("SIGNED", BODY, 1000, "malformed"),
        ("SIGNED", BODY + b" ", 1000, "no signature matches"),  # one byte changed
        ("SIGNED", BODY, 1000 + 301, "tolerance"),  # replayed later
        ("SIGNED", BODY, 1000 - 301, "tolerance"),
    ],
)
def test_verify_rejects(header: str | None, body: bytes, now: int, message: str) -> None:
    if header == "SIGNED":
        header = sign_header([SECRET], 1000, BODY)
        if message == "malformed":
            header = header.replace("=", "", 1)
    with pytest.raises(SignatureError, match=message):
        verify_header([SECRET], header, body, now=now)


def test_wrong_secret_is_rejected() -> None:
    with pytest.raises(SignatureError, match="no signature matches"):
        verify_header(["other"], sign_header([SECRET], 1000, BODY), BODY, now=1000)


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert backoff(12) == timedelta(hours=1)
    assert backoff(1000) == timedelta(hours=1)
    total = sum((backoff(n) for n in range(1, 30)), timedelta())
    assert timedelta(hours=18) < total < timedelta(hours=30)  # "about a day"


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def event(at: datetime) -> AlertEvent:
    return AlertEvent("evt_1", "voice.episode.started", at, {"brand_id": "brd_x", "posts": 40})


def test_body_is_compact_stable_json() -> None:
    ev = AlertEvent("evt_1", "voice.episode.started", datetime(2026, 3, 14, tzinfo=UTC), {"b": "é", "a": 1})
    assert (
        ev.body()
        == (
            '{"created":"2026-03-14T00:00:00Z","data":{"a":1,"b":"é"},'
            '"id":"evt_1","type":"voice.episode.started"}'
        ).encode()
    )


def test_retries_against_a_local_receiver_that_verifies_signatures() -> None:
    """A real HTTP receiver on 127.0.0.1 fails twice, then accepts; every attempt is logged,
    each one correctly signed with the time it was sent."""
    start = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
    clock = Clock(start)
    answers = [503, 500, 204]
    verified: list[int] = []

    def receiver(req: Recorded) -> tuple[int, dict[str, str], bytes]:
        ts = verify_header([SECRET], req.headers.get(SIGNATURE_HEADER), req.body, now=clock().timestamp())
        verified.append(ts)
        return answers.pop(0), {}, b""

    log: list[Attempt] = []
    with fake_http() as server:
        server.route("/hook", receiver)
        transport = HttpxTransport()
        dispatcher = Dispatcher(transport, clock, record=log.append)
        endpoint = Endpoint("hook_1", "brd_x", server.url + "/hook", (SECRET,))
        first = dispatcher.submit(event(start), [endpoint])
        assert [a.status for a in first] == [503]
        assert dispatcher.next_due() == start + timedelta(seconds=10)
        clock.now += timedelta(seconds=9)
        assert dispatcher.run_due() == []  # not due yet
        clock.now += timedelta(seconds=1)
        assert [a.status for a in dispatcher.run_due()] == [500]
        clock.now += timedelta(seconds=20)
        assert [a.status for a in dispatcher.run_due()] == [204]
        transport.close()
        assert dispatcher.pending() == 0
        bodies = {r.body for r in server.requests}
    assert len(bodies) == 1
    assert json.loads(bodies.pop())["type"] == "voice.episode.started"
    assert [(a.attempt, a.ok, a.error) for a in log] == [
        (1, False, "HTTP 503"),
        (2, False, "HTTP 500"),
        (3, True, None),
    ]
    assert verified == [int(start.timestamp()), int(start.timestamp()) + 10, int(start.timestamp()) + 30]
    assert log[0].next_at == start + timedelta(seconds=10)
    assert log[2].next_at is None


def test_network_errors_are_logged_and_retried_until_max_attempts() -> None:
    clock = Clock(datetime(2026, 3, 14, tzinfo=UTC))
    log: list[Attempt] = []
    transport = HttpxTransport()
    # nothing listens on port 9 of loopback: connection refused, quickly
    endpoint = Endpoint("hook_1", "brd_x", "http://127.0.0.1:9/hook", (SECRET,))
    dispatcher = Dispatcher(transport, clock, record=log.append, timeout=2, max_attempts=3)
    dispatcher.submit(event(clock()), [endpoint])
    for _ in range(5):
        due = dispatcher.next_due()
        if due is None:
            break
        clock.now = due
        dispatcher.run_due()
    transport.close()
    assert [a.attempt for a in log] == [1, 2, 3]
    assert all(not a.ok and a.error and "Connect" in a.error for a in log)
    assert log[-1].next_at is None
    assert dispatcher.pending() == 0


def test_memory_transport_is_the_fake_for_other_areas() -> None:
    transport = MemoryTransport(statuses=[500])
    clock = Clock(datetime(2026, 3, 14, tzinfo=UTC))
    dispatcher = Dispatcher(transport, clock)
    endpoints = [
        Endpoint("h1", "b", "http://a.example/x", ("s1",)),
        Endpoint("h2", "b", "http://b.example/x", ("s2",)),
    ]
    attempts = dispatcher.submit(event(clock()), endpoints)
    assert [a.ok for a in attempts] == [False, True]
    url, body, headers = transport.sent[1]
    assert url == "http://b.example/x"
    verify_header(["s2"], headers[SIGNATURE_HEADER], body, now=clock().timestamp())
