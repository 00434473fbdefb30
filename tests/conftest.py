"""Shared fixtures: a fresh temporary database per test, a movable clock, offscreen Qt."""

from __future__ import annotations

import os

# Before anything imports Qt: tests never need a display (CI has none).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from monitor.services.clinical import ClinicalService
from monitor.store.database import Database, open_database

# The PostgreSQL half of the store and service suites (issue 7) runs against this server when set,
# e.g. postgresql+psycopg://monitor@127.0.0.1:54329/monitor_test (tests/pg-test-cluster starts one).
PG_URL = os.environ.get("MONITOR_TEST_DATABASE_URL", "").strip()
# Suites that run on both backends; a test there that is about SQLite itself is marked sqlite_only.
BOTH_BACKENDS = ("tests/services/", "tests/store/")

# A fixed "now" that is not on a round hour, so time arithmetic mistakes show.
T0 = datetime(2026, 11, 20, 9, 0, 0, tzinfo=UTC)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = T0) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> datetime:
        self.current += timedelta(**kwargs)
        return self.current


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "monitor.sqlite"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: about the SQLite file itself; not run on PostgreSQL")
    if os.environ.get("CI") == "true" and not PG_URL:
        raise pytest.UsageError(
            "CI=true but MONITOR_TEST_DATABASE_URL is not set: the PostgreSQL half must run in CI "
            "(.ci/run starts a server with tests/pg-test-cluster)."
        )


def pytest_report_header(config: pytest.Config) -> str:
    if PG_URL:
        return f"PostgreSQL half: RUNNING against {make_url(PG_URL).render_as_string(hide_password=True)}"
    return (
        "PostgreSQL half: SKIPPED (set MONITOR_TEST_DATABASE_URL, e.g. with "
        '`eval "$(tests/pg-test-cluster start)"`, to run the store and service tests on PostgreSQL too)'
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    where = metafunc.definition.nodeid.replace("\\", "/")
    both = where.startswith(BOTH_BACKENDS) and metafunc.definition.get_closest_marker("sqlite_only") is None
    metafunc.parametrize("backend", ["sqlite", "postgresql"] if both and PG_URL else ["sqlite"])


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """One database for the run, migrated to the newest schema once; each test empties it (fast)."""
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"monitor_test_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    open_database(url=url).dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty_postgresql(database: Database) -> None:
    """Every table emptied and its ids restarted at 1, the schema (and its revision) kept."""
    with database.engine.begin() as connection:
        tables = connection.execute(
            text(
                "SELECT tablename FROM pg_tables "
                "WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
        ).scalars()
        listed = ", ".join(f'"{t}"' for t in tables)
        connection.execute(text(f"TRUNCATE {listed} RESTART IDENTITY CASCADE"))


@pytest.fixture
def db(backend: str, db_path: Path, request: pytest.FixtureRequest) -> Iterator[Database]:
    if backend == "sqlite":
        database = open_database(path=db_path)
        yield database
        database.dispose()
        return
    database = open_database(url=request.getfixturevalue("pg_database"))
    _empty_postgresql(database)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def service(db: Database, clock: FakeClock) -> ClinicalService:
    return ClinicalService(db, clock=clock, zone_name="Europe/Berlin")


@pytest.fixture
def nurse(service: ClinicalService) -> str:
    return service.ensure_user("rn.lee", "Robin Lee", "nurse").username


@pytest.fixture
def physician(service: ClinicalService) -> str:
    return service.ensure_user("dr.rao", "Dr Priya Rao", "physician").username


@pytest.fixture(autouse=True)
def own_preferences(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Display preferences (the theme) go to a folder of the test's own, never the developer's; the
    developer's own workstation settings (a theme, a ward server) do not leak into a test."""
    folder = tmp_path_factory.mktemp("preferences")
    monkeypatch.setenv("MONITOR_CONFIG_DIR", str(folder))
    for name in ("MONITOR_THEME", "MONITOR_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return folder


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """A test that leaves a thread running fails (design.md: fail on leaked threads)."""
    before = set(threading.enumerate())
    yield
    leaked = [
        t
        for t in threading.enumerate()
        if t not in before and t.is_alive() and not t.daemon and t is not threading.main_thread()
    ]
    for thread in leaked:
        thread.join(timeout=2)
    still = [t.name for t in leaked if t.is_alive()]
    assert not still, f"test leaked threads: {still}"
