"""The widget's two operations with storage: the state a widget shows (with a fresh challenge)
and the decision on a click (with the pledge when it counts).

Every click attempt that names a known campaign leaves exactly one `widget_decisions` row with
its reason, written in the same transaction as the pledge and the log entry, so the fraud
report, the publisher's figures and the ledger agree by construction.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from wefirst.catalog.service import Loaded, load_campaign
from wefirst.errors import FieldError, Forbidden, Invalid
from wefirst.ingest.events import ClickIn, EventOutcome, apply_click
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_core import campaign_counters, campaign_day_units
from wefirst.store.tables_widget import (
    publisher_campaigns,
    publishers,
    widget_campaign_settings,
    widget_click_slots,
    widget_decisions,
    widget_nonces,
    widget_salts,
)
from wefirst.widget.challenge import (
    ChallengeError,
    ChallengeFailure,
    ChallengeSigner,
    derive_key,
    valid_visitor,
)
from wefirst.widget.fraud import CampaignState, ClickFacts, Limits, Verdict, assess
from wefirst.widget.hashing import network_key, utc_day, visitor_key
from wefirst.widget.origins import origin_allowed
from wefirst.widget.reasons import Reason
from wefirst.widget.status import campaign_state, merged_texts

MINUTE_MS = 60_000
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

    @classmethod
    def from_settings(cls, settings: Settings) -> WidgetConfig:
        return cls(
            limits=Limits(
                clicks_per_visitor_per_day=settings.widget_clicks_per_visitor_per_day,
                visitor_attempts_per_minute=settings.widget_visitor_attempts_per_minute,
                network_attempts_per_minute=settings.widget_network_attempts_per_minute,
                network_counted_per_day=settings.widget_network_counted_per_day,
            ),
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


def _insert_ignore(conn: Connection, table: Any, values: dict[str, Any]) -> bool:
    """INSERT that reports a conflict instead of raising: an IntegrityError would abort the
    whole PostgreSQL transaction, and the decision must still be written in it."""
    stmt: Any
    if conn.dialect.name == "postgresql":
        stmt = postgresql.insert(table).values(**values).on_conflict_do_nothing()
    else:
        stmt = sqlite.insert(table).values(**values).on_conflict_do_nothing()
    return bool(conn.execute(stmt).rowcount)


class WidgetService:
    def __init__(
        self,
        db: Database,
        config: WidgetConfig,
        secret: str,
        clock: Callable[[], int] = wall_clock_ms,
    ) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.signer = ChallengeSigner(
            derive_key(secret), config.challenge_ttl_ms, config.min_click_delay_ms
        )
        self._salts: dict[str, bytes] = {}
        self._last_sweep_ms = 0

    @classmethod
    def from_settings(
        cls, db: Database, settings: Settings, clock: Callable[[], int] = wall_clock_ms
    ) -> WidgetService:
        return cls(db, WidgetConfig.from_settings(settings), settings.secret_key, clock)

    # -- salts ---------------------------------------------------------------------------------
    def salt(self, day: str) -> bytes:
        """Today's random salt, shared by every process through the database; salts older than
        yesterday are deleted so old keys can never be linked back to an address."""
        cached = self._salts.get(day)
        if cached is not None:
            return cached
        with self.db.write() as conn:
            _insert_ignore(conn, widget_salts, {"day": day, "salt": secrets.token_bytes(32)})
            salt = bytes(conn.execute(
                select(widget_salts.c.salt).where(widget_salts.c.day == day)
            ).scalar_one())
            yesterday = (datetime.strptime(day, "%Y-%m-%d") - timedelta(days=1)).strftime(
                "%Y-%m-%d"
            )
            conn.execute(delete(widget_salts).where(widget_salts.c.day < yesterday))
        self._salts = {day: salt}
        return salt

    # -- lookups -------------------------------------------------------------------------------
    def _campaign(self, conn: Connection, campaign_id: str) -> Loaded:
        return load_campaign(conn, campaign_id)

    def _state(self, conn: Connection, loaded: Loaded, now_ms: int) -> tuple[CampaignState, int]:
        c = loaded.campaign
        counters = conn.execute(
            select(campaign_counters.c.net_units, campaign_counters.c.net_money).where(
                campaign_counters.c.campaign_id == c.id
            )
        ).one()
        now = datetime.fromtimestamp(now_ms / 1000, UTC)
        day_units = 0
        if c.caps.units_per_day is not None:
            day_units = int(conn.execute(
                select(campaign_day_units.c.units).where(
                    campaign_day_units.c.campaign_id == c.id,
                    campaign_day_units.c.day == now.date(),
                )
            ).scalar() or 0)
        state = campaign_state(
            c, now=now, net_units=int(counters.net_units), net_money=int(counters.net_money),
            day_units=day_units,
        )
        return state, int(counters.net_units)

    def _publisher_domains(
        self, conn: Connection, publisher_id: str, campaign_id: str
    ) -> list[str] | None:
        """The publisher's domains if it exists and has joined the campaign, else None."""
        row = conn.execute(
            select(publishers.c.domains)
            .join(publisher_campaigns, publisher_campaigns.c.publisher_id == publishers.c.id)
            .where(publishers.c.id == publisher_id,
                   publisher_campaigns.c.campaign_id == campaign_id)
        ).first()
        return None if row is None else list(row.domains)

    def _settings(self, conn: Connection, campaign_id: str) -> tuple[int, dict[str, Any] | None]:
        row = conn.execute(
            select(widget_campaign_settings.c.pow_bits, widget_campaign_settings.c.texts).where(
                widget_campaign_settings.c.campaign_id == campaign_id
            )
        ).first()
        return (0, None) if row is None else (int(row.pow_bits), row.texts)

    # -- state ---------------------------------------------------------------------------------
    def state(
        self, *, campaign_id: str, publisher_id: str, visitor: str, origin: str | None,
        referer: str | None,
    ) -> dict[str, Any]:
        if not valid_visitor(visitor):
            raise Invalid("visitor: must be 64 lower-case hex characters (a SHA-256 commitment)",
                          [FieldError("visitor", "not a hex SHA-256")])
        now_ms = self.clock()
        day = utc_day(now_ms)
        salt = self.salt(day)
        with self.db.read() as conn:
            loaded = self._campaign(conn, campaign_id)
            domains = self._publisher_domains(conn, publisher_id, campaign_id)
            if domains is None or not origin_allowed(origin, referer, domains):
                raise Forbidden(
                    "this page's site is not registered for this publisher and campaign",
                    decision=Reason.BAD_ORIGIN.value,
                )
            state, units = self._state(conn, loaded, now_ms)
            pow_bits, custom = self._settings(conn, campaign_id)
            counted = int(conn.execute(
                select(func.count()).select_from(widget_click_slots).where(
                    widget_click_slots.c.campaign_id == campaign_id,
                    widget_click_slots.c.day == day,
                    widget_click_slots.c.visitor_key == visitor_key(salt, campaign_id, visitor),
                )
            ).scalar_one())
        c = loaded.campaign
        texts = merged_texts(c, custom)
        return {
            "campaign": {"id": c.id, "name": c.name, "state": state.value, "line": texts["line"]},
            "counter": {"units": units, "unit": c.unit.id, "label": texts["counter"]},
            "counted_today": counted >= self.config.limits.clicks_per_visitor_per_day,
            "challenge": {
                "token": self.signer.issue(
                    campaign_id=campaign_id, publisher_id=publisher_id, visitor=visitor,
                    now_ms=now_ms, pow_bits=pow_bits,
                ),
                "ttl_ms": self.signer.ttl_ms,
                "min_delay_ms": self.signer.min_delay_ms,
                "pow_bits": pow_bits,
            },
        }

    # -- click ---------------------------------------------------------------------------------
    def click(self, req: ClickRequest) -> ClickResult:
        now_ms = self.clock()
        day = utc_day(now_ms)
        salt = self.salt(day)
        net = network_key(salt, req.client_ip)
        vkey = None
        if valid_visitor(req.visitor):
            vkey = visitor_key(salt, req.campaign_id, req.visitor)
        with self.db.write() as conn:
            loaded = self._campaign(conn, req.campaign_id)
            domains = self._publisher_domains(conn, req.publisher_id, req.campaign_id)
            origin_ok = domains is not None and origin_allowed(req.origin, req.referer, domains)
            failure = self._check_challenge(conn, req, now_ms) if origin_ok else None
            state, units = self._state(conn, loaded, now_ms)
            facts = ClickFacts(
                origin_ok=origin_ok,
                user_agent=req.user_agent,
                challenge_failure=failure,
                campaign_state=state,
                visitor_attempts_last_minute=self._recent(
                    conn, widget_decisions.c.visitor_key, vkey, now_ms
                ),
                network_attempts_last_minute=self._recent(
                    conn, widget_decisions.c.net_key, net, now_ms
                ),
                network_counted_today=self._network_counted(conn, req.campaign_id, net, day),
                visitor_counted_today=self._slots(conn, req.campaign_id, day, vkey),
            )
            verdict = assess(facts, self.config.limits)
            result = self._count(conn, req, verdict, facts, day, vkey, now_ms, units)
            conn.execute(insert(widget_decisions).values(
                campaign_id=req.campaign_id, publisher_id=req.publisher_id[:40], day=day,
                at_ms=now_ms, reason=result.reason.value, detail=result.detail,
                visitor_key=vkey, net_key=net, pledge_id=result.pledge_id, units=result.units,
            ))
            self._sweep(conn, now_ms)
        return result

    def _check_challenge(
        self, conn: Connection, req: ClickRequest, now_ms: int
    ) -> ChallengeFailure | None:
        try:
            claims = self.signer.verify(
                req.challenge, campaign_id=req.campaign_id, publisher_id=req.publisher_id,
                visitor=req.visitor, now_ms=now_ms, pow_nonce=req.pow_nonce,
            )
        except ChallengeError as exc:
            return exc.failure
        fresh = _insert_ignore(conn, widget_nonces, {
            "nonce": claims.nonce, "expires_ms": claims.issued_ms + self.signer.ttl_ms,
        })
        return None if fresh else ChallengeFailure.REPLAYED

    def _recent(self, conn: Connection, column: Any, key: str | None, now_ms: int) -> int:
        if key is None:
            return 0
        return int(conn.execute(
            select(func.count()).select_from(widget_decisions)
            .where(column == key, widget_decisions.c.at_ms > now_ms - MINUTE_MS)
        ).scalar_one())

    def _network_counted(self, conn: Connection, campaign_id: str, net: str, day: str) -> int:
        return int(conn.execute(
            select(func.count()).select_from(widget_decisions).where(
                widget_decisions.c.net_key == net,
                widget_decisions.c.at_ms >= _day_start_ms(day),
                widget_decisions.c.campaign_id == campaign_id,
                widget_decisions.c.reason == Reason.COUNTED.value,
            )
        ).scalar_one())

    def _slots(self, conn: Connection, campaign_id: str, day: str, vkey: str | None) -> int:
        if vkey is None:
            return 0
        return int(conn.execute(
            select(func.count()).select_from(widget_click_slots).where(
                widget_click_slots.c.campaign_id == campaign_id,
                widget_click_slots.c.day == day,
                widget_click_slots.c.visitor_key == vkey,
            )
        ).scalar_one())

    def _count(
        self, conn: Connection, req: ClickRequest, verdict: Verdict, facts: ClickFacts,
        day: str, vkey: str | None, now_ms: int, units_before: int,
    ) -> ClickResult:
        if verdict.reason is not Reason.COUNTED:
            return ClickResult(verdict.reason, verdict.detail, units_before)
        if vkey is None:  # unreachable: a malformed visitor cannot match a signed challenge
            return ClickResult(Reason.BAD_CHALLENGE, "binding", units_before)
        slot = facts.visitor_counted_today
        slot_key = {"campaign_id": req.campaign_id, "day": day, "visitor_key": vkey, "slot": slot}
        if not _insert_ignore(conn, widget_click_slots, slot_key):
            return ClickResult(Reason.DUPLICATE, "concurrent_click", units_before)
        outcome: EventOutcome = apply_click(conn, ClickIn(
            campaign_id=req.campaign_id,
            visitor=vkey,
            occurred_at=datetime.fromtimestamp(now_ms / 1000, UTC),
            publisher_id=req.publisher_id,
            dedupe_key=f"{vkey}:{day}:{slot}",
        ))
        reason, detail = _ENGINE_OUTCOME.get(outcome.outcome, (Reason.CAMPAIGN_INACTIVE,
                                                               outcome.outcome))
        if reason is not Reason.COUNTED:
            conn.execute(delete(widget_click_slots).where(
                *(getattr(widget_click_slots.c, k) == v for k, v in slot_key.items())
            ))
            return ClickResult(reason, detail, units_before)
        receipt = None
        if outcome.receipt is not None:
            base = self.config.base_url
            receipt = {
                "token": outcome.receipt.secret,
                "commitment": outcome.receipt.commitment,
                "url": f"{base}/receipts/{outcome.receipt.secret}",
            }
        return ClickResult(
            Reason.COUNTED, detail, units_before + outcome.units, outcome.units,
            outcome.pledge_id, receipt,
        )

    def _sweep(self, conn: Connection, now_ms: int) -> None:
        """Used nonces are only needed until their token expires; drop them once a minute."""
        if now_ms - self._last_sweep_ms < MINUTE_MS:
            return
        self._last_sweep_ms = now_ms
        conn.execute(delete(widget_nonces).where(widget_nonces.c.expires_ms < now_ms))


def _day_start_ms(day: str) -> int:
    return int(datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp() * 1000)

