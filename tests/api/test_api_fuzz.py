"""Schemathesis generates requests from /openapi.json: no answer may be a 5xx, and every
answer must match the schema it documents. Runs once (on SQLite) to keep CI short."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from wefirst.store.db import Database


@pytest.fixture
def api_schema(app: FastAPI, db: Database) -> Any:
    if not db.is_sqlite:
        pytest.skip("the fuzz run happens once, on SQLite")
    return schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.slow
# One test runs every operation (~100, eight examples each: ~25 s on an idle machine), so the
# default per-test hang detector (300 s) is too tight for it on a busy one.
@pytest.mark.timeout(1800)
@schema.parametrize()
@settings(
    max_examples=8,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_no_server_errors_and_responses_match_schema(case: Any, admin_key: str) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {admin_key}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
