"""Importing a retailer sales report: validate the whole file, then count it in one transaction.

Rows become the same per-line facts as webhooks. Net sales count on a pool per (retailer,
store, SKU); a negative net quantity (more returns than sales in the period) is a reversal on
that pool, taken from what earlier reports counted there and never more, and held until a
later report counts something if nothing was counted yet."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import Connection, insert, select, update

from wefirst.domain.ids import new_id
from wefirst.errors import FieldError, Invalid, NotFound
from wefirst.ingest.connectors import accounts, settling, state
from wefirst.ingest.connectors.errors import SalesReportConflict
from wefirst.ingest.connectors.mapping import ProductMapping
from wefirst.ingest.connectors.processing import apply_parsed
from wefirst.ingest.connectors.records import (
    NormalisedLine,
    ParsedDelivery,
    ProductRef,
    Source,
)
from wefirst.ingest.connectors.sales_report import SalesReport, SalesRow, validate
from wefirst.pledges.batch import Batch
from wefirst.store.db import Database
from wefirst.store.tables_connectors import (
    connector_deliveries,
    connector_lines,
    connector_reports,
    connector_reversals,
)

Progress = Callable[[str, int, int], None]
"""(stage, done, total): the CLI draws its progress bar from it."""


@dataclass(frozen=True)
class ImportResult:
    status: str  # imported | unchanged
    report: SalesReport
    summary: dict[str, Any]


def pool(retailer: str, store: str, sku: str) -> str:
    return f"retail:{retailer}:{store}:{sku}"


def _when(row: SalesRow) -> datetime:
    return datetime.combine(row.period_end, time(12), UTC)


def _lines(
    report: SalesReport, account: str, delivery_id: str
) -> tuple[list[NormalisedLine], list[NormalisedLine]]:
    sales: list[NormalisedLine] = []
    returns: list[NormalisedLine] = []
    for row in report.rows:
        if row.quantity == 0:
            continue
        line = NormalisedLine(
            source=Source.RETAIL,
            account=account,
            external_id=report.report_id,
            line_key=row.line_key(account, report.report_id),
            sku=row.sku,
            quantity_delta=row.quantity,
            unit_price_minor=None,
            currency=None,
            occurred_at=_when(row),
            is_test=False,
            raw_ref=delivery_id,
            order_ref=pool(account, row.store, row.sku),
            line_ref=f"{report.report_id}:{row.period_start}:{row.period_end}",
            product=ProductRef(sku=row.sku),
        )
        (sales if row.quantity > 0 else returns).append(line)
    return sales, returns


def import_report(
    db: Database,
    *,
    connection_id: str,
    raw: bytes,
    skip_bad_rows: bool = False,
    now: datetime,
    progress: Progress | None = None,
) -> ImportResult:
    with db.read() as conn:
        info = accounts.get_connection(conn, connection_id)
        if info.platform is not Source.RETAIL:
            raise NotFound(f"connection {connection_id} is not a retailer connection")
        mapping = accounts.mapping_for(conn, info.id)
    report = validate(raw, mapping, expected_retailer=info.account)
    if progress:
        checked = len(report.rows) + len(report.errors) + len(report.unknown)
        progress("validated", checked, checked)
    report.raise_if_invalid(skip_bad_rows=skip_bad_rows)
    with db.write() as conn:
        previous = _previous(conn, info.id, report)
        if previous is not None:
            return previous
        delivery_id = _record_delivery(conn, info.id, report, raw, now)
        summary = _count(conn, info, mapping, report, delivery_id, now, progress)
    if progress:
        progress("imported", len(report.rows), len(report.rows))
    return ImportResult("imported", report, summary)


def _previous(conn: Connection, connection_id: str, report: SalesReport) -> ImportResult | None:
    """The same report sent again is answered with its first summary; the same id with other
    content is refused (a correction is a new report that supersedes it)."""
    previous = conn.execute(
        select(connector_reports).where(
            connector_reports.c.connection_id == connection_id,
            connector_reports.c.report_id == report.report_id,
        )
    ).first()
    if previous is None:
        return None
    if previous.sha256 == report.sha256:
        return ImportResult("unchanged", report, dict(previous.summary))
    raise SalesReportConflict(
        f"report {report.report_id} was already imported with different content; "
        "send a correction as a new report_id with supersedes_report_id"
    )


def _record_delivery(
    conn: Connection, connection_id: str, report: SalesReport, raw: bytes, now: datetime
) -> str:
    """The file is kept as a processed delivery, as a webhook's body is: its lines name the
    delivery they came in, which is how a correction finds what to supersede."""
    delivery_id = new_id("dlv")
    conn.execute(
        insert(connector_deliveries).values(
            id=delivery_id,
            connection_id=connection_id,
            topic="sales_report",
            delivery_key=f"report:{report.report_id}"[:300],
            headers={},
            body=raw,
            received_at=now,
            status="processed",
            attempts=1,
            processed_at=now,
        )
    )
    return delivery_id


def _count(
    conn: Connection,
    info: accounts.ConnectionInfo,
    mapping: ProductMapping,
    report: SalesReport,
    delivery_id: str,
    now: datetime,
    progress: Progress | None,
) -> dict[str, Any]:
    """Reverse what a superseded report counted, apply the rows as facts in one unit of work,
    and record the report with its summary (the answer to a resend)."""
    superseded = state.ApplyReport()
    if report.supersedes_report_id:
        _supersede(conn, info, report.supersedes_report_id, now, superseded)
    sales, returns = _lines(report, info.account, delivery_id)
    parsed = ParsedDelivery(
        source=Source.RETAIL, account=info.account, topic="sales_report", is_test=False, occurred_at=now
    )
    total = len(sales)

    def on_line(done: int) -> None:
        if progress is not None and (done % 500 == 0 or done == total):
            progress("importing", done, total)

    unit = Batch(conn)  # one unit of work for the whole report
    applied = apply_parsed(
        state.Applying(conn, info, delivery_id, now, batch=unit),
        mapping,
        parsed,
        sales,
        returns,
        on_line=on_line,
    )
    unit.flush()
    summary: dict[str, Any] = {
        "report_id": report.report_id,
        "retailer": report.retailer,
        "rows": len(report.rows),
        "units_sold": sum(s.quantity_delta for s in sales),
        "units_returned": -sum(r.quantity_delta for r in returns),
        "skipped_rows": [{"line": e.line, "reason": e.reason} for e in report.errors],
        "unknown_products": [{"line": u.line, "reason": u.reason} for u in report.unknown],
        **applied.as_json(),
        "superseded_units_reversed": superseded.reversed_units,
    }
    conn.execute(
        insert(connector_reports).values(
            connection_id=info.id,
            report_id=report.report_id,
            sha256=report.sha256,
            supersedes_report_id=report.supersedes_report_id,
            rows=len(report.rows),
            summary=summary,
            delivery_id=delivery_id,
            imported_at=now,
        )
    )
    conn.execute(
        update(connector_deliveries)
        .where(connector_deliveries.c.id == delivery_id)
        .values(note=f"{len(report.rows)} row(s) imported")
    )
    return summary


def _supersede(
    conn: Connection,
    info: accounts.ConnectionInfo,
    old_report_id: str,
    now: datetime,
    report: state.ApplyReport,
) -> None:
    """A correction replaces the old report: its counted rows are reversed in full and its
    returns still waiting for units are closed. (Returns already applied stay applied: the
    correction's own rows are the truth from here on.)"""
    old = conn.execute(
        select(connector_reports.c.delivery_id).where(
            connector_reports.c.connection_id == info.id, connector_reports.c.report_id == old_report_id
        )
    ).first()
    if old is None:
        raise Invalid(
            f"supersedes_report_id: report {old_report_id} was never imported",
            [FieldError("supersedes_report_id", "unknown report")],
        )
    rows = conn.execute(
        select(connector_lines).where(
            connector_lines.c.connection_id == info.id, connector_lines.c.delivery_id == old.delivery_id
        )
    ).all()
    for line in rows:
        key = f"supersede:{old_report_id}:{line.line_key}"
        if (
            conn.execute(
                select(connector_reversals.c.seq).where(
                    connector_reversals.c.connection_id == info.id, connector_reversals.c.reversal_key == key
                )
            ).first()
            is None
        ):
            conn.execute(
                insert(connector_reversals).values(
                    connection_id=info.id,
                    reversal_key=key,
                    order_ref=line.order_ref,
                    target_line_key=line.line_key,
                    kind="cancel",
                    requested=None,
                    applied=0,
                    occurred_at=line.occurred_at,
                    delivery_id=old.delivery_id,
                )
            )
    conn.execute(
        update(connector_reversals)
        .where(
            connector_reversals.c.connection_id == info.id,
            connector_reversals.c.delivery_id == old.delivery_id,
            connector_reversals.c.kind == "return",
        )
        .values(requested=connector_reversals.c.applied)
    )
    for pool_ref in sorted({line.order_ref for line in rows}):
        settling.settle(state.Applying(conn, info, old.delivery_id, now, report), pool_ref)
