"""Typed, path-aware reads from untrusted JSON.

Every accessor names the JSON path in its error, so a 400 tells the shop owner exactly which
field was wrong. JSON numbers with a fraction are parsed as `Decimal` (never float), so prices
such as WooCommerce's `19.5` or Shopify's refund `24.99` stay exact."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from wefirst.domain.money import MoneyError, check_currency, exponent
from wefirst.ingest.connectors.errors import MalformedPayload
from wefirst.plaintext import first_refused, reason

JsonObject = Mapping[str, Any]


def _reject_constant(name: str) -> Any:
    raise MalformedPayload("$", f"{name} is not valid JSON")


def load_object(raw: bytes) -> JsonObject:
    """Parse a request body that must be one JSON object."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedPayload("$", f"body is not UTF-8 (byte {exc.start})") from exc
    try:
        value = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise MalformedPayload("$", f"body is not JSON: {exc.msg} at line {exc.lineno}") from exc
    except RecursionError as exc:
        raise MalformedPayload("$", "body nests too deeply") from exc
    if not isinstance(value, dict):
        raise MalformedPayload("$", f"expected a JSON object, got {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _missing(obj: JsonObject, key: str, path: str) -> Any:
    if key not in obj:
        raise MalformedPayload(f"{path}.{key}", "is missing")
    return obj[key]


def obj(parent: JsonObject, key: str, path: str) -> JsonObject:
    value = _missing(parent, key, path)
    if not isinstance(value, dict):
        raise MalformedPayload(f"{path}.{key}", f"expected an object, got {_kind(value)}")
    return value


def opt_obj(parent: JsonObject, key: str, path: str) -> JsonObject | None:
    value = parent.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise MalformedPayload(f"{path}.{key}", f"expected an object, got {_kind(value)}")
    return value


def objects(parent: JsonObject, key: str, path: str, *, required: bool = True) -> list[JsonObject]:
    """An array of objects; a missing optional array reads as empty."""
    if not required and parent.get(key) is None:
        return []
    value = _missing(parent, key, path)
    if not isinstance(value, list):
        raise MalformedPayload(f"{path}.{key}", f"expected an array, got {_kind(value)}")
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise MalformedPayload(f"{path}.{key}[{i}]", f"expected an object, got {_kind(item)}")
    return value


def integer(parent: JsonObject, key: str, path: str) -> int:
    value = _missing(parent, key, path)
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedPayload(f"{path}.{key}", f"expected an integer, got {_kind(value)}")
    return int(value)


def opt_integer(parent: JsonObject, key: str, path: str) -> int | None:
    if parent.get(key) is None:
        return None
    return integer(parent, key, path)


def boolean(parent: JsonObject, key: str, path: str, *, default: bool | None = None) -> bool:
    if key not in parent and default is not None:
        return default
    value = _missing(parent, key, path)
    if not isinstance(value, bool):
        raise MalformedPayload(f"{path}.{key}", f"expected true or false, got {_kind(value)}")
    return value


def _plain(value: str, field: str) -> str:
    """Platform text follows the one text rule (wefirst.plaintext): a NUL in a SKU otherwise
    fails the insert on PostgreSQL in the background, after the delivery was acknowledged."""
    ch = first_refused(value)
    if ch is not None:
        raise MalformedPayload(field, reason(ch))
    return value


def string(parent: JsonObject, key: str, path: str) -> str:
    value = _missing(parent, key, path)
    if not isinstance(value, str) or not value:
        got = "an empty string" if value == "" else _kind(value)
        raise MalformedPayload(f"{path}.{key}", f"expected a non-empty string, got {got}")
    return _plain(value, f"{path}.{key}")


def opt_string(parent: JsonObject, key: str, path: str) -> str | None:
    """A string that platforms send as "", null or absent when unknown (Shopify SKUs)."""
    value = parent.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise MalformedPayload(f"{path}.{key}", f"expected a string, got {_kind(value)}")
    return _plain(value, f"{path}.{key}")


def ident(parent: JsonObject, key: str, path: str) -> str:
    """Platform ids: int64 in Shopify/WooCommerce, strings in Stripe; kept as text, never float."""
    value = _missing(parent, key, path)
    if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
        raise MalformedPayload(f"{path}.{key}", f"expected an id, got {_kind(value)}")
    if isinstance(value, int) and value < 0:
        raise MalformedPayload(f"{path}.{key}", "ids are never negative")
    return _plain(str(value), f"{path}.{key}")


def opt_ident(parent: JsonObject, key: str, path: str) -> str | None:
    value = parent.get(key)
    if value is None or value == "" or value == 0:
        return None
    return ident(parent, key, path)


def decimal(parent: JsonObject, key: str, path: str) -> Decimal:
    """Money as a decimal string ("24.99") or a JSON number (24.99, 30): both exact. A float
    from an API client's own JSON decoding goes through `str()`, its shortest exact spelling."""
    value = _missing(parent, key, path)
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise MalformedPayload(f"{path}.{key}", f"expected a decimal amount, got {_kind(value)}")
    try:
        dec = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise MalformedPayload(f"{path}.{key}", f"not a decimal amount: {value!r}") from exc
    if not dec.is_finite():
        raise MalformedPayload(f"{path}.{key}", f"not a finite amount: {value!r}")
    return dec


def currency(parent: JsonObject, key: str, path: str) -> str:
    """ISO 4217, upper-cased: Stripe sends `eur`, Shopify and WooCommerce `EUR`."""
    code = string(parent, key, path).upper()
    try:
        return check_currency(code)
    except MoneyError as exc:
        raise MalformedPayload(f"{path}.{key}", str(exc)) from exc


def minor_units(amount: Decimal, currency_code: str, field: str) -> int:
    """Decimal major units to integer minor units, rounding half-even only below a minor unit
    (WooCommerce's `price` is a line total divided by the quantity and can repeat)."""
    scaled = amount.scaleb(exponent(currency_code))
    if abs(scaled) >= Decimal(10) ** 15:
        raise MalformedPayload(field, "amount is implausibly large")
    return int(scaled.to_integral_value(rounding=ROUND_HALF_EVEN))


def timestamp(parent: JsonObject, key: str, path: str, *, naive_is_utc: bool = False) -> datetime:
    """ISO 8601 to an aware UTC datetime.

    Shopify sends the shop's offset; WooCommerce's `*_gmt` fields carry no offset but are UTC,
    so the caller says so explicitly; an offset-less value elsewhere is an error, not a guess."""
    raw = string(parent, key, path)
    return parse_timestamp(raw, f"{path}.{key}", naive_is_utc=naive_is_utc)


def parse_timestamp(raw: str, field: str, *, naive_is_utc: bool = False) -> datetime:
    try:
        value = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise MalformedPayload(field, f"not an ISO 8601 timestamp: {raw!r}") from exc
    if value.tzinfo is None:
        if not naive_is_utc:
            raise MalformedPayload(field, f"timestamp has no UTC offset: {raw!r}")
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def unix_time(parent: JsonObject, key: str, path: str) -> datetime:
    seconds = integer(parent, key, path)
    if not 0 <= seconds < 2**33:
        raise MalformedPayload(f"{path}.{key}", "unix time out of range")
    return datetime.fromtimestamp(seconds, UTC)


def quantity(parent: JsonObject, key: str, path: str) -> int:
    """A positive unit count; zero or negative quantities on a sale line are malformed."""
    value = integer(parent, key, path)
    if value <= 0:
        raise MalformedPayload(f"{path}.{key}", f"expected a positive quantity, got {value}")
    if value > 1_000_000:
        raise MalformedPayload(f"{path}.{key}", "quantity is implausibly large")
    return value


def string_map(parent: JsonObject, key: str, path: str) -> dict[str, str]:
    """Stripe `metadata`: string keys to string values; absent reads as empty."""
    value = parent.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedPayload(f"{path}.{key}", f"expected an object, got {_kind(value)}")
    out: dict[str, str] = {}
    for k, v in value.items():
        if not isinstance(v, str):
            raise MalformedPayload(f"{path}.{key}.{k}", f"expected a string, got {_kind(v)}")
        out[_plain(k, f"{path}.{key}")] = _plain(v, f"{path}.{key}.{k}")
    return out


def seq_of_objects(value: Any, field: str) -> Sequence[JsonObject]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise MalformedPayload(field, "expected an array of objects")
    return value
