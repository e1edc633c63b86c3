"""Local fake servers on 127.0.0.1 for the voice tests: a tiny HTTP server (plain responses,
server-sent events, a webhook receiver) and a websockets server replaying Jetstream frames.

They serve the recorded fixtures in tests/assets/voice; nothing here talks to a real service.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "voice"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Response = tuple[int, dict[str, str], bytes]
Route = Callable[[Recorded], Response]


@dataclass
class FakeHTTP:
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    url: str = ""

    def route(self, path: str, route: Route) -> None:
        self.routes[path] = route

    def static(self, path: str, body: bytes, content_type: str, **headers: str) -> None:
        self.routes[path] = lambda _r: (200, {"Content-Type": content_type, **headers}, body)


@contextmanager
def fake_http() -> Iterator[FakeHTTP]:
    fake = FakeHTTP()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            rec = Recorded(self.command, self.path, dict(self.headers.items()), body)
            fake.requests.append(rec)
            route = fake.routes.get(self.path.split("?", 1)[0])
            if route is None:
                status, headers, payload = 404, {"Content-Type": "application/json"}, b"{}"
            else:
                status, headers, payload = route(rec)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(payload)
            self.close_connection = True

        do_GET = _serve  # noqa: N815 (http.server's naming)
        do_POST = _serve  # noqa: N815

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def fake_jetstream(frames: list[str]) -> Iterator[tuple[str, list[str]]]:
    """A websockets server that sends ``frames`` to each client, then closes; yields its URL
    and the list of request paths it saw (to check the subscribe parameters and cursor)."""
    from websockets.sync.server import ServerConnection, serve

    paths: list[str] = []

    def handler(ws: ServerConnection) -> None:
        assert ws.request is not None
        paths.append(ws.request.path)
        for frame in frames:
            ws.send(frame)
        ws.close()

    with serve(handler, "127.0.0.1", 0) as server:
        port = server.socket.getsockname()[1]
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"ws://127.0.0.1:{port}/subscribe", paths
        finally:
            server.shutdown()
            thread.join(timeout=5)
