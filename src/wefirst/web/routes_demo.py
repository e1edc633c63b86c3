"""The demo's outbox (`/demo/outbox`): the mails the in-memory mail backend kept, newest first,
so a person trying the demo can follow its sign-in and co-sign links. Off unless the demo turns
on `demo_outbox` (the production checklist refuses it) and the mailer is the memory one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from wefirst.mail import MemoryMailer
from wefirst.services import ServicesDep
from wefirst.web.routes_static import not_found
from wefirst.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/demo/outbox")
def outbox(services: ServicesDep, request: Request) -> Response:
    mailer = services.mailer
    if not services.settings.demo_outbox or not isinstance(mailer, MemoryMailer):
        return not_found(request)
    mails: list[dict[str, Any]] = [
        {"to": m["To"], "subject": m["Subject"], "date": m["Date"], "body": m.get_content()}
        for m in reversed(list(mailer.sent))
    ]
    response = render(request, "outbox.html", {"mails": mails})
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
