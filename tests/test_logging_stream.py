"""The app's log handler follows ``sys.stderr``: set up inside a CLI runner (whose capture is
closed afterwards), a handler that kept the old stream failed on every later record."""

from __future__ import annotations

import io
import logging
import sys

import pytest

from wefirst.app import configure_logging


def test_records_go_to_the_stderr_of_the_moment(monkeypatch: pytest.MonkeyPatch) -> None:
    saved = logging.getLogger().handlers[:]
    try:
        captured = io.StringIO()
        monkeypatch.setattr(sys, "stderr", captured)
        configure_logging()
        captured.close()  # what a CLI runner does with its capture
        later = io.StringIO()
        monkeypatch.setattr(sys, "stderr", later)
        logging.getLogger("wefirst.test").warning("after the runner")
        assert '"msg": "after the runner"' in later.getvalue()
    finally:
        logging.getLogger().handlers[:] = saved
