"""The one rule for text that comes in from outside (API bodies, path and query parameters,
forms): no control characters but tab, line feed and carriage return, and no lone surrogates.

Why: PostgreSQL refuses NUL in text (the request then died with a 500 while SQLite stored it),
lone surrogates cannot be encoded to UTF-8 at all, and the other C0/C1 controls are never
meant: they only hide text in logs, pages and terminals. Refusing them at the edge, naming the
field, means every store sees the same values and every client gets the same answer."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Mapping
from typing import Final

ALLOWED_CONTROLS: Final = frozenset("\t\n\r")


def first_refused(value: str) -> str | None:
    """The first refused character of `value` (a control or a lone surrogate), or None."""
    if value.isprintable():  # fast path: printable text has no Cc/Cs at all
        return None
    for ch in value:
        if ch in ALLOWED_CONTROLS:
            continue
        if unicodedata.category(ch) in ("Cc", "Cs"):
            return ch
    return None


def reason(ch: str) -> str:
    return f"must not contain control characters (found U+{ord(ch):04X})"


def refused_in(value: object, path: str) -> Iterator[tuple[str, str]]:
    """(field path, reason) for every refused string inside `value`: strings, and strings in
    lists, tuples and mappings (keys too), named as the API names fields (`lines[2].sku`)."""
    if isinstance(value, str):
        ch = first_refused(value)
        if ch is not None:
            yield path, reason(ch)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from refused_in(item, f"{path}[{i}]")
    elif isinstance(value, Mapping):
        for k, item in value.items():
            bad_key = first_refused(k) if isinstance(k, str) else None
            if bad_key is not None:
                yield path or "body", "keys " + reason(bad_key)
                continue
            yield from refused_in(item, f"{path}.{k}" if path else str(k))
