"""Widget fixtures: the `world` every API test starts from, with a clock the tests move."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from wefirst.services import replace
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.widget.service import WidgetService

from factories import make_beneficiary, make_brand, signup_publisher
from widget.widget_helpers import Clock, World


@pytest.fixture
def settings(database_url: str, tmp_path: Any) -> Settings:
    return Settings(
        database_url=database_url,
        base_url="http://testserver",
        secret_key="test-secret-" + "x" * 32,
        data_dir=tmp_path,
        widget_visitor_attempts_per_minute=6,
        widget_network_attempts_per_minute=1_000,
        widget_min_click_delay_ms=500,
        # most tests click without solving; the default's own tests set it back (test_widget_limits)
        widget_pow_bits_default=0,
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def world(app: FastAPI, db: Database, settings: Settings, admin_key: str, clock: Clock) -> Iterator[World]:
    service = WidgetService.from_settings(db, settings, clock=clock)
    replace(app, widget=service)
    with TestClient(app, client=("203.0.113.7", 50000)) as client:
        brand = make_brand(client, db, admin_key, name="Aqua Claire")
        ben = make_beneficiary(client, db, admin_key, name="Eau Pour Tous")
        _, pub = signup_publisher(client, "Carnet de Camille (tests)", ["carnet-de-camille.fr"])
        w = World(
            client,
            db,
            admin_key,
            brand,
            "",
            pub["id"],
            pub["api_key"]["secret"],
            clock,
            service,
            {"beneficiary_id": ben.id},
        )
        w.campaign_id = w.new_campaign()
        yield w
