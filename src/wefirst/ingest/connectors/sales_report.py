"""Retailer sales-report CSV, validated as a whole (spec section 7, our proposal).

The whole file is checked before anything is imported, and every bad row is reported with
its line number, because a retailer fixes a report in one pass or not at all. Unknown SKUs
and GTINs are not errors: the spec accepts the rest of the file and reports them per row."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from wefirst.errors import FieldError
from wefirst.ingest.connectors.errors import SalesReportInvalid
from wefirst.ingest.connectors.gtin import gtin_problem, normalise
from wefirst.plaintext import first_refused, reason

REQUIRED = ("report_id", "retailer", "store", "quantity", "period_start", "period_end")
OPTIONAL = ("store_name", "sku", "gtin", "supersedes_report_id")
MAX_ROWS = 200_000
_INT = re.compile(r"^[+-]?[0-9]{1,9}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class ProductCatalog(Protocol):
    """What the connection knows about products: which SKUs exist, which SKU a GTIN is."""

    def sku_known(self, sku: str) -> bool: ...

    def sku_for_gtin(self, gtin14: str) -> str | None: ...


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int
    reason: str
    cells: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SalesRow:
    line: int
    store: str
    store_name: str | None
    sku: str
    gtin: str | None
    quantity: int
    period_start: date
    period_end: date

    def line_key(self, retailer: str, report_id: str) -> str:
        return (
            f"retail:{retailer}:{report_id}:{self.store}:{self.sku}:"
            f"{self.period_start.isoformat()}:{self.period_end.isoformat()}"
        )


@dataclass(frozen=True, slots=True)
class SalesReport:
    report_id: str
    retailer: str
    supersedes_report_id: str | None
    sha256: str
    header: tuple[str, ...]
    rows: tuple[SalesRow, ...]
    unknown: tuple[RowProblem, ...]
    """Rows whose product we do not know: reported back, not imported, not fatal."""
    errors: tuple[RowProblem, ...]
    """Rows that make the file invalid (line 1 is the header or the file itself)."""

    @property
    def fatal(self) -> tuple[RowProblem, ...]:
        """File-level problems that `--skip-bad-rows` cannot skip."""
        return tuple(e for e in self.errors if e.line <= 1)

    def raise_if_invalid(self, *, skip_bad_rows: bool = False) -> None:
        bad = self.fatal if skip_bad_rows else self.errors
        if bad:
            raise SalesReportInvalid(
                f"{len(bad)} problem(s) in sales report; nothing was imported",
                [FieldError(f"line {e.line}", e.reason) for e in bad],
            )

    def rejects_csv(self) -> str:
        """The rejected rows as CSV, with the line number and reason in front, for a fix-up."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["line", "reason", *self.header])
        for e in self.errors:
            if e.line > 1:
                writer.writerow([e.line, e.reason, *e.cells])
        return out.getvalue()


def _file_error(reason: str, sha: str) -> SalesReport:
    return SalesReport("", "", None, sha, (), (), (), (RowProblem(1, reason),))


def validate(raw: bytes, catalog: ProductCatalog, *, expected_retailer: str | None = None) -> SalesReport:
    sha = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _file_error(f"file is not UTF-8 (byte {exc.start})", sha)
    text = text.removeprefix("\ufeff")  # spreadsheet exports add a BOM; harmless to drop
    bad = first_refused(text)
    if bad is not None:  # the one text rule (wefirst.plaintext); PostgreSQL stores no NUL
        line = text.count("\n", 0, text.index(bad)) + 1
        return _file_error(f"line {line}: {reason(bad)}", sha)
    try:
        records = list(_records(text))
    except csv.Error as exc:
        return _file_error(f"not valid CSV: {exc}", sha)
    if not records:
        return _file_error("file is empty", sha)
    _, header = records[0]
    problem = _header_problem(header)
    if problem:
        return _file_error(problem, sha)
    if len(records) == 1:
        return _file_error("file has a header but no rows", sha)
    if len(records) - 1 > MAX_ROWS:
        return _file_error(f"more than {MAX_ROWS} rows; split the report", sha)
    return _Validator(tuple(header), catalog, expected_retailer, sha).run(records[1:])


def _records(text: str) -> list[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    out: list[tuple[int, list[str]]] = []
    start = 1
    for record in reader:
        if record:  # blank lines are not rows
            out.append((start, record))
        start = reader.line_num + 1
    return out


def _header_problem(header: Sequence[str]) -> str | None:
    seen: set[str] = set()
    for name in header:
        if name in seen:
            return f"column {name!r} appears twice"
        seen.add(name)
    unknown = [n for n in header if n not in REQUIRED and n not in OPTIONAL]
    if unknown:
        return f"unknown column(s) {', '.join(map(repr, unknown))} (names are case-sensitive)"
    missing = [n for n in REQUIRED if n not in seen]
    if missing:
        return f"missing column(s) {', '.join(missing)}"
    if "sku" not in seen and "gtin" not in seen:
        return "a sku or a gtin column is required"
    return None


class _Validator:
    def __init__(
        self, header: tuple[str, ...], catalog: ProductCatalog, retailer: str | None, sha: str
    ) -> None:
        self.header = header
        self.catalog = catalog
        self.expected_retailer = retailer
        self.sha = sha
        self.report_id: str | None = None
        self.retailer: str | None = None
        self.supersedes: str | None = None
        self.rows: list[SalesRow] = []
        self.errors: list[RowProblem] = []
        self.unknown: list[RowProblem] = []
        self.seen: dict[tuple[str, str, date, date], int] = {}

    def run(self, records: Sequence[tuple[int, list[str]]]) -> SalesReport:
        for line, cells in records:
            reasons: list[str] = []
            row = self._row(line, cells, reasons)
            if reasons:
                self.errors.append(RowProblem(line, "; ".join(reasons), tuple(cells)))
            elif row is not None:
                self.rows.append(row)
        return SalesReport(
            report_id=self.report_id or "",
            retailer=self.retailer or "",
            supersedes_report_id=self.supersedes,
            sha256=self.sha,
            header=self.header,
            rows=tuple(self.rows),
            unknown=tuple(self.unknown),
            errors=tuple(self.errors),
        )

    def _row(self, line: int, cells: list[str], reasons: list[str]) -> SalesRow | None:
        if len(cells) != len(self.header):
            reasons.append(f"has {len(cells)} fields, the header has {len(self.header)}")
            return None
        values = {k: v.strip() for k, v in zip(self.header, cells, strict=True)}
        self._same_report(values, reasons)
        store = values["store"]
        if not store:
            reasons.append("store is empty")
        quantity = _quantity(values["quantity"], reasons)
        start = _date(values["period_start"], "period_start", reasons)
        end = _date(values["period_end"], "period_end", reasons)
        if start and end and start > end:
            reasons.append("period_start is after period_end")
        sku = self._product(line, values, reasons)
        if reasons or sku is None or quantity is None or start is None or end is None:
            return None
        key = (store, sku, start, end)
        if key in self.seen:
            reasons.append(f"duplicates line {self.seen[key]} (same store, sku and period)")
            return None
        self.seen[key] = line
        return SalesRow(
            line,
            store,
            values.get("store_name") or None,
            sku,
            values.get("gtin") or None,
            quantity,
            start,
            end,
        )

    def _same_report(self, values: dict[str, str], reasons: list[str]) -> None:
        report_id, retailer = values["report_id"], values["retailer"]
        supersedes = values.get("supersedes_report_id") or None
        if not report_id:
            reasons.append("report_id is empty")
        elif len(report_id) > 64:
            reasons.append("report_id is longer than 64 characters")
        elif self.report_id is None:
            self.report_id, self.supersedes = report_id, supersedes
        elif report_id != self.report_id:
            reasons.append(f"report_id {report_id!r} differs from {self.report_id!r}: one report per file")
        elif supersedes != self.supersedes:
            reasons.append("supersedes_report_id differs between rows")
        if supersedes is not None and supersedes == report_id:
            reasons.append("a report cannot supersede itself")
        if not retailer:
            reasons.append("retailer is empty")
        elif self.expected_retailer is not None and retailer != self.expected_retailer:
            reasons.append(f"retailer {retailer!r} is not this connection's {self.expected_retailer!r}")
        elif self.retailer is None:
            self.retailer = retailer
        elif retailer != self.retailer:
            reasons.append(f"retailer {retailer!r} differs from {self.retailer!r}")

    def _product(self, line: int, values: dict[str, str], reasons: list[str]) -> str | None:
        sku = values.get("sku") or None
        gtin = values.get("gtin") or None
        if sku is None and gtin is None:
            reasons.append("sku and gtin are both empty; give at least one")
            return None
        gtin_sku: str | None = None
        if gtin is not None:
            problem = gtin_problem(gtin)
            if problem:
                reasons.append(f"gtin {gtin!r}: {problem}")
                return None
            gtin_sku = self.catalog.sku_for_gtin(normalise(gtin))
        if sku is not None and gtin_sku is not None and sku != gtin_sku:
            reasons.append(f"sku {sku!r} and gtin {gtin} name different products (the gtin is {gtin_sku!r})")
            return None
        resolved = sku or gtin_sku
        if resolved is None or not self.catalog.sku_known(resolved):
            what = f"sku {resolved!r}" if resolved else f"gtin {gtin}"
            if not reasons:
                self.unknown.append(RowProblem(line, f"unknown product: {what}"))
            return None
        return resolved


def _quantity(raw: str, reasons: list[str]) -> int | None:
    if not _INT.match(raw):
        reasons.append(f"quantity {raw!r} is not a whole number")
        return None
    return int(raw)


def _date(raw: str, name: str, reasons: list[str]) -> date | None:
    if not _DATE.match(raw):
        reasons.append(f"{name} {raw!r} is not a YYYY-MM-DD date")
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        reasons.append(f"{name} {raw!r} is not a calendar date")
        return None
