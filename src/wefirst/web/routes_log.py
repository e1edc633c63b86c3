"""The log explorer (`/log`): the public log's entries in words, newest first, a search by
position or by receipt, and the downloads. The signed checkpoint and tiles stay where
verifiers fetch them (`/log/checkpoint`, `/log/tile/…`); this page only reads them for people."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from wefirst.services import ServicesDep
from wefirst.store.tables_tlog import tlog_entries, tlog_index
from wefirst.tlog.receipts import commitment_of
from wefirst.web import labels, logwords, queries, receipt_story
from wefirst.web.forms import redirect
from wefirst.web.sessions import current_user
from wefirst.web.templating import render, translator

router = APIRouter(include_in_schema=False)
PAGE = 50


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _position(conn: Any, text: str) -> tuple[int | None, str | None]:
    """The log position a search names: a number, or a receipt's code, link or JSON."""
    text = text.strip()
    if text.isdigit():
        return int(text), None
    found = receipt_story.parse_input(text)
    commitment = None
    if found is not None:
        commitment = commitment_of(found.secret) if found.secret else found.commitment
    if commitment is None:
        return None, "not_a_receipt"
    idx = conn.execute(
        select(tlog_index.c.idx)
        .join_from(tlog_index, tlog_entries, tlog_entries.c.id == tlog_index.c.entry_id)
        .where(tlog_entries.c.commitment == commitment)
    ).scalar()
    return (int(idx), None) if idx is not None else (None, "unknown_receipt")


@router.get("/log")
def log_explorer(
    services: ServicesDep, request: Request, find: str = "", before: int | None = None
) -> Response:
    tr = translator(request)
    error = None
    with services.db.read() as conn:
        size = queries.log_size(conn)
        if find.strip():
            position, error = _position(conn, find[:2000])
            if position is not None and position < size:
                return redirect(request, f"/log?before={position + 1}#entry-{position}")
            if error is None:
                error = "no_such_position"
        top = size if before is None else max(0, min(before, size))
        rows = conn.execute(
            select(tlog_index.c.idx, tlog_entries.c.data)
            .join_from(tlog_index, tlog_entries, tlog_entries.c.id == tlog_index.c.entry_id)
            .where(tlog_index.c.idx < top)
            .order_by(tlog_index.c.idx.desc())
            .limit(PAGE)
        ).all()
        entries = [(int(r.idx), json.loads(bytes(r.data)), bytes(r.data).decode("utf-8")) for r in rows]
        names = logwords.Names.for_entries(conn, [e for _, e, _ in entries])
        user = current_user(request, conn)
    messages = {
        "not_a_receipt": tr.gettext(
            "Type a position in the log (a number), or paste a receipt's code or link."
        ),
        "unknown_receipt": tr.gettext("No entry in the log carries this receipt yet."),
        "no_such_position": tr.gettext("The log has no entry at this position yet."),
    }
    shown = [
        {
            "index": idx,
            "kind": labels.log_kind(entry.get("kind"), tr),
            "at": _date(entry.get("at")),
            "words": logwords.describe(entry, names, tr),
            "link": logwords.link(entry),
            "text": text,
        }
        for idx, entry, text in entries
    ]
    context = {
        "entries": shown,
        "size": size,
        "find": find[:200],
        "error": messages.get(error or ""),
        "older": entries[-1][0] if entries and entries[-1][0] > 0 else None,
        "newer": min(top + PAGE, size) if top < size else None,
        "og_description": tr.gettext(
            "Every promise, payment and delivery, in a public log anyone can check."
        ),
    }
    return render(request, "log.html", context, user=user, status=200 if error is None else 404)
