"""Every transaction kind balances, per commodity, for any amounts."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from wefirst.ledger import accounts

amounts = st.integers(0, 10**12)


@given(amounts, amounts)
def test_every_transaction_kind_balances(money: int, units: int) -> None:
    for postings in (
        accounts.pledge("EUR", money, units),
        accounts.pledge_reversal("EUR", money, units),
        accounts.settlement_reported("EUR", money),
        accounts.settlement_confirmed("EUR", money),
        accounts.settlement_disputed("EUR", money),
        accounts.delivery_reported(units),
    ):
        assert accounts.is_balanced(postings)
        assert all(p.amount != 0 for p in postings)


def test_unbalanced_is_detected() -> None:
    bad = [accounts.Posting("a", "EUR", 5), accounts.Posting("b", "EUR", -4)]
    assert not accounts.is_balanced(bad)
