"""Fixtures for the cases tests: every app here sends mail through a real SMTP server
(aiosmtpd on loopback, tests/smtp_server.py), so co-signing is tested end to end."""

from __future__ import annotations

import pytest

from wefirst.settings import Settings

from smtp_server import SmtpSink, smtp_sink_fixture

smtp_sink = smtp_sink_fixture()


@pytest.fixture
def settings(settings: Settings, smtp_sink: SmtpSink) -> Settings:
    return settings.model_copy(
        update={
            "mail_backend": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_sink.port,
            "smtp_timeout_seconds": 5.0,
            "mail_from": "wefirst <cases@wefirst.test>",
        }
    )
