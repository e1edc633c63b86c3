"""Reports and moderation of cases: anyone may report a case (limited per network); moderators
(admin keys) read the queue, hide or restore a case with a public reason, or dismiss a report."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy import Connection

from wefirst.api.cases import Limit, client_network, public_post
from wefirst.api.deps import ActorDep, DbDep, IdempotencyKey, RawBody, SettingsDep, page
from wefirst.api.writes import idempotent_post
from wefirst.auth.keys import Actor
from wefirst.cases import moderation, service, views
from wefirst.catalog.models import Strict
from wefirst.domain.clock import utcnow

router = APIRouter(prefix="/v1", tags=["cases"])


class ReportIn(Strict):
    reason: str
    note: Annotated[str, Field(max_length=5000)] = ""


class HideIn(Strict):
    public_reason: Annotated[str, Field(max_length=2000)]
    report_id: Annotated[str, Field(max_length=40)] | None = None


class ReasonIn(Strict):
    public_reason: Annotated[str, Field(max_length=2000)]


@router.post("/cases/{case_id}/reports", status_code=201)
def report(
    request: Request,
    case_id: str,
    data: ReportIn,
    db: DbDep,
    settings: SettingsDep,
    body: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    net = client_network(request, settings)

    def work(conn: Connection) -> tuple[int, Any]:
        report_id = moderation.report_case(
            conn, settings, case_id, reason=data.reason, note=data.note, network_hash=net, now=utcnow()
        )
        return 201, {"id": report_id, "case_id": case_id, "status": "open"}

    return public_post(request, db, f"reports:{net}", body, idempotency_key, work)


@router.get("/moderation/reports")
def reports_queue(
    actor: ActorDep,
    db: DbDep,
    status: Literal["open", "actioned", "dismissed"] = "open",
    limit: Limit = 50,
    starting_after: str | None = None,
) -> dict[str, Any]:
    with db.read() as conn:
        rows, more = moderation.list_reports(
            conn, actor, status=status, limit=limit, starting_after=starting_after
        )
    return page(rows, more, moderation.report_json)


def _moderate(
    request: Request, actor: Actor, db: DbDep, body: bytes, key: str | None, act: Any, case_id: str
) -> JSONResponse:
    moderation.require_moderator(actor)

    def work(conn: Connection) -> tuple[int, Any]:
        now = utcnow()
        act(conn, now)
        return 200, views.case_json(conn, service.get_case(conn, case_id), now=now, moderator=True)

    return idempotent_post(request, db, actor, body, key, work)


@router.post("/cases/{case_id}/hide")
def hide(
    request: Request,
    case_id: str,
    data: HideIn,
    actor: ActorDep,
    db: DbDep,
    body: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    def act(conn: Connection, now: datetime) -> None:
        moderation.hide_case(
            conn, actor, case_id, public_reason=data.public_reason, report_id=data.report_id, now=now
        )

    return _moderate(request, actor, db, body, idempotency_key, act, case_id)


@router.post("/cases/{case_id}/restore")
def restore(
    request: Request,
    case_id: str,
    data: ReasonIn,
    actor: ActorDep,
    db: DbDep,
    body: RawBody,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    def act(conn: Connection, now: datetime) -> None:
        moderation.restore_case(conn, actor, case_id, public_reason=data.public_reason, now=now)

    return _moderate(request, actor, db, body, idempotency_key, act, case_id)


@router.post("/moderation/reports/{report_id}/dismiss")
def dismiss(report_id: str, data: ReasonIn, actor: ActorDep, db: DbDep) -> dict[str, Any]:
    with db.write() as conn:
        moderation.dismiss_report(conn, actor, report_id, public_reason=data.public_reason, now=utcnow())
        return moderation.report_json(moderation.get_report(conn, report_id))
