"""The one way a long-lived part of the app runs in its own thread: a daemon thread started at
most once, and a stop that sets an event the loop waits on, then joins (so stopping an app never
hangs on a sleep and never leaves two loops running)."""

from __future__ import annotations

import threading


class BackgroundThread:
    """Subclasses name their thread and write `_run`, which returns once `_stop` is set
    (wait on `self._stop.wait(seconds)` instead of sleeping)."""

    thread_name = "wefirst-background"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        raise NotImplementedError
