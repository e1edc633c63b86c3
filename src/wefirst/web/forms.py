"""Form plumbing shared by the sign-in and console pages: read a posted form, refuse it
unless its CSRF token matches, run the database work off the event loop, and turn domain and
validation errors into messages next to the right field."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from wefirst.errors import WefirstError
from wefirst.plaintext import refused_in
from wefirst.translations import N_
from wefirst.web.i18n import Translator
from wefirst.web.security import CSRF_FIELD, apply_security_headers
from wefirst.web.templating import codec, render, translator

T = TypeVar("T")


class CsrfRefused(Exception):
    """The form's token is missing, forged or expired."""


class ControlCharacters(CsrfRefused):
    """A field holds control characters (a paste from a binary file, or a probe): refused
    before any route reads it, with the same page as an expired form but its own words."""


async def read_form(request: Request) -> dict[str, str]:
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    if not codec(request).csrf_valid(request, values.get(CSRF_FIELD)):
        raise CsrfRefused
    for _field, _why in refused_in(values, ""):
        raise ControlCharacters
    return values


def csrf_refused(request: Request, exc: CsrfRefused | None = None) -> Response:
    """The page for a refused form (every route's `except CsrfRefused`), in the page's language."""
    tr = translator(request)
    if isinstance(exc, ControlCharacters):
        heading, status = (
            tr.gettext("The form holds invisible control characters; retype it and try again."),
            422,
        )
    else:
        heading, status = tr.gettext("The form expired; please try again."), 403
    return render(
        request,
        "message.html",
        {"heading": heading, "message": None, "back": request.headers.get("referer", "/")},
        status=status,
    )


async def in_thread(fn: Callable[..., T], *args: Any) -> T:
    return await run_in_threadpool(fn, *args)


def redirect(request: Request, url: str) -> Response:
    """POST → 303 → GET, so a reload never resubmits a form."""
    return apply_security_headers(RedirectResponse(url, status_code=303), request)


# pydantic's error types → what to type instead, for fields a form gives no help of its own
TYPE_WORDS: Final = {
    "missing": N_("Fill in this field."),
    "string_too_short": N_("Type at least {min_length} characters."),
    "string_too_long": N_("Type at most {max_length} characters."),
    "too_short": N_("Give at least {min_length}."),
    "too_long": N_("Give at most {max_length}."),
    "int_parsing": N_("Type a whole number, e.g. 12."),
    "int_type": N_("Type a whole number, e.g. 12."),
    "int_from_float": N_("Type a whole number, e.g. 12."),
    "greater_than_equal": N_("Type a number of at least {ge}."),
    "greater_than": N_("Type a number above {gt}."),
    "less_than_equal": N_("Type a number of at most {le}."),
    "less_than": N_("Type a number below {lt}."),
    "decimal_parsing": N_("Type a number, e.g. 2.50."),
    "float_parsing": N_("Type a number, e.g. 2.50."),
    "literal_error": N_("Choose one of the options."),
    "enum": N_("Choose one of the options."),
    "date_parsing": N_("Type a date as YYYY-MM-DD, e.g. 2027-03-31."),
    "date_from_datetime_parsing": N_("Type a date as YYYY-MM-DD, e.g. 2027-03-31."),
    "datetime_parsing": N_("Type a date as YYYY-MM-DD, e.g. 2027-03-31."),
    "datetime_from_date_parsing": N_("Type a date as YYYY-MM-DD, e.g. 2027-03-31."),
    "url_parsing": N_("Type a web address starting with https://."),
    "url_scheme": N_("Type a web address starting with https://."),
}
NOT_ACCEPTED: Final = N_("This value is not accepted; check what the field asks for.")
NOTHING_CHANGED: Final = N_("Nothing was changed. {reasons}")
NOT_SAVED: Final = N_("Nothing was changed: the form could not be saved.")


def _help_for(field: str, help: Mapping[str, str]) -> str | None:
    """The form's own words for a field: by its name, without a row number (`rule_value_2`),
    or by its first part (`rules[0].value` → `rules`)."""
    for key in (field, field.rstrip("0123456789").rstrip("_"), field.split(".")[0].split("[")[0]):
        if key in help:
            return help[key]
    return None


def _typed(tr: Translator, words: str, ctx: Mapping[str, Any]) -> str:
    values = {
        k: tr.number(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in ctx.items()
    }
    try:
        return tr.gettext(words).format(**values)
    except (KeyError, IndexError):
        return tr.gettext(NOT_ACCEPTED)


def _field_of_value_error(message: str) -> str:
    """A model-level check names its field in our style ("ends_at: must be after starts_at")."""
    head, sep, _ = message.removeprefix("Value error, ").partition(": ")
    return head if sep and head.replace(".", "").replace("_", "").isalnum() else ""


def error_messages(exc: Exception, tr: Translator, help: Mapping[str, str] | None = None) -> dict[str, str]:
    """Field → message in the page's language saying what to type ("" holds the form-wide
    message), from our own errors or pydantic's: the form's help for the field when it has
    some, else pydantic's error type in words, else (English) our own reason. Raw validator
    messages and API field names never reach the page."""
    help = help or {}
    out: dict[str, str] = {}

    def put(field: str, fallback: str | None) -> None:
        found = _help_for(field, help)
        if found is not None:
            out.setdefault(field, tr.gettext(found))
        elif fallback is not None:
            out.setdefault(field, fallback)
        else:
            out.setdefault(field, tr.gettext(NOT_ACCEPTED))

    if isinstance(exc, ValidationError):
        for err in exc.errors():
            field = ".".join(str(p) for p in err.get("loc", ()) if not isinstance(p, int))
            kind = str(err.get("type", ""))
            if not field and kind == "value_error":
                field = _field_of_value_error(str(err.get("msg", "")))
            words = TYPE_WORDS.get(kind)
            put(field, _typed(tr, words, err.get("ctx") or {}) if words else None)
    elif isinstance(exc, WefirstError):
        for fe in exc.errors:
            put(fe.field, fe.reason if tr.locale == "en" else None)
        if not exc.errors:
            out[""] = exc.detail if tr.locale == "en" else tr.gettext(NOT_SAVED)
    else:
        out[""] = tr.gettext(NOT_SAVED)
    said = list(dict.fromkeys(v for k, v in out.items() if k))
    if said:  # a summary above the form too, as on GOV.UK: some forms mark no field
        out[""] = tr.gettext(NOTHING_CHANGED).format(reasons=" ".join(said))
    return out


def blank(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None
