"""The shared start/stop of long-lived threads (wefirst.background): started at most once,
stopped promptly even when the loop waits long, and startable again after a stop."""

from __future__ import annotations

import threading
import time

from wefirst.background import BackgroundThread


class Ticker(BackgroundThread):
    thread_name = "test-ticker"

    def __init__(self) -> None:
        super().__init__()
        self.started = 0
        self.running = threading.Event()

    def _run(self) -> None:
        self.started += 1
        self.running.set()
        while not self._stop.wait(3600):  # a stop must not wait out the hour
            pass


def test_starts_once_stops_promptly_and_starts_again() -> None:
    ticker = Ticker()
    ticker.start()
    assert ticker.running.wait(10)
    first = ticker._thread
    ticker.start()  # already running: no second loop
    assert ticker._thread is first
    assert first is not None
    assert (first.name, first.daemon) == ("test-ticker", True)
    begun = time.monotonic()
    ticker.stop()
    assert time.monotonic() - begun < 5
    assert ticker._thread is None
    assert not first.is_alive()
    ticker.running.clear()
    ticker.start()
    assert ticker.running.wait(10)
    ticker.stop()
    assert ticker.started == 2


def test_stop_before_start_is_harmless() -> None:
    Ticker().stop()
