"""Signature checks over raw bytes: the spec's worked examples, every signed fixture, every
body and header byte broken in turn, rotation with two secrets, and Stripe's tolerance with
headers produced by the official `stripe` package."""

from __future__ import annotations

import time

import pytest
import stripe

from wefirst.ingest.connectors.errors import SignatureRejected
from wefirst.ingest.connectors.signatures import (
    b64_hmac_sha256,
    parse_stripe_header,
    stripe_v1,
    verify_base64_hmac,
    verify_stripe,
)

from connectors.connectors_support import SHOPIFY_SECRET, STRIPE_SECRET, WOO_SECRET, Delivery, load


def test_worked_examples_from_the_spec() -> None:
    assert (
        b64_hmac_sha256(SHOPIFY_SECRET, b'{"id":6104829372541,"test":false}')
        == "0fvP/7y3qHIQBkKC3O9apdBcyb1VM1hCNqL+/NQLRq4="
    )
    assert (
        b64_hmac_sha256(WOO_SECRET, b'{"id":4817,"status":"processing"}')
        == "HYf1rlQy5X/Aetr5dAFYoDNDGxL7rI/PzoayfKjPzYA="
    )
    assert (
        stripe_v1(STRIPE_SECRET, 1773498730, b'{"id":"evt_1","object":"event"}')
        == "1770203c17ee7253204ea1fe9ecf2b2f66e1d629626a08c2eac40f1bb6955ed2"
    )
    # and the SDK agrees with our helper on the same inputs
    sdk = stripe.WebhookSignature.generate_signature_header(
        '{"id":"evt_1","object":"event"}', STRIPE_SECRET, timestamp=1773498730
    )
    assert sdk == "t=1773498730,v1=1770203c17ee7253204ea1fe9ecf2b2f66e1d629626a08c2eac40f1bb6955ed2"


def _verify(delivery: Delivery, header: str, secrets: list[str]) -> int:
    value = delivery.headers.get(header)
    if header == "Stripe-Signature":
        return verify_stripe(delivery.body, value, secrets, tolerance=None)
    return verify_base64_hmac(delivery.body, value, secrets)


def test_every_signed_fixture_verifies(signed_fixture: tuple[Delivery, str, str]) -> None:
    delivery, header, secret = signed_fixture
    assert _verify(delivery, header, [secret]) == 0


def test_rotation_accepts_old_and_new_secret(signed_fixture: tuple[Delivery, str, str]) -> None:
    delivery, header, secret = signed_fixture
    assert _verify(delivery, header, ["the-new-secret-not-yet-used", secret]) == 1
    assert _verify(delivery, header, [secret, "the-new-secret-not-yet-used"]) == 0
    with pytest.raises(SignatureRejected) as err:
        _verify(delivery, header, ["whsec_other", "another"])
    assert err.value.reason == "bad_signature"
    assert err.value.status == 401


def test_each_body_byte_broken_is_rejected(signed_fixture: tuple[Delivery, str, str]) -> None:
    delivery, header, secret = signed_fixture
    body = delivery.body
    for i in range(len(body)):
        broken = body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1 :]
        with pytest.raises(SignatureRejected) as err:
            _verify(Delivery(delivery.name, broken, delivery.headers), header, [secret])
        assert err.value.reason == "bad_signature", i
    # one byte more or less is a different body too
    for changed in (body + b" ", body[:-1], b"\n" + body):
        with pytest.raises(SignatureRejected):
            _verify(Delivery(delivery.name, changed, delivery.headers), header, [secret])


def test_each_signature_character_broken_is_rejected(
    signed_fixture: tuple[Delivery, str, str],
) -> None:
    delivery, header, secret = signed_fixture
    value = delivery.headers[header]
    # For Stripe, only the v1 hex is the signature; t= is covered by the tolerance tests.
    start = value.index("v1=") + 3 if header == "Stripe-Signature" else 0
    for i in range(start, len(value)):
        for replacement in {chr(ord(value[i]) ^ 0x01), "A" if value[i] != "A" else "B"}:
            broken = value[:i] + replacement + value[i + 1 :]
            headers = {**delivery.headers, header: broken}
            with pytest.raises(SignatureRejected):
                _verify(Delivery(delivery.name, delivery.body, headers), header, [secret])


def test_missing_header_and_missing_secret() -> None:
    with pytest.raises(SignatureRejected) as err:
        verify_base64_hmac(b"{}", None, [SHOPIFY_SECRET])
    assert err.value.reason == "missing_signature"
    with pytest.raises(SignatureRejected) as err:
        verify_base64_hmac(b"{}", "", [SHOPIFY_SECRET])
    assert err.value.reason == "missing_signature"
    with pytest.raises(SignatureRejected) as err:
        verify_base64_hmac(b"{}", b64_hmac_sha256("", b"{}"), [])
    assert err.value.reason == "no_secret"
    with pytest.raises(SignatureRejected) as err:
        verify_stripe(b"{}", "t=1,v1=00", [""])
    assert err.value.reason == "no_secret"
    with pytest.raises(SignatureRejected) as err:
        verify_stripe(b"{}", None, [STRIPE_SECRET])
    assert err.value.reason == "missing_signature"


def test_non_ascii_header_is_rejected_not_crashing() -> None:
    with pytest.raises(SignatureRejected) as err:
        verify_base64_hmac(b"{}", "é" * 44, [SHOPIFY_SECRET])
    assert err.value.reason == "bad_signature"


def test_hex_instead_of_base64_is_rejected() -> None:
    body = b'{"id":6104829372541,"test":false}'
    hex_value = "d1fbcfffbcb7a872100642c2dcef5aa5d05cc9bd5533584236a2fefcd40b46ae"
    with pytest.raises(SignatureRejected):
        verify_base64_hmac(body, hex_value, [SHOPIFY_SECRET])


STRIPE_BODY = '{\n  "id": "evt_x",\n  "object": "event"\n}'


def test_stripe_header_generated_by_the_sdk_is_accepted_now() -> None:
    header = stripe.WebhookSignature.generate_signature_header(STRIPE_BODY, STRIPE_SECRET)
    assert verify_stripe(STRIPE_BODY.encode(), header, [STRIPE_SECRET]) == 0


def test_stripe_tolerance_rejects_old_timestamps_only() -> None:
    now = 1_800_000_000
    fresh = stripe.WebhookSignature.generate_signature_header(STRIPE_BODY, STRIPE_SECRET, timestamp=now - 300)
    assert verify_stripe(STRIPE_BODY.encode(), fresh, [STRIPE_SECRET], now=now) == 0
    stale = stripe.WebhookSignature.generate_signature_header(STRIPE_BODY, STRIPE_SECRET, timestamp=now - 301)
    with pytest.raises(SignatureRejected) as err:
        verify_stripe(STRIPE_BODY.encode(), stale, [STRIPE_SECRET], now=now)
    assert err.value.reason == "stale_timestamp"
    future = stripe.WebhookSignature.generate_signature_header(
        STRIPE_BODY, STRIPE_SECRET, timestamp=now + 3600
    )
    assert verify_stripe(STRIPE_BODY.encode(), future, [STRIPE_SECRET], now=now) == 0


@pytest.mark.parametrize("name", ["stripe/checkout_session_completed", "stripe/charge_refunded"])
def test_stripe_fixtures_are_stale_under_the_default_tolerance(name: str) -> None:
    delivery = load(name)
    with pytest.raises(SignatureRejected) as err:
        verify_stripe(delivery.body, delivery.headers["Stripe-Signature"], [STRIPE_SECRET])
    assert err.value.reason == "stale_timestamp"


def test_stripe_timestamp_is_signed() -> None:
    header = stripe.WebhookSignature.generate_signature_header(
        STRIPE_BODY, STRIPE_SECRET, timestamp=int(time.time())
    )
    t, sigs = parse_stripe_header(header)
    moved = f"t={t + 1},v1={sigs[0]}"
    with pytest.raises(SignatureRejected) as err:
        verify_stripe(STRIPE_BODY.encode(), moved, [STRIPE_SECRET])
    assert err.value.reason == "bad_signature"


def test_stripe_rolled_secret_sends_two_v1_and_either_may_match() -> None:
    now = int(time.time())
    old = stripe_v1("whsec_old", now, STRIPE_BODY.encode())
    new = stripe_v1("whsec_new", now, STRIPE_BODY.encode())
    header = f"t={now},v1={old},v1={new},v0=deadbeef"
    assert verify_stripe(STRIPE_BODY.encode(), header, ["whsec_new"]) == 0
    assert verify_stripe(STRIPE_BODY.encode(), header, ["whsec_x", "whsec_old"]) == 1


@pytest.mark.parametrize(
    "header",
    [
        "",
        "garbage",
        "t=,v1=00",
        "t=abc,v1=00",
        "v1=00",
        "t=1773498730",
        "t=1,t=2,v1=00",
        "t=1773498730,v0=00",
        "t=¹,v1=00",
        "t=-5,v1=00",
    ],
)
def test_stripe_malformed_headers(header: str) -> None:
    with pytest.raises(SignatureRejected) as err:
        verify_stripe(b"{}", header, [STRIPE_SECRET], tolerance=None)
    assert err.value.reason in {"malformed_signature", "missing_signature"}


def test_stripe_non_utf8_body_is_a_bad_signature() -> None:
    body = b"\xff\xfe"
    header = f"t=1,v1={stripe_v1(STRIPE_SECRET, 1, body)}"
    with pytest.raises(SignatureRejected) as err:
        verify_stripe(body, header, [STRIPE_SECRET], tolerance=None)
    assert err.value.reason == "bad_signature"
