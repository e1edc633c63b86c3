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
from wefirst.store.tables_widget import widget_click_slots, widget_decisions, widget_nonces
from wefirst.widget.reasons import Reason


@dataclass(frozen=True)
class Counted:
    """What the snapshot counts in `widget_decisions` for one click (see `_SNAPSHOT`)."""

    visitor_recent: int = 0  # the visitor's attempts since `since`
    network_recent: int = 0  # the network's attempts since `since`
    network_counted: int = 0  # the network's counted clicks on the campaign since `day_start`
    network_counted_all: int = 0  # the network's counted clicks on every campaign since `day_start`
    visitor_slots: int = 0  # the visitor's click slots on the campaign that day (SQLite: kept here)


class Decisions:
    """The decision rows of one group (a `Tx.part`), in the order they were decided; on SQLite
    also its used nonces and click slots. There the group's transaction holds the database's
    write lock from its first statement (BEGIN IMMEDIATE), so what a snapshot reads of those
    tables plus what this group added is exactly what an insert-or-fail would have found: no
    statement of their own per click either. (On PostgreSQL they stay insert-or-fail statements:
    two processes' transactions may decide clicks with the same nonce or slot at once.)"""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.rows: list[dict[str, Any]] = []
        self.nonces: dict[str, dict[str, Any]] = {}
        self.slots: list[dict[str, Any]] = []

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)

    def counted(
        self, *, campaign_id: str, day: str, vkey: str | None, net: str | None, since: int, day_start: int
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
        mine = (campaign_id, day, vkey)
        slots = sum(1 for r in self.slots if (r["campaign_id"], r["day"], r["visitor_key"]) == mine)
        return Counted(visitor, network, on_campaign, everywhere, slots)

    def flush(self) -> None:
        insert_rows(self.conn, widget_nonces, list(self.nonces.values()))
        insert_rows(self.conn, widget_click_slots, self.slots)
        insert_rows(self.conn, widget_decisions, self.rows)
        self.rows, self.nonces, self.slots = [], {}, []
