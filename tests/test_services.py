"""The services container: one typed object per app, built from settings, started and stopped
by the lifespan, and the only thing the app keeps on its state."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from wefirst.services import Services, replace, services_of
from wefirst.settings import Settings
from wefirst.store.db import Database

SRC = Path(__file__).resolve().parents[1] / "src" / "wefirst"


def test_nothing_but_the_container_reaches_into_app_state() -> None:
    pattern = re.compile(r"app\.state\.|getattr\((request\.app\.)?state\b|getattr\(app\.state")
    found = [
        f"{path.relative_to(SRC)}:{n}"
        for path in SRC.rglob("*.py")
        if path.name != "services.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == []


def test_services_are_frozen_and_built_once(app: FastAPI) -> None:
    services = services_of(app)
    with pytest.raises(dataclasses.FrozenInstanceError):
        services.mailer = services.mailer  # type: ignore[misc]
    # the mailer and the secret box exist once, made from the app's settings
    assert services_of(app).mailer is services.mailer
    assert services_of(app).secret_box is services.secret_box


def test_the_event_writer_is_a_service_the_widget_shares(app: FastAPI) -> None:
    """One event writer per app, on the container like every other piece: the widget's clicks
    and the API's grouped event intake share its groups (api/grouped.py)."""
    from wefirst.api.grouped import event_writer

    services = services_of(app)
    assert services.widget.writer is services.event_writer
    assert event_writer(services) is services.event_writer


def test_the_api_and_the_pages_send_through_the_same_mailer(app: FastAPI) -> None:
    from wefirst.mail import MemoryMailer

    mailer = replace(app, mailer=MemoryMailer()).mailer
    assert services_of(app).mailer is mailer


def test_threads_start_with_the_first_server_and_stop_with_the_last(settings: Settings, db: Database) -> None:
    services = Services.build(
        settings.model_copy(update={"tlog_sequencer": True, "connectors_worker_interval_seconds": 5.0}), db
    )
    assert services.sequencer is not None
    assert services.sweeper is not None
    services.start()
    services.start()  # the same app served twice
    services.stop()
    assert services.sequencer._thread is not None
    assert services.sequencer._thread.is_alive()
    services.stop()
    assert services.sequencer._thread is None
    assert services.sweeper._thread is None
    services.start()  # served again after a shutdown: the threads come back
    try:
        assert services.sequencer._thread is not None
        assert services.sequencer._thread.is_alive()
    finally:
        services.stop()


def test_a_served_app_answers_from_its_services(app: FastAPI) -> None:
    with TestClient(app) as client:
        assert client.get("/log/key").text.strip() == services_of(app).log.signer.verifier.key_string
        assert "wefirst_http_requests" in client.get("/metrics").text
