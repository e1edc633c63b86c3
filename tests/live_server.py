"""The real app under uvicorn in a thread, on loopback: what a browser, a widget page or a
benchmark talks to. One copy for every test folder (tests/ is on the import path)."""

from __future__ import annotations

import socket
import threading
from typing import Any, Literal

import uvicorn

from waiting import wait_until


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class LiveServer:
    """`with LiveServer(app) as server:` serves `app` at `server.url` until the block ends.
    `lifespan="on"` runs the app's start-up and shut-down (its background workers); a port
    can be given when the page under test must know it before the server starts."""

    def __init__(
        self,
        app: Any,
        port: int | None = None,
        host: str = "127.0.0.1",
        *,
        lifespan: Literal["auto", "on", "off"] = "off",
    ) -> None:
        self.port = port if port is not None else free_port(host)
        self.url = f"http://{host}:{self.port}"
        config = uvicorn.Config(app, host=host, port=self.port, log_level="warning", lifespan=lifespan)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        wait_until(self._started, what="uvicorn to start")
        return self

    def _started(self) -> bool:
        assert self.thread.is_alive(), "uvicorn stopped before it started"
        return bool(self.server.started)

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
