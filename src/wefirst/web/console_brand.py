"""The brand console: campaigns (create, edit, status), API keys, connectors, alerts and
voice episodes of one brand, over the same services as the JSON API."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from functools import partial
from typing import Any
from urllib.parse import urlencode

from babel.numbers import get_currency_name
from fastapi import APIRouter
from pydantic import ValidationError
from sqlalchemy import Connection, select
from starlette.requests import Request
from starlette.responses import Response

from wefirst.auth import keys as api_keys_service
from wefirst.auth.walls import owned, require
from wefirst.catalog import service as catalog
from wefirst.catalog.models import CampaignIn, CampaignPatch, StatusIn
from wefirst.domain.clock import utcnow
from wefirst.domain.money import CURRENCIES
from wefirst.errors import FieldError, Forbidden, Invalid, NotFound, WefirstError
from wefirst.pledges.social import social_report
from wefirst.services import services_of
from wefirst.store.tables_core import api_keys, beneficiaries
from wefirst.translations import N_
from wefirst.web import labels, queries, sessions
from wefirst.web.campaign_form import (
    FIELD_HELP,
    FIELD_WORDS,
    MAX_RULES,
    NEW_RULE_SLOTS,
    RULE_KINDS,
    campaign_body,
    cap_body,
    form_errors,
    rules_body,
    rules_fields,
)
from wefirst.web.campaign_preview import preview, preview_edit
from wefirst.web.console import NeedsSignIn, confirm_page, console_post, gate, refusal
from wefirst.web.forms import blank, error_messages, redirect
from wefirst.web.templating import render, translator

router = APIRouter(include_in_schema=False)
PLATFORMS = ("shopify", "woocommerce", "stripe", "retail")


def _brand_context(conn: Connection, request: Request, user: sessions.WebUser, owner: str) -> dict[str, Any]:
    tr = translator(request)
    brand = catalog.get_brand(conn, owner)
    views = queries.brand_campaigns(conn, owner, public=False)
    roll = services_of(request.app).rollups
    rows = []
    for view in views:
        bal = queries.balance_from_days(view.row, roll.days(conn, view.id))
        rows.append({"view": view, "balance": bal, "status": labels.status(view.row.status, tr)})
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
        "currencies": [(c, get_currency_name(c, count=2, locale=tr.locale)) for c in sorted(CURRENCIES)],
        "rule_kinds": rule_kind_choices(request),
        "rule_count": NEW_RULE_SLOTS,
        "connections": _connections(conn, request, owner),
        "platforms": PLATFORMS,
        "alerts": [
            {**a, "event_words": labels.event_type(a["event_type"], tr)} for a in _alerts(conn, owner)
        ],
        "episodes": _episodes(conn, owner),
        "cases": _cases(conn, owner, tr),
    }


def rule_kind_choices(request: Request) -> list[tuple[str, str]]:
    """(code, words) for the rule kinds the form offers, in the page's language."""
    tr = translator(request)
    return [(k, labels.rule_kind(k, tr)) for k in RULE_KINDS]


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


def _cases(conn: Connection, owner: str, tr: Any) -> list[dict[str, Any]]:
    """The brand's cases still waiting on it (open or answer not accepted), newest first: each
    links to its page, where the brand's team answers."""
    from wefirst.store.tables_cases import cases

    rows = conn.execute(
        select(cases.c.id, cases.c.title, cases.c.state, cases.c.opened_at)
        .where(
            cases.c.brand_id == owner,
            cases.c.hidden.is_(False),
            cases.c.state.in_(("open", "not_accepted")),
        )
        .order_by(cases.c.opened_at.desc())
        .limit(20)
    ).all()
    return [
        {"id": r.id, "title": r.title, "state": labels.case_state(r.state, tr), "opened": r.opened_at}
        for r in rows
    ]


def _episodes(conn: Connection, owner: str) -> list[dict[str, Any]]:
    from wefirst.voice import episodes as voice_episodes

    rows, _ = voice_episodes.list_episodes(conn, owner, limit=5)
    return [voice_episodes.episode_json(r) for r in rows]


def _brand_url(user: sessions.WebUser, owner: str, anchor: str = "") -> str:
    query = {"saved": "1", **({"brand": owner} if user.role == "admin" else {})}
    return f"/console/brand?{urlencode(query)}{anchor}"


def _brand_query(user: sessions.WebUser, owner: str) -> str:
    return f"?{urlencode({'brand': owner})}" if user.role == "admin" else ""


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
    shown: dict[str, str] | None = None,
) -> Response:
    with services_of(request.app).db.read() as conn:
        try:
            user = gate(request, conn, "brand")
            owner = _owner_for(user, request)
            context = _brand_context(conn, request, user, owner)
        except (NeedsSignIn, WefirstError) as exc:
            return refusal(request, exc)
    context.update(
        {
            "errors": errors or {},
            "form": form or {},
            "new_secret": secret,
            "preview": shown,
            "preview_errors": {},
            "saved": request.query_params.get("saved") == "1",
            # admins act for the brand named in the query; keep it on every form
            "brand_q": f"?{urlencode({'brand': owner})}" if user.role == "admin" else "",
        }
    )
    return render(request, "console_brand.html", context, user=user, status=status)


@router.get("/console/brand")
def brand_console(request: Request) -> Response:
    return _brand_page(request)


def _brand_again(request: Request, form: dict[str, str], errors: dict[str, str]) -> Response:
    return _brand_page(request, errors=form_errors(errors), form=form, status=422)


def _new_campaign_preview(request: Request, form: dict[str, str]) -> dict[str, str]:
    with services_of(request.app).db.read() as conn:
        user = gate(request, conn, "brand")
        owner = _owner_for(user, request)
        require(user.actor(), "brand", owner=owner)
        return preview(conn, owner, CampaignIn.model_validate(campaign_body(form)))


def _preview_fragment(request: Request, compute: Callable[[], dict[str, str]]) -> Response:
    """The preview box's content alone, for the form's script; a form that cannot be saved yet
    says which fields to fix (always 200: the fetch is a preview, not a save)."""
    try:
        shown, problems = compute(), {}
    except (NeedsSignIn, Forbidden, NotFound) as exc:
        return refusal(request, exc)
    except (WefirstError, ValidationError) as exc:
        shown, problems = None, form_errors(error_messages(exc, translator(request), FIELD_HELP))
    tr = translator(request)
    words = {k: tr.gettext(v) for k, v in FIELD_WORDS.items()}
    other = tr.gettext("Other")
    named = {f: words.get(f, words["rules"] if f.startswith("rule") else other) for f in problems if f}
    response = render(request, "_preview.html", {"preview": shown, "preview_errors": named})
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/console/brand/campaigns/preview")
async def new_campaign_preview(request: Request) -> Response:
    def work(form: dict[str, str]) -> Response:
        return _preview_fragment(request, partial(_new_campaign_preview, request, form))

    return await console_post(request, work)


@router.post("/console/brand/campaigns")
async def create_campaign(request: Request) -> Response:
    def work(form: dict[str, str]) -> Response:
        if form.get("action") == "preview":  # the no-script preview: nothing is saved
            return _brand_page(request, form=form, shown=_new_campaign_preview(request, form))
        with services_of(request.app).db.write() as conn:
            user = gate(request, conn, "brand")
            owner = _owner_for(user, request)
            require(user.actor(), "brand", owner=owner)
            data = CampaignIn.model_validate(campaign_body(form))
            created = catalog.create_campaign(conn, owner, data, livemode=True)
        return redirect(request, f"/console/brand/campaigns/{created['id']}?saved=1")

    return await console_post(
        request, work, refused=(NeedsSignIn, Forbidden), again=partial(_brand_again, request), help=FIELD_HELP
    )


def _campaign_page(
    request: Request,
    campaign_id: str,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    shown: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    tr = translator(request)
    with services_of(request.app).db.read() as conn:
        try:
            user = gate(request, conn, "brand")
            loaded = owned(conn, user.actor(), campaign_id)
            details = catalog.campaign_json(conn, campaign_id, loaded)
            fraud = _fraud(conn, campaign_id)
            publishers = _publishers(conn, campaign_id)
            social = social_refusals(conn, campaign_id, tr)
        except (NeedsSignIn, WefirstError) as exc:
            return refusal(request, exc)
    editable = [r for r in details.get("rules", []) if r.get("kind") in RULE_KINDS]
    if fraud:
        fraud = {**fraud, "by_reason": {labels.click_reason(r, tr): n for r, n in fraud["by_reason"].items()}}
    return render(
        request,
        "console_campaign.html",
        {
            "c": details,
            "fraud": fraud,
            "social": social,
            "publishers": publishers,
            "errors": errors or {},
            "form": form or rules_fields(editable),
            "rule_kinds": rule_kind_choices(request),
            "rule_count": min(MAX_RULES, len(editable) + 1),
            "status_word": labels.status(details["status"], tr),
            "preview": shown,
            "preview_errors": {},
            "saved": request.query_params.get("saved") == "1",
            "next_status": [
                (s, tr.gettext(STATUS_ACTIONS[s]))
                for s in ("active", "paused", "ended")
                if s != details["status"]
            ],
        },
        user=user,
        status=status,
    )


# the button that moves a campaign to a state, in words (its state's name is not an action)
STATUS_ACTIONS = {"active": N_("Activate"), "paused": N_("Pause"), "ended": N_("End the campaign")}


def _fraud(conn: Connection, campaign_id: str) -> dict[str, Any] | None:
    try:
        from wefirst.widget.publishers import fraud_report
    except ImportError:  # the widget area is optional
        return None
    end = utcnow().date()
    report: dict[str, Any] = fraud_report(conn, campaign_id, start=end - timedelta(days=29), end=end)
    return report


def social_refusals(conn: Connection, campaign_id: str, tr: Any) -> list[dict[str, Any]]:
    """The social fraud report as the console shows it: per rule, what counted and each
    refusal reason in words (with the attack its criterion bounds)."""
    rules = social_report(conn, campaign_id)["rules"]
    return [
        {**r, "refused_words": [(labels.social_reason(k, tr), n) for k, n in sorted(r["refused"].items())]}
        for r in rules
    ]


def _publishers(conn: Connection, campaign_id: str) -> dict[str, Any] | None:
    try:
        from wefirst.widget.approval import campaign_publishers
    except ImportError:  # the widget area is optional
        return None
    return campaign_publishers(conn, campaign_id)


@router.get("/console/brand/campaigns/{campaign_id}")
def brand_campaign(request: Request, campaign_id: str) -> Response:
    return _campaign_page(request, campaign_id)


async def _brand_write(
    request: Request,
    campaign_id: str,
    action: Callable[[Connection, dict[str, str]], Response | None],
    help: Mapping[str, str],
) -> Response:
    def work(form: dict[str, str]) -> Response:
        with services_of(request.app).db.write() as conn:
            user = gate(request, conn, "brand")
            owned(conn, user.actor(), campaign_id)
            answer = action(conn, form)
        if answer is not None:
            return answer
        return redirect(request, f"/console/brand/campaigns/{campaign_id}?saved=1")

    def again(form: dict[str, str], errors: dict[str, str]) -> Response:
        return _campaign_page(request, campaign_id, errors=errors, status=422)

    return await console_post(
        request, work, refused=(NeedsSignIn, Forbidden, NotFound), again=again, help=help
    )


def _edit_patch(conn: Connection, campaign_id: str, form: dict[str, str]) -> dict[str, Any]:
    """The edit form → the API's CampaignPatch body. The rules the form shows replace the
    campaign's (rules of kinds the form does not edit, e.g. social actions, are kept)."""
    patch: dict[str, Any] = {}
    if blank(form.get("name")):
        patch["name"] = form["name"].strip()
    if blank(form.get("ends")):
        patch["ends_at"] = f"{form['ends']}T00:00:00Z"
    caps = cap_body(form)
    if caps:
        patch["caps"] = caps
    if any(k.startswith("rule_kind_") for k in form):  # a form without rule fields keeps them
        kept = [
            r
            for r in catalog.load_campaign(conn, campaign_id).row.definition["rules"]
            if r.get("kind") not in RULE_KINDS
        ]
        patch["rules"] = rules_body(form) + kept
    return CampaignPatch.model_validate(patch).model_dump(mode="json", exclude_none=True)


def _edit_preview(request: Request, campaign_id: str, form: dict[str, str]) -> dict[str, str]:
    with services_of(request.app).db.read() as conn:
        user = gate(request, conn, "brand")
        owned(conn, user.actor(), campaign_id)
        return preview_edit(conn, campaign_id, _edit_patch(conn, campaign_id, form))


@router.post("/console/brand/campaigns/{campaign_id}/preview")
async def edit_campaign_preview(request: Request, campaign_id: str) -> Response:
    def work(form: dict[str, str]) -> Response:
        return _preview_fragment(request, partial(_edit_preview, request, campaign_id, form))

    return await console_post(request, work)


@router.post("/console/brand/campaigns/{campaign_id}")
async def edit_campaign(request: Request, campaign_id: str) -> Response:
    def work(form: dict[str, str]) -> Response:
        if form.get("action") == "preview":
            shown = _edit_preview(request, campaign_id, form)
            return _campaign_page(request, campaign_id, form=form, shown=shown)
        with services_of(request.app).db.write() as conn:
            user = gate(request, conn, "brand")
            owned(conn, user.actor(), campaign_id)
            patch = _edit_patch(conn, campaign_id, form)
            catalog.patch_campaign(conn, campaign_id, CampaignPatch.model_validate(patch))
        return redirect(request, f"/console/brand/campaigns/{campaign_id}?saved=1")

    def again(form: dict[str, str], errors: dict[str, str]) -> Response:
        return _campaign_page(request, campaign_id, errors=form_errors(errors), form=form, status=422)

    return await console_post(
        request, work, refused=(NeedsSignIn, Forbidden, NotFound), again=again, help=FIELD_HELP
    )


# what to type, per field of the campaign page's small forms (`forms.error_messages`); their
# fields are buttons or hidden, so the words point at what the page offers
STATUS_HELP = {"status": N_("Use one of the buttons on this page to start, pause or end the campaign.")}
APPROVAL_HELP = {
    "publisher_id": N_("Choose a site from the list of sites that asked to show this campaign."),
    "open": N_("Use the button on this page to open or close the campaign to sites."),
}
KEY_HELP = {"label": N_("Type a name for the key, at most 200 characters, or leave it blank.")}
KEY_LABEL_MAX = 200  # api_keys.label is a String(200)


@router.post("/console/brand/campaigns/{campaign_id}/status")
async def change_status(request: Request, campaign_id: str) -> Response:
    """Ending a campaign cannot be undone: without `confirmed=yes` the post only shows a page
    that asks (a plain form, so it works without scripts)."""
    tr = translator(request)

    def action(conn: Connection, form: dict[str, str]) -> Response | None:
        data = StatusIn.model_validate({"status": form.get("status", "")})
        if data.status == "ended" and form.get("confirmed") != "yes":
            name = catalog.load_campaign(conn, campaign_id).row.definition["name"]
            return confirm_page(
                request,
                heading=tr.gettext("End this campaign?"),
                message=tr.gettext(
                    "An ended campaign takes no new pledge and cannot be started again."
                    " What it already owes stays owed."
                ),
                subject=name,
                action=f"/console/brand/campaigns/{campaign_id}/status",
                fields={"status": "ended"},
                button=tr.gettext("End the campaign"),
                back=f"/console/brand/campaigns/{campaign_id}",
                user=gate(request, conn, "brand"),
            )
        catalog.set_status(conn, campaign_id, data.status)
        return None

    return await _brand_write(request, campaign_id, action, STATUS_HELP)


@router.post("/console/brand/campaigns/{campaign_id}/publishers")
async def approve_publisher(request: Request, campaign_id: str) -> Response:
    """Approve (or withdraw) a publisher that joined: what `PUT/DELETE …/approval` does."""

    def action(conn: Connection, form: dict[str, str]) -> None:
        from wefirst.widget.approval import set_approval

        approved = form.get("approved") == "1"
        set_approval(conn, campaign_id, form.get("publisher_id", ""), approved=approved)

    return await _brand_write(request, campaign_id, action, APPROVAL_HELP)


@router.post("/console/brand/campaigns/{campaign_id}/publishers/open")
async def open_to_publishers(request: Request, campaign_id: str) -> Response:
    def action(conn: Connection, form: dict[str, str]) -> None:
        from wefirst.widget.publishers import set_widget_settings

        is_open = form.get("open") == "1"
        set_widget_settings(conn, campaign_id, pow_bits=None, texts=None, open_to_publishers=is_open)

    return await _brand_write(request, campaign_id, action, APPROVAL_HELP)


@router.post("/console/brand/keys")
async def create_key(request: Request) -> Response:
    def work(form: dict[str, str]) -> Response:
        label = blank(form.get("label"))
        if label is not None and len(label) > KEY_LABEL_MAX:  # PostgreSQL would refuse it with a 500
            raise Invalid(
                f"label: at most {KEY_LABEL_MAX} characters",
                [FieldError("label", f"at most {KEY_LABEL_MAX} characters")],
            )
        with services_of(request.app).db.write() as conn:
            user = gate(request, conn, "brand")
            owner = _owner_for(user, request)
            require(user.actor(), "brand", owner=owner)
            secret, _ = api_keys_service.create_key(conn, "brand", owner, label=label)
        response = _brand_page(request, secret=secret)
        response.headers["Cache-Control"] = "no-store"
        return response

    return await console_post(
        request,
        work,
        refused=(NeedsSignIn, Forbidden, NotFound),
        again=partial(_brand_again, request),
        help=KEY_HELP,
    )


@router.post("/console/brand/keys/{key_id}/revoke")
async def revoke_key(request: Request, key_id: str) -> Response:
    def work(form: dict[str, str]) -> Response:
        with services_of(request.app).db.write() as conn:
            user = gate(request, conn, "brand")
            owner = _owner_for(user, request)
            row = conn.execute(
                select(api_keys.c.owner_id, api_keys.c.label, api_keys.c.hint).where(api_keys.c.id == key_id)
            ).first()
            if row is None or row.owner_id != owner:
                raise NotFound(f"key {key_id} does not exist")
            require(user.actor(), "brand", owner=owner)
            if form.get("confirmed") != "yes":  # revoking cannot be undone: ask first
                tr = translator(request)
                return confirm_page(
                    request,
                    heading=tr.gettext("Revoke this key?"),
                    message=tr.gettext(
                        "Every shop or script that uses this key stops working at once,"
                        " and the key cannot be used again."
                    ),
                    subject=f"{row.label or tr.gettext('Key')} (…{row.hint})",
                    action=f"/console/brand/keys/{key_id}/revoke{_brand_query(user, owner)}",
                    fields={},
                    button=tr.gettext("Revoke the key"),
                    back=f"/console/brand{_brand_query(user, owner)}#keys-h",
                    user=user,
                )
            api_keys_service.revoke(conn, key_id)
        api_keys_service.forget_cached()  # committed: no request may keep it from before
        return redirect(request, _brand_url(user, owner))

    return await console_post(request, work)


CONNECTOR_HELP = {
    "account": N_(
        "Type the shop's address (e.g. my-shop.myshopify.com), the Stripe account id (acct_…) "
        "or the retailer's code: letters, digits, '_', '.' and '-'."
    ),
    "secret": N_(
        "Paste the webhook signing secret the shop shows for this connection (1 to 500 characters)."
    ),
    "name": N_("Type a name for this connection, or leave it blank."),
}


async def _connector_write(
    request: Request, action: Callable[[Connection, str, dict[str, str]], None]
) -> Response:
    """A connector change for the signed-in brand, through the connectors area's own
    functions (secrets are stored encrypted and never shown again)."""

    def work(form: dict[str, str]) -> Response:
        with services_of(request.app).db.write() as conn:
            user = gate(request, conn, "brand")
            owner = _owner_for(user, request)
            require(user.actor(), "brand", owner=owner)
            action(conn, owner, form)
        return redirect(request, _brand_url(user, owner, "#con-h"))

    return await console_post(
        request,
        work,
        refused=(NeedsSignIn, Forbidden, NotFound),
        again=partial(_brand_again, request),
        help=CONNECTOR_HELP,
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
