"""Receipt verification pages. The server only hands over public material (the entry, its
inclusion proof, the signed checkpoint, the published key); the browser does the checking with
static/verifier.js, so a reader need not trust this server."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from wefirst.errors import WefirstError
from wefirst.services import services_of
from wefirst.web import labels, logview, receipt_story
from wefirst.web.forms import CsrfRefused, csrf_refused, read_form, redirect
from wefirst.web.i18n import Translator
from wefirst.web.templating import render, translator

router = APIRouter(include_in_schema=False)
_COMMITMENT = re.compile(r"[0-9a-f]{64}")


def _verify_context(request: Request, heading: str) -> dict[str, Any]:
    return {
        "heading": heading,
        "verifier_key": logview.published_key(request) or "",
        "receipt_json": "",
        "secret": None,
        "missing": False,
        "pending": False,
        "entry_summary": None,
        "story": None,
        "log_url": logview.log_prefix(request),
        "errors": {},
        "pasted": "",
        "autorun": False,
        "opener": False,
    }


@router.get("/verify")
def verify_page(request: Request) -> Response:
    tr = translator(request)
    return render(
        request, "verify.html", _verify_context(request, tr.gettext("Verify a receipt in your browser"))
    )


@router.post("/verify")
async def verify_submit(request: Request) -> Response:
    """What the form sends when the browser does not check the JSON itself (no JavaScript), or
    when a person pastes the receipt's code or link: codes and links go to their receipt page;
    a pasted receipt JSON is told through its public commitment."""
    tr = translator(request)
    try:
        form = await read_form(request)
    except CsrfRefused as bad_form:
        return csrf_refused(request, bad_form)
    except WefirstError:
        form = {}
    pasted = form.get("receipt", "")
    found = receipt_story.parse_input(pasted)
    if found is not None and found.secret is not None:
        return redirect(request, f"/receipts/{quote(found.secret, safe='')}")
    if found is not None and found.commitment is not None:
        return _receipt_page(
            request, found.commitment, None, json.dumps(found.json, indent=2, ensure_ascii=False)
        )
    context = _verify_context(request, tr.gettext("Verify a receipt in your browser"))
    context["errors"] = {
        "receipt": tr.gettext(
            "This is not a receipt. Paste the code that starts with rcpt_, the receipt's link, or its JSON."
        )
    }
    context["pasted"] = pasted[:20_000]
    return render(request, "verify.html", context, status=422)


@router.get("/receipts")
def receipt_opener(request: Request) -> Response:
    """The receipt link we hand out: `/receipts#<secret>`. A fragment never reaches a server, so
    the browser derives the commitment (SHA-256 of the secret, as the log holds it) and opens
    `/receipts/c/<commitment>#secret=<secret>`: the secret stays on the consumer's device
    (static/verifier.js). Without JavaScript this is the verify form, where the code can be
    pasted."""
    tr = translator(request)
    context = _verify_context(request, tr.gettext("Your receipt"))
    context["opener"] = True
    response = render(request, "verify.html", context)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.get("/receipts/c/{commitment}")
def receipt_by_commitment(request: Request, commitment: str) -> Response:
    """The receipt page found by its commitment (public in the log anyway); the browser checks
    the secret it holds in the fragment against the entry, and the proof."""
    if _COMMITMENT.fullmatch(commitment) is None:
        return _receipt_page(request, None, None, None)
    return _receipt_page(request, commitment, None, None, autorun=True)


@router.get("/receipts/{secret}")
def receipt_page(request: Request, secret: str) -> Response:
    """Receipt links handed out before `/receipts#<secret>` (they keep working). The secret
    identifies the consumer's entry through its commitment (SHA-256 of the secret); the page is
    never cached and never sends the address on as a referrer."""
    if len(secret) > 200:
        return _receipt_page(request, None, None, None)
    return _receipt_page(request, hashlib.sha256(secret.encode("utf-8")).hexdigest(), secret, None)


def _receipt_page(
    request: Request, commitment: str | None, secret: str | None, pasted: str | None, *, autorun: bool = False
) -> Response:
    """The story of the pledge first (what it funded and where the promise stands), then the
    proof the browser checks."""
    tr = translator(request)
    bundle = logview.receipt_for_commitment(request, commitment) if commitment else None
    pending = bundle is not None and bundle.get("status") == "pending"
    if pending:
        bundle = None
    story = None
    if commitment is not None and (bundle is not None or pending):  # unknown to the log: no pledge
        services = services_of(request.app)
        with services.db.read() as conn:
            story = receipt_story.story_for(conn, services.rollups, commitment)
    context = _verify_context(request, tr.gettext("Your receipt"))
    # a receipt's address holds its secret: a share preview points at the verifier instead
    context["og_url"] = services_of(request.app).settings.base_url.rstrip("/") + "/verify"
    if story is not None:
        context["story"] = {
            "headline": receipt_story.headline(story, tr),
            "facts": receipt_story.facts(story, tr),
            "refunded": story.refunded,
            "view": story.view,
        }
    context.update(
        {
            "receipt_json": pasted or (json.dumps(bundle, indent=2, ensure_ascii=False) if bundle else ""),
            "secret": secret if bundle else None,
            "missing": bundle is None and not pending and story is None,
            "pending": pending,
            "entry_summary": _summary(bundle, tr) if bundle is not None else None,
            "autorun": autorun and bundle is not None,
        }
    )
    status = 200 if bundle is not None else 202 if pending else 200 if story is not None else 404
    response = render(request, "verify.html", context, status=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _summary(bundle: dict[str, Any], tr: Translator) -> list[tuple[str, str]]:
    """What the entry says, in words, next to the raw JSON the verifier checks."""
    try:
        entry = json.loads(bundle["entry"])
    except (KeyError, TypeError, ValueError):
        return []
    _ = tr.gettext
    rows: list[tuple[str, str]] = [(_("Position in the log"), tr.number(int(bundle.get("index", 0))))]
    if isinstance(entry, dict):
        rows.append((_("Entry"), labels.log_kind(entry.get("kind"), tr)))
        amount = entry.get("money")
        if isinstance(amount, dict) and isinstance(amount.get("amount"), int):
            rows.append((_("Amount"), tr.money(amount["amount"], str(amount.get("currency", "EUR")))))
        units = entry.get("units")
        if isinstance(units, int):
            rows.append((_("Impact units"), tr.number(units)))
        if isinstance(entry.get("at"), str):
            with contextlib.suppress(ValueError):
                rows.append((_("Date"), tr.date(date.fromisoformat(entry["at"][:10]))))
    return rows
