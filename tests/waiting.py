"""Waiting on conditions, never on the clock: the one way tests wait for something another
thread or process does (a server answering, a worker delivering, a sequencer publishing).

A fixed ``time.sleep`` guesses how long the machine needs and is wrong both ways: too short on
a busy machine (the test fails although the product is right) and too long on an idle one.
``wait_until`` polls the condition itself, returns as soon as it holds, and fails with a
message saying what never happened. The deadline only catches a hang, so it is generous
(``PATIENCE``): on two cores shared by several suites, a process can take tens of seconds to
import the app. Nothing here measures speed; speed checks belong in bench/ or compare with a
baseline measured in the same test."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

T = TypeVar("T")

PATIENCE = 120.0
"""Seconds a test waits for something that takes milliseconds on an idle machine."""


def wait_until(
    condition: Callable[[], T | None],
    *,
    timeout: float = PATIENCE,
    what: str | Callable[[], str] = "the condition",
) -> T:
    """The condition's first truthy value; fails naming ``what`` (a text, or a function that
    describes the state at the deadline) if it is still false after ``timeout`` seconds.
    Polls quickly at first, then every 50 ms."""
    deadline = time.monotonic() + timeout
    pause = 0.001
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            described = what() if callable(what) else what
            raise AssertionError(f"waited {timeout:g} s for {described}")
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def wait_for_http(
    url: str, *, proc: subprocess.Popen[Any] | None = None, timeout: float = PATIENCE
) -> httpx.Response:
    """The first 200 answer of ``url`` (a server starting in another process or thread). If
    ``proc`` exits first, fails at once with its exit code instead of waiting out the deadline."""

    def answered() -> httpx.Response | None:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{proc.args!r} exited with {proc.returncode} before {url} answered")
        try:
            r = httpx.get(url, timeout=5)
        except httpx.HTTPError:
            return None
        return r if r.status_code == 200 else None

    return wait_until(answered, timeout=timeout, what=f"{url} to answer 200")
