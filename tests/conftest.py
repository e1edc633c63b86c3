"""Shared fixtures: a real, migrated database (SQLite file, or the PostgreSQL server named by
WEFIRST_TEST_DATABASE_URL in a schema of its own), the app, a client and an admin key.

Each test starts from empty tables; the schema is migrated once per session through Alembic,
exactly as `wefirst db upgrade` does it."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, inspect, text

from wefirst.app import create_app
from wefirst.auth import console_users
from wefirst.auth.keys import create_key
from wefirst.settings import Settings
from wefirst.store import migrate
from wefirst.store.db import Database
from wefirst.store.schema import metadata
from wefirst.web import sessions

from factories import HISTORY_WINDOW_HOURS

# Hypothesis checks properties, not speed: its per-example deadline (200 ms) and its "too slow"
# health check read the clock, and fail on a busy machine although the property holds.
hypothesis_settings.register_profile("wefirst", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("wefirst")

# Console passwords are hashed with argon2id at the library's recommended cost (64 MiB, three
# passes: ~70 ms each, ~0.7 s on a busy machine), hundreds of times a run. The tests check who
# may sign in, not what a hash costs: in this process they use the same algorithm at its lowest
# cost. tests/security/test_password_cost.py checks the product's parameters in a fresh process.
console_users.HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
setattr(sessions, "HASHER", console_users.HASHER)  # noqa: B010 (imported there by name)

PG_URL = os.environ.get("WEFIRST_TEST_DATABASE_URL")
# Servers and workers the tests start (as processes too) run with test secrets and http base
# URLs: development mode lets them start past the production checklist, which its own tests
# (tests/security/test_production_checklist.py) run with development off.
os.environ.setdefault("WEFIRST_DEVELOPMENT", "true")
# The app's upkeep pass would sweep the replayed March-2026 history in the middle of a test (in
# apps and server processes alike); its own tests (tests/test_maintenance.py) turn it on.
os.environ.setdefault("WEFIRST_MAINTENANCE_INTERVAL_SECONDS", "0")
# pytest-xdist workers inherit COLUMNS=80; rich consoles made at import time would keep that width
# for every CLI run of the session, so a test's own COLUMNS (wide tables) would be ignored.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.pop("COLUMNS", None)
# The voice pipeline embeds unsure brand posts by default (tens per second): no test may do
# that by accident; the cascade's own tests pass a fake embedder.
os.environ.setdefault("WEFIRST_VOICE_EMBEDDINGS", "false")
REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass, run only the tests that reach a database.

    A test that asks for no database fixture (directly or through `db`, `app`, `client`,
    `settings`…) runs the same code whatever WEFIRST_TEST_DATABASE_URL says: the SQLite pass has
    already run it, and running it again would only double the suite's time."""
    if not PG_URL:
        return
    reaches = ["database_url" in getattr(item, "fixturenames", ()) for item in items]
    if not all(reaches):
        config.hook.pytest_deselected(items=[item for item, r in zip(items, reaches, strict=True) if not r])
        items[:] = [item for item, r in zip(items, reaches, strict=True) if r]


def _pg_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}"


@contextmanager
def _own_schema(prefix: str) -> Iterator[str]:
    """A PostgreSQL schema of this process's own on the test server, dropped afterwards: the
    URL that puts it first on the search path."""
    assert PG_URL
    schema = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _pg_schema_url(PG_URL, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not PG_URL:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'wefirst-test.db'}"
        return
    with _own_schema("t") as url:
        yield url


@pytest.fixture(scope="session")
def _migrated(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    settings = Settings(database_url=database_url, data_dir=tmp_path_factory.mktemp("data"))
    db = Database(settings)
    migrate.upgrade(db)
    yield db
    db.dispose()


def _empty_tables(db: Database) -> None:
    with db.engine.begin() as conn:
        present = set(inspect(conn).get_table_names())
        names = [t.name for t in reversed(metadata.sorted_tables) if t.name in present]
        if db.is_sqlite:
            for name in names:
                conn.execute(text(f'DELETE FROM "{name}"'))
        else:
            # TRUNCATE costs per table (new files for each: ~1 s for all of them, per test);
            # DELETE the rows of the tables the last test wrote to (children first), then rewind
            # every sequence it advanced: the state TRUNCATE … RESTART IDENTITY would leave.
            probe = " UNION ALL ".join(f"SELECT '{n}' WHERE EXISTS (SELECT 1 FROM \"{n}\")" for n in names)
            used: set[str] = set(conn.execute(text(probe)).scalars())
            for name in names:
                if name in used:
                    conn.execute(text(f'DELETE FROM "{name}"'))
            conn.execute(
                text(
                    "SELECT setval(format('%I.%I', schemaname, sequencename), 1, false) FROM pg_sequences"
                    " WHERE schemaname = current_schema() AND last_value IS NOT NULL"
                )
            )


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        base_url="http://testserver",
        secret_key="test-secret-" + "x" * 32,
        data_dir=tmp_path,
        # Tests drive webhook workers themselves (often on simulated clocks); the tests of the
        # app's own worker turn it on.
        webhooks_worker=False,
        # The shared fixtures replay a history dated March 2026 through the API; the claim
        # window itself is tested at its default in tests/api/test_api_claims.py.
        claims_max_age_hours=HISTORY_WINDOW_HOURS,
        # Their receivers (webhooks, feeds, Mastodon fakes) listen on loopback over http; the
        # outbound guard's own tests (tests/security) use the production defaults.
        outbound_allowed_networks="127.0.0.0/8,::1/128",
        outbound_https_only=False,
    )


@pytest.fixture
def db(_migrated: Database) -> Database:
    _empty_tables(_migrated)
    return _migrated


@pytest.fixture
def fresh(database_url: str, tmp_path: Path) -> Iterator[Settings]:
    """An empty, unmigrated database of this test's own, for migration tests (the session's is
    at the head already): a SQLite file, or a PostgreSQL schema dropped afterwards."""
    if not PG_URL:
        yield Settings(
            database_url=f"sqlite:///{tmp_path / 'old.db'}", data_dir=tmp_path, tlog_sequencer=False
        )
        return
    with _own_schema("m") as url:
        yield Settings(database_url=url, data_dir=tmp_path, tlog_sequencer=False)


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, db=db)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def admin_key(db: Database) -> str:
    with db.write() as conn:
        secret, _ = create_key(conn, "admin")
    return secret


@pytest.fixture(scope="session", autouse=True)
def _shared_playwright_stops() -> Iterator[None]:
    """Stops the one Playwright that browser tests share (tests/browser.py), if one started."""
    yield
    from browser import stop_shared_playwright

    stop_shared_playwright()
