"""The moderation queue: anyone reports a case (abuse, spam, personal data, defamation);
moderators hide it with a public reason, restore it, or dismiss the report. Every act is
written to `case_moderation_log` (public: action, reason, time) and hides/restores also go
to the transparency log, so moderation cannot silently rewrite what a brand faced.

Moderators are keys with role `moderator` or `admin`; a moderator key can do nothing else."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, insert, select, update

from wefirst.auth.keys import Actor
from wefirst.cases import logentries
from wefirst.cases.rules import CaseRuleError
from wefirst.cases.service import get_case, rule_error
from wefirst.cases.text import check_text
from wefirst.domain.clock import rfc3339
from wefirst.domain.ids import new_id
from wefirst.errors import Conflict, Forbidden, NotFound, invalid
from wefirst.ratelimit import Limit, take
from wefirst.settings import Settings
from wefirst.store.tables_cases import case_moderation_log, case_reports, cases
from wefirst.tlog.queue import enqueue

_NET = "your network"
MODERATOR_ROLES = frozenset({"admin", "moderator"})


class ReportReason(StrEnum):
    abuse = "abuse"
    spam = "spam"
    personal_data = "personal_data"
    defamation = "defamation"


def is_moderator(actor: Actor | None) -> bool:
    return actor is not None and actor.role in MODERATOR_ROLES


def require_moderator(actor: Actor) -> None:
    if not is_moderator(actor):
        raise Forbidden("only moderators (or admin keys) can do this")


def _text(field: str, value: str, *, min_len: int, max_len: int) -> str:
    text, problems = check_text(field, value, min_len=min_len, max_len=max_len, multiline=True)
    if problems:
        raise rule_error(CaseRuleError(problems))
    return text


def report_case(
    conn: Connection,
    settings: Settings,
    case_id: str,
    *,
    reason: str,
    note: str,
    network_hash: str,
    now: datetime,
) -> str:
    get_case(conn, case_id)
    try:
        reason_v = ReportReason(reason).value
    except ValueError:
        raise invalid("reason", "must be one of: " + ", ".join(r.value for r in ReportReason)) from None
    note_v = _text("note", note, min_len=0, max_len=2000) if note.strip() else ""
    window = timedelta(minutes=settings.cases_rate_window_minutes)
    per_network = settings.cases_report_limit_per_network
    take(
        conn, [Limit("cases.report", network_hash, per_network, window, "your network")], now, action="report"
    )
    report_id = new_id("rpt")
    conn.execute(
        insert(case_reports).values(
            id=report_id, case_id=case_id, reason=reason_v, note=note_v, status="open", created_at=now
        )
    )
    return report_id


def _log(
    conn: Connection,
    actor: Actor,
    case_id: str,
    action: str,
    reason: str,
    now: datetime,
    report_id: str | None = None,
) -> None:
    conn.execute(
        insert(case_moderation_log).values(
            case_id=case_id,
            action=action,
            public_reason=reason,
            report_id=report_id,
            moderator_key_id=actor.key_id,
            at=now,
        )
    )


def _close_reports(conn: Connection, case_id: str, status: str, now: datetime) -> None:
    conn.execute(
        update(case_reports)
        .where(case_reports.c.case_id == case_id, case_reports.c.status == "open")
        .values(status=status, closed_at=now)
    )


def get_report(conn: Connection, report_id: str) -> Any:
    row = conn.execute(select(case_reports).where(case_reports.c.id == report_id)).first()
    if row is None:
        raise NotFound(f"report {report_id} does not exist")
    return row


def hide_case(
    conn: Connection,
    actor: Actor,
    case_id: str,
    *,
    public_reason: str,
    report_id: str | None,
    now: datetime,
) -> None:
    require_moderator(actor)
    row = get_case(conn, case_id)
    reason = _text("public_reason", public_reason, min_len=5, max_len=500)
    report_reason = None
    if report_id is not None:
        rep = get_report(conn, report_id)
        if rep.case_id != case_id:
            raise invalid("report_id", "this report is about another case")
        report_reason = rep.reason
    if row.hidden:
        raise Conflict("this case is already hidden")
    conn.execute(
        update(cases).where(cases.c.id == case_id).values(hidden=True, hidden_reason=reason, updated_at=now)
    )
    _close_reports(conn, case_id, "actioned", now)
    _log(conn, actor, case_id, "hide", reason, now, report_id)
    enqueue(
        conn,
        logentries.hidden(
            case_id=case_id,
            brand_id=row.brand_id,
            hidden=True,
            reason_sha256=hashlib.sha256(reason.encode()).hexdigest(),
            report_reason=report_reason,
            at=now,
        ),
    )


def restore_case(conn: Connection, actor: Actor, case_id: str, *, public_reason: str, now: datetime) -> None:
    require_moderator(actor)
    row = get_case(conn, case_id)
    reason = _text("public_reason", public_reason, min_len=5, max_len=500)
    if not row.hidden:
        raise Conflict("this case is not hidden")
    conn.execute(
        update(cases).where(cases.c.id == case_id).values(hidden=False, hidden_reason=None, updated_at=now)
    )
    _log(conn, actor, case_id, "restore", reason, now)
    enqueue(
        conn,
        logentries.hidden(
            case_id=case_id,
            brand_id=row.brand_id,
            hidden=False,
            reason_sha256=hashlib.sha256(reason.encode()).hexdigest(),
            report_reason=None,
            at=now,
        ),
    )


def dismiss_report(
    conn: Connection, actor: Actor, report_id: str, *, public_reason: str, now: datetime
) -> None:
    require_moderator(actor)
    rep = get_report(conn, report_id)
    reason = _text("public_reason", public_reason, min_len=5, max_len=500)
    if rep.status != "open":
        raise Conflict(f"this report is already {rep.status}")
    conn.execute(
        update(case_reports).where(case_reports.c.id == report_id).values(status="dismissed", closed_at=now)
    )
    _log(conn, actor, rep.case_id, "dismiss_report", reason, now, report_id)


def report_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "case_id": row.case_id,
        "reason": row.reason,
        "note": row.note,
        "status": row.status,
        "created_at": rfc3339(row.created_at),
        "closed_at": rfc3339(row.closed_at) if row.closed_at else None,
    }


def list_reports(
    conn: Connection, actor: Actor, *, status: str, limit: int, starting_after: str | None
) -> tuple[list[Any], bool]:
    """Oldest first: the queue is worked in the order reports arrived."""
    require_moderator(actor)
    query = select(case_reports).where(case_reports.c.status == status)
    if starting_after:
        seq = conn.execute(select(case_reports.c.seq).where(case_reports.c.id == starting_after)).scalar()
        if seq is None:
            raise invalid("starting_after", "no such report")
        query = query.where(case_reports.c.seq > seq)
    rows = conn.execute(query.order_by(case_reports.c.seq).limit(limit + 1)).all()
    return list(rows[:limit]), len(rows) > limit


def moderation_log(conn: Connection, case_id: str) -> list[dict[str, Any]]:
    """The public side of the moderation log: no moderator identity, no report notes."""
    rows = conn.execute(
        select(case_moderation_log)
        .where(case_moderation_log.c.case_id == case_id)
        .order_by(case_moderation_log.c.seq)
    ).all()
    return [{"action": r.action, "public_reason": r.public_reason, "at": rfc3339(r.at)} for r in rows]
