"""Idempotency keys of callers without an API key are scoped to the caller's address, so one
caller can never replay (and read) another caller's stored answer."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request

from wefirst.api.writes import _anonymous_scope


def request(app: FastAPI, host: str) -> Request:
    return Request({"type": "http", "app": app, "client": (host, 1234), "headers": []})


def test_anonymous_scopes_differ_by_address_and_hide_it(app: FastAPI) -> None:
    a1, a2 = _anonymous_scope(request(app, "203.0.113.7")), _anonymous_scope(request(app, "203.0.113.7"))
    b = _anonymous_scope(request(app, "198.51.100.9"))
    assert a1 == a2
    assert a1 != b
    assert "203.0.113.7" not in a1
    assert len(a1) <= 64
