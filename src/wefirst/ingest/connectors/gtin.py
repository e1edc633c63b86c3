"""GTIN (EAN-8, UPC-A, EAN-13, GTIN-14) check digits, the GS1 mod-10 rule.

A mistyped barcode in a retailer report would silently count units for the wrong product;
the check digit catches every single-digit error and most transpositions."""

from __future__ import annotations

LENGTHS = frozenset({8, 12, 13, 14})


def check_digit(body: str) -> int:
    """The digit that completes `body` (all digits but the last): weights 3,1,3,… from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def gtin_problem(value: str) -> str | None:
    """Why `value` is not a GTIN, or None when it is one."""
    if not value.isascii() or not value.isdigit():
        return "a GTIN has only digits"
    if len(value) not in LENGTHS:
        return f"a GTIN has 8, 12, 13 or 14 digits, not {len(value)}"
    expected = check_digit(value[:-1])
    if int(value[-1]) != expected:
        return f"check digit is {value[-1]}, expected {expected}"
    return None


def normalise(value: str) -> str:
    """GTIN-14 form (left-padded with zeros), so a UPC-A and its EAN-13 spelling compare equal."""
    return value.zfill(14)
