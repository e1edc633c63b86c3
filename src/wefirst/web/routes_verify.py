"""Receipt verification pages. The server only hands over public material (the entry, its
inclusion proof, the signed checkpoint, the published key); the browser does the checking with
static/verifier.js, so a reader need not trust this server."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from wefirst.web import logview
from wefirst.web.templating import render, translator

router = APIRouter(include_in_schema=False)


@router.get("/verify")
def verify_page(request: Request) -> Response:
    tr = translator(request)
    return render(
        request,
        "verify.html",
        {
            "heading": tr.gettext("Verify a receipt in your browser"),
            "verifier_key": logview.published_key(request) or "",
            "receipt_json": "",
            "secret": None,
            "missing": False,
            "pending": False,
            "entry_summary": None,
            "log_url": logview.log_prefix(request),
        },
    )


@router.get("/receipts/{secret}")
def receipt_page(request: Request, secret: str) -> Response:
    """The widget's and the shops' receipt link. The secret identifies the consumer's entry
    through its commitment (SHA-256 of the secret); the page is never cached and never sends
    the address on as a referrer."""
    tr = translator(request)
    commitment = hashlib.sha256(secret.encode("utf-8")).hexdigest()
    bundle = logview.receipt_for_commitment(request, commitment) if len(secret) <= 200 else None
    pending = bundle is not None and bundle.get("status") == "pending"
    if pending:
        bundle = None
    summary: list[tuple[str, str]] | None = None
    if bundle is not None:
        summary = _summary(bundle, tr.gettext, tr.money, tr.number)
    response = render(
        request,
        "verify.html",
        {
            "heading": tr.gettext("Your receipt"),
            "verifier_key": logview.published_key(request) or "",
            "receipt_json": json.dumps(bundle, indent=2, ensure_ascii=False) if bundle else "",
            "secret": secret if bundle else None,
            "missing": bundle is None and not pending,
            "pending": pending,
            "entry_summary": summary,
            "log_url": logview.log_prefix(request),
        },
        status=200 if bundle else 202 if pending else 404,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _summary(bundle: dict[str, Any], _: Any, money: Any, number: Any) -> list[tuple[str, str]]:
    """What the entry says, in words, next to the raw JSON the verifier checks."""
    try:
        entry = json.loads(bundle["entry"])
    except (KeyError, TypeError, ValueError):
        return []
    rows: list[tuple[str, str]] = [(_("Index"), number(int(bundle.get("index", 0))))]
    if isinstance(entry, dict):
        rows.append((_("Kind"), str(entry.get("kind", "—"))))
        amount = entry.get("money")
        if isinstance(amount, dict) and isinstance(amount.get("amount"), int):
            rows.append((_("Amount"), money(amount["amount"], str(amount.get("currency", "EUR")))))
        units = entry.get("units")
        if isinstance(units, int):
            rows.append((_("Units"), number(units)))
        if isinstance(entry.get("at"), str):
            rows.append((_("Date"), entry["at"][:10]))
    return rows
