"""The API reference (`/docs`, Swagger UI) served entirely from this server: the viewer's
script and stylesheet come from the pinned `fastapi-offline` package, and the start-up code is
a static file of ours, so the page works offline and keeps a CSP with no third-party origin
and no inline script. Swagger UI sets inline styles, so this page (only) allows them. ReDoc is
not offered: its page loads a logo from its vendor's CDN."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

from wefirst.web.routes_static import not_found
from wefirst.web.security import apply_security_headers

router = APIRouter(include_in_schema=False)


def assets_dir() -> Path:
    """The viewer's files inside the installed `fastapi-offline` package (imported here, not at
    start-up, so an environment not yet updated loses only this page)."""
    import fastapi_offline

    return Path(fastapi_offline.__file__).parent / "static"


_FILES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
}
DOCS_CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    ]
)
_SWAGGER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wefirst API · Swagger UI</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml"></head>
<body><main><div id="swagger-ui" data-spec="/openapi.json"></div></main>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/static/docs.js"></script></body></html>
"""


def _page(request: Request, html: str) -> Response:
    response = HTMLResponse(html)
    response.headers["Content-Security-Policy"] = DOCS_CSP
    response.headers["Cache-Control"] = "no-cache"
    return apply_security_headers(response, request)


@router.get("/docs")
def swagger_ui(request: Request) -> Response:
    return _page(request, _SWAGGER)


@router.get("/docs/assets/{name}")
def asset(request: Request, name: str) -> Response:
    media = _FILES.get(name)
    if media is None:
        return not_found(request)
    response = FileResponse(assets_dir() / name, media_type=media)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return apply_security_headers(response, request)
