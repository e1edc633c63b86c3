"""Consoles for signed-in people: the brand team (campaigns, keys, fraud report, balance), the
beneficiary (confirm or dispute payments, report deliveries) and the publisher (snippet,
clicks and impact per day). Every action goes through the same services and tenant walls as
the API (`require`, `owned`), with the console user's `Actor`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from pydantic import ValidationError
from sqlalchemy import Connection, select
from starlette.requests import Request
from starlette.responses import Response

from wefirst.auth import keys as api_keys_service
from wefirst.auth.walls import owned, require, visible
from wefirst.catalog import service as catalog
from wefirst.catalog.models import CampaignIn, CampaignPatch, StatusIn
from wefirst.domain.clock import utcnow
from wefirst.domain.money import CURRENCIES, Money, MoneyError
from wefirst.errors import FieldError, Forbidden, Invalid, NotFound, WefirstError
from wefirst.ledger import service as ledger
from wefirst.ledger.models import DecisionIn, DeliveryIn
from wefirst.services import services_of
from wefirst.store.tables_core import api_keys, beneficiaries, brands, campaigns, settlements
from wefirst.web import charts, queries, sessions
from wefirst.web.forms import (
    CsrfRefused,
    blank,
    csrf_refused,
    error_messages,
    in_thread,
    read_form,
    redirect,
)
from wefirst.web.templating import render, translator

router = APIRouter(include_in_schema=False)
RULE_KINDS = ("per_unit", "per_click", "per_order", "percent_of_sale")
PLATFORMS = ("shopify", "woocommerce", "stripe", "retail")


class NeedsSignIn(Exception):
    pass


def _gate(request: Request, conn: Connection, role: str) -> sessions.WebUser:
    user = sessions.current_user(request, conn)
    if user is None:
        raise NeedsSignIn
    if user.role not in (role, "admin") or (user.role == role and not user.owner_id):
        raise Forbidden(f"this console is for {role} accounts")
    return user


def _refusal(request: Request, exc: Exception) -> Response:
    if isinstance(exc, NeedsSignIn):
        return redirect(request, "/signin")
    tr = translator(request)
    status = exc.status if isinstance(exc, WefirstError) else 400
    detail = exc.detail if isinstance(exc, WefirstError) else str(exc)
    return render(
        request,
        "message.html",
        {"heading": tr.gettext("Console"), "message": detail, "back": "/console"},
        status=status,
    )


@router.get("/console")
def console_home(request: Request) -> Response:
    with services_of(request.app).db.read() as conn:
        user = sessions.current_user(request, conn)
    if user is None:
        return redirect(request, "/signin")
    role = user.role if user.role != "admin" else "brand"
    return redirect(request, f"/console/{role}")


# --- brand ---------------------------------------------------------------------------------
def _brand_context(conn: Connection, request: Request, user: sessions.WebUser, owner: str) -> dict[str, Any]:
    brand = catalog.get_brand(conn, owner)
    views = queries.brand_campaigns(conn, owner, public=False)
    roll = services_of(request.app).rollups
    rows = []
    for view in views:
        bal = queries.balance_from_days(view.row, roll.days(conn, view.id))
        rows.append({"view": view, "balance": bal})
    keys = conn.execute(
        select(api_keys)
        .where(api_keys.c.owner_id == owner, api_keys.c.role == "brand")
        .order_by(api_keys.c.seq)
    ).all()
    bens = conn.execute(
        select(beneficiaries.c.id, beneficiaries.c.name)
        .where(beneficiaries.c.livemode.is_(True))
        .order_by(beneficiaries.c.name)
    ).all()
    return {
        "brand": brand,
        "rows": rows,
        "keys": keys,
        "beneficiaries": bens,
        "currencies": sorted(CURRENCIES),
        "rule_kinds": RULE_KINDS,
        "connections": _connections(conn, request, owner),
        "platforms": PLATFORMS,
        "alerts": _alerts(conn, owner),
        "episodes": _episodes(conn, owner),
    }


def _connections(conn: Connection, request: Request, owner: str) -> list[dict[str, Any]]:
    from wefirst.ingest.connectors import accounts as connector_accounts

    base = services_of(request.app).settings.base_url
    return [
        connector_accounts.connection_json(conn, info, base)
        for info in connector_accounts.list_connections(conn, owner)
    ]


def _alerts(conn: Connection, owner: str) -> list[dict[str, Any]]:
    from wefirst.webhooks import outbox

    return outbox.attempts(conn, owner, limit=20)


def _episodes(conn: Connection, owner: str) -> list[dict[str, Any]]:
    from wefirst.voice import episodes as voice_episodes

    rows, _ = voice_episodes.list_episodes(conn, owner, limit=5)
    return [voice_episodes.episode_json(r) for r in rows]


def _brand_url(user: sessions.WebUser, owner: str, anchor: str = "") -> str:
    query = {"saved": "1", **({"brand": owner} if user.role == "admin" else {})}
    return f"/console/brand?{urlencode(query)}{anchor}"


def _owner_for(user: sessions.WebUser, request: Request) -> str:
    """Admins pick the tenant with ?brand=…; everyone else acts for their own."""
    if user.role == "admin":
        chosen = request.query_params.get("brand")
        if not chosen:
            raise Invalid("admins choose a brand with ?brand=brd_…")
        return chosen
    assert user.owner_id is not None
    return user.owner_id


def _brand_page(
    request: Request,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    secret: str | None = None,
    status: int = 200,
) -> Response:
    with services_of(request.app).db.read() as conn:
        try:
            user = _gate(request, conn, "brand")
            owner = _owner_for(user, request)
            context = _brand_context(conn, request, user, owner)
        except (NeedsSignIn, WefirstError) as exc:
            return _refusal(request, exc)
    context.update(
        {
            "errors": errors or {},
            "form": form or {},
            "new_secret": secret,
            "saved": request.query_params.get("saved") == "1",
            # admins act for the brand named in the query; keep it on every form
            "brand_q": f"?{urlencode({'brand': owner})}" if user.role == "admin" else "",
        }
    )
    return render(request, "console_brand.html", context, user=user, status=status)


@router.get("/console/brand")
def brand_console(request: Request) -> Response:
    return _brand_page(request)


def _int(form: dict[str, str], name: str, *, required: bool = False) -> int | None:
    raw = blank(form.get(name))
    if raw is None:
        if required:
            raise Invalid(f"{name}: required", [FieldError(name, "required")])
        return None
    try:
        return int(raw)
    except ValueError:
        raise Invalid(f"{name}: a whole number", [FieldError(name, "not a whole number")]) from None


def rule_body(form: dict[str, str]) -> dict[str, Any]:
    """One pledge rule from the form's kind, value and SKU patterns (the API's RuleIn shape)."""
    kind = form.get("rule_kind", "")
    if kind not in RULE_KINDS:
        raise Invalid("rule_kind: unknown", [FieldError("rule_kind", "choose a rule")])
    value = _int(form, "rule_value", required=True)
    skus = [s.strip() for s in form.get("skus", "").split(",") if s.strip()]
    rule: dict[str, Any] = {"kind": kind}
    if kind == "per_unit":
        rule.update(sku_patterns=skus, units_per_item=value)
    elif kind == "per_click":
        rule.update(units_per_click=value)
    elif kind == "per_order":
        rule.update(units_per_order=value)
    else:
        rule.update(basis_points=value, sku_patterns=skus or ["*"])
    return rule


def rule_fields(rule: dict[str, Any]) -> dict[str, str]:
    """The form fields that show an existing rule (the inverse of rule_body)."""
    value = next(
        (
            rule[k]
            for k in ("units_per_item", "units_per_click", "units_per_order", "basis_points")
            if k in rule
        ),
        "",
    )
    return {
        "rule_kind": str(rule.get("kind", "")),
        "rule_value": str(value),
        "skus": ", ".join(rule.get("sku_patterns", [])),
    }


def campaign_body(form: dict[str, str]) -> dict[str, Any]:
    """The form's flat fields → the API's CampaignIn shape (validated by CampaignIn itself)."""
    currency = form.get("currency", "EUR")
    try:
        cost = Money.from_decimal_string(form.get("cost", "").strip() or "x", currency).amount
    except MoneyError as exc:
        raise Invalid(f"cost: {exc}", [FieldError("cost", str(exc))]) from None
    rule = rule_body(form)
    labels = {"en": {"singular": form.get("unit_en_one", ""), "plural": form.get("unit_en_many", "")}}
    if blank(form.get("unit_fr_one")) and blank(form.get("unit_fr_many")):
        labels["fr"] = {"singular": form["unit_fr_one"], "plural": form["unit_fr_many"]}
    caps = {
        k: v
        for k, v in (
            ("total_units", _int(form, "cap_total_units")),
            ("units_per_day", _int(form, "cap_units_per_day")),
        )
        if v is not None
    }
    body: dict[str, Any] = {
        "name": form.get("name", ""),
        "beneficiary_id": form.get("beneficiary_id", ""),
        "currency": currency,
        "starts_at": f"{form.get('starts', '')}T00:00:00Z",
        "impact_unit": {
            "labels": labels,
            "cost_per_unit": {"amount": cost, "currency": currency},
            "cost_source": form.get("cost_source", ""),
            "cost_date": form.get("cost_date", ""),
            "mode": form.get("mode", "funds"),
        },
        "rules": [rule],
        "caps": caps,
        "status": "active" if form.get("status") == "active" else "draft",
    }
    if blank(form.get("ends")):
        body["ends_at"] = f"{form['ends']}T00:00:00Z"
    return body


@router.post("/console/brand/campaigns")
async def create_campaign(request: Request) -> Response:
    try:
        form = await read_form(request)
    except CsrfRefused:
        return csrf_refused(request)

    def work() -> Response:
        with services_of(request.app).db.write() as conn:
            user = _gate(request, conn, "brand")
            owner = _owner_for(user, request)
            require(user.actor(), "brand", owner=owner)
            data = CampaignIn.model_validate(campaign_body(form))
            created = catalog.create_campaign(conn, owner, data, livemode=True)
        return redirect(request, f"/console/brand/campaigns/{created['id']}?saved=1")

    try:
        return await in_thread(work)
    except (NeedsSignIn, Forbidden) as exc:
        return _refusal(request, exc)
    except (WefirstError, ValidationError) as exc:
        return await in_thread(
            partial(_brand_page, request, errors=error_messages(exc), form=form, status=422)
        )


def _campaign_page(
    request: Request, campaign_id: str, *, errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    with services_of(request.app).db.read() as conn:
        try:
            user = _gate(request, conn, "brand")
            loaded = owned(conn, user.actor(), campaign_id)
            details = catalog.campaign_json(conn, campaign_id, loaded)
            fraud = _fraud(conn, campaign_id)
        except (NeedsSignIn, WefirstError) as exc:
            return _refusal(request, exc)
    return render(
        request,
        "console_campaign.html",
        {
            "c": details,
            "fraud": fraud,
            "errors": errors or {},
            "rule": rule_fields(details["rules"][0]) if details.get("rules") else {},
            "rule_kinds": RULE_KINDS,
            "saved": request.query_params.get("saved") == "1",
            "next_status": [s for s in ("active", "paused", "ended") if s != details["status"]],
        },
        user=user,
        status=status,
    )


def _fraud(conn: Connection, campaign_id: str) -> dict[str, Any] | None:
    try:
        from wefirst.widget.publishers import fraud_report
    except ImportError:  # the widget area is optional
        return None
    end = utcnow().date()
    report: dict[str, Any] = fraud_report(conn, campaign_id, start=end - timedelta(days=29), end=end)
    return report


@router.get("/console/brand/campaigns/{campaign_id}")
def brand_campaign(request: Request, campaign_id: str) -> Response:
    return _campaign_page(request, campaign_id)


async def _brand_write(
    request: Request, campaign_id: str, action: Callable[[Connection, dict[str, str]], None]
) -> Response:
    try:
        form = await read_form(request)
    except CsrfRefused:
        return csrf_refused(request)

    def work() -> Response:
        with services_of(request.app).db.write() as conn:
            user = _gate(request, conn, "brand")
            owned(conn, user.actor(), campaign_id)
            action(conn, form)
        return redirect(request, f"/console/brand/campaigns/{campaign_id}?saved=1")

    try:
        return await in_thread(work)
    except (NeedsSignIn, Forbidden, NotFound) as exc:
        return _refusal(request, exc)
    except (WefirstError, ValidationError) as exc:
        return await in_thread(
            partial(_campaign_page, request, campaign_id, errors=error_messages(exc), status=422)
        )


@router.post("/console/brand/campaigns/{campaign_id}")
async def edit_campaign(request: Request, campaign_id: str) -> Response:
    def action(conn: Connection, form: dict[str, str]) -> None:
        patch: dict[str, Any] = {}
        if blank(form.get("name")):
            patch["name"] = form["name"].strip()
        if blank(form.get("ends")):
            patch["ends_at"] = f"{form['ends']}T00:00:00Z"
        caps = {
            k: v
            for k, v in (
                ("total_units", _int(form, "cap_total_units")),
                ("units_per_day", _int(form, "cap_units_per_day")),
            )
            if v is not None
        }
        if caps:
            patch["caps"] = caps
        if blank(form.get("rule_value")):
            rules = list(catalog.load_campaign(conn, campaign_id).row.definition["rules"])
            rules[0] = rule_body(form)
            patch["rules"] = rules
        catalog.patch_campaign(conn, campaign_id, CampaignPatch.model_validate(patch))

    return await _brand_write(request, campaign_id, action)


@router.post("/console/brand/campaigns/{campaign_id}/status")
async def change_status(request: Request, campaign_id: str) -> Response:
    def action(conn: Connection, form: dict[str, str]) -> None:
        data = StatusIn.model_validate({"status": form.get("status", "")})
        catalog.set_status(conn, campaign_id, data.status)

    return await _brand_write(request, campaign_id, action)


@router.post("/console/brand/keys")
async def create_key(request: Request) -> Response:
    try:
        form = await read_form(request)
    except CsrfRefused:
        return csrf_refused(request)

    def work() -> str:
        with services_of(request.app).db.write() as conn:
            user = _gate(request, conn, "brand")
            owner = _owner_for(user, request)
            require(user.actor(), "brand", owner=owner)
            secret, _ = api_keys_service.create_key(conn, "brand", owner, label=blank(form.get("label")))
        return secret

    try:
        secret = await in_thread(work)
    except (NeedsSignIn, WefirstError) as exc:
        return _refusal(request, exc)
    response = await in_thread(partial(_brand_page, request, secret=secret))
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/console/brand/keys/{key_id}/revoke")
async def revoke_key(request: Request, key_id: str) -> Response:
    try:
        await read_form(request)
    except CsrfRefused:
        return csrf_refused(request)

    def work() -> Response:
        with services_of(request.app).db.write() as conn:
            user = _gate(request, conn, "brand")
            owner = _owner_for(user, request)
            row = conn.execute(select(api_keys.c.owner_id).where(api_keys.c.id == key_id)).first()
            if row is None or row.owner_id != owner:
                raise NotFound(f"key {key_id} does not exist")
            require(user.actor(), "brand", owner=owner)
            api_keys_service.revoke(conn, key_id)
        return redirect(request, _brand_url(user, owner))

    try:
        return await in_thread(work)
    except (NeedsSignIn, WefirstError) as exc:
        return _refusal(request, exc)


async def _connector_write(
    request: Request, action: Callable[[Connection, str, dict[str, str]], None]
) -> Response:
    """A connector change for the signed-in brand, through the connectors area's own
    functions (secrets are stored encrypted and never shown again)."""
    try:
        form = await read_form(request)
    except CsrfRefused:
        return csrf_refused(request)

    def work() -> Response:
        with services_of(request.app).db.write() as conn:
            user = _gate(request, conn, "brand")
            owner = _owner_for(user, request)
            require(user.actor(), "brand", owner=owner)
            action(conn, owner, form)
        return redirect(request, _brand_url(user, owner, "#con-h"))

    try:
        return await in_thread(work)
    except (NeedsSignIn, Forbidden, NotFound) as exc:
        return _refusal(request, exc)
    except (WefirstError, ValidationError) as exc:
        return await in_thread(
            partial(_brand_page, request, errors=error_messages(exc), form=form, status=422)
        )


def _owned_connection(conn: Connection, owner: str, connection_id: str) -> Any:
    from wefirst.ingest.connectors import accounts as connector_accounts

    info = connector_accounts.get_connection(conn, connection_id)
    if info.brand_id != owner:
        raise NotFound(f"connection {connection_id} does not exist")
    return info


@router.post("/console/brand/connectors")
async def create_connection(request: Request) -> Response:
    from wefirst.ingest.connectors import accounts as connector_accounts
    from wefirst.ingest.connectors.records import Source

    def action(conn: Connection, owner: str, form: dict[str, str]) -> None:
        platform = form.get("platform", "")
        if platform not in PLATFORMS:
            raise Invalid("platform: unknown", [FieldError("platform", "choose a platform")])
        connector_accounts.create_connection(
            conn,
            services_of(request.app).secret_box,
            brand_id=owner,
            platform=Source(platform),
            account=form.get("account", "").strip(),
            name=blank(form.get("name")),
            secret=blank(form.get("secret")),
            livemode=True,
            credentials=None,
        )

    return await _connector_write(request, action)


@router.post("/console/brand/connectors/{connection_id}/secrets")
async def add_connector_secret(request: Request, connection_id: str) -> Response:
    from wefirst.ingest.connectors import accounts as connector_accounts

    def action(conn: Connection, owner: str, form: dict[str, str]) -> None:
        info = _owned_connection(conn, owner, connection_id)
        connector_accounts.add_secret(
            conn, services_of(request.app).secret_box, info.id, form.get("secret", "")
        )
        services_of(request.app).connections.forget(info.id)

    return await _connector_write(request, action)


@router.post("/console/brand/connectors/{connection_id}/secrets/{secret_id}/retire")
async def retire_connector_secret(request: Request, connection_id: str, secret_id: int) -> Response:
    from wefirst.ingest.connectors import accounts as connector_accounts

    def action(conn: Connection, owner: str, form: dict[str, str]) -> None:
        info = _owned_connection(conn, owner, connection_id)
        connector_accounts.retire_secret(conn, info.id, secret_id)
        services_of(request.app).connections.forget(info.id)

    return await _connector_write(request, action)


# --- beneficiary ---------------------------------------------------------------------------
def _beneficiary_page(
    request: Request,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    with services_of(request.app).db.read() as conn:
        try:
            user = _gate(request, conn, "beneficiary")
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
            return _refusal(request, exc)
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
    try:
        form = await read_form(request)
    except CsrfRefused:
        return csrf_refused(request)
    if decision not in ("confirm", "dispute"):
        return _refusal(request, NotFound("no such action"))

    def work() -> Response:
        with services_of(request.app).db.write() as conn:
            user = _gate(request, conn, "beneficiary")
            row = conn.execute(select(settlements).where(settlements.c.id == settlement_id)).first()
            if row is None:
                raise NotFound(f"settlement {settlement_id} does not exist")
            loaded = catalog.load_campaign(conn, row.campaign_id)
            require(user.actor(), "beneficiary", owner=loaded.row.beneficiary_id)
            data = DecisionIn.model_validate({"note": blank(form.get("note"))})
            ledger.decide_settlement(
                conn,
                settlement_id=row.id,
                campaign_id=row.campaign_id,
                currency=row.currency,
                amount=row.amount,
                confirmed=decision == "confirm",
                note=data.note,
                public=loaded.campaign.public,
            )
        return redirect(request, "/console/beneficiary?saved=1")

    try:
        return await in_thread(work)
    except (NeedsSignIn, Forbidden, NotFound) as exc:
        return _refusal(request, exc)
    except (WefirstError, ValidationError) as exc:
        return await in_thread(partial(_beneficiary_page, request, errors=error_messages(exc), status=409))


@router.post("/console/beneficiary/deliveries")
async def report_delivery(request: Request) -> Response:
    try:
        form = await read_form(request)
    except CsrfRefused:
        return csrf_refused(request)

    def work() -> Response:
        with services_of(request.app).db.write() as conn:
            user = _gate(request, conn, "beneficiary")
            loaded = visible(conn, user.actor(), form.get("campaign_id", ""))
            require(user.actor(), "beneficiary", owner=loaded.row.beneficiary_id)
            data = DeliveryIn.model_validate(
                {
                    "units": _int(form, "units", required=True),
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

    try:
        return await in_thread(work)
    except (NeedsSignIn, Forbidden) as exc:
        return _refusal(request, exc)
    except (WefirstError, ValidationError) as exc:
        return await in_thread(
            partial(_beneficiary_page, request, errors=error_messages(exc), form=form, status=422)
        )


# --- publisher -----------------------------------------------------------------------------
@router.get("/console/publisher")
def publisher_console(request: Request) -> Response:
    from wefirst.widget import publishers as pubs

    tr = translator(request)
    settings = services_of(request.app).settings
    with services_of(request.app).db.read() as conn:
        try:
            user = _gate(request, conn, "publisher")
            if user.owner_id is None:
                raise Invalid("admins use the API to act for a publisher")
            pub = pubs.get_publisher(conn, user.owner_id)
            snippets = []
            for cid in pub["campaigns"]:
                view = queries.campaign_view(conn, cid)
                snippets.append(
                    {
                        "view": view,
                        "html": pubs.snippet(
                            conn, user.owner_id, cid, base_url=settings.base_url, lang=tr.locale
                        )["html"],
                    }
                )
            end = utcnow().date()
            stats = pubs.daily_stats(conn, user.owner_id, start=end - timedelta(days=29), end=end)
        except (NeedsSignIn, WefirstError) as exc:
            return _refusal(request, exc)
    per_day: dict[date, int] = {}
    for row in stats["data"]:
        d = date.fromisoformat(row["day"])
        per_day[d] = per_day.get(d, 0) + int(row["clicks"])
    chart = charts.voice_chart(
        [charts.DayBar(d, n) for d, n in sorted(per_day.items())],
        [],
        title=tr.gettext("Clicks and impact per day"),
        desc=f"{tr.gettext('Clicks')}: {tr.number(stats['totals']['clicks'])}",
        fmt_day=tr.date,
        fmt=tr.number,
        chart_id="clicks",
    )
    return render(
        request,
        "console_publisher.html",
        {
            "pub": pub,
            "snippets": snippets,
            "stats": stats,
            "chart": chart,
        },
        user=user,
    )
