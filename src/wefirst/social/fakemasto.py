"""A fake Mastodon server on 127.0.0.1 for the live follower's tests and the demo: the
brand's notification stream as server-sent events (`GET /api/v1/streaming/user/notification`,
`event: notification` frames and `:thump` heartbeats, as Mastodon sends them; a Bearer token
required, as since 4.2), and every REST path answered by the `FakeNetwork` behind it. Like
Mastodon, a stream sends only what happens after it opened (no replay): resuming is the
client's job (`GET /api/v1/notifications?since_id=`). `drop_clients` cuts every open stream."""

from __future__ import annotations

import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from wefirst.social.fakenet import FakeNetwork
from wefirst.social.mastodon_stream import STREAM_PATH


class FakeMastodonServer:
    def __init__(self, net: FakeNetwork) -> None:
        self.net = net
        self.streams_opened = 0
        self._generation = 0
        self._closing = False
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def drop_clients(self) -> None:
        with self.net.changed:
            self._generation += 1
            self.net.changed.notify_all()

    def _news(self, generation: int, sent: int) -> Any:
        return lambda: self._closing or self._generation != generation or len(self.net.notifications) > sent

    def _stream(self, h: BaseHTTPRequestHandler) -> None:
        net = self.net
        with net.changed:
            generation, sent = self._generation, len(net.notifications)
            self.streams_opened += 1
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Cache-Control", "no-store")
        h.end_headers()
        h.wfile.write(b":)\n\n")
        h.wfile.flush()
        while True:
            with net.changed:
                net.changed.wait_for(self._news(generation, sent), timeout=0.5)
                if self._closing or self._generation != generation:
                    return
                new = net.notifications[sent:]
                sent = len(net.notifications)
            out = b"".join(b"event: notification\ndata: " + json.dumps(n).encode() + b"\n\n" for n in new)
            h.wfile.write(out or b":thump\n")
            h.wfile.flush()

    def _rest(self, h: BaseHTTPRequestHandler) -> None:
        headers = {k.lower(): v for k, v in h.headers.items()}
        headers["host"] = self.net.mastodon_host
        request = httpx.Request("GET", f"https://{self.net.mastodon_host}{h.path}", headers=headers)
        r = self.net.handle(request)
        h.send_response(r.status_code)
        for k, v in r.headers.items():
            if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                h.send_header(k, v)
        h.send_header("Content-Length", str(len(r.content)))
        h.end_headers()
        h.wfile.write(r.content)

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                if self.path.split("?")[0] != STREAM_PATH:
                    fake._rest(self)
                    return
                if not fake.net._authorized(httpx.Request("GET", "/", headers=dict(self.headers.items()))):
                    body = b'{"error":"The access token is invalid"}'
                    self.send_response(401)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.close_connection = True
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client left
                    fake._stream(self)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="fake-mastodon")
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self.url

    def stop(self) -> None:
        with self.net.changed:
            self._closing = True
            self.net.changed.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
