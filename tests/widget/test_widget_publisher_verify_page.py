"""The publisher sign-up link opens a page, not a JSON endpoint (issue 12): in English and in
French, without JavaScript (plain forms, driven here without a browser), verifying only by its
button (a mail scanner that follows the link verifies nobody), and an expired link can ask for a
new one, sent to the sign-up address only, a few times a day at most. Attacks: a changed token,
someone else's token, an expired token, a flood of resend requests."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner

from wefirst.mail import MemoryMailer
from wefirst.services import services_of
from wefirst.settings import Settings
from wefirst.widget.verification import RENEW_WITHIN, RESENDS_PER_PUBLISHER_PER_DAY

from factories import auth
from widget.widget_helpers import World

PAGE = "/publishers/verify"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Room for the sign-ups these tests make from one test network (the sign-up limit has
    its own tests in test_widget_publisher_approval.py)."""
    return settings.model_copy(update={"widget_publisher_signups_per_network_per_day": 50})


def _mails(client: TestClient) -> MemoryMailer:
    mailer = services_of(client.app).mailer
    assert isinstance(mailer, MemoryMailer)
    return mailer


@contextmanager
def _signed_hours_ago(hours: float) -> Iterator[None]:
    """Links signed while this is open carry a time `hours` in the past."""
    real = TimestampSigner.get_timestamp
    TimestampSigner.get_timestamp = lambda self: int(time.time() - hours * 3600)  # type: ignore[method-assign]
    try:
        yield
    finally:
        TimestampSigner.get_timestamp = real  # type: ignore[method-assign]


def _signup(c: TestClient, email: str, name: str = "Blog") -> tuple[dict[str, Any], str]:
    r = c.post("/v1/publishers", json={"name": name, "domains": ["blog.example"], "email": email})
    assert r.status_code == 201, r.text
    body = str(_mails(c).sent[-1].get_content())
    link = next(w for w in body.split() if f"{PAGE}?token=" in w)
    assert "/v1/" not in link  # the mail links to the page
    return r.json(), link.split("token=", 1)[1]


def _key_works(c: TestClient, pub: dict[str, Any]) -> bool:
    r = c.get(f"/v1/publishers/{pub['id']}", headers=auth(pub["api_key"]["secret"]))
    return bool(r.status_code == 200)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, html
    return found.group(1)


def _post(c: TestClient, path: str, page: str, **fields: str) -> Any:
    return c.post(path, data={"csrf_token": _csrf(page), **fields})


@pytest.mark.parametrize(
    ("lang", "heading", "button", "done"),
    [
        ("en", "Confirm a publisher sign-up", "Confirm the sign-up", "is verified: its API key works."),
        ("fr", "Confirmer l'inscription d'un éditeur", "Confirmer l'inscription", "vérifié\u00a0: sa clé"),
    ],
)
def test_the_link_opens_a_page_that_verifies_only_by_its_button(
    world: World, lang: str, heading: str, button: str, done: str
) -> None:
    c = world.client
    pub, token = _signup(c, f"camille-{lang}@example.org")
    page = c.get(PAGE, params={"token": token, "lang": lang})
    assert page.status_code == 200
    html = page.text
    assert heading in html.replace("&#39;", "'")
    assert button in html.replace("&#39;", "'")
    assert '<form method="post" action="/publishers/verify">' in html  # a plain form: no script needed
    assert page.headers["referrer-policy"] == "no-referrer"
    assert not _key_works(c, pub)  # opening the page (a mail scanner) verified nothing
    again = c.get(PAGE, params={"token": token, "lang": lang})
    assert not _key_works(c, pub)
    confirmed = _post(c, PAGE, again.text, token=token)
    assert confirmed.status_code == 200
    assert done in confirmed.text.replace("&#39;", "'")
    assert _key_works(c, pub)


def test_a_changed_or_someone_elses_token_verifies_nobody_else(world: World) -> None:
    c = world.client
    victim, victim_token = _signup(c, "victim@example.org", "Victim")
    attacker, _ = _signup(c, "attacker@example.org", "Attacker")
    page = c.get(PAGE, params={"token": victim_token})
    changed = victim_token[:-2] + ("AA" if not victim_token.endswith("AA") else "BB")
    for bad in (changed, "x" * 40, ""):
        r = _post(c, PAGE, page.text, token=bad)
        assert r.status_code == 400
        assert "This link is not valid" in r.text
    assert not _key_works(c, victim)
    assert not _key_works(c, attacker)
    # the victim's link verifies the victim, never the attacker who holds it
    assert _post(c, PAGE, page.text, token=victim_token).status_code == 200
    assert _key_works(c, victim)
    assert not _key_works(c, attacker)


def test_an_expired_link_gets_a_new_one_at_the_signup_address_only(world: World) -> None:
    c = world.client
    hours = services_of(c.app).settings.widget_publisher_verify_link_hours
    with _signed_hours_ago(hours + 1):
        pub, old = _signup(c, "Camille@Example.org")
    page = c.get(PAGE, params={"token": old})
    assert page.status_code == 410
    assert "This link has expired" in page.text
    assert 'action="/publishers/verify/resend"' in page.text
    assert _post(c, PAGE, page.text, token=old).status_code == 410  # following it does nothing
    assert not _key_works(c, pub)

    sent = len(_mails(c).sent)
    wrong = _post(c, PAGE + "/resend", page.text, token=old, email="thief@example.org")
    assert wrong.status_code == 200  # the same answer: the page does not say which address it was
    assert "If this is the address the sign-up gave" in wrong.text
    assert len(_mails(c).sent) == sent  # nothing went to the thief
    right = _post(c, PAGE + "/resend", page.text, token=old, email="camille@example.org")
    assert right.status_code == 200
    assert len(_mails(c).sent) == sent + 1
    assert _mails(c).sent[-1]["To"] == "camille@example.org"
    fresh = next(w for w in str(_mails(c).sent[-1].get_content()).split() if "token=" in w).split("token=")[1]
    assert _post(c, PAGE, c.get(PAGE, params={"token": fresh}).text, token=fresh).status_code == 200
    assert _key_works(c, pub)


def test_a_link_too_old_to_renew_is_not_valid(world: World) -> None:
    c = world.client
    with _signed_hours_ago(RENEW_WITHIN.total_seconds() / 3600 + 1):
        _pub, old = _signup(c, "late@example.org")
    page = c.get(PAGE, params={"token": old})
    assert page.status_code == 400
    sent = len(_mails(c).sent)
    r = c.post("/v1/publishers/verify/resend", json={"token": old, "email": "late@example.org"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "token"
    assert len(_mails(c).sent) == sent


def test_resend_flooding_is_refused_and_sends_at_most_the_budget(world: World) -> None:
    c = world.client
    hours = services_of(c.app).settings.widget_publisher_verify_link_hours
    with _signed_hours_ago(hours + 1):
        pub, old = _signup(c, "flood@example.org")
    sent = len(_mails(c).sent)
    codes = [
        c.post("/v1/publishers/verify/resend", json={"token": old, "email": "flood@example.org"}).status_code
        for _ in range(RESENDS_PER_PUBLISHER_PER_DAY + 5)
    ]
    assert codes == [202] * RESENDS_PER_PUBLISHER_PER_DAY + [429] * 5
    assert len(_mails(c).sent) == sent + RESENDS_PER_PUBLISHER_PER_DAY
    page = c.get(PAGE, params={"token": old})  # the page says so too, in a 429
    flooded = _post(c, PAGE + "/resend", page.text, token=old, email="flood@example.org")
    assert flooded.status_code == 429
    assert "try again tomorrow" in flooded.text
    assert len(_mails(c).sent) == sent + RESENDS_PER_PUBLISHER_PER_DAY
    assert not _key_works(c, pub)


def test_one_network_cannot_flood_many_publishers(world: World) -> None:
    """Guessing addresses across many pending publishers from one network is bounded too."""
    c = world.client
    hours = services_of(c.app).settings.widget_publisher_verify_link_hours
    tokens = []
    with _signed_hours_ago(hours + 1):
        for i in range(5):
            tokens.append(_signup(c, f"p{i}@example.org", f"P{i}")[1])
    codes = [
        c.post("/v1/publishers/verify/resend", json={"token": t, "email": f"g{j}@example.org"}).status_code
        for t in tokens
        for j in range(3)
    ]
    assert codes.count(202) == 10  # RESENDS_PER_NETWORK_PER_DAY
    assert codes.count(429) == 5
