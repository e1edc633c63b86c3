"""Retailer sales-report validation as a whole: the spec's fixture, then every kind of bad row
reported with its line number, and the mapping rules that say which products are known."""

from __future__ import annotations

import pytest

from wefirst.errors import Invalid
from wefirst.ingest.connectors.errors import SalesReportInvalid
from wefirst.ingest.connectors.gtin import check_digit, gtin_problem
from wefirst.ingest.connectors.mapping import MappingKind, MappingRule, ProductMapping
from wefirst.ingest.connectors.records import ProductRef
from wefirst.ingest.connectors.sales_report import validate

from connectors.connectors_support import ASSETS

FIXTURE = (ASSETS / "retail" / "sales_report_RETAILCO-FR-2026-W11.csv").read_bytes()
CATALOG = ProductMapping.of(
    [
        MappingRule(MappingKind.SKU, "PAMPERS-*", campaign_id="cmp_pampers"),
        MappingRule(MappingKind.SKU, "PG-PURIFIER-*", campaign_id="cmp_water"),
        MappingRule(MappingKind.GTIN, "2000001003527", sku="PAMPERS-BABYDRY-S3-52"),
        MappingRule(MappingKind.GTIN, "2000001004463", sku="PAMPERS-BABYDRY-S4-46"),
        MappingRule(MappingKind.GTIN, "2000002002406", sku="PG-PURIFIER-OF-WATER-240"),
    ]
)
HEADER = "report_id,retailer,store,store_name,sku,gtin,quantity,period_start,period_end"


def _csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode()


def _row(
    store: str = "S1",
    sku: str = "PAMPERS-BABYDRY-S3-52",
    gtin: str = "2000001003527",
    qty: str = "5",
    start: str = "2026-03-09",
    end: str = "2026-03-15",
    report: str = "R1",
    retailer: str = "RETAILCO-FR",
) -> str:
    return f"{report},{retailer},{store},Name,{sku},{gtin},{qty},{start},{end}"


def test_fixture_is_valid_with_a_return() -> None:
    report = validate(FIXTURE, CATALOG, expected_retailer="RETAILCO-FR")
    assert report.errors == ()
    assert report.unknown == ()
    assert (report.report_id, report.retailer) == ("RETAILCO-FR-2026-W11", "RETAILCO-FR")
    assert len(report.rows) == 7
    assert sum(r.quantity for r in report.rows) == 148 + 97 + 12 + 211 + 164 + 0 - 1
    last = report.rows[-1]
    assert (last.line, last.store, last.quantity) == (8, "FR-MRS-021", -1)
    assert last.line_key("RETAILCO-FR", report.report_id) == (
        "retail:RETAILCO-FR:RETAILCO-FR-2026-W11:FR-MRS-021:PAMPERS-BABYDRY-S3-52:2026-03-09:2026-03-15"
    )
    report.raise_if_invalid()


def test_every_bad_row_is_reported_with_its_line() -> None:
    raw = _csv(
        _row(),  # line 2 ok
        _row(store="S2", qty="1.5"),  # 3 quantity
        _row(store="S3", gtin="2000001003528"),  # 4 check digit
        _row(store="S4", start="2026-03-16"),  # 5 start after end
        _row(store="S5", start="09/03/2026"),  # 6 date format
        _row(),  # 7 duplicate of line 2
        _row(store="S6", report="R2"),  # 8 second report in the file
        _row(store="S7", sku="PG-PURIFIER-OF-WATER-240"),  # 9 sku and gtin disagree
        _row(store="S8", sku="", gtin=""),  # 10 no product
        _row(store="", qty="x"),  # 11 two problems on one row
        _row(store="S9", end="2026-02-30"),  # 12 not a calendar date
        "R1,RETAILCO-FR,S10",  # 13 short row
        _row(store="S11", retailer="OTHER"),  # 14 another retailer
    )
    report = validate(raw, CATALOG, expected_retailer="RETAILCO-FR")
    by_line = {e.line: e.reason for e in report.errors}
    assert sorted(by_line) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]
    assert "not a whole number" in by_line[3]
    assert "check digit is 8, expected 7" in by_line[4]
    assert "after period_end" in by_line[5]
    assert "YYYY-MM-DD" in by_line[6]
    assert "duplicates line 2" in by_line[7]
    assert "one report per file" in by_line[8]
    assert "different products" in by_line[9]
    assert "both empty" in by_line[10]
    assert "store is empty" in by_line[11]
    assert "not a whole number" in by_line[11]
    assert "calendar date" in by_line[12]
    assert "3 fields" in by_line[13]
    assert "not this connection's" in by_line[14]
    assert [r.line for r in report.rows] == [2]
    with pytest.raises(SalesReportInvalid) as err:
        report.raise_if_invalid()
    problem = err.value.problem()
    assert problem["status"] == 422
    assert [e["field"] for e in problem["errors"]] == [f"line {n}" for n in sorted(by_line)]
    # --skip-bad-rows: the good row imports, the rest goes to a rejects file
    report.raise_if_invalid(skip_bad_rows=True)
    rejects = report.rejects_csv().splitlines()
    assert rejects[0] == "line,reason," + HEADER
    assert len(rejects) == 1 + 12
    assert rejects[1].startswith("3,")


def test_unknown_products_are_reported_not_fatal() -> None:
    raw = _csv(
        _row(), _row(store="S2", sku="ARIEL-PODS-30", gtin=""), _row(store="S3", sku="", gtin="4006381333931")
    )
    report = validate(raw, CATALOG)
    assert report.errors == ()
    assert [(u.line, u.reason) for u in report.unknown] == [
        (3, "unknown product: sku 'ARIEL-PODS-30'"),
        (4, "unknown product: gtin 4006381333931"),
    ]
    assert [r.line for r in report.rows] == [2]


def test_gtin_alone_maps_to_its_sku_and_upc_matches_its_ean13_spelling() -> None:
    catalog = ProductMapping.of(
        [
            MappingRule(MappingKind.SKU, "*", campaign_id="cmp_all"),
            MappingRule(MappingKind.GTIN, "036000291452", sku="UPC-THING"),
        ]
    )
    raw = _csv(_row(sku="", gtin="2000001003527"), _row(store="S2", sku="", gtin="0036000291452"))
    report = validate(raw, catalog)
    assert report.unknown[0].line == 2  # that GTIN is not in this catalogue
    assert [(r.line, r.sku) for r in report.rows] == [(3, "UPC-THING")]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty"),
        (HEADER.encode() + b"\n", "no rows"),
        (b"\xff\xfe" + HEADER.encode(), "not UTF-8"),
        (_csv(_row(), header=HEADER.replace("quantity", "Quantity")), "unknown column"),
        (
            _csv(
                "R1,X,S,5,2026-03-09,2026-03-15",
                header="report_id,retailer,store,quantity,period_start,period_end",
            ),
            "sku or a gtin column",
        ),
        (_csv(_row(), header=HEADER.replace("period_end", "period_start")), "appears twice"),
        (_csv("R1,X", header="report_id,retailer"), "missing column"),
        (_csv('R1,X,"S1,5'), "not valid CSV"),
    ],
)
def test_file_level_problems_cannot_be_skipped(raw: bytes, reason: str) -> None:
    report = validate(raw, CATALOG)
    assert report.fatal
    assert reason in report.fatal[0].reason
    with pytest.raises(SalesReportInvalid):
        report.raise_if_invalid(skip_bad_rows=True)


def test_bom_lf_quoting_and_column_order_are_accepted() -> None:
    header = "quantity,period_end,period_start,sku,store,retailer,report_id"
    body = "\ufeff" + header + '\n7,2026-03-15,2026-03-09,PAMPERS-X,"Store, Lyon",R,ID\n\n'
    report = validate(body.encode(), CATALOG)
    assert report.errors == ()
    assert [(r.store, r.quantity) for r in report.rows] == [("Store, Lyon", 7)]


def test_line_numbers_count_physical_lines_with_quoted_newlines() -> None:
    raw = _csv(_row(store='"two\nlines"'), _row(store="S2", qty="bad"))
    report = validate(raw, CATALOG)
    assert [e.line for e in report.errors] == [4]


@pytest.mark.parametrize("qty", ["1_000", " ", "", "1e3", "٣", "+"])
def test_quantity_must_be_plain_digits(qty: str) -> None:
    report = validate(_csv(_row(qty=qty)), CATALOG)
    assert report.errors[0].line == 2


def test_signed_quantities_are_accepted() -> None:
    report = validate(_csv(_row(qty="+4"), _row(store="S2", qty="-3"), _row(store="S3", qty="0")), CATALOG)
    assert [r.quantity for r in report.rows] == [4, -3, 0]


def test_supersedes_must_be_consistent_and_not_self() -> None:
    header = HEADER + ",supersedes_report_id"
    report = validate(
        _csv(_row() + ",R0", _row(store="S2") + ",R9", _row(store="S3") + ",R1", header=header), CATALOG
    )
    assert report.supersedes_report_id == "R0"
    assert [e.line for e in report.errors] == [3, 4]


def test_gtin_check_digits() -> None:
    assert check_digit("400638133393") == 1
    assert gtin_problem("4006381333931") is None
    assert gtin_problem("96385074") is None
    assert gtin_problem("12345") is not None
    assert gtin_problem("400638133393X") is not None
    assert gtin_problem("４００６３８１３３３９３１") is not None  # full-width digits


def test_mapping_rules() -> None:
    mapping = ProductMapping.of(
        [
            MappingRule(MappingKind.VARIANT, "48123456789012", sku="PAMPERS-BABYDRY-S3-52"),
            MappingRule(MappingKind.LOOKUP_KEY, "PG-*", campaign_id="cmp_water"),
            MappingRule(MappingKind.METADATA, "line=pampers*", campaign_id="cmp_pampers"),
            MappingRule(MappingKind.SKU, "PAMPERS-*", campaign_id="cmp_pampers"),
        ]
    )
    no_sku = ProductRef(variant_id="48123456789012")
    assert mapping.resolve(no_sku, None).sku == "PAMPERS-BABYDRY-S3-52"
    assert mapping.resolve(no_sku, None).campaign_id == "cmp_pampers"
    priced = ProductRef(lookup_key="PG-PURIFIER-OF-WATER-240")
    assert mapping.resolve(priced, None).campaign_id == "cmp_water"
    assert mapping.resolve(priced, None).sku == "PG-PURIFIER-OF-WATER-240"
    meta = ProductRef(metadata={"line": "pampers-premium", "sku": "PAMPERS-P"})
    assert mapping.resolve(meta, None).campaign_id == "cmp_pampers"
    unrelated = mapping.resolve(ProductRef(sku="ARIEL-1"), "ARIEL-1")
    assert not unrelated.mapped
    assert unrelated.campaign_id is None
    # no campaign rules: every product goes to the brand's campaigns, which match SKUs
    open_mapping = ProductMapping.of([])
    assert open_mapping.resolve(ProductRef(sku="ARIEL-1"), "ARIEL-1").mapped
    assert not open_mapping.resolve(ProductRef(), None).mapped


@pytest.mark.parametrize(
    ("kind", "pattern", "campaign", "sku"),
    [
        (MappingKind.SKU, "", "cmp_x", None),
        (MappingKind.SKU, "A-*", None, None),
        (MappingKind.GTIN, "2000001003528", None, "X"),
        (MappingKind.GTIN, "2000001003527", None, None),
        (MappingKind.VARIANT, "123", "cmp_x", None),
        (MappingKind.METADATA, "sku", "cmp_x", None),
    ],
)
def test_bad_mapping_rules_are_refused(
    kind: MappingKind, pattern: str, campaign: str | None, sku: str | None
) -> None:
    with pytest.raises(Invalid):
        MappingRule(kind, pattern, campaign_id=campaign, sku=sku)
