"""What people do on a case page besides co-signing: the brand the case is about answers it
(its words, commitments and their due dates), and anyone reports an abusive case to the
moderators. Both are plain forms (no script), through the cases domain as the API does
(`cases.service.answer_case`, `cases.moderation.report_case`)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from wefirst.cases import moderation, service, webhooks
from wefirst.cases.identity import network_hash
from wefirst.domain.clock import utcnow
from wefirst.errors import NotFound, WefirstError
from wefirst.services import ServicesDep
from wefirst.web import sessions
from wefirst.web.case_forms import ANSWER_HELP, COMMITMENT_SLOTS
from wefirst.web.forms import CsrfRefused, csrf_refused, read_form, redirect
from wefirst.web.routes_cases import case_page_response
from wefirst.web.routes_static import not_found
from wefirst.web.templating import translator

router = APIRouter(include_in_schema=False)


def _commitments(form: dict[str, str]) -> list[service.CommitmentIn]:
    out = []
    for i in range(1, COMMITMENT_SLOTS + 1):
        text = form.get(f"commitment_{i}", "").strip()
        due = form.get(f"due_{i}", "").strip()
        if not text and not due:
            continue
        try:
            due_on = date.fromisoformat(due) if due else None
        except ValueError:
            due_on = date.min  # refused below as a date in the past, by the domain's own rule
        out.append(service.CommitmentIn(text, due_on))
    return out


@router.post("/cases/{case_id}/answer")
async def answer(services: ServicesDep, request: Request, case_id: str) -> Response:
    tr = translator(request)
    try:
        form = await read_form(request)
    except CsrfRefused as bad_form:
        return csrf_refused(request, bad_form)
    errors: dict[str, str] = {}
    try:
        with services.db.write() as conn:
            user = sessions.current_user(request, conn)
            if user is None:
                return redirect(request, "/signin")
            now = utcnow()
            service.answer_case(
                conn,
                user.actor(),
                case_id,
                body=form.get("body", ""),
                language=form.get("language", "en"),
                commitments=_commitments(form),
                now=now,
            )
            webhooks.publish(conn, services.settings, service.get_case(conn, case_id), "case.answered", now)
    except NotFound:
        return not_found(request)
    except WefirstError as exc:
        for fe in exc.errors or []:
            errors.setdefault("answer_" + fe.field.rsplit(".", 1)[-1], "")
        for key in list(errors):
            errors[key] = tr.gettext(ANSWER_HELP.get(key.removeprefix("answer_"), ANSWER_HELP["body"]))
        errors["answer"] = (
            tr.gettext(ANSWER_HELP[""])
            if exc.status == 403
            else tr.gettext("The answer was not published; see the fields below.")
        )
        return case_page_response(services, request, case_id, errors=errors, form=form, status=exc.status)
    services.wake_webhooks()
    return redirect(request, f"/cases/{case_id}?answered=1#answers-h")


@router.post("/cases/{case_id}/report")
async def report(services: ServicesDep, request: Request, case_id: str) -> Response:
    tr = translator(request)
    try:
        form = await read_form(request)
    except CsrfRefused as bad_form:
        return csrf_refused(request, bad_form)
    host = request.client.host if request.client else "unknown"
    try:
        with services.db.write() as conn:
            moderation.report_case(
                conn,
                services.settings,
                case_id,
                reason=form.get("reason", ""),
                note=form.get("note", ""),
                network_hash=network_hash(services.settings.secret_key, host),
                now=utcnow(),
            )
    except NotFound:
        return not_found(request)
    except WefirstError as exc:
        message = (
            tr.gettext("Too many reports from your network just now; try again in an hour.")
            if exc.status == 429
            else tr.gettext("Choose why this case should be looked at.")
        )
        return case_page_response(
            services, request, case_id, errors={"report": message}, form=form, status=exc.status
        )
    return redirect(request, f"/cases/{case_id}?reported=1#report")
