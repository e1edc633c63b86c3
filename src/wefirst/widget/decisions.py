"""A group's click decisions, written together at the end of the group.

Why (issue 18): each click wrote its `widget_decisions` row with a statement of its own, right
away, because the next click's rate limits count those rows. In a group-commit writer the rows
of a group are instead kept here and written with the group's other rows (one multi-row INSERT;
on PostgreSQL inside the group's one writing statement), and a later click of the same group
adds the group's rows to what its snapshot counted, with the snapshot's own conditions — so the
limits see exactly what they saw when each row was inserted at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from wefirst.store.bulk import insert_rows
from wefirst.store.tables_widget import widget_decisions
from wefirst.widget.reasons import Reason


@dataclass(frozen=True)
class Counted:
    """What the snapshot counts in `widget_decisions` for one click (see `_SNAPSHOT`)."""

    visitor_recent: int = 0  # the visitor's attempts since `since`
    network_recent: int = 0  # the network's attempts since `since`
    network_counted: int = 0  # the network's counted clicks on the campaign since `day_start`
    network_counted_all: int = 0  # the network's counted clicks on every campaign since `day_start`


class Decisions:
    """The decision rows of one group (a `Tx.part`), in the order they were decided."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.rows: list[dict[str, Any]] = []

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)

    def counted(
        self, *, campaign_id: str, vkey: str | None, net: str | None, since: int, day_start: int
    ) -> Counted:
        """The rows of this group that the snapshot's counts would include, were they stored
        (a NULL key matches nothing, as in SQL)."""
        counted = Reason.COUNTED.value
        visitor = network = on_campaign = everywhere = 0
        for r in self.rows:
            if vkey is not None and r["visitor_key"] == vkey and r["at_ms"] > since:
                visitor += 1
            if net is None or r["net_key"] != net:
                continue
            if r["at_ms"] > since:
                network += 1
            if r["at_ms"] >= day_start and r["reason"] == counted:
                everywhere += 1
                on_campaign += r["campaign_id"] == campaign_id
        return Counted(visitor, network, on_campaign, everywhere)

    def flush(self) -> None:
        insert_rows(self.conn, widget_decisions, self.rows)
        self.rows = []
