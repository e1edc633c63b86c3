"""The log side of witnessing: sends each new checkpoint to every configured witness (C2SP
tlog-witness `add-checkpoint`) and keeps the cosignatures that come back.

- One runner across processes and hosts, like the sequencer: the holder of the "witness" lock
  (PostgreSQL advisory lock, or a flock next to the SQLite file) submits; others stand by.
- Its own threads (one per witness, so a slow witness delays no other) and its own short
  transactions: integration never waits for a witness.
- Each request carries the consistency proof from the size that witness last cosigned, read
  from the log's own tiles. A 409 names the witness's size; the submitter stores it and resumes
  from there at once. A 409 for the very size it sent, or a size beyond the log's, means the
  witness holds a different history: that is logged as an error and retried with backoff, never
  papered over.
- Failures back off exponentially (with jitter) up to a cap; the error and the next attempt are
  kept per witness, so `/metrics` and the operator can see them.
- A kill -9 at any point is harmless: the witness persists before it answers, so the next round
  learns its size (409) and gets the same checkpoint cosigned again."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from wefirst.store.db import Database
from wefirst.tlog.checkpoint import parse_signed_checkpoint
from wefirst.tlog.cosignatures import (
    WitnessRow,
    add_cosignature,
    oldest_checkpoint_after,
    save_witness_row,
    witness_rows,
    witnesses_of,
)
from wefirst.tlog.errors import LogFormatError, TlogError, VerificationError
from wefirst.tlog.note import SIG_PREFIX, b64encode
from wefirst.tlog.proofs import consistency_proof
from wefirst.tlog.reader import TileHashReader
from wefirst.tlog.sequencer import lock_for
from wefirst.tlog.service import LogService, latest_checkpoint
from wefirst.tlog.witness_config import WitnessEndpoint
from wefirst.tlog.witness_protocol import MAX_BODY, build_request, parse_response, parse_size_body

log = logging.getLogger("wefirst.tlog.witness")

FIRST_BACKOFF = 0.5  # seconds; doubled per consecutive failure up to the configured cap


class Round:
    """What one submission round decided: wait this long (seconds) before the next, unless
    woken by a new checkpoint; ``busy`` means go again at once."""

    def __init__(self, wait: float, busy: bool = False) -> None:
        self.wait = wait
        self.busy = busy


class WitnessSubmitter:
    def __init__(
        self,
        service: LogService,
        witnesses: list[WitnessEndpoint],
        *,
        timeout: float,
        max_backoff: float,
        idle_poll: float = 1.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.service = service
        self.witnesses = witnesses
        self.timeout = timeout
        self.max_backoff = max_backoff
        self.idle_poll = idle_poll
        self.transport = transport
        self.lock = lock_for(service.db, "witness")
        self.is_leader = False
        self._stop = threading.Event()
        self._wakes = {w.key: threading.Event() for w in witnesses}
        self._threads: list[threading.Thread] = []

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self._stop.clear()
        leader = threading.Thread(target=self._lead, name="tlog-witness-lock", daemon=True)
        self._threads = [leader] + [
            threading.Thread(
                target=self._serve, args=(w,), name=f"tlog-witness-{w.verifier.name}", daemon=True
            )
            for w in self.witnesses
        ]
        for t in self._threads:
            t.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.wake()
        for t in self._threads:
            t.join(timeout)
        self._threads = []
        self.lock.release()
        self.is_leader = False

    def wake(self) -> None:
        """A new checkpoint exists (the sequencer calls this after each batch)."""
        for event in self._wakes.values():
            event.set()

    def _lead(self) -> None:
        """Holds (or waits for) the single-runner lock; the witness threads act only while held."""
        while not self._stop.is_set():
            try:
                if not self.is_leader:
                    self.is_leader = self.lock.acquire()
                    if self.is_leader:
                        log.info("witness submitter lock acquired")
                        self.wake()
                elif not self.lock.still_held():
                    self.is_leader = False
                    log.warning("witness submitter lock lost")
            except Exception:
                self.is_leader = False
                log.exception("witness submitter lock check failed")
            self._stop.wait(1.0)

    def _serve(self, witness: WitnessEndpoint) -> None:
        wake = self._wakes[witness.key]
        with httpx.Client(timeout=self.timeout, transport=self.transport, follow_redirects=False) as http:
            while not self._stop.is_set():
                if not self.is_leader:
                    wake.wait(0.2)
                    wake.clear()
                    continue
                try:
                    outcome = self.submit_once(witness, http)
                except Exception:
                    log.exception("witness round for %s failed", witness.verifier.name)
                    outcome = Round(1.0)
                if outcome.busy:
                    continue
                if wake.wait(outcome.wait):
                    wake.clear()

    # -- one round ---------------------------------------------------------------------------

    def submit_once(self, witness: WitnessEndpoint, http: httpx.Client) -> Round:
        """Bring one witness up to the latest checkpoint, one request at a time."""
        db = self.service.db
        self.service.ensure_initialised()
        with db.read() as conn:
            latest = latest_checkpoint(conn)
            row = witness_rows(conn).get(witness.key)
            have = witness.key in witnesses_of(conn, latest.size) if latest else False
        assert latest is not None
        now = datetime.now(UTC)
        row = row or WitnessRow(witness.key, witness.url, None, 0, None, None, now)
        if row.next_attempt_at is not None and now < row.next_attempt_at:
            return Round((row.next_attempt_at - now).total_seconds())
        size = latest.size - self.service.base  # the current log's own size (as in the note)
        if have and row.size == size:
            return Round(self.idle_poll)
        old = row.size or 0
        if old > size:
            return self._failed(
                db, row, f"the witness has cosigned size {old}, beyond this log's latest {size}: "
                "another copy of this log's key is signing, or this database was restored from a backup",
                alarm=True,
            )  # fmt: skip
        reader = TileHashReader(self.service.tile, size, self.service.cache)
        proof = consistency_proof(reader, old, size) if old else []
        body = build_request(old, proof, latest.note)
        try:
            status, content = _post(http, witness.add_checkpoint_url, body)
        except httpx.HTTPError as e:
            return self._failed(db, row, f"unreachable: {type(e).__name__}: {e}")
        if status == 200:
            return self._cosigned(db, witness, row, latest.size, size, latest.note, content)
        if status == 409:
            try:
                known = parse_size_body(content)
            except LogFormatError as e:
                return self._failed(db, row, f"409 with a bad body: {e}")
            if known == old or known > size:
                return self._failed(
                    db, row, f"the witness holds a different tree: it answered 409 with size {known} to a "
                    f"request from size {old} for this log's size {size} (split view, or a "
                    "restored database)",
                    alarm=True,
                )  # fmt: skip
            log.info("witness %s is at size %d; resuming from there", witness.verifier.name, known)
            self._save(db, WitnessRow(row.witness, witness.url, known, row.failures, None, None, now))
            return Round(0, busy=True)
        excerpt = content[:300].decode("utf-8", "replace").strip()
        return self._failed(db, row, f"HTTP {status}: {excerpt}", alarm=status in (403, 422))

    def _cosigned(
        self,
        db: Database,
        witness: WitnessEndpoint,
        row: WitnessRow,
        stored_size: int,
        size: int,
        note: str,
        content: bytes,
    ) -> Round:
        """Keep the cosignature under the checkpoint's stored size; the witness's state counts
        in the log's own size."""
        text = parse_signed_checkpoint(note).note.text
        try:
            sigs = [s for s in parse_response(content, text) if witness.verifier.matches(s)]
            if not sigs:
                raise VerificationError("the answer holds no cosignature from this witness's key")
            stamps = [witness.verifier.verify(text, s) for s in sigs]
        except TlogError as e:
            return self._failed(db, row, f"bad cosignature answer: {e}", alarm=True)
        best = max(range(len(sigs)), key=lambda i: stamps[i])
        sig = sigs[best]
        line = f"{SIG_PREFIX}{sig.name} {b64encode(sig.key_id + sig.signature)}\n"
        now = datetime.now(UTC)
        with db.write() as conn:
            add_cosignature(conn, stored_size, witness.key, line, stamps[best])
            save_witness_row(conn, WitnessRow(row.witness, witness.url, size, 0, None, None, now))
        self.service.publish_cosigned(stored_size)
        return Round(0, busy=True)

    def _failed(self, db: Database, row: WitnessRow, error: str, *, alarm: bool = False) -> Round:
        failures = row.failures + 1
        delay = min(self.max_backoff, FIRST_BACKOFF * 2 ** min(failures - 1, 30))
        delay *= random.uniform(0.8, 1.2)
        now = datetime.now(UTC)
        (log.error if alarm else log.warning)(
            "witness %s: %s (attempt %d, next in %.1fs)", row.witness.split("+", 1)[0], error, failures, delay
        )
        self._save(
            db,
            WitnessRow(
                row.witness, row.url, row.size, failures, error[:1000], now + timedelta(seconds=delay), now
            ),
        )
        return Round(delay)

    @staticmethod
    def _save(db: Database, row: WitnessRow) -> None:
        with db.write() as conn:
            save_witness_row(conn, row)


def _post(http: httpx.Client, url: str, body: bytes) -> tuple[int, bytes]:
    """POST with the answer capped at MAX_BODY: a witness is an outside party."""
    with http.stream("POST", url, content=body, headers={"Content-Type": "text/plain"}) as response:
        chunks: list[bytes] = []
        total = 0
        for chunk in response.iter_bytes():
            total += len(chunk)
            if total > MAX_BODY:
                raise httpx.DecodingError(f"answer larger than {MAX_BODY} bytes")
            chunks.append(chunk)
        return response.status_code, b"".join(chunks)


class WitnessLag(Collector):
    """Per witness, read when /metrics is scraped: the size it last cosigned, how many entries
    and seconds it is behind the latest checkpoint, and its consecutive failures."""

    def __init__(self, db: Database, witnesses: list[WitnessEndpoint], base: int = 0) -> None:
        self.db = db
        self.witnesses = witnesses
        self.base = base  # the current log's first global index (key rotation)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        size = GaugeMetricFamily(
            "wefirst_witness_cosigned_size", "Log size the witness last cosigned", labels=["witness"]
        )
        entries = GaugeMetricFamily(
            "wefirst_witness_lag_entries", "Entries not yet cosigned by the witness", labels=["witness"]
        )
        seconds = GaugeMetricFamily(
            "wefirst_witness_lag_seconds",
            "Age of the oldest checkpoint the witness has not cosigned",
            labels=["witness"],
        )
        failures = GaugeMetricFamily(
            "wefirst_witness_failures", "Consecutive failed submissions", labels=["witness"]
        )
        if self.witnesses:
            now = datetime.now(UTC)
            with self.db.read() as conn:
                latest = latest_checkpoint(conn)
                rows = witness_rows(conn)
                top = latest.size - self.base if latest else 0
                for w in self.witnesses:
                    row = rows.get(w.key)
                    cosigned = row.size if row and row.size is not None else 0
                    behind = oldest_checkpoint_after(conn, self.base + cosigned) if cosigned < top else None
                    name = w.verifier.name
                    size.add_metric([name], cosigned)
                    entries.add_metric([name], max(0, top - cosigned))
                    seconds.add_metric([name], (now - behind).total_seconds() if behind else 0.0)
                    failures.add_metric([name], row.failures if row else 0)
        yield from (size, entries, seconds, failures)
