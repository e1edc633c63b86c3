"""Open data as CSV and JSON: campaign balances, per-day series, log entries. Field names are
the same in both formats and match the API's JSON; money is in minor units with its currency,
so a spreadsheet never sees a rounded float."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from wefirst.ledger.verdict import Verdict
from wefirst.services import ServicesDep
from wefirst.store.tables_tlog import tlog_entries, tlog_index
from wefirst.web import queries
from wefirst.web.routes_static import not_found
from wefirst.web.security import apply_security_headers

router = APIRouter(include_in_schema=False)

BALANCE_FIELDS = [
    "campaign_id",
    "campaign_name",
    "brand_id",
    "beneficiary_id",
    "status",
    "currency",
    "pledged_units",
    "pledged_amount",
    "guaranteed_minimum",
    "owed",
    "paid_reported",
    "paid_confirmed",
    "paid_disputed",
    "paid_awaiting_confirmation",
    "owed_units",
    "delivered_units",
    "standing",
    "due",
    "late",
    "late_since",
    # where the unit has an outcome conversion ("3 doses protect 1 child"); empty otherwise
    "pledged_outcomes",
    "pledged_outcome_remainder_units",
    "delivered_outcomes",
    "delivered_outcome_remainder_units",
]
SERIES_FIELDS = ["date", "currency", "pledged", "paid", "confirmed", "delivered_units"]
LOG_FIELDS = ["index", "kind", "campaign", "at", "entry"]
MAX_LOG_ROWS = 100_000


def _csv(fields: list[str], rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in fields})
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _cell(value: Any) -> Any:
    # A cell starting with =, +, - or @ is a formula to spreadsheets: quote it (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _json_array(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    yield "["
    first = True
    for row in rows:
        yield ("" if first else ",\n") + json.dumps(row, ensure_ascii=False)
        first = False
    yield "]\n"


def _send(
    request: Request, fmt: str, name: str, fields: list[str], rows: Iterable[dict[str, Any]]
) -> Response:
    if fmt == "csv":
        body: Iterator[str] = _csv(fields, rows)
        media = "text/csv; charset=utf-8"
    else:
        body = _json_array(rows)
        media = "application/json"
    response = StreamingResponse(body, media_type=media)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    response.headers["Access-Control-Allow-Origin"] = "*"  # public data, readable anywhere
    return apply_security_headers(response, request)


def balance_row(view: queries.CampaignView, balance: Any, verdict: Verdict) -> dict[str, Any]:
    """One campaign's figures with its verdict: the same reading as every page (owed is the
    denominator; "late" by the payment schedule, ledger/verdict.py)."""
    return {
        "campaign_id": view.id,
        "campaign_name": view.row.definition.get("name"),
        "brand_id": view.row.brand_id,
        "beneficiary_id": view.row.beneficiary_id,
        "status": view.row.status,
        "currency": balance.currency,
        "pledged_units": balance.pledged_units,
        "pledged_amount": balance.pledged_money,
        "guaranteed_minimum": balance.guaranteed_minimum,
        "owed": balance.owed,
        "paid_reported": balance.paid_reported,
        "paid_confirmed": balance.paid_confirmed,
        "paid_disputed": balance.paid_disputed,
        "paid_awaiting_confirmation": balance.paid_unconfirmed,
        "owed_units": verdict.owed_units,
        "delivered_units": balance.delivered_units,
        "standing": verdict.standing.value,
        "due": verdict.due,
        "late": verdict.late_amount,
        "late_since": verdict.late_since.isoformat() if verdict.late_since else None,
        **_outcomes(view, "pledged", balance.pledged_units),
        **_outcomes(view, "delivered", balance.delivered_units),
    }


def _outcomes(view: queries.CampaignView, what: str, units: int) -> dict[str, int | None]:
    """Whole outcomes (floor) and the units left towards the next, as on the API's balance."""
    per = (view.unit.get("outcome") or {}).get("units_per_outcome")
    if not isinstance(per, int) or per <= 0:
        return {f"{what}_outcomes": None, f"{what}_outcome_remainder_units": None}
    count, rest = divmod(max(units, 0), per)
    return {f"{what}_outcomes": count, f"{what}_outcome_remainder_units": rest}


def _public(view: queries.CampaignView | None) -> bool:
    return view is not None and view.row.status != "draft" and bool(view.row.livemode)


@router.get("/exports/balances.{fmt}")
def balances_export(services: ServicesDep, request: Request, fmt: str) -> Response:
    if fmt not in ("csv", "json"):
        return not_found(request)
    with services.db.read() as conn:
        rows = []
        for b in queries.all_brands(conn):
            for view in queries.brand_campaigns(conn, b.id):
                days = services.rollups.days(conn, view.id)
                rows.append(balance_row(view, *queries.promise(view, days)))
    return _send(request, fmt, "campaign-balances", BALANCE_FIELDS, rows)


@router.get("/campaigns/{campaign_id}/balance.{fmt}")
def campaign_balance_export(services: ServicesDep, request: Request, campaign_id: str, fmt: str) -> Response:
    with services.db.read() as conn:
        view = queries.campaign_view(conn, campaign_id)
        if fmt not in ("csv", "json") or view is None or not _public(view):
            return not_found(request)
        days = services.rollups.days(conn, campaign_id)
        row = balance_row(view, *queries.promise(view, days))
    return _send(request, fmt, f"{campaign_id}-balance", BALANCE_FIELDS, [row])


@router.get("/campaigns/{campaign_id}/series.{fmt}")
def campaign_series_export(services: ServicesDep, request: Request, campaign_id: str, fmt: str) -> Response:
    with services.db.read() as conn:
        view = queries.campaign_view(conn, campaign_id)
        if fmt not in ("csv", "json") or view is None or not _public(view):
            return not_found(request)
        points = queries.cumulative(services.rollups.days(conn, campaign_id), queries.starts_on(view.row))
    rows = [
        {
            "date": p.day.isoformat(),
            "currency": view.currency,
            "pledged": p.pledged,
            "paid": p.paid,
            "confirmed": p.confirmed,
            "delivered_units": p.delivered_units,
        }
        for p in points
    ]
    return _send(request, fmt, f"{campaign_id}-series", SERIES_FIELDS, rows)


@router.get("/exports/log.{fmt}")
def log_export(
    services: ServicesDep,
    request: Request,
    fmt: str,
    campaign: str | None = None,
    after: int = -1,
    limit: int = 10_000,
) -> Response:
    """Published entries in log order, `after` an index, at most `limit` (≤ 100,000) rows
    scanned; `campaign` keeps one campaign's entries. The bytes of `entry` are the exact
    canonical JSON that was hashed."""
    if fmt not in ("csv", "json"):
        return not_found(request)
    limit = max(1, min(limit, MAX_LOG_ROWS))
    db = services.db
    needle = f'"campaign":"{campaign}"'.encode() if campaign else None

    def rows() -> Iterator[dict[str, Any]]:
        with db.read() as conn:
            result = conn.execute(
                select(tlog_index.c.idx, tlog_entries.c.data)
                .join_from(tlog_index, tlog_entries, tlog_entries.c.id == tlog_index.c.entry_id)
                .where(tlog_index.c.idx > after)
                .order_by(tlog_index.c.idx)
                .limit(limit)
            )
            for row in result:
                raw = bytes(row.data)
                if needle is not None and needle not in raw:
                    continue
                entry = json.loads(raw)
                text = raw.decode("utf-8")
                yield {
                    "index": int(row.idx),
                    "kind": entry.get("kind"),
                    "campaign": entry.get("campaign"),
                    "at": entry.get("at"),
                    "entry": text if fmt == "csv" else entry,
                }

    return _send(request, fmt, "log-entries", LOG_FIELDS, rows())
