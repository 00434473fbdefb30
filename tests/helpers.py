"""Builders for test data (invented patients only)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text

from monitor.domain.scales import COWS
from monitor.services.views import AdmissionRequest, AssessmentInput, SubstanceInput
from monitor.store.database import Database


def all_items(value: int = 0, **overrides: int) -> dict[str, int | None]:
    """Every COWS item at `value` (must be allowed for all, i.e. 0), with overrides by key."""
    items: dict[str, int | None] = {key: value for key in COWS.keys}
    items.update(overrides)
    return items


def cows(taken_at: datetime, pulse_bpm: int | None = None, **overrides: int) -> AssessmentInput:
    return AssessmentInput(taken_at=taken_at, items=all_items(0, **overrides), pulse_bpm=pulse_bpm)


def admission(
    admitted_at: datetime,
    mrn: str = "K-1001",
    name: str = "Alex Example",
    bed: str = "3B",
    substances: tuple[SubstanceInput, ...] = (),
) -> AdmissionRequest:
    return AdmissionRequest(mrn=mrn, name=name, admitted_at=admitted_at, bed=bed, substances=substances)


def raw_rows(db: Database, statement: str, **params: object) -> list[tuple[object, ...]]:
    """Plain SQL beside the services (another program's view of the database), on either backend."""
    with db.engine.begin() as connection:
        result = connection.execute(text(statement), params)
        return [tuple(row) for row in result] if result.returns_rows else []


def raw_count(db: Database, table: str, where: str = "1=1") -> int:
    [(count,)] = raw_rows(db, f"SELECT count(*) FROM {table} WHERE {where}")
    return int(count)  # type: ignore[call-overload]
