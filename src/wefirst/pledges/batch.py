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

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, exists, func, select, text, update
from sqlalchemy.dialects import sqlite

from wefirst.catalog import definitions
from wefirst.catalog.service import Loaded
from wefirst.domain.campaigns import Campaign
from wefirst.domain.clock import utcnow
from wefirst.domain.rules import Carry
from wefirst.ledger.writer import BufferedWriter
from wefirst.pledges.model import PurchaseIn, order_hash
from wefirst.store.bulk import take_ctes, write_deferred
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
    days_from: date | None = None  # `day_units` holds every stored day from this one on

    def values(self) -> tuple[int, int, int, int, int]:
        c = self.carry
        return (self.net_units, self.net_money, c.units_rem, c.money_rem, c.pct_money_rem)

    @property
    def changed(self) -> bool:
        return self.recorded or bool(self.day_delta) or self.values() != self.read

    @property
    def campaign(self) -> Campaign:
        return self.loaded.campaign


@dataclass(frozen=True)
class Counters:
    """A campaign's counter row as a caller read it in this transaction (`Batch.adopt_counters`),
    with the stored units of the days it read."""

    version: int
    net_units: int
    net_money: int
    carry: Carry
    day_units: dict[date, int]


_EXISTS = select(pledges.c.id).where(
    pledges.c.campaign_id == bindparam("c"), pledges.c.line_key == bindparam("k")
)
_DAY_UNITS = select(campaign_day_units.c.units).where(
    campaign_day_units.c.campaign_id == bindparam("c"), campaign_day_units.c.day == bindparam("d")
)
_c = campaign_counters.c
_d = campaign_day_units.c
# The counter row with its recent days' units (one row per day; none: one row of NULLs) and,
# given a line key, whether a pledge holds it: what a purchase reads, in one statement.
_WITH_DAYS = campaign_counters.outerjoin(
    campaign_day_units, and_(_d.campaign_id == _c.campaign_id, _d.day >= bindparam("since"))
)
_HELD = exists().where(pledges.c.campaign_id == _c.campaign_id, pledges.c.line_key == bindparam("k"))
_READ = (
    select(campaign_counters, _d.day, _d.units)
    .select_from(_WITH_DAYS)
    .where(_c.campaign_id == bindparam("c"))
)
_READ_KEY = _READ.add_columns(_HELD.label("held"))
# Taking the lock is a statement of its own: PostgreSQL re-reads a row it waited for, but not
# the rest of that statement (the days, the pledges), which the next statement then reads as
# of after the lock. (SQLite's writer holds the whole database since BEGIN IMMEDIATE.)
_LOCK = select(_c.version).where(_c.campaign_id == bindparam("c")).with_for_update()
#: Days read with the counters: from the day before today (UTC) on — every time zone's today.
_RECENT = timedelta(days=1)
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
        self._held: set[tuple[str, str]] = set()  # line keys a stored pledge holds
        self.prefetched_group = False  # a grouped writer's line keys were looked up together
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

    def adopt_counters(self, loaded: Loaded, counters: Counters) -> None:
        """Counters the caller read in this transaction (the widget's snapshot), taken as what
        `lock` would read — when that read needs no lock first: in a group's optimistic attempt
        (the compare-and-set checks the version read, as for `lock`'s own read) or on SQLite
        (the writer holds the database since BEGIN IMMEDIATE). Ignored otherwise, and for a
        campaign this batch already holds (its state is ahead of the table)."""
        cid = loaded.campaign.id
        if cid in self.states or not (self.optimistic or self.conn.dialect.name == "sqlite"):
            return
        c = counters
        st = CampaignState(loaded, c.carry, c.net_units, c.net_money, version=c.version)
        st.day_units = dict(counters.day_units)  # days not read are asked for when a day cap needs them
        st.read = st.values()
        self.states[cid] = st

    @property
    def reads_freely(self) -> bool:
        """Counters may be read without taking their lock first: in a group's optimistic
        attempt (the compare-and-set checks them) or on SQLite (BEGIN IMMEDIATE holds all)."""
        return self.optimistic or self.conn.dialect.name == "sqlite"

    def brand_campaigns(self, brand_id: str, livemode: bool, only: str | None) -> list[Loaded]:
        key = (brand_id, livemode, only)
        every = self._brand_campaigns.get((brand_id, livemode, None))
        if key not in self._brand_campaigns and only is not None and every is not None:
            self._brand_campaigns[key] = [cid for cid in every if cid == only]
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

    def lock(self, loaded: Loaded, line_key: str | None = None) -> CampaignState:
        """The campaign's counters for this batch: locked now, or (optimistic) checked when
        they are written. The same statement reads the units of the recent days (so a day cap
        needs no query of its own) and, given `line_key`, whether a pledge already holds it
        (so `exists` needs none either). Read without a lock, the statement's one snapshot is
        what the compare-and-set checks: a version that moved since means any of it may have."""
        cid = loaded.campaign.id
        st = self.states.get(cid)
        if st is None:
            since = utcnow().date() - _RECENT
            ask = line_key is not None and not (
                (cid, line_key) in self._new_keys
                or (cid, line_key) in self._absent
                or (cid, line_key) in self._held
            )
            params = {"c": cid, "since": since, **({"k": line_key} if ask else {})}
            if not self.optimistic and self.conn.dialect.name != "sqlite":
                self.conn.execute(_LOCK, {"c": cid})
            rows = self.conn.execute(_READ_KEY if ask else _READ, params).all()
            row = rows[0]
            st = self.states[cid] = _state_read(loaded, rows, since)
            if ask and line_key is not None:
                (self._held if row.held else self._absent).add((cid, line_key))
        return st

    def add_day_units(self, st: CampaignState, day: date, units: int) -> None:
        """Count `units` (negative: a reversal) on `day`. Written as an increment at flush, so
        the day's total is only read when a day cap needs it (`day_units`)."""
        if day in st.day_units:
            st.day_units[day] += units
        st.day_delta[day] = st.day_delta.get(day, 0) + units

    def day_units(self, st: CampaignState, day: date) -> int:
        """The day's units as of the lock plus this batch's (call before counting on it)."""
        if day not in st.day_units and st.days_from is not None and day >= st.days_from:
            st.day_units[day] = st.day_delta.get(day, 0)  # no row when the counters were read
        if day not in st.day_units:
            found = self.conn.execute(_DAY_UNITS, {"c": st.campaign.id, "d": day}).scalar()
            st.day_units[day] = int(found or 0) + st.day_delta.get(day, 0)
        return st.day_units[day]

    def exists(self, campaign_id: str, line_key: str) -> bool:
        if (campaign_id, line_key) in self._new_keys:
            return True
        if (campaign_id, line_key) in self._absent:
            return False
        if (campaign_id, line_key) in self._held:
            return True
        return self.conn.execute(_EXISTS, {"c": campaign_id, "k": line_key}).first() is not None

    def prefetch_purchases(self, brand_id: str, purchases: list[PurchaseIn], livemode: bool = True) -> None:
        """One query instead of one per line: which of these orders' line keys already hold
        a pledge. Bulk intake calls this before applying the purchases one by one."""
        salt = self.brand(brand_id).order_salt
        keys: set[str] = set()
        for p in purchases:
            ohash = order_hash(salt, p.order_id)
            keys |= {line.line_key or f"{ohash}:{line.line_id}" for line in p.lines}
            keys.add(f"{ohash}:order")  # a per-order rule's key
        if keys and self.reads_freely and (brand_id, livemode, None) not in self._brand_campaigns:
            self._read_brand(brand_id, livemode, sorted(keys))
            return
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
        self._held |= found

    def known(self, campaign_id: str, line_key: str, *, held: bool) -> None:
        """Whether a stored pledge holds `line_key`, as the caller read it in this transaction
        (the widget's snapshot): neither `lock` nor `exists` asks again. A pledge claimed in
        this batch still counts as held (`exists` looks at those first)."""
        (self._held if held else self._absent).add((campaign_id, line_key))

    def _read_brand(self, brand_id: str, livemode: bool, keys: list[str]) -> None:
        """`brand_campaigns`, each campaign's `lock` and `prefetch_purchases`' key lookup in
        one statement (issue 18; they were three): the brand's campaigns with their counter rows
        and recent days, and which of `keys` a pledge holds on each (a JSON array)."""
        since = utcnow().date() - _RECENT
        aggregate = func.json_agg if self.conn.dialect.name == "postgresql" else func.json_group_array
        held = (
            select(aggregate(pledges.c.line_key))
            .where(pledges.c.campaign_id == campaigns.c.id, pledges.c.line_key.in_(keys))
            .scalar_subquery()
        )
        query = (
            select(campaigns.c.id, campaigns.c.version.label("definition"), campaign_counters)
            .add_columns(_d.day, _d.units, held.label("held"))
            .select_from(
                campaigns.outerjoin(campaign_counters, _c.campaign_id == campaigns.c.id).outerjoin(
                    campaign_day_units, and_(_d.campaign_id == campaigns.c.id, _d.day >= since)
                )
            )
            .where(
                campaigns.c.brand_id == brand_id,
                campaigns.c.livemode == livemode,
                campaigns.c.status != "draft",
            )
        )
        rows: dict[str, list[Row[Any]]] = {}
        for r in self.conn.execute(query):
            rows.setdefault(str(r.id), []).append(r)
        for cid in sorted(rows):  # one lock order everywhere, as `brand_campaigns`
            first = rows[cid][0]
            loaded = self._loaded.get(cid)
            if loaded is None:
                loaded = self._loaded[cid] = definitions.at_version(self.conn, cid, int(first.definition))
            if first.campaign_id is not None and cid not in self.states:  # as `lock` reads it
                self.states[cid] = _state_read(loaded, rows[cid], since)
            found = first.held  # PostgreSQL: a list, or NULL for none; SQLite: JSON text
            on_it = set(json.loads(found) if isinstance(found, str) else found or ())
            self._held |= {(cid, k) for k in on_it}
            self._absent |= {(cid, k) for k in keys if k not in on_it}
        self._brand_campaigns[(brand_id, livemode, None)] = sorted(rows)

    def claim(self, campaign_id: str, line_key: str) -> None:
        self._new_keys.add((campaign_id, line_key))

    #: A group-commit writer flushes this part after the others: the counters' compare-and-set
    #: is then the last thing before the commit, and their row lock is held that long only.
    flush_last = True

    def flush(self) -> None:
        self.writer.flush(self.conn)
        # one lock order everywhere: no deadlock between batches
        changed = [self.states[cid] for cid in sorted(self.states) if self.states[cid].changed]
        # Inside a group-commit writer the rows above were only collected (`bulk.deferred`): on
        # PostgreSQL the last compare-and-set takes them, so the group's inserts and its counter
        # write are one statement; otherwise (SQLite, a COPY's worth of rows) they are written
        # now, before the counters, whose row locks are then held from there to the commit only.
        rows, row_params = take_ctes(self.conn) if changed else (None, {})
        if rows is None:
            write_deferred(self.conn)
        for n, st in enumerate(changed):
            last = n == len(changed) - 1
            _save(self.conn, st, rows=rows if last else None, row_params=row_params)


# PostgreSQL: the compare-and-set and the day upsert in one statement, so the two row locks
# they take are held from this statement to the commit, not across a round trip more. The
# upsert reads the UPDATE's output: a version that moved inserts nothing.
_CAS = """c AS (
      UPDATE campaign_counters
         SET net_units = :nu, net_money = :nm, units_rem = :ur, money_rem = :mr,
             pct_money_rem = :pr, version = version + 1
       WHERE campaign_id = :c AND version = :v
      RETURNING version
    )"""
_DAYS = """d AS (
      INSERT INTO campaign_day_units (campaign_id, day, units)
      SELECT :c, x.day, x.units
        FROM c, unnest(CAST(:days AS date[]), CAST(:units AS bigint[])) AS x(day, units)
      ON CONFLICT (campaign_id, day) DO UPDATE SET units = campaign_day_units.units + excluded.units
    )"""
_SAVE_WITH_DAYS = text(f"WITH {_CAS}, {_DAYS} SELECT version FROM c")


def _save(
    conn: Connection,
    st: CampaignState,
    *,
    rows: list[str] | None = None,
    row_params: dict[str, Any] | None = None,
) -> None:
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
    if rows:  # the group's collected inserts, the compare-and-set and the day upsert at once
        if days:
            params |= {"days": [d for d, _ in days], "units": [n for _, n in days]}
        ctes = [*rows, _CAS, *([_DAYS] if days else [])]
        statement = text("WITH " + ", ".join(ctes) + " SELECT version FROM c")
        saved = conn.execute(statement, params | (row_params or {})).first()
    elif postgres and days:
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


def _state_read(loaded: Loaded, rows: Sequence[Row[Any]], since: date) -> CampaignState:
    """A campaign's state from the rows of one counters-and-recent-days read (one row per
    recent day, the counter's columns repeated): the state the compare-and-set checks against."""
    first = rows[0]
    st = CampaignState(
        loaded,
        Carry(first.units_rem, first.money_rem, first.pct_money_rem),
        first.net_units,
        first.net_money,
        version=first.version,
        days_from=since,
    )
    st.day_units = {r.day: int(r.units) for r in rows if r.day is not None}
    st.read = st.values()
    return st
