"""Money as integer minor units with an ISO 4217 currency. Never floats."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

# Minor-unit exponents that differ from 2 (ISO 4217); everything else listed uses 2.
_EXPONENTS: dict[str, int] = {
    "JPY": 0,
    "KRW": 0,
    "CLP": 0,
    "ISK": 0,
    "XOF": 0,
    "XAF": 0,
    "KWD": 3,
    "BHD": 3,
    "TND": 3,
    "JOD": 3,
    "OMR": 3,
}
CURRENCIES = frozenset(
    {
        "EUR",
        "USD",
        "GBP",
        "CHF",
        "CAD",
        "AUD",
        "NZD",
        "SEK",
        "NOK",
        "DKK",
        "PLN",
        "CZK",
        "HUF",
        "RON",
        "BGN",
        "MXN",
        "BRL",
        "ZAR",
        "INR",
        "SGD",
        "HKD",
        "CNY",
        "MAD",
        "TRY",
        "ILS",
        "AED",
    }
    | set(_EXPONENTS)
)


class MoneyError(ValueError):
    """A money value that cannot be represented exactly."""


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency, 2)


def check_currency(currency: str) -> str:
    if currency not in CURRENCIES:
        raise MoneyError(f"unsupported currency {currency!r}; use an upper-case ISO 4217 code")
    return currency


@dataclass(frozen=True, order=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise MoneyError("amount must be an integer number of minor units")
        check_currency(self.currency)

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise MoneyError(f"cannot mix {self.currency} and {other.currency}")

    @classmethod
    def from_decimal_string(cls, value: str | int | float | Decimal, currency: str) -> Money:
        """Shop platforms send "24.99" (or a JSON number); convert exactly via Decimal(str(x))."""
        try:
            dec = Decimal(str(value))
        except InvalidOperation as exc:
            raise MoneyError(f"not a decimal amount: {value!r}") from exc
        scaled = dec.scaleb(exponent(check_currency(currency)))
        if scaled != scaled.to_integral_value():
            raise MoneyError(f"{value!r} has more decimals than {currency} allows")
        return cls(int(scaled.to_integral_value(rounding=ROUND_HALF_EVEN)), currency)

    def as_json(self) -> dict[str, int | str]:
        return {"amount": self.amount, "currency": self.currency}

    def format(self) -> str:
        exp = exponent(self.currency)
        sign = "-" if self.amount < 0 else ""
        whole, frac = divmod(abs(self.amount), 10**exp)
        return f"{sign}{whole}.{frac:0{exp}d} {self.currency}" if exp else f"{sign}{whole} {self.currency}"
