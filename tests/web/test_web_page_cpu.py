"""What made the pages of campaign cards cost CPU on every view (issue 15, docs/benchmarks.md
"second pass"): each stays fixed."""

from __future__ import annotations

from datetime import date

from sqlalchemy.dialects import postgresql, sqlite

from wefirst.ledger.rollups import _aggregate_statement
from wefirst.web import queries
from wefirst.web.i18n import Translator
from wefirst.web.templating import environment


def test_the_roll_up_statement_is_not_re_rendered_on_each_execution() -> None:
    for name, dialect in (("sqlite", sqlite.dialect()), ("postgresql", postgresql.dialect())):  # type: ignore[no-untyped-call]
        for bounded in (False, True):
            sql = str(_aggregate_statement(name, bounded).compile(dialect=dialect))
            assert "POSTCOMPILE" not in sql, sql  # an expanding IN re-renders the SQL every time


def test_totals_are_summed_once_per_roll_up_snapshot() -> None:
    snapshot = {date(2026, 12, 1): {"a": 1, "b": 2}, date(2026, 12, 2): {"a": 3}}
    first = queries.totals(snapshot)
    assert first == {"a": 4, "b": 2}
    assert queries.totals(snapshot) is first  # the same snapshot: not summed again
    merged = {d: dict(s) for d, s in snapshot.items()} | {date(2026, 12, 3): {"b": 5}}
    assert queries.totals(merged) == {"a": 4, "b": 7}  # a new dict (young rows): summed afresh


def test_percentages_keep_each_locales_pattern() -> None:
    assert Translator("en").percent(2, 3) == "66.7%"
    assert Translator("fr").percent(2, 3) == "66,7\u00a0%"
    assert Translator("fr").percent(1, 0) == "—"


def test_templates_are_not_stat_ed_on_every_include() -> None:
    assert environment().auto_reload is False
