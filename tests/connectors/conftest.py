"""Fixtures for the connector tests; helpers live in `connectors_support`."""

from __future__ import annotations

import pytest
from connectors_support import SIGNED, Delivery, load


@pytest.fixture(params=sorted(SIGNED))
def signed_fixture(request: pytest.FixtureRequest) -> tuple[Delivery, str, str]:
    header, secret = SIGNED[request.param]
    return load(request.param), header, secret
