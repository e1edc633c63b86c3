"""Fixtures for the cases tests: every app here sends mail through a real SMTP server
(aiosmtpd on loopback, tests/smtp_server.py), so co-signing is tested end to end."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_TESTS = str(Path(__file__).resolve().parents[1])
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from smtp_server import SmtpSink, smtp_sink_fixture  # noqa: E402

from wefirst.settings import Settings  # noqa: E402

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
