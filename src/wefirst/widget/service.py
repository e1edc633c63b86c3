"""The widget's two operations with storage: the state a widget shows (with a fresh challenge)
and the decision on a click (with the pledge when it counts).

Every click attempt that names a known campaign leaves exactly one `widget_decisions` row with
its reason, written in the same transaction as the pledge and the log entry, so the fraud
report, the publisher's figures and the ledger agree by construction.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import BigInteger, Connection, Date, bindparam, delete, func, select, text
from sqlalchemy.dialects import postgresql, sqlite

from wefirst.catalog import definitions
from wefirst.catalog.service import Loaded
from wefirst.domain.campaigns import outcome_figure
from wefirst.domain.rules import Carry
from wefirst.errors import FieldError, Forbidden, Invalid, NotFound
from wefirst.pledges.batch import Batch, Counters
from wefirst.pledges.engine import apply_click
from wefirst.pledges.model import ClickIn, EventOutcome
from wefirst.pseudonyms import DailySalts, utc_day
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.groupcommit import GroupCommit, Tx
from wefirst.store.tables_widget import (
    widget_campaign_settings,
    widget_click_slots,
    widget_decisions,
    widget_nonces,
)
from wefirst.widget.challenge import (
    ChallengeError,
    ChallengeFailure,
    ChallengeSigner,
    Claims,
    derive_key,
    valid_visitor,
)
from wefirst.widget.decisions import Decisions
from wefirst.widget.fraud import CampaignState, ClickFacts, Limits, Verdict, assess
from wefirst.widget.hashing import net_key, visitor_key
from wefirst.widget.origins import origin_allowed
from wefirst.widget.pow import effective_bits
from wefirst.widget.reasons import Reason
from wefirst.widget.status import campaign_state, merged_texts

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
_ENGINE_OUTCOME: dict[str, tuple[Reason, str]] = {
    "pledged": (Reason.COUNTED, "ok"),
    "carried": (Reason.COUNTED, "carried"),
    "duplicate": (Reason.DUPLICATE, "pledge_exists"),
    "inactive": (Reason.CAMPAIGN_INACTIVE, "inactive"),
    "no_rule": (Reason.CAMPAIGN_INACTIVE, "no_click_rule"),
    "over_cap": (Reason.CAP_REACHED, "over_cap"),
}


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class WidgetConfig:
    limits: Limits
    challenge_ttl_ms: int
    min_click_delay_ms: int
    base_url: str
    pow_bits_default: int = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> WidgetConfig:
        return cls(
            limits=Limits(
                clicks_per_visitor_per_day=settings.widget_clicks_per_visitor_per_day,
                visitor_attempts_per_minute=settings.widget_visitor_attempts_per_minute,
                network_attempts_per_minute=settings.widget_network_attempts_per_minute,
                network_counted_per_day=settings.widget_network_counted_per_day,
                network_counted_per_day_all=settings.widget_network_counted_per_day_all_campaigns,
            ),
            pow_bits_default=settings.widget_pow_bits_default,
            challenge_ttl_ms=settings.widget_challenge_ttl_seconds * 1000,
            min_click_delay_ms=settings.widget_min_click_delay_ms,
            base_url=settings.base_url.rstrip("/"),
        )


@dataclass(frozen=True)
class ClickRequest:
    campaign_id: str
    publisher_id: str
    visitor: str
    challenge: str | None
    pow_nonce: str | None
    origin: str | None
    referer: str | None
    user_agent: str | None
    client_ip: str | None


@dataclass(frozen=True)
class ClickResult:
    reason: Reason
    detail: str
    counter_units: int
    units: int = 0
    pledge_id: str | None = None
    receipt: dict[str, str] | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "decision": self.reason.value,
            "detail": self.detail,
            "counter": {"units": self.counter_units},
        }
        if self.reason is Reason.COUNTED:
            out["units"] = self.units
            out["pledge_id"] = self.pledge_id
            out["receipt"] = self.receipt
        return out


# One statement, written once: a click is decided with a handful of statements, and building
# and caching a large Core expression per click cost more than running it.
_SNAPSHOT = text(
    """
    SELECT c.version, cc.net_units, cc.net_money,
      (SELECT du.units FROM campaign_day_units du WHERE du.campaign_id = :c AND du.day = :day_date),
      (SELECT p.domains FROM publishers p
         JOIN publisher_campaigns pc ON pc.publisher_id = p.id
        WHERE p.id = :p AND pc.campaign_id = :c),
      (SELECT count(*) FROM widget_decisions d WHERE d.visitor_key = :v AND d.at_ms > :since),
      (SELECT count(*) FROM widget_decisions d WHERE d.net_key = :n AND d.at_ms > :since),
      (SELECT count(*) FROM widget_decisions d
        WHERE d.net_key = :n AND d.at_ms >= :day_start AND d.campaign_id = :c
          AND d.reason = 'counted'),
      (SELECT count(*) FROM widget_click_slots s
        WHERE s.campaign_id = :c AND s.day = :day AND s.visitor_key = :v),
      (SELECT count(*) FROM widget_decisions d
        WHERE d.net_key = :n AND d.at_ms >= :day_start AND d.reason = 'counted'),
      (SELECT CASE WHEN p.verified_at IS NOT NULL AND (pc.approved_at IS NOT NULL OR EXISTS
                (SELECT 1 FROM widget_campaign_settings ws
                  WHERE ws.campaign_id = :c AND ws.open_to_publishers)) THEN 1 ELSE 0 END
         FROM publishers p JOIN publisher_campaigns pc ON pc.publisher_id = p.id
        WHERE p.id = :p AND pc.campaign_id = :c),
      (SELECT count(*) FROM pledges pl
        WHERE pl.campaign_id = :c AND pl.line_key = 'click:' || :v || ':' || :day || ':' ||
              CAST((SELECT count(*) FROM widget_click_slots s
                     WHERE s.campaign_id = :c AND s.day = :day AND s.visitor_key = :v) AS VARCHAR)),
      cc.version, cc.units_rem, cc.money_rem, cc.pct_money_rem,
      (SELECT count(*) FROM widget_nonces n WHERE n.nonce = :nonce)
    FROM campaigns c JOIN campaign_counters cc ON cc.campaign_id = c.id
    WHERE c.id = :c
    """
).bindparams(
    bindparam("day_date", type_=Date),
    bindparam("since", type_=BigInteger),
    bindparam("day_start", type_=BigInteger),
)
_IGNORE: dict[tuple[str, str], Any] = {}


def _insert_ignore(conn: Connection, table: Any, values: dict[str, Any]) -> bool:
    """INSERT that reports a conflict instead of raising: an IntegrityError would abort the
    whole PostgreSQL transaction, and the decision must still be written in it. RETURNING says
    whether the row went in (psycopg reports no rowcount for ON CONFLICT DO NOTHING)."""
    key = (conn.dialect.name, table.name)
    stmt = _IGNORE.get(key)
    if stmt is None:
        dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        first_key = next(iter(table.primary_key.columns))
        stmt = _IGNORE[key] = dialect_insert(table).on_conflict_do_nothing().returning(first_key)
    return conn.execute(stmt, values).first() is not None


class WidgetService:
    def __init__(
        self,
        db: Database,
        config: WidgetConfig,
        secret: str,
        clock: Callable[[], int] = wall_clock_ms,
        writer: GroupCommit | None = None,
    ) -> None:
        """`writer`: the app's event writer (`Services.event_writer`), so clicks and the API's
        events share groups; without one (the demo seeding, benches) the service has its own,
        which its maker stops."""
        self.db = db
        self.config = config
        self.clock = clock
        self.signer = ChallengeSigner(derive_key(secret), config.challenge_ttl_ms, config.min_click_delay_ms)
        self.salts = DailySalts(db)
        self._last_sweep_ms = 0
        self.writer = writer or GroupCommit(db, name="widget-writer")

    @classmethod
    def from_settings(
        cls,
        db: Database,
        settings: Settings,
        clock: Callable[[], int] = wall_clock_ms,
        writer: GroupCommit | None = None,
    ) -> WidgetService:
        return cls(db, WidgetConfig.from_settings(settings), settings.secret_key, clock, writer)

    def salt(self, day: str) -> bytes:
        return self.salts.salt(day)

    # -- lookups -------------------------------------------------------------------------------
    def _snapshot(
        self,
        conn: Connection,
        *,
        campaign_id: str,
        publisher_id: str,
        day: str,
        now_ms: int,
        net: str | None,
        vkey: str | None,
        nonce: str | None = None,
    ) -> Snapshot:
        """Everything a decision reads, in one round trip: the campaign's version and counters,
        the publisher's domains for it, and the rate-limit and dedupe counts."""
        row = conn.execute(
            _SNAPSHOT,
            {
                "c": campaign_id,
                "p": publisher_id,
                "v": vkey,
                "n": net,
                "day": day,
                "day_date": _as_date(day),
                "since": now_ms - MINUTE_MS,
                "day_start": _day_start_ms(day),
                "nonce": nonce,
            },
        ).first()
        if row is None:
            raise NotFound(f"campaign {campaign_id} does not exist")
        loaded = self._loaded(conn, campaign_id, int(row[0]))
        now = datetime.fromtimestamp(now_ms / 1000, UTC)
        state = campaign_state(
            loaded.campaign,
            now=now,
            net_units=int(row[1]),
            net_money=int(row[2]),
            day_units=int(row[3] or 0),
        )
        raw_domains = row[4]
        if isinstance(raw_domains, str):  # a JSON subquery comes back as text on SQLite
            raw_domains = json.loads(raw_domains)
        known = vkey is not None
        return Snapshot(
            loaded=loaded,
            state=state,
            units=int(row[1]),
            domains=None if raw_domains is None else [str(x) for x in raw_domains],
            visitor_recent=int(row[5]) if known else 0,
            network_recent=int(row[6]) if net is not None else 0,
            network_counted=int(row[7]) if net is not None else 0,
            visitor_counted=int(row[8]) if known else 0,
            network_counted_all=int(row[9]) if net is not None else 0,
            approved=bool(row[10]),
            slot_held=bool(row[11]),
            counters=Counters(
                int(row[12]),
                int(row[1]),
                int(row[2]),
                Carry(int(row[13]), int(row[14]), int(row[15])),
                {_as_date(day): int(row[3] or 0)},
            ),
            nonce_used=bool(row[16]),
        )

    def _loaded(self, conn: Connection, campaign_id: str, version: int) -> Loaded:
        """Campaign definitions by version (catalog/definitions.py: exact across processes)."""
        return definitions.at_version(conn, campaign_id, version)

    def _settings(self, conn: Connection, campaign_id: str) -> tuple[int, dict[str, Any] | None]:
        row = conn.execute(
            select(widget_campaign_settings.c.pow_bits, widget_campaign_settings.c.texts).where(
                widget_campaign_settings.c.campaign_id == campaign_id
            )
        ).first()
        base = self.config.pow_bits_default if row is None else int(row.pow_bits)
        return effective_bits(base, *self._pressure(conn, campaign_id)), None if row is None else row.texts

    def _pressure(self, conn: Connection, campaign_id: str) -> tuple[int, int]:
        """Refused and counted widget clicks on the campaign over the last hour."""
        since = self.clock() - HOUR_MS
        d = widget_decisions.c
        by: dict[str, int] = {
            str(row[0]): int(row[1])
            for row in conn.execute(
                select(d.reason, func.count())
                .where(d.campaign_id == campaign_id, d.at_ms > since)
                .group_by(d.reason)
            )
        }
        counted = by.get(Reason.COUNTED.value, 0)
        return sum(by.values()) - counted, counted

    # -- state ---------------------------------------------------------------------------------
    def state(
        self,
        *,
        campaign_id: str,
        publisher_id: str,
        visitor: str,
        origin: str | None,
        referer: str | None,
    ) -> dict[str, Any]:
        if not valid_visitor(visitor):
            raise Invalid(
                "visitor: must be 64 lower-case hex characters (a SHA-256 commitment)",
                [FieldError("visitor", "not a hex SHA-256")],
            )
        now_ms = self.clock()
        day = utc_day(now_ms)
        salt = self.salt(day)
        with self.db.read() as conn:
            snap = self._snapshot(
                conn,
                campaign_id=campaign_id,
                publisher_id=publisher_id,
                day=day,
                now_ms=now_ms,
                net=None,
                vkey=visitor_key(salt, campaign_id, visitor),
            )
            if snap.domains is None or not origin_allowed(origin, referer, snap.domains):
                raise Forbidden(
                    "this page's site is not registered for this publisher and campaign",
                    decision=Reason.BAD_ORIGIN.value,
                )
            if not snap.approved:
                raise Forbidden(
                    "this publisher is not verified or not approved by the campaign's brand yet",
                    decision=Reason.BAD_ORIGIN.value,
                    detail_code="publisher_not_approved",
                )
            pow_bits, custom = self._settings(conn, campaign_id)
        loaded, state, units, counted = snap.loaded, snap.state, snap.units, snap.visitor_counted
        c = loaded.campaign
        texts = merged_texts(c, custom)
        return {
            "campaign": {"id": c.id, "name": c.name, "state": state.value, "line": texts["line"]},
            "counter": {
                "units": units,
                "unit": c.unit.id,
                "label": texts["counter"],
                "outcome": outcome_figure(c.unit, units),  # None without a conversion
            },
            "counted_today": counted >= self.config.limits.clicks_per_visitor_per_day,
            "challenge": {
                "token": self.signer.issue(
                    campaign_id=campaign_id,
                    publisher_id=publisher_id,
                    visitor=visitor,
                    now_ms=now_ms,
                    pow_bits=pow_bits,
                ),
                "ttl_ms": self.signer.ttl_ms,
                "min_delay_ms": self.signer.min_delay_ms,
                "pow_bits": pow_bits,
            },
        }

    # -- click ---------------------------------------------------------------------------------
    def click(self, req: ClickRequest) -> ClickResult:
        """Decided by the group writer; returns once the decision (and pledge) is committed."""
        return self._enqueue(req, self.salt(utc_day(self.clock()))).result(timeout=60)

    async def click_async(self, req: ClickRequest) -> ClickResult:
        """The same, for the event loop: no worker thread is held while the click waits."""
        day = utc_day(self.clock())
        salt = self.salts.cached(day)
        if salt is None:  # once a day: the salt may need its own write transaction
            salt = await asyncio.to_thread(self.salt, day)
        return await asyncio.wrap_future(self._enqueue(req, salt))

    def _enqueue(self, req: ClickRequest, salt: bytes) -> Future[ClickResult]:
        now_ms = self.clock()
        day = utc_day(now_ms)
        if self.salts.cached(day) is None:  # midnight passed between the salt and now
            salt = self.salt(day)
        net = net_key(salt, req.client_ip)
        vkey = None
        if valid_visitor(req.visitor):
            vkey = visitor_key(salt, req.campaign_id, req.visitor)
        return self.writer.enqueue(lambda tx: self._decide(tx, req, now_ms, day, net, vkey))

    def _decide(
        self, tx: Tx, req: ClickRequest, now_ms: int, day: str, net: str, vkey: str | None
    ) -> ClickResult:
        conn = tx.conn
        claims, failure = self._verify(req, now_ms)  # no I/O: its nonce goes in the snapshot
        held = conn.dialect.name == "sqlite"  # the writer holds the database: reads decide
        snap = self._snapshot(
            conn,
            campaign_id=req.campaign_id,
            publisher_id=req.publisher_id,
            day=day,
            now_ms=now_ms,
            net=net,
            vkey=vkey,
            nonce=claims.nonce if claims is not None and held else None,
        )
        origin_ok = snap.domains is not None and origin_allowed(req.origin, req.referer, snap.domains)
        tx.writing()
        decisions = tx.part(Decisions)  # this group's rows, not stored yet: counted here
        mine = decisions.counted(
            campaign_id=req.campaign_id,
            day=day,
            vkey=vkey,
            net=net,
            since=now_ms - MINUTE_MS,
            day_start=_day_start_ms(day),
        )
        if not origin_ok:
            failure = None  # the challenge is not looked at for a site that is not registered
        elif claims is not None and not self._use_nonce(conn, decisions, claims, snap.nonce_used):
            failure = ChallengeFailure.REPLAYED
        facts = ClickFacts(
            origin_ok=origin_ok,
            user_agent=req.user_agent,
            challenge_failure=failure,
            campaign_state=snap.state,
            publisher_approved=snap.approved,
            visitor_attempts_last_minute=snap.visitor_recent + mine.visitor_recent,
            network_attempts_last_minute=snap.network_recent + mine.network_recent,
            network_counted_today=snap.network_counted + mine.network_counted,
            visitor_counted_today=snap.visitor_counted + mine.visitor_slots,
            network_counted_today_all=snap.network_counted_all + mine.network_counted_all,
        )
        verdict = assess(facts, self.config.limits)
        if verdict.reason is Reason.COUNTED:
            engine = tx.part(Batch)
            engine.adopt(snap.loaded)  # the engine reuses the definition just read
            if snap.counters is not None:  # and the counters, where that needs no lock first
                engine.adopt_counters(snap.loaded, snap.counters)
        result = self._count(tx, req, verdict, facts, day, vkey, now_ms, snap)
        decisions.add(
            {
                "campaign_id": req.campaign_id,
                "publisher_id": req.publisher_id[:40],
                "day": day,
                "at_ms": now_ms,
                "reason": result.reason.value,
                "detail": result.detail,
                "visitor_key": vkey,
                "net_key": net,
                "pledge_id": result.pledge_id,
                "units": result.units,
            }
        )
        self._sweep(conn, now_ms)
        return result

    def _verify(self, req: ClickRequest, now_ms: int) -> tuple[Claims | None, ChallengeFailure | None]:
        try:
            claims = self.signer.verify(
                req.challenge,
                campaign_id=req.campaign_id,
                publisher_id=req.publisher_id,
                visitor=req.visitor,
                now_ms=now_ms,
                pow_nonce=req.pow_nonce,
            )
        except ChallengeError as exc:
            return None, exc.failure
        return claims, None

    def _use_nonce(self, conn: Connection, rows: Decisions, claims: Claims, stored: bool) -> bool:
        """Record the challenge's nonce as used; False if it was already (a replayed token).
        SQLite: the snapshot said whether it is stored, the group keeps it (`Decisions`)."""
        row = {"nonce": claims.nonce, "expires_ms": claims.issued_ms + self.signer.ttl_ms}
        if conn.dialect.name != "sqlite":
            return _insert_ignore(conn, widget_nonces, row)
        if stored or claims.nonce in rows.nonces:
            return False
        rows.nonces[claims.nonce] = row
        return True

    def _count(
        self,
        tx: Tx,
        req: ClickRequest,
        verdict: Verdict,
        facts: ClickFacts,
        day: str,
        vkey: str | None,
        now_ms: int,
        snap: Snapshot,
    ) -> ClickResult:
        conn = tx.conn
        units_before = snap.units
        if verdict.reason is not Reason.COUNTED:
            return ClickResult(verdict.reason, verdict.detail, units_before)
        if vkey is None:  # unreachable: a malformed visitor cannot match a signed challenge
            return ClickResult(Reason.BAD_CHALLENGE, "binding", units_before)
        slot = facts.visitor_counted_today
        slot_key = {"campaign_id": req.campaign_id, "day": day, "visitor_key": vkey, "slot": slot}
        rows = tx.part(Decisions)
        if conn.dialect.name == "sqlite":
            rows.slots.append(slot_key)  # free: the stored ones and the group's were counted
        elif not _insert_ignore(conn, widget_click_slots, slot_key):
            return ClickResult(Reason.DUPLICATE, "concurrent_click", units_before)
        engine = tx.part(Batch)
        dedupe_key = f"{vkey}:{day}:{slot}"
        if slot == snap.visitor_counted:  # the slot the snapshot counted, and looked the key of up
            engine.known(req.campaign_id, "click:" + dedupe_key, held=snap.slot_held)
        outcome: EventOutcome = apply_click(
            conn,
            ClickIn(
                campaign_id=req.campaign_id,
                visitor=vkey,
                occurred_at=datetime.fromtimestamp(now_ms / 1000, UTC),
                publisher_id=req.publisher_id,
                dedupe_key=dedupe_key,
            ),
            batch=engine,
        )
        # The engine's counters are ahead of the table until the batch is flushed.
        live = engine.states.get(req.campaign_id)
        if live is not None:
            units_before = live.net_units - outcome.units
        reason, detail = _ENGINE_OUTCOME.get(outcome.outcome, (Reason.CAMPAIGN_INACTIVE, outcome.outcome))
        if reason is not Reason.COUNTED:
            if slot_key in rows.slots:
                rows.slots.remove(slot_key)
            else:
                conn.execute(
                    delete(widget_click_slots).where(
                        *(getattr(widget_click_slots.c, k) == v for k, v in slot_key.items())
                    )
                )
            return ClickResult(reason, detail, units_before)
        receipt = None
        if outcome.receipt is not None:
            base = self.config.base_url
            receipt = {
                "token": outcome.receipt.secret,
                "commitment": outcome.receipt.commitment,
                "url": f"{base}/receipts#{outcome.receipt.secret}",
            }
        return ClickResult(
            Reason.COUNTED,
            detail,
            units_before + outcome.units,
            outcome.units,
            outcome.pledge_id,
            receipt,
        )

    def _sweep(self, conn: Connection, now_ms: int) -> None:
        """Used nonces are only needed until their token expires; drop them once a minute."""
        if now_ms - self._last_sweep_ms < MINUTE_MS:
            return
        self._last_sweep_ms = now_ms
        conn.execute(delete(widget_nonces).where(widget_nonces.c.expires_ms < now_ms))


@dataclass(frozen=True)
class Snapshot:
    loaded: Loaded
    state: CampaignState
    units: int
    domains: list[str] | None
    visitor_recent: int
    network_recent: int
    network_counted: int
    visitor_counted: int
    network_counted_all: int = 0  # today, across every campaign
    approved: bool = True  # verified publisher, approved by the brand or the campaign is open
    # a stored pledge holds the line key of the visitor's next click slot (`_line_key`): the
    # engine then asks for it no more (issue 18: a statement per click)
    slot_held: bool = False
    counters: Counters | None = None  # the campaign's counter row as the snapshot read it
    nonce_used: bool = False  # the nonce asked about is stored (SQLite's writer asks)


def _as_date(day: str) -> date:
    return date.fromisoformat(day)


def _day_start_ms(day: str) -> int:
    return int(datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp() * 1000)
