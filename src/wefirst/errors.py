"""One error hierarchy with the HTTP status on the class, so every layer raises the same
errors and the API renders them one way (RFC 9457 problem details)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class FieldError:
    field: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


class WefirstError(Exception):
    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"
    slug: ClassVar[str] = "bad-request"

    def __init__(self, detail: str, errors: list[FieldError] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.extra = extra

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://wefirst.org/problems/{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = [e.as_dict() for e in self.errors]
        body.update(self.extra)
        return body


class BadRequest(WefirstError):
    status = 400
    title = "Bad request"
    slug = "bad-request"


class Unauthorized(WefirstError):
    status = 401
    title = "Unauthorized"
    slug = "unauthorized"


class Forbidden(WefirstError):
    status = 403
    title = "Forbidden"
    slug = "forbidden"


class NotFound(WefirstError):
    status = 404
    title = "Not found"
    slug = "not-found"


class Conflict(WefirstError):
    status = 409
    title = "Conflict"
    slug = "conflict"


class Invalid(WefirstError):
    status = 422
    title = "Validation failed"
    slug = "validation-failed"


class TooManyRequests(WefirstError):
    status = 429
    title = "Too many requests"
    slug = "too-many-requests"


def invalid(field: str, reason: str) -> Invalid:
    """Shorthand for the common one-field validation failure."""
    return Invalid(f"{field}: {reason}", [FieldError(field, reason)])
