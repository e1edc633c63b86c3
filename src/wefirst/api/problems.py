"""The one error shape: RFC 9457 problem details, for our errors, validation and HTTP errors."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from wefirst.errors import BadRequest, FieldError, Invalid, WefirstError

PROBLEM = "application/problem+json"


# Tags of discriminated unions appear in pydantic's error locations; users never typed them.
UNION_TAGS = frozenset({"per_unit", "per_click", "percent_of_sale", "per_order", "per_social_action"})
_CROSS_FIELD = re.compile(r"^Value error, ([A-Za-z_][\w\[\]\.]*): (.+)$", re.S)


def field_path(loc: tuple[Any, ...]) -> str:
    """('body', 'lines', 2, 'quantity') → 'lines[2].quantity'."""
    parts = list(loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc)
    out = ""
    for i, p in enumerate(parts):
        if isinstance(p, int):
            out += f"[{p}]"
        elif str(p).startswith(("function-", "tagged-union[")) or (
            p in UNION_TAGS and i > 0 and isinstance(parts[i - 1], int)
        ):
            continue
        else:
            out += ("." if out else "") + str(p)
    return out or (str(loc[0]) if loc else "body")


def _field_error(e: Any) -> FieldError:
    """Cross-field validators say "field: reason"; report them against that field."""
    path, msg = field_path(tuple(e["loc"])), str(e["msg"])
    m = _CROSS_FIELD.match(msg)
    if m:
        prefix = "" if path in ("body", "") else path + "."
        return FieldError(prefix + m.group(1), m.group(2))
    return FieldError(path, msg)


def problem_response(exc: WefirstError, request: Request) -> JSONResponse:
    headers = {"Retry-After": str(exc.extra["retry_after"])} if "retry_after" in exc.extra else None
    return JSONResponse(
        exc.problem(request.url.path), status_code=exc.status, media_type=PROBLEM, headers=headers
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(WefirstError)
    async def _ours(request: Request, exc: WefirstError) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return problem_response(
                BadRequest("the body is not valid JSON", [FieldError("body", "invalid JSON")]),
                request,
            )
        fields = [_field_error(e) for e in errors]
        summary = "; ".join(f"{f.field}: {f.reason}" for f in fields[:5])
        return problem_response(Invalid(summary, fields), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {404: "Not found", 405: "Method not allowed", 413: "Content too large"}
        body = {
            "type": "about:blank",
            "title": titles.get(exc.status_code, "HTTP error"),
            "status": exc.status_code,
            "detail": str(exc.detail),
            "instance": request.url.path,
        }
        return JSONResponse(
            body, status_code=exc.status_code, media_type=PROBLEM, headers=getattr(exc, "headers", None)
        )
