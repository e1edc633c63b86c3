"""The processing half: queued raw deliveries → recorded facts → pledges.

Platform call-backs (Stripe line items, WooCommerce refunds) happen outside any database
transaction; the facts and the pledges they cause are then written in one transaction that
also flips the delivery from `queued`, so a crash either leaves it queued or fully applied.
Two workers cannot apply one delivery twice: the flip is conditional on `status = 'queued'`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import stripe
from sqlalchemy import Connection, insert, select, update

from wefirst.domain.claims import ClaimWindow
from wefirst.domain.clock import as_utc, utcnow
from wefirst.ingest.connectors import accounts, settling, state, stripe_events, woocommerce
from wefirst.ingest.connectors._payload import load_object
from wefirst.ingest.connectors.accounts import ConnectionInfo
from wefirst.ingest.connectors.clients import (
    HTTPWooRefunds,
    InMemoryWooRefunds,
    RemoteUnavailableError,
    SDKLineItems,
    StripeLineItems,
    WooRefunds,
    fixture_line_items,
)
from wefirst.ingest.connectors.errors import AccountMismatch, MalformedPayload
from wefirst.ingest.connectors.inbox import parse_delivery
from wefirst.ingest.connectors.mapping import ProductMapping
from wefirst.ingest.connectors.minimise import minimise
from wefirst.ingest.connectors.records import NormalisedLine, ParsedDelivery, Source
from wefirst.outbound import OutboundPolicy
from wefirst.pledges.batch import Batch
from wefirst.secretbox import SecretBox
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_connectors import (
    connector_deliveries,
    connector_fetched,
    connector_lines,
)

log = logging.getLogger("wefirst.connectors")
MAX_ATTEMPTS = 5


@dataclass
class Remotes:
    stripe: StripeLineItems | None = None
    woo: WooRefunds | None = None


RemotesFactory = Callable[[ConnectionInfo, Mapping[str, str]], Remotes]


def live_remotes(
    info: ConnectionInfo, credentials: Mapping[str, str], policy: OutboundPolicy | None = None
) -> Remotes:
    """Real clients from the connection's sealed credentials (none: call-backs wait). The
    WooCommerce site is the brand's choice: its call-backs pass the outbound guard."""
    out = Remotes()
    if info.platform is Source.STRIPE and credentials.get("api_key"):
        out.stripe = SDKLineItems(stripe.StripeClient(credentials["api_key"]))
    if info.platform is Source.WOOCOMMERCE and credentials.get("consumer_key"):
        out.woo = HTTPWooRefunds(
            info.account, credentials["consumer_key"], credentials.get("consumer_secret", ""), policy=policy
        )
    return out


def demo_remotes(info: ConnectionInfo, credentials: Mapping[str, str]) -> Remotes:
    """The bundled recordings (the spec's fixtures): the demo runs without a network."""
    from wefirst.ingest.connectors.demo import demo_text

    items = demo_text("stripe_checkout_session_line_items.json")
    refund = demo_text("woocommerce_refund_4861_api.json").encode()
    return Remotes(
        stripe=fixture_line_items({DEMO_SESSION_ID: items}),
        woo=InMemoryWooRefunds({("4817", "4861"): load_object(refund)}),
    )


DEMO_SESSION_ID = "cs_live_b1Kw9EfIrStPaMpErSdEmO0a1NqR7sT4uV8wX2yZ3aB5cD6eF7gH8iJ"


def remotes_from_settings(settings: Settings) -> RemotesFactory:
    if settings.connectors_fake_remote:
        return demo_remotes
    policy = OutboundPolicy.from_settings(settings)
    return lambda info, credentials: live_remotes(info, credentials, policy)


@dataclass
class ProcessSummary:
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, status: str) -> None:
        self.counts[status] = self.counts.get(status, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def process_pending(
    db: Database,
    box: SecretBox,
    remotes: RemotesFactory,
    *,
    connection_id: str | None = None,
    limit: int = 500,
    received_before: datetime | None = None,
    group: int = 50,
    window: ClaimWindow | None = None,
) -> ProcessSummary:
    """Process queued deliveries in arrival order (order only matters for attribution: the
    settled result is the same in any order), `group` deliveries per transaction: one
    commit for many deliveries is what makes a backlog drain fast, and each delivery runs in
    its own savepoint so one bad delivery does not hold back the others."""
    query = select(connector_deliveries.c.id).where(connector_deliveries.c.status == "queued")
    if connection_id is not None:
        query = query.where(connector_deliveries.c.connection_id == connection_id)
    if received_before is not None:
        query = query.where(connector_deliveries.c.received_at < received_before)
    with db.read() as conn:
        ids = [r.id for r in conn.execute(query.order_by(connector_deliveries.c.seq).limit(limit))]
    summary = ProcessSummary()
    for i in range(0, len(ids), max(1, group)):
        for status in _process_group(db, box, remotes, ids[i : i + max(1, group)], window):
            summary.add(status)
    return summary


def process_delivery(
    db: Database,
    box: SecretBox,
    remotes: RemotesFactory,
    delivery_id: str,
    window: ClaimWindow | None = None,
) -> str:
    """Returns the delivery's new status: processed, ignored, queued (retry later), failed,
    or skipped (someone else got there first). `window`: the claim window (`claims_window`),
    which every caller holding settings passes."""
    return _process_group(db, box, remotes, [delivery_id], window)[0]


def claims_window(settings: Settings) -> ClaimWindow:
    return ClaimWindow.of(settings.claims_max_age_hours, settings.claims_clock_skew_seconds)


@dataclass
class _Loaded:
    info: ConnectionInfo
    mapping: ProductMapping
    credentials: dict[str, str]
    headers: dict[str, str]
    body: bytes
    received_at: datetime


@dataclass
class _Plan:
    """What to do with one delivery, decided before the write transaction (parsing and
    platform call-backs happen outside it)."""

    delivery_id: str
    action: str  # apply | failed | ignored | retry | skipped
    note: str = ""
    loaded: _Loaded | None = None
    parsed: ParsedDelivery | None = None
    sales: list[NormalisedLine] = field(default_factory=list)
    reversals: list[NormalisedLine] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)
    retry_note: str | None = None
    """Applied in part: keep the delivery queued for the call-backs that failed."""


def _load_many(db: Database, box: SecretBox, ids: list[str]) -> dict[str, _Loaded]:
    out: dict[str, _Loaded] = {}
    with db.read() as conn:
        rows = conn.execute(
            select(connector_deliveries).where(
                connector_deliveries.c.id.in_(ids), connector_deliveries.c.status == "queued"
            )
        ).all()
        per_connection: dict[str, tuple[ConnectionInfo, ProductMapping, dict[str, str]]] = {}
        for row in rows:
            if row.connection_id not in per_connection:
                info = accounts.get_connection(conn, row.connection_id)
                per_connection[row.connection_id] = (
                    info,
                    accounts.mapping_for(conn, info.id),
                    accounts.open_credentials(box, info.id, accounts.credentials_blob(conn, info.id)),
                )
            info, mapping, credentials = per_connection[row.connection_id]
            out[row.id] = _Loaded(
                info=info,
                mapping=mapping,
                credentials=credentials,
                headers=dict(row.headers),
                body=bytes(row.body),
                received_at=as_utc(row.received_at),
            )
    return out


def _plan(db: Database, remotes: RemotesFactory, delivery_id: str, loaded: _Loaded | None) -> _Plan:
    if loaded is None:
        return _Plan(delivery_id, "skipped")
    info = loaded.info
    try:
        parsed = parse_delivery(
            info.platform, info.account, loaded.headers, loaded.body, delivery_id, loaded.received_at
        )
    except (MalformedPayload, AccountMismatch) as exc:
        return _Plan(delivery_id, "failed", exc.detail, loaded=loaded)
    if parsed.is_test:
        return _Plan(delivery_id, "ignored", "test data never pledges", loaded=loaded)
    try:
        sales, reversals, fetched = _call_back(db, info, loaded, parsed, remotes, delivery_id)
    except PartialCallBackError as exc:
        return _Plan(
            delivery_id,
            "apply",
            loaded=loaded,
            parsed=parsed,
            sales=exc.sales,
            reversals=exc.reversals,
            fetched=exc.fetched,
            retry_note=str(exc),
        )
    except RemoteUnavailableError as exc:
        return _Plan(delivery_id, "retry", str(exc))
    except MalformedPayload as exc:
        return _Plan(delivery_id, "failed", f"platform answer: {exc.detail}", loaded=loaded)
    return _Plan(
        delivery_id, "apply", loaded=loaded, parsed=parsed, sales=sales, reversals=reversals, fetched=fetched
    )


def _process_group(
    db: Database, box: SecretBox, remotes: RemotesFactory, ids: list[str], window: ClaimWindow | None
) -> list[str]:
    loaded = _load_many(db, box, ids)
    plans = [_plan(db, remotes, i, loaded.get(i)) for i in ids]
    if all(p.action == "skipped" for p in plans):
        return ["skipped"] * len(plans)
    now = utcnow()
    with db.write() as conn:
        unit = _Unit(conn)
        return [_commit_plan(conn, plan, now, unit, window) for plan in plans]


class _Unit:
    """The lead's `Batch` shared by a group's deliveries (campaigns, brand and locked
    counters read once). After a delivery's savepoint is rolled back its in-memory counters
    are wrong, so it is replaced by a fresh one."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.batch = Batch(conn)

    def reset(self) -> None:
        self.batch = Batch(self.conn)


def _commit_plan(
    conn: Connection, plan: _Plan, now: datetime, unit: _Unit, window: ClaimWindow | None
) -> str:
    if plan.action == "skipped":
        return "skipped"
    row = conn.execute(
        update(connector_deliveries)
        .where(
            connector_deliveries.c.id == plan.delivery_id,
            connector_deliveries.c.status == "queued",
        )
        .values(attempts=connector_deliveries.c.attempts + 1)
        .returning(connector_deliveries.c.attempts)
    ).first()
    if row is None:
        return "skipped"  # another worker processed it meanwhile
    raw = plan.loaded.body if plan.loaded is not None else None
    if plan.action in ("failed", "ignored"):
        return _set(conn, plan.delivery_id, plan.action, plan.note, now, raw)
    if plan.action == "retry":
        return _retry_in(conn, plan.delivery_id, int(row.attempts), plan.note, now, raw)
    assert plan.loaded is not None
    assert plan.parsed is not None
    info, parsed = plan.loaded.info, plan.parsed
    savepoint = conn.begin_nested()
    try:
        report = apply_parsed(
            state.Applying(conn, info, plan.delivery_id, now, batch=unit.batch),
            plan.loaded.mapping,
            parsed,
            plan.sales,
            plan.reversals,
            received_at=plan.loaded.received_at,
            window=window,
        )
        for ref in plan.fetched:
            conn.execute(insert(connector_fetched).values(connection_id=info.id, ref=ref, fetched_at=now))
        unit.batch.flush()
        savepoint.commit()
    except Exception as exc:  # keep the worker alive; the delivery stays queued
        savepoint.rollback()
        unit.reset()
        log.exception("connector delivery %s failed", plan.delivery_id)
        return _retry_in(conn, plan.delivery_id, int(row.attempts), f"{type(exc).__name__}: {exc}", now, raw)
    if plan.retry_note is not None:
        return _retry_in(
            conn,
            plan.delivery_id,
            int(row.attempts),
            f"applied in part ({_note(report)}); waiting: {plan.retry_note}",
            now,
            raw,
        )
    touched = report.new_lines or report.new_reversals or parsed.cancellation or parsed.amount_refunds
    status = "processed" if touched or not parsed.ignored else "ignored"
    note = (parsed.ignored or "") if status == "ignored" else _note(report)
    return _set(conn, plan.delivery_id, status, note, now, raw)


def _set(conn: Connection, delivery_id: str, status: str, note: str, now: datetime, raw: bytes | None) -> str:
    """A final status; the raw body (the shopper's name, address, e-mail, IP...) is replaced
    by what reconciliation needs (`minimise`): nothing will re-read it."""
    values: dict[str, object] = {"status": status, "note": note[:2000], "processed_at": now}
    if raw is not None:
        values["body"] = minimise(raw) or b""
    d = connector_deliveries
    conn.execute(update(d).where(d.c.id == delivery_id).values(**values))
    return status


def _retry_in(
    conn: Connection, delivery_id: str, attempts: int, note: str, now: datetime, raw: bytes | None
) -> str:
    if attempts >= MAX_ATTEMPTS:
        return _set(conn, delivery_id, "failed", f"gave up after {attempts} attempts: {note}", now, raw)
    conn.execute(
        update(connector_deliveries).where(connector_deliveries.c.id == delivery_id).values(note=note[:2000])
    )
    return "queued"


def _note(report: state.ApplyReport) -> str:
    return (
        f"{report.new_lines} new line(s), {report.duplicate_lines} already seen, "
        f"{report.new_reversals} reversal(s); pledged {report.pledged_units} unit(s), "
        f"reversed {report.reversed_units}"
    )


def _call_back(
    db: Database,
    info: ConnectionInfo,
    loaded: _Loaded,
    parsed: ParsedDelivery,
    remotes: RemotesFactory,
    delivery_id: str,
) -> tuple[list[NormalisedLine], list[NormalisedLine], list[str]]:
    sales = list(parsed.sales)
    reversals = list(parsed.reversals)
    fetched: list[str] = []
    if parsed.checkout is not None:
        prefix = stripe_events.sale_key(info.account, parsed.checkout.session_id, "")
        with db.read() as conn:
            known = conn.execute(
                select(connector_lines.c.seq).where(
                    connector_lines.c.connection_id == info.id,
                    connector_lines.c.line_key.startswith(prefix, autoescape=True),
                )
            ).first()
        if known is None:
            client = remotes(info, loaded.credentials).stripe
            if client is None:
                raise RemoteUnavailableError(
                    "no Stripe API key on this connection: add one so Checkout line items can be read"
                )
            items = client.list_line_items(parsed.checkout.session_id)
            sales = list(
                stripe_events.checkout_lines(
                    parsed.checkout, items, account=info.account, is_test=parsed.is_test, raw_ref=delivery_id
                )
            )
    if parsed.refund_ids_to_fetch and parsed.order_ref is not None:
        order_id = parsed.order_ref
        refs = {f"woo-refund:{order_id}:{rid}": rid for rid in parsed.refund_ids_to_fetch}
        with db.read() as conn:
            done = {
                r.ref
                for r in conn.execute(
                    select(connector_fetched.c.ref).where(
                        connector_fetched.c.connection_id == info.id, connector_fetched.c.ref.in_(list(refs))
                    )
                )
            }
        todo = [ref for ref in refs if ref not in done]
        if todo:
            woo = remotes(info, loaded.credentials).woo
            if woo is None:
                raise PartialCallBackError(
                    "no WooCommerce consumer key on this connection: "
                    "add one so refunded quantities can be read",
                    sales,
                    reversals,
                    fetched,
                )
            currency = parsed.known_lines[0].currency if parsed.known_lines else None
            for ref in todo:
                try:
                    refund = woo.get_refund(order_id, refs[ref])
                except RemoteUnavailableError as exc:
                    raise PartialCallBackError(str(exc), sales, reversals, fetched) from exc
                reversals.extend(
                    woocommerce.parse_refund(
                        refund,
                        source=info.account,
                        order_id=order_id,
                        raw_ref=delivery_id,
                        known_lines=parsed.known_lines,
                        currency=currency,
                    )
                )
                fetched.append(ref)
    return sales, reversals, fetched


class PartialCallBackError(RemoteUnavailableError):
    """Some call-backs failed, but what the delivery says by itself (the sale, a cancellation,
    refunds already read) can be applied now; the delivery stays queued for the rest, and
    applying it again later is harmless because every fact is idempotent."""

    def __init__(
        self, message: str, sales: list[NormalisedLine], reversals: list[NormalisedLine], fetched: list[str]
    ) -> None:
        super().__init__(message)
        self.sales = sales
        self.reversals = reversals
        self.fetched = fetched


def apply_parsed(
    a: state.Applying,
    mapping: ProductMapping,
    parsed: ParsedDelivery,
    sales: list[NormalisedLine],
    reversals: list[NormalisedLine],
    *,
    on_line: Callable[[int], None] | None = None,
    received_at: datetime | None = None,
    window: ClaimWindow | None = None,
) -> state.ApplyReport:
    """Record the delivery's facts and settle the orders they touch; returns `a.report`. With
    `a.batch`, ledger writes are buffered in the caller's unit of work (flushed before any
    reversal reads them, and by the caller at the end). With `window`, new sale lines of
    orders not known before claiming a time outside it around `received_at` pledge nothing
    (sales reports pass none: their period is the claim)."""
    conn, info, now, report = a.conn, a.info, a.now, a.report
    received = received_at or now
    orders: set[str] = set()
    if parsed.order_ref is not None:
        orders.add(parsed.order_ref)
    known = state.ensure_orders(
        conn,
        info.id,
        [*orders, *(line.order_ref for line in sales), *(line.order_ref for line in reversals)],
        now,
    )
    claim = None
    if window is not None and info.platform is not Source.RETAIL:
        claim = state.ClaimCheck(window, received, frozenset(known))
    orders |= state.record_sales(a, mapping, sales, on_line=on_line, claim=claim, received_at=received)
    kind = "return" if info.platform is Source.RETAIL else "refund"
    orders |= state.record_reversals(
        conn, info.id, reversals, kind=kind, delivery_id=a.delivery_id, report=report
    )
    cancel_new = False
    if parsed.cancellation is not None:
        cancel_new = state.record_cancellation(conn, info.id, parsed.cancellation, now)
        orders.add(parsed.cancellation.order_ref)
    for refund in parsed.amount_refunds:
        state.record_amount_refund(conn, info.id, refund, now)
        orders.add(refund.order_ref)
    for order_ref in sorted(orders):
        settling.settle(
            a,
            order_ref,
            cancel_new=cancel_new
            and parsed.cancellation is not None
            and order_ref == parsed.cancellation.order_ref,
        )
    return report
