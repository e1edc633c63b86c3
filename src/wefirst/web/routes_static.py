"""Static files for the pages (stylesheet, verifier, live counters) served from the package, so
an installed wheel needs no separate asset step."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from wefirst.web.security import apply_security_headers
from wefirst.web.templating import STATIC_DIR, render

router = APIRouter(include_in_schema=False)

_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
}


def static_file(path: str) -> Path | None:
    """Resolve inside STATIC_DIR only: `..`, absolute paths and symlinks out are refused."""
    if not path or "\x00" in path:
        return None
    root = STATIC_DIR.resolve()
    candidate = (root / path).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    if candidate.suffix not in _TYPES:
        return None
    return candidate


@router.get("/static/{path:path}")
def static(request: Request, path: str) -> Response:
    found = static_file(path)
    if found is None:
        return not_found(request)
    response = FileResponse(found, media_type=_TYPES[found.suffix])
    response.headers["Cache-Control"] = "public, max-age=3600"
    return apply_security_headers(response, request)


def not_found(request: Request, message: str | None = None) -> Response:
    return render(request, "not_found.html", {"message": message}, status=404)
