"""The one database-backed rate limiter: exact sliding windows, all-or-nothing over several
budgets, budgets returned on rollback, no overshoot under threads or across processes, and
pruning of what no window can see."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from wefirst import ratelimit
from wefirst.errors import TooManyRequests
from wefirst.ratelimit import Limit
from wefirst.store.db import Database
from wefirst.store.tables_shared import rate_limit_hits

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def lim(key: str = "k1", limit: int = 3, window: timedelta = HOUR, scope: str = "test.a") -> Limit:
    return Limit(scope, key, limit, window, "your network")


def take(db: Database, limits: list[Limit], at: datetime) -> bool:
    try:
        with db.write() as conn:
            ratelimit.take(conn, limits, at)
    except TooManyRequests:
        return False
    return True


def rows(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(rate_limit_hits)).scalar_one())


def test_at_most_n_per_sliding_window_and_exact_retry_after(db: Database) -> None:
    assert [take(db, [lim()], T0 + timedelta(minutes=m)) for m in (0, 10, 20)] == [True] * 3
    with pytest.raises(TooManyRequests) as refused, db.write() as conn:
        ratelimit.take(conn, [lim()], T0 + timedelta(minutes=30), action="open")
    assert refused.value.extra["retry_after"] == 30 * 60 + 1  # the 12:00 hit leaves the window at 13:00
    assert "too many open requests from your network: at most 3 per hour" in str(refused.value)
    # a sliding window: at 13:00 the first hit has left, the other two have not
    assert not take(db, [lim()], T0 + HOUR - timedelta(seconds=1))
    assert take(db, [lim()], T0 + HOUR)
    assert not take(db, [lim()], T0 + HOUR + timedelta(minutes=5))
    # other keys and other scopes have budgets of their own
    assert take(db, [lim("k2")], T0 + timedelta(minutes=30))
    assert take(db, [lim(scope="test.b")], T0 + timedelta(minutes=30))


def test_several_budgets_are_spent_all_or_none(db: Database) -> None:
    email, net = lim("email", 5), lim("net", 1, scope="test.net")
    assert take(db, [email, net], T0)
    before = rows(db)
    assert not take(db, [email, net], T0 + timedelta(minutes=1))  # the network refuses
    assert rows(db) == before  # ... and the address's budget was not spent either
    with db.read() as conn:
        assert ratelimit.remaining(conn, email, T0 + timedelta(minutes=1)) == 4


def test_a_rolled_back_request_gets_its_budget_back(db: Database) -> None:
    class WorkFailed(Exception):
        pass

    def guarded_work() -> None:
        with db.write() as conn:
            ratelimit.take(conn, [lim(limit=1)], T0)
            raise WorkFailed  # the guarded work fails after the limiter said yes

    with pytest.raises(WorkFailed):
        guarded_work()
    assert take(db, [lim(limit=1)], T0)


def test_give_back_returns_one_hit(db: Database) -> None:
    assert take(db, [lim(limit=2)], T0)
    assert take(db, [lim(limit=2)], T0 + timedelta(seconds=1))
    with db.write() as conn:
        assert ratelimit.give_back(conn, lim(limit=2), T0 + timedelta(seconds=1)) == 1
        assert ratelimit.give_back(conn, lim(limit=2), T0 + timedelta(seconds=9)) == 0
    assert take(db, [lim(limit=2)], T0 + timedelta(seconds=2))
    assert not take(db, [lim(limit=2)], T0 + timedelta(seconds=3))


def test_expired_hits_are_pruned(db: Database) -> None:
    for i in range(3):
        assert take(db, [lim(f"gone{i}", window=timedelta(minutes=1))], T0)
    assert take(db, [lim("live", window=HOUR)], T0)
    # a key coming back drops its own expired rows on the way
    assert take(db, [lim("gone0", window=timedelta(minutes=1))], T0 + timedelta(minutes=2))
    assert rows(db) == 4
    with db.write() as conn:
        assert ratelimit.prune(conn, T0 + timedelta(minutes=2)) == 2  # gone1, gone2
    assert rows(db) == 2  # the live hour-long hit and gone0's new one


def test_no_overshoot_with_threads(db: Database) -> None:
    """Sixteen threads race for a budget of 10: exactly 10 win (both databases)."""
    budget = lim("shared", 10)
    start = threading.Barrier(16)
    won: list[bool] = []
    guard = threading.Lock()

    def worker() -> None:
        start.wait()
        for _ in range(3):
            ok = take(db, [budget], T0)
            with guard:
                won.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(won) == 10
    assert rows(db) == 10


_RACER = textwrap.dedent(
    """
    import sys
    import time
    from datetime import UTC, datetime, timedelta
    from wefirst import ratelimit
    from wefirst.errors import TooManyRequests
    from wefirst.settings import Settings
    from wefirst.store.db import Database

    db = Database(Settings(database_url=sys.argv[1]))
    go = __import__("pathlib").Path(sys.argv[2])
    limit = ratelimit.Limit("test.proc", "shared", 25, timedelta(hours=1), "your network")
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    print("ready", flush=True)
    while not go.exists():  # both start together, so their tries interleave
        time.sleep(0.001)
    won = 0
    for _ in range(40):
        try:
            with db.write() as conn:
                ratelimit.take(conn, [limit], at)
            won += 1
        except TooManyRequests:
            pass
    print(won, flush=True)
    """
)


@pytest.mark.slow
def test_no_overshoot_across_processes(db: Database, tmp_path: Path) -> None:
    """Two processes (two engines, two connection pools) share one budget of 25 through the
    database: together they win exactly 25 of their 80 tries."""
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _RACER, db.url, str(go)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for p in procs:
        assert p.stdout is not None
        assert p.stdout.readline().strip() == "ready"
    go.touch()
    wins = []
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0
        wins.append(int(out.strip()))
    assert sum(wins) == 25
    assert rows(db) == 25
