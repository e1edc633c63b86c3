"""The pledge engine's unit of work: one per database transaction.

Why a unit of work: a purchase, a click or a group of them touches the same few rows (the
brand, the campaign definitions, the campaign's counter row); reading them once per
transaction and writing ledger rows with one multi-row INSERT per table is what makes bulk
intake and the group-commit writers cheap.

Counter rows are what keep caps exact (`engine.py` says how): every change to one is written
with a compare-and-set on its `version`, the last statements before the commit. A batch reads
them either locked (`SELECT … FOR UPDATE`: the default, for callers that run one transaction of
their own) or, in a group-commit writer's first attempt (`OPTIMISTIC`), without a lock — the
row is then locked only by that final `UPDATE`, and a version that moved meanwhile raises
`Contended`, on which the writer applies the group again with the locks taken first. Either
way nothing is counted against a room that another transaction has already spent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, Row, bindparam, select, text, update
from sqlalchemy.dialects import sqlite

from wefirst.catalog import definitions
from wefirst.catalog.service import Loaded
from wefirst.domain.campaigns import Campaign
from wefirst.domain.rules import Carry
from wefirst.ledger.writer import BufferedWriter
from wefirst.pledges.model import PurchaseIn, order_hash
from wefirst.store.groupcommit import OPTIMISTIC, Contended
from wefirst.store.tables_core import campaign_counters, campaign_day_units, campaigns, pledges


@dataclass
class CampaignState:
    """The locked counter row of one campaign while a batch is applied."""

    loaded: Loaded
    carry: Carry
    net_units: int
    net_money: int
    day_units: dict[date, int] = field(default_factory=dict)  # totals read (and kept current)
    day_delta: dict[date, int] = field(default_factory=dict)  # counted here, not yet written
    version: int = 0  # the row's version when read: the compare-and-set's expectation
    read: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)  # the values when read
    recorded: bool = False  # a pledge or reversal was recorded against it

    def values(self) -> tuple[int, int, int, int, int]:
        c = self.carry
        return (self.net_units, self.net_money, c.units_rem, c.money_rem, c.pct_money_rem)

    @property
    def changed(self) -> bool:
        return self.recorded or bool(self.day_delta) or self.values() != self.read

    @property
    def campaign(self) -> Campaign:
        return self.loaded.campaign


_EXISTS = select(pledges.c.id).where(
    pledges.c.campaign_id == bindparam("c"), pledges.c.line_key == bindparam("k")
)
_DAY_UNITS = select(campaign_day_units.c.units).where(
    campaign_day_units.c.campaign_id == bindparam("c"), campaign_day_units.c.day == bindparam("d")
)
_READ = select(campaign_counters).where(campaign_counters.c.campaign_id == bindparam("c"))
_LOCK = _READ.with_for_update()
_c = campaign_counters.c
_SAVE = (
    update(campaign_counters)
    .where(_c.campaign_id == bindparam("c"), _c.version == bindparam("v"))
    .values(
        net_units=bindparam("nu"),
        net_money=bindparam("nm"),
        units_rem=bindparam("ur"),
        money_rem=bindparam("mr"),
        pct_money_rem=bindparam("pr"),
        version=_c.version + 1,
    )
    .returning(_c.version)
)


class Batch:
    """One unit of work inside one database transaction.

    Campaign definitions, brands and locked counter rows are read once per batch; ledger rows
    and log entries are buffered and written with one multi-row INSERT per table at `flush`.
    A single API request is a batch of one; bulk intake (reports, group-commit writers,
    benchmarks) passes a bigger one."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.optimistic = bool(conn.info.get(OPTIMISTIC, False))
        self.writer = BufferedWriter()
        self._brands: dict[str, Row[Any]] = {}
        self._brand_campaigns: dict[tuple[str, bool, str | None], list[str]] = {}
        self._loaded: dict[str, Loaded] = {}
        self.states: dict[str, CampaignState] = {}
        self._new_keys: set[tuple[str, str]] = set()
        self._absent: set[tuple[str, str]] = set()
        # reversals made in this batch and not yet visible in the table
        self.reversal_keys: set[str] = set()
        self.reversed: dict[str, tuple[int, int, int]] = {}

    def brand(self, brand_id: str) -> Row[Any]:
        if brand_id not in self._brands:
            self._brands[brand_id] = definitions.brand(self.conn, brand_id)
        return self._brands[brand_id]

    def campaign(self, campaign_id: str) -> Loaded:
        if campaign_id not in self._loaded:
            self._loaded[campaign_id] = definitions.current(self.conn, campaign_id)
        return self._loaded[campaign_id]

    def adopt(self, loaded: Loaded) -> None:
        """A definition the caller already read in this transaction (the widget's snapshot):
        `campaign` then needs no query for it."""
        self._loaded.setdefault(loaded.campaign.id, loaded)

    def brand_campaigns(self, brand_id: str, livemode: bool, only: str | None) -> list[Loaded]:
        key = (brand_id, livemode, only)
        if key not in self._brand_campaigns:
            query = select(campaigns.c.id, campaigns.c.version).where(
                campaigns.c.brand_id == brand_id,
                campaigns.c.livemode == livemode,
                campaigns.c.status != "draft",
            )
            if only is not None:
                query = query.where(campaigns.c.id == only)
            found = sorted((str(r[0]), int(r[1])) for r in self.conn.execute(query))
            for cid, version in found:  # definitions by the version just read: no more queries
                if cid not in self._loaded:
                    self._loaded[cid] = definitions.at_version(self.conn, cid, version)
            # one lock order everywhere: no deadlock between concurrent batches
            self._brand_campaigns[key] = [cid for cid, _ in found]
        return [self.campaign(cid) for cid in self._brand_campaigns[key]]

    def lock(self, loaded: Loaded) -> CampaignState:
        """The campaign's counters for this batch: locked now, or (optimistic) checked when
        they are written."""
        cid = loaded.campaign.id
        if cid not in self.states:
            row = self.conn.execute(_READ if self.optimistic else _LOCK, {"c": cid}).one()
            st = CampaignState(
                loaded,
                Carry(row.units_rem, row.money_rem, row.pct_money_rem),
                row.net_units,
                row.net_money,
                version=row.version,
            )
            st.read = st.values()
            self.states[cid] = st
        return self.states[cid]

    def add_day_units(self, st: CampaignState, day: date, units: int) -> None:
        """Count `units` (negative: a reversal) on `day`. Written as an increment at flush, so
        the day's total is only read when a day cap needs it (`day_units`)."""
        if day in st.day_units:
            st.day_units[day] += units
        st.day_delta[day] = st.day_delta.get(day, 0) + units

    def day_units(self, st: CampaignState, day: date) -> int:
        """The day's units as of the lock plus this batch's (call before counting on it)."""
        if day not in st.day_units:
            found = self.conn.execute(_DAY_UNITS, {"c": st.campaign.id, "d": day}).scalar()
            st.day_units[day] = int(found or 0) + st.day_delta.get(day, 0)
        return st.day_units[day]

    def exists(self, campaign_id: str, line_key: str) -> bool:
        if (campaign_id, line_key) in self._new_keys:
            return True
        if (campaign_id, line_key) in self._absent:
            return False
        return self.conn.execute(_EXISTS, {"c": campaign_id, "k": line_key}).first() is not None

    def prefetch_purchases(self, brand_id: str, purchases: list[PurchaseIn], livemode: bool = True) -> None:
        """One query instead of one per line: which of these orders' line keys already hold
        a pledge. Bulk intake calls this before applying the purchases one by one."""
        salt = self.brand(brand_id).order_salt
        keys = {
            line.line_key or f"{order_hash(salt, p.order_id)}:{line.line_id}"
            for p in purchases
            for line in p.lines
        }
        ids = [c.campaign.id for c in self.brand_campaigns(brand_id, livemode, None)]
        if not keys or not ids:
            return
        found = {
            (r[0], r[1])
            for r in self.conn.execute(
                select(pledges.c.campaign_id, pledges.c.line_key).where(
                    pledges.c.campaign_id.in_(ids), pledges.c.line_key.in_(keys)
                )
            )
        }
        self._absent |= {(cid, k) for cid in ids for k in keys} - found

    def claim(self, campaign_id: str, line_key: str) -> None:
        self._new_keys.add((campaign_id, line_key))

    #: A group-commit writer flushes this part after the others: the counters' compare-and-set
    #: is then the last thing before the commit, and their row lock is held that long only.
    flush_last = True

    def flush(self) -> None:
        self.writer.flush(self.conn)
        for cid in sorted(self.states):  # one lock order everywhere: no deadlock between batches
            st = self.states[cid]
            if st.changed:
                _save(self.conn, st)


# PostgreSQL: the compare-and-set and the day upsert in one statement, so the two row locks
# they take are held from this statement to the commit, not across a round trip more. The
# upsert reads the UPDATE's output: a version that moved inserts nothing.
_SAVE_WITH_DAYS = text(
    """
    WITH c AS (
      UPDATE campaign_counters
         SET net_units = :nu, net_money = :nm, units_rem = :ur, money_rem = :mr,
             pct_money_rem = :pr, version = version + 1
       WHERE campaign_id = :c AND version = :v
      RETURNING version
    ), d AS (
      INSERT INTO campaign_day_units (campaign_id, day, units)
      SELECT :c, x.day, x.units
        FROM c, unnest(CAST(:days AS date[]), CAST(:units AS bigint[])) AS x(day, units)
      ON CONFLICT (campaign_id, day) DO UPDATE SET units = campaign_day_units.units + excluded.units
    )
    SELECT version FROM c
    """
)


def _save(conn: Connection, st: CampaignState) -> None:
    nu, nm, ur, mr, pr = st.values()
    params: dict[str, Any] = {
        "c": st.campaign.id,
        "v": st.version,
        "nu": nu,
        "nm": nm,
        "ur": ur,
        "mr": mr,
        "pr": pr,
    }
    days = sorted(st.day_delta.items())
    postgres = conn.dialect.name == "postgresql"
    if postgres and days:
        params |= {"days": [d for d, _ in days], "units": [n for _, n in days]}
        saved = conn.execute(_SAVE_WITH_DAYS, params).first()
    else:
        saved = conn.execute(_SAVE, params).first()
    if saved is None:  # only possible for a row read without its lock
        raise Contended(f"campaign {st.campaign.id}'s counters moved since they were read")
    st.version, st.read, st.recorded = int(saved[0]), st.values(), False
    if days and not postgres:
        # one upsert adding this batch's units to every day it touched (SQLite: the writer
        # holds the database's lock since BEGIN IMMEDIATE, so a second statement costs no wait)
        stmt = sqlite.insert(campaign_day_units)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[campaign_day_units.c.campaign_id, campaign_day_units.c.day],
                set_={"units": campaign_day_units.c.units + stmt.excluded.units},
            ),
            [{"campaign_id": st.campaign.id, "day": day, "units": n} for day, n in days],
        )
    st.day_delta.clear()
