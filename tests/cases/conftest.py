"""Fixtures for the cases tests. `tests/` is put on the path for the shared SMTP helper
(tests/smtp_server.py), since test folders are not packages."""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parents[1])
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from smtp_server import smtp_sink_fixture  # noqa: E402

smtp_sink = smtp_sink_fixture()
