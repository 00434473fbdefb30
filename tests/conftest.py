"""Shared fixtures: a fresh temporary database per test, a movable clock, offscreen Qt."""

from __future__ import annotations

import os

# Before anything imports Qt: tests never need a display (CI has none).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.services.clinical import ClinicalService
from monitor.store.database import Database, open_database

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


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    database = open_database(path=db_path)
    yield database
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
