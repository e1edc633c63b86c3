"""The beneficiary console: confirm or dispute reported payments and report deliveries."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from wefirst.auth.walls import require, visible
from wefirst.catalog import service as catalog
from wefirst.domain.clock import utcnow
from wefirst.errors import Forbidden, Invalid, NotFound, WefirstError
from wefirst.ledger import service as ledger
from wefirst.ledger.models import DecisionIn, DeliveryIn
from wefirst.services import services_of
from wefirst.store.tables_core import brands, campaigns, settlements
from wefirst.translations import N_
from wefirst.web import queries
from wefirst.web.campaign_form import form_int
from wefirst.web.console import NeedsSignIn, console_post, gate, refusal
from wefirst.web.forms import blank, redirect
from wefirst.web.templating import render

router = APIRouter(include_in_schema=False)


def _beneficiary_page(
    request: Request,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    with services_of(request.app).db.read() as conn:
        try:
            user = gate(request, conn, "beneficiary")
            if user.owner_id is None:
                raise Invalid("admins use the API to act for a beneficiary")
            ben = catalog.get_beneficiary(conn, user.owner_id)
            views = queries.beneficiary_campaigns(conn, user.owner_id)
            roll = services_of(request.app).rollups
            rows = [
                {"view": v, "balance": queries.balance_from_days(v.row, roll.days(conn, v.id))} for v in views
            ]
            pending = conn.execute(
                select(settlements, campaigns.c.definition, brands.c.name.label("brand_name"))
                .join(campaigns, campaigns.c.id == settlements.c.campaign_id)
                .join(brands, brands.c.id == campaigns.c.brand_id)
                .where(campaigns.c.beneficiary_id == user.owner_id, settlements.c.status == "reported")
                .order_by(settlements.c.paid_at)
            ).all()
        except (NeedsSignIn, WefirstError) as exc:
            return refusal(request, exc)
    return render(
        request,
        "console_beneficiary.html",
        {
            "ben": ben,
            "rows": rows,
            "pending": pending,
            "errors": errors or {},
            "form": form or {},
            "saved": request.query_params.get("saved") == "1",
            "today": utcnow().date().isoformat(),
        },
        user=user,
        status=status,
    )


@router.get("/console/beneficiary")
def beneficiary_console(request: Request) -> Response:
    return _beneficiary_page(request)


@router.post("/console/beneficiary/settlements/{settlement_id}/{decision}")
async def decide(request: Request, settlement_id: str, decision: str) -> Response:
    def work(form: dict[str, str]) -> Response:
        if decision not in ("confirm", "dispute"):
            raise NotFound("no such action")
        with services_of(request.app).db.write() as conn:
            user = gate(request, conn, "beneficiary")
            row = conn.execute(select(settlements).where(settlements.c.id == settlement_id)).first()
            if row is None:
                raise NotFound(f"settlement {settlement_id} does not exist")
            loaded = catalog.load_campaign(conn, row.campaign_id)
            require(user.actor(), "beneficiary", owner=loaded.row.beneficiary_id)
            data = DecisionIn.model_validate({"note": blank(form.get("note"))})
            ledger.decide_settlement(
                conn,
                ledger.SettlementDecision(
                    settlement_id=row.id,
                    campaign_id=row.campaign_id,
                    currency=row.currency,
                    amount=row.amount,
                    confirmed=decision == "confirm",
                    note=data.note,
                    public=loaded.campaign.public,
                ),
            )
        return redirect(request, "/console/beneficiary?saved=1")

    def again(form: dict[str, str], errors: dict[str, str]) -> Response:
        # the summary only: the page's field messages belong to the delivery form below
        return _beneficiary_page(request, errors={"": errors[""]}, status=409)

    return await console_post(
        request, work, refused=(NeedsSignIn, Forbidden, NotFound), again=again, help=DECISION_HELP
    )


# what to type in the confirm/dispute forms' note (`forms.error_messages`)
DECISION_HELP = {
    "note": N_(
        "To dispute a payment, say in a sentence what is missing or wrong (under 1,000 "
        "characters); a note is optional to confirm one."
    ),
}


# what to type, per field of the delivery form (`forms.error_messages`)
DELIVERY_HELP = {
    "units": N_(
        "Type the whole number of impact units delivered; for units beyond what the campaign's "
        "pledges fund, say below who funded them."
    ),
    "period_start": N_("Type the first day of the delivery as YYYY-MM-DD, today or earlier."),
    "period_end": N_(
        "Type the last day of the delivery as YYYY-MM-DD, on or after the first, today or earlier."
    ),
    "evidence_url": N_("Paste a link to the evidence, starting with https://."),
    "beyond_funded_reason": N_("Say who funded the units beyond the campaign's pledges, in a sentence."),
    "note": N_("Keep the note under 1,000 characters."),
    "campaign_id": N_("Choose the campaign from the list."),
}


@router.post("/console/beneficiary/deliveries")
async def report_delivery(request: Request) -> Response:
    def work(form: dict[str, str]) -> Response:
        with services_of(request.app).db.write() as conn:
            user = gate(request, conn, "beneficiary")
            loaded = visible(conn, user.actor(), form.get("campaign_id", ""))
            require(user.actor(), "beneficiary", owner=loaded.row.beneficiary_id)
            data = DeliveryIn.model_validate(
                {
                    "units": form_int(form, "units", required=True),
                    "period_start": form.get("period_start", ""),
                    "period_end": form.get("period_end", ""),
                    "evidence_url": form.get("evidence_url", "").strip(),
                    "note": blank(form.get("note")),
                    "beyond_funded_reason": blank(form.get("beyond_funded_reason")),
                }
            )
            ledger.report_delivery(
                conn,
                loaded.campaign,
                units=data.units,
                period_start=data.period_start,
                period_end=data.period_end,
                evidence_url=data.evidence_url,
                note=data.note,
                beyond_funded_reason=data.beyond_funded_reason,
            )
        return redirect(request, "/console/beneficiary?saved=1")

    def again(form: dict[str, str], errors: dict[str, str]) -> Response:
        return _beneficiary_page(request, errors=errors, form=form, status=422)

    return await console_post(
        request, work, refused=(NeedsSignIn, Forbidden), again=again, help=DELIVERY_HELP
    )
