"""Every alert delivery attempt, stored: what the brand reads, what `listen` resumes after a
restart and what "replay" sends again."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select

from wefirst.domain.clock import Clock, as_utc, rfc3339, utcnow
from wefirst.domain.ids import new_id
from wefirst.errors import NotFound
from wefirst.settings import Settings
from wefirst.store.db import Database
from wefirst.store.tables_voice import voice_alert_attempts, voice_alert_endpoints
from wefirst.voice.alerts import (
    AlertEvent,
    Attempt,
    Dispatcher,
    Endpoint,
    HttpxTransport,
    MemoryTransport,
    Transport,
)


def list_attempts(conn: Connection, brand_id: str, limit: int = 100) -> list[dict[str, Any]]:
    j = voice_alert_attempts.join(
        voice_alert_endpoints, voice_alert_endpoints.c.id == voice_alert_attempts.c.endpoint_id
    )
    rows = conn.execute(
        select(voice_alert_attempts)
        .select_from(j)
        .where(voice_alert_endpoints.c.brand_id == brand_id)
        .order_by(voice_alert_attempts.c.seq.desc())
        .limit(limit)
    ).all()
    return [
        {
            "delivery_id": r.delivery_id,
            "endpoint_id": r.endpoint_id,
            "event_id": r.event_id,
            "event_type": r.event_type,
            "attempt": r.attempt,
            "attempted_at": rfc3339(r.attempted_at),
            "status": r.status,
            "error": r.error,
            "ok": r.ok,
            "next_at": rfc3339(r.next_at) if r.next_at else None,
        }
        for r in rows
    ]


def attempt_recorder(db: Database) -> Callable[[Attempt], None]:
    def record(a: Attempt) -> None:
        with db.write() as conn:
            conn.execute(
                insert(voice_alert_attempts).values(
                    delivery_id=a.delivery_id,
                    endpoint_id=a.endpoint_id,
                    event_id=a.event_id,
                    event_type=_event_types.get(a.event_id, "voice.episode"),
                    body=_bodies.get(a.event_id, ""),
                    attempt=a.attempt,
                    attempted_at=a.at,
                    status=a.status,
                    error=a.error,
                    ok=a.ok,
                    next_at=a.next_at,
                )
            )

    return record


def _endpoint(conn: Connection, endpoint_id: str) -> Endpoint | None:
    row = conn.execute(select(voice_alert_endpoints).where(voice_alert_endpoints.c.id == endpoint_id)).first()
    if row is None or not row.active:
        return None
    return Endpoint(row.id, row.brand_id, row.url, (row.secret,))


def resume_pending(db: Database, dispatcher: Dispatcher) -> int:
    """Re-queue deliveries whose last logged attempt failed and had a retry planned (the
    retry schedule survives a restart of `listen`)."""
    a = voice_alert_attempts
    latest = select(a.c.delivery_id, func.max(a.c.attempt).label("n")).group_by(a.c.delivery_id).subquery()
    with db.read() as conn:
        rows = conn.execute(
            select(a)
            .join(latest, and_(a.c.delivery_id == latest.c.delivery_id, a.c.attempt == latest.c.n))
            .where(a.c.ok.is_(False), a.c.next_at.is_not(None))
        ).all()
        resumed = 0
        for r in rows:
            endpoint = _endpoint(conn, r.endpoint_id)
            if endpoint is None or not r.body:
                continue
            event = AlertEvent.from_body(r.body)
            _bodies[event.id] = r.body
            _event_types[event.id] = event.type
            dispatcher.schedule(event, endpoint, r.delivery_id, r.attempt, as_utc(r.next_at))
            resumed += 1
    return resumed


def replay_delivery(db: Database, dispatcher: Dispatcher, brand_id: str, delivery_id: str) -> dict[str, Any]:
    """Send a logged delivery again now (the brand's "replay" button), freshly signed, as a
    new delivery of the same event; every attempt is logged like the first ones."""
    a = voice_alert_attempts
    with db.read() as conn:
        row = conn.execute(
            select(a).where(a.c.delivery_id == delivery_id).order_by(a.c.attempt.desc())
        ).first()
        endpoint = _endpoint(conn, row.endpoint_id) if row is not None else None
    if row is None or endpoint is None or endpoint.brand_id != brand_id:
        raise NotFound(f"delivery {delivery_id} does not exist (or its endpoint was removed)")
    event = AlertEvent.from_body(row.body)
    [attempt] = dispatcher.submit(event, [endpoint])
    return {
        "delivery_id": attempt.delivery_id,
        "event_id": attempt.event_id,
        "attempt": attempt.attempt,
        "ok": attempt.ok,
        "status": attempt.status,
        "error": attempt.error,
        "attempted_at": rfc3339(attempt.at),
        "next_at": rfc3339(attempt.next_at) if attempt.next_at else None,
    }


# the body and type of each event, for the attempt log (bounded: recent events only)
_bodies: dict[str, str] = {}
_event_types: dict[str, str] = {}


class LoggingDispatcher(Dispatcher):
    def submit(self, event: AlertEvent, endpoints: Iterable[Endpoint]) -> list[Attempt]:
        if len(_bodies) > 10_000:
            _bodies.clear()
            _event_types.clear()
        _bodies[event.id] = event.body().decode()
        _event_types[event.id] = event.type
        return super().submit(event, endpoints)


def default_transport(settings: Settings) -> Transport:
    return MemoryTransport() if settings.voice_alert_transport == "memory" else HttpxTransport()


def alert_dispatcher(db: Database, transport: Transport, clock: Clock = utcnow) -> Dispatcher:
    """A dispatcher whose every attempt lands in `voice_alert_attempts`."""
    return LoggingDispatcher(
        transport, clock, record=attempt_recorder(db), new_delivery_id=lambda: new_id("dly")
    )
