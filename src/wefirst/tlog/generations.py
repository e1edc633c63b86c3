"""The logs a deployment has run, oldest first: the first one (origin and key from settings
until the first rotation records it) and one per key rotation (table `tlog_logs`).

Entries keep one global index across logs, so the queue and the sequencer never restart: log
``n``'s entry ``i`` is global index ``base + i``; its checkpoints and cosignatures are stored
under the global size ``base + size`` (the signed note says ``size``). Log ``n`` ≥ 2 is served
under ``/log/<n>/`` (its origin is the first origin plus ``/<n>``), its hash tiles are stored
under the path prefix ``<n>/``, and a directory log keeps it in the subfolder ``<n>/``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, inspect, select

from wefirst.store.tables_tlog import tlog_logs
from wefirst.tlog.note import Verifier, parse_verifier_key


@dataclass(frozen=True)
class Generation:
    number: int
    origin: str
    base: int  # global index of this log's entry 0
    end: int | None  # global size at which it ended (the next log's base); None while current
    key: Verifier | None  # None for a first log never rotated: its key comes from settings
    key_path: Path | None

    @property
    def prefix(self) -> str:
        """Below /log/ in URLs, and in front of stored tile paths: "" or "<n>/"."""
        return "" if self.number == 1 else f"{self.number}/"

    @property
    def is_current(self) -> bool:
        return self.end is None

    def covers(self, index: int) -> bool:
        return self.base <= index and (self.end is None or index < self.end)


def next_origin(first_origin: str, number: int) -> str:
    return f"{first_origin}/{number}"


def load_generations(conn: Connection, first_origin: str) -> list[Generation]:
    rows: list[tuple[int, str, str, str, int]] = []
    if inspect(conn).has_table("tlog_logs"):
        rows = [
            (int(r.generation), r.origin, r.key, r.key_path, int(r.base))
            for r in conn.execute(select(tlog_logs).order_by(tlog_logs.c.generation))
        ]
    if not rows or rows[0][0] != 1:
        # Never rotated: the first log, its origin and key from settings (key None here).
        return [Generation(1, first_origin, 0, None, None, None)]
    gens: list[Generation] = []
    for i, (number, origin, key, key_path, base) in enumerate(rows):
        end = rows[i + 1][4] if i + 1 < len(rows) else None
        gens.append(Generation(number, origin, base, end, parse_verifier_key(key), Path(key_path)))
    return gens
