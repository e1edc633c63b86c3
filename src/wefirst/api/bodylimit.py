"""Request bodies are bounded before anyone reads them (issue 13, finding 5: a 200 MB POST to
an unknown connector grew a worker by ~374 MB before it answered 404).

A plain ASGI middleware: a declared Content-Length over the route's limit is answered 413 at
once, without reading; a body sent without one (chunked) is counted while it streams and
refused as soon as it passes the limit. The refusal is raised as an HTTP exception from
`receive`, so it reaches the one problem-details handler whichever reader (FastAPI's body
parsing, a raw-body dependency, a form) was reading."""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException

# Routes whose bodies may be larger than the default (path suffix → setting name).
LARGER = {"/sales-reports": "max_report_body_bytes"}


def _too_large(limit: int) -> str:
    return f"the request body is larger than this route accepts ({limit} bytes)"


class BodyLimit:
    def __init__(self, app: Any, default: int, larger: dict[str, int]) -> None:
        self.app = app
        self.default = default
        self.larger = larger

    def limit_for(self, path: str) -> int:
        for suffix, limit in self.larger.items():
            if path.endswith(suffix):
                return limit
        return self.default

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _problem(scope, send, limit)
            return
        seen = 0

        async def limited() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise HTTPException(413, _too_large(limit))
            return message

        await self.app(scope, limited, send)


def _content_length(scope: Any) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _problem(scope: Any, send: Any, limit: int) -> None:
    body = json.dumps(
        {
            "type": "about:blank",
            "title": "Content too large",
            "status": 413,
            "detail": _too_large(limit),
            "instance": scope["path"],
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
