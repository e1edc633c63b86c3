"""The demo as a new user meets it: every sign-in it prints works."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from demo_site import DemoSite, demo_site
from web_helpers import csrf_of


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    with demo_site(tmp_path_factory.mktemp("demo")) as found:
        yield found


def signed_in(site: DemoSite, email: str) -> httpx.Client:
    web = httpx.Client(base_url=site.url, timeout=30)
    token = csrf_of(web.get("/signin").text)
    r = web.post("/signin", data={"email": email, "password": site.password(), "csrf_token": token})
    assert r.status_code == 303, r.text
    return web


@pytest.mark.parametrize(
    ("email", "console"),
    [("brand@doudou.example", "/console/brand"), ("team@vwb.example", "/console/beneficiary")],
)
def test_every_sign_in_the_demo_prints_opens_its_console(site: DemoSite, email: str, console: str) -> None:
    web = signed_in(site, email)
    page = web.get("/console", follow_redirects=True)
    assert page.status_code == 200, page.text[-2000:]
    assert page.url.path == console
    web.close()
