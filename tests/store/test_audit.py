"""The audit log: one row per action naming who did it, with before/after values; tamper-evident;
committed together with the record it describes, or not at all."""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NoReturn

import pytest
from sqlalchemy import func, select

from monitor.services.clinical import ClinicalService
from monitor.services.errors import Conflict, ServiceError, ValidationError
from monitor.services.views import AssessmentInput, AssessmentView, AuditView, SubstanceInput
from monitor.store import audit
from monitor.store.database import Database
from monitor.store.models import AuditEntry, as_dict
from tests.conftest import T0, FakeClock
from tests.helpers import admission, all_items, cows, raw_count, raw_rows

HOUR = timedelta(hours=1)


@dataclass
class Ward:
    service: ClinicalService
    nurse: str
    clock: FakeClock
    db_path: Path
    episode: int
    patient: int
    first: AssessmentView  # total 6: sweating 2, gi_upset 2, yawning 2


@pytest.fixture
def ward(service: ClinicalService, nurse: str, clock: FakeClock, db_path: Path) -> Ward:
    episode = service.admit(nurse, admission(T0 - HOUR))  # no routine-overdue alert before the first COWS
    first = service.record_assessment(
        nurse, episode, cows(T0 - timedelta(minutes=30), sweating=2, gi_upset=2, yawning=2)
    )
    assert first.total == 6
    clock.advance(minutes=7)
    return Ward(service, nurse, clock, db_path, episode, service.episode(episode).patient_id, first)


def entries_after(service: ClinicalService, last_id: int) -> list[AuditView]:
    return sorted((e for e in service.audit_entries() if e.id > last_id), key=lambda e: e.id)


def last_audit_id(service: ClinicalService) -> int:
    entries = service.audit_entries(limit=1)
    return entries[0].id if entries else 0


def tamper(db: Database, statement: str) -> None:
    """Change the audit log behind the app's back, as someone with the database would: first switch
    off the append-only triggers (SQLite: drop them; PostgreSQL: disable them), then write."""
    if db.engine.dialect.name == "sqlite":
        switch_off = ["DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"]
    else:
        switch_off = ["ALTER TABLE audit_log DISABLE TRIGGER USER"]
    for step in [*switch_off, statement]:
        raw_rows(db, step)


# --- one row per action ---------------------------------------------------------------------------------


def _admit_new(w: Ward) -> object:
    return w.service.admit(w.nurse, admission(T0 - 2 * HOUR, mrn="K-2002", name="Sam Sample", bed="4A"))


def _readmit(w: Ward) -> object:
    w.service.discharge(w.nurse, w.episode, w.clock.now())  # after the stay's last record
    return w.service.admit(w.nurse, admission(w.clock.now()))


def _record(w: Ward) -> object:
    return w.service.record_assessment(w.nurse, w.episode, cows(w.clock.now(), tremor=1))


def _amend(w: Ward) -> object:
    return w.service.amend_assessment(
        w.nurse,
        w.first.id,
        cows(w.first.taken_at, sweating=2, gi_upset=2, yawning=2, tremor=4),
        "tremor missed",
    )


def _void(w: Ward) -> object:
    return w.service.mark_entered_in_error(w.nurse, w.first.id, "wrong patient")


def _discharge(w: Ward) -> object:
    return w.service.discharge(w.nurse, w.episode, w.clock.now(), "to outpatient care")


def _create_user(w: Ward) -> object:
    return w.service.ensure_user("rn.kim", "Kim Park", "nurse")


@pytest.mark.parametrize(
    ("act", "expected", "who"),
    [
        (_admit_new, [("patient.create", "patient"), ("episode.admit", "episode")], "rn.lee"),
        (_readmit, [("episode.discharge", "episode"), ("episode.admit", "episode")], "rn.lee"),
        (_record, [("assessment.record", "assessment")], "rn.lee"),
        (_amend, [("assessment.amend", "assessment")], "rn.lee"),
        (_void, [("assessment.entered_in_error", "assessment")], "rn.lee"),
        (_discharge, [("episode.discharge", "episode")], "rn.lee"),
        (_create_user, [("user.create", "user")], "rn.kim"),
    ],
    ids=["admit", "readmit", "record", "amend", "entered-in-error", "discharge", "user"],
)
def test_each_write_appends_one_row_per_action_naming_the_user(
    ward: Ward, act: Callable[[Ward], object], expected: list[tuple[str, str]], who: str
) -> None:
    before = last_audit_id(ward.service)
    act(ward)
    new = entries_after(ward.service, before)
    assert [(e.action, e.entity) for e in new] == expected
    assert {e.username for e in new} == {who}
    assert {e.at for e in new} == {ward.clock.now()}
    assert [e.id for e in new] == list(range(before + 1, before + 1 + len(expected)))


def test_admission_rows_hold_the_patient_and_the_substances(
    service: ClinicalService, nurse: str, clock: FakeClock
) -> None:
    kratom_last_use = datetime(2026, 11, 19, 10, 0, tzinfo=timezone(timedelta(hours=7)))  # 03:00 UTC
    episode = service.admit(
        nurse,
        admission(
            T0 - HOUR,
            substances=(SubstanceInput("kratom", kratom_last_use, amount="4 g", route="oral"),),
        ),
    )
    patient = service.episode(episode).patient_id
    rows = entries_after(service, 1)
    assert [(e.action, e.entity_id, e.patient_id) for e in rows] == [
        ("patient.create", patient, patient),
        ("episode.admit", episode, patient),
    ]
    assert json.loads(rows[0].after_json) == {
        "mrn": "K-1001",
        "name": "Alex Example",
        "birth_date": None,
        "sex": None,
    }
    assert json.loads(rows[0].before_json) is None
    after = json.loads(rows[1].after_json)
    assert after["admitted_at"] == "2026-11-20T08:00:00+00:00"
    assert after["bed"] == "3B"
    assert after["substances"] == [
        {"substance": "kratom", "last_use_at": "2026-11-19T03:00:00+00:00", "amount": "4 g", "route": "oral"}
    ]


def test_record_row_holds_the_scores_and_the_late_reason(ward: Ward) -> None:
    before = last_audit_id(ward.service)
    late = ward.service.record_assessment(
        ward.nurse,
        ward.episode,
        AssessmentInput(
            taken_at=ward.clock.now() - 2 * HOUR,
            items=all_items(0, resting_pulse=1, restlessness=5),
            pulse_bpm=96,
            late_reason="paper chart during the fire drill",
        ),
    )
    (row,) = entries_after(ward.service, before)
    assert row.action == "assessment.record"
    assert row.entity_id == late.id
    assert row.patient_id == ward.patient
    assert row.reason == "paper chart during the fire drill"
    after = json.loads(row.after_json)
    assert after["total"] == 6
    assert after["pulse_bpm"] == 96
    assert after["items"]["resting_pulse"] == 1
    assert after["items"]["restlessness"] == 5
    assert sum(after["items"].values()) == 6
    assert after["version"] == 1
    assert after["taken_at"] == "2026-11-20T07:07:00+00:00"


def test_amendment_row_holds_total_6_before_and_10_after(ward: Ward) -> None:
    before = last_audit_id(ward.service)
    amended = ward.service.amend_assessment(
        ward.nurse,
        ward.first.id,
        cows(ward.first.taken_at, sweating=2, gi_upset=2, yawning=2, tremor=4),
        "tremor missed",
    )
    (row,) = entries_after(ward.service, before)
    assert (row.action, row.entity_id, row.reason, row.username) == (
        "assessment.amend",
        amended.id,
        "tremor missed",
        "rn.lee",
    )
    old, new = json.loads(row.before_json), json.loads(row.after_json)
    assert (old["total"], new["total"]) == (6, 10)
    assert (old["version"], new["version"]) == (1, 2)
    assert (old["id"], new["id"]) == (ward.first.id, amended.id)
    assert (old["items"]["tremor"], new["items"]["tremor"]) == (0, 4)
    assert old["items"]["sweating"] == new["items"]["sweating"] == 2
    assert len(old["items"]) == len(new["items"]) == 11


def test_entered_in_error_and_discharge_rows_hold_before_and_after(ward: Ward) -> None:
    before = last_audit_id(ward.service)
    ward.service.mark_entered_in_error(ward.nurse, ward.first.id, "wrong patient")
    ward.service.discharge(ward.nurse, ward.episode, T0, "to outpatient care")
    void, discharge = entries_after(ward.service, before)
    assert void.reason == "wrong patient"
    assert (json.loads(void.before_json), json.loads(void.after_json)) == (
        {"entered_in_error": False},
        {"entered_in_error": True},
    )
    assert json.loads(discharge.before_json) == {"discharged_at": None}
    assert json.loads(discharge.after_json) == {
        "discharged_at": "2026-11-20T09:00:00+00:00",
        "note": "to outpatient care",
    }


def test_refused_writes_leave_no_audit_row(ward: Ward) -> None:
    service, nurse = ward.service, ward.nurse
    before = last_audit_id(service)
    items = all_items()
    items["tremor"] = None
    with pytest.raises(ValidationError):
        service.record_assessment(
            nurse, ward.episode, AssessmentInput(taken_at=ward.clock.now(), items=items)
        )
    with pytest.raises(ServiceError):
        service.record_assessment("nobody", ward.episode, cows(ward.clock.now()))
    with pytest.raises(ValidationError):
        service.amend_assessment(nurse, ward.first.id, cows(ward.first.taken_at), "  ")
    service.amend_assessment(nurse, ward.first.id, cows(ward.first.taken_at), "all zero")
    with pytest.raises(Conflict):
        service.amend_assessment(nurse, ward.first.id, cows(ward.first.taken_at), "again")
    service.ensure_user(nurse)  # exists already: nothing to audit
    assert [e.action for e in entries_after(service, before)] == ["assessment.amend"]


def test_audit_refuses_a_naive_time(db: Database, nurse: str, service: ClinicalService) -> None:
    rows = len(service.audit_entries())
    with pytest.raises(ValueError, match="naive"), db.write() as session:
        audit.append(
            session, at=datetime(2026, 11, 20, 9, 0), user_id=1, action="x", entity="y", entity_id=None
        )
    assert len(service.audit_entries()) == rows


# --- the chain --------------------------------------------------------------------------------------------


@pytest.fixture
def busy_day(ward: Ward) -> Ward:
    """Ten audit rows: user, admission (2), record, record, amend, void, second admission (2), discharge."""
    service, nurse = ward.service, ward.nurse
    second = service.record_assessment(nurse, ward.episode, cows(ward.clock.now(), tremor=2))
    service.amend_assessment(
        nurse, ward.first.id, cows(ward.first.taken_at, sweating=2, gi_upset=2, yawning=2, tremor=4), "tremor"
    )
    service.mark_entered_in_error(nurse, second.id, "wrong patient")
    other = service.admit(nurse, admission(T0 - HOUR, mrn="K-2002", name="Sam Sample"))
    service.discharge(nurse, other, ward.clock.now())
    assert last_audit_id(service) == 10
    return ward


def test_chain_of_a_busy_day_verifies(busy_day: Ward) -> None:
    report = busy_day.service.verify_audit_chain()
    assert report.intact
    assert (report.rows_checked, report.first_broken_id, report.problem) == (10, None, "")


def test_empty_log_verifies(db: Database) -> None:
    with db.read() as session:
        report = audit.verify_chain(session)
    assert (report.rows_checked, report.intact) == (0, True)


def test_each_row_links_to_the_hash_of_the_one_before(busy_day: Ward, db: Database) -> None:
    with db.read() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert rows[0].prev_hash == audit.GENESIS_HASH
    for earlier, later in itertools.pairwise(rows):
        assert later.prev_hash == earlier.row_hash
    assert len({r.row_hash for r in rows}) == 10


@pytest.mark.parametrize(
    "change",
    [
        "reason = 'nothing to see'",
        "before_json = replace(before_json, '\"total\": 6', '\"total\": 2')",
        "entity_id = 1000 + entity_id",
        "at = '2026-11-20 08:00:00.000000'",
    ],
)
def test_an_edited_row_is_named_as_the_first_broken(busy_day: Ward, change: str) -> None:
    # Row 6 is the amendment (before total 6, after total 10).
    assert next(e for e in busy_day.service.audit_entries() if e.id == 6).action == "assessment.amend"
    tamper(
        busy_day.service.db, f"UPDATE audit_log SET {change} WHERE id = 6"
    )  # what someone with the database would do
    report = busy_day.service.verify_audit_chain()
    assert not report.intact
    assert report.first_broken_id == 6
    assert "hash" in report.problem


def test_re_hashing_an_edited_row_breaks_the_link_of_the_next(busy_day: Ward, db: Database) -> None:
    with db.read() as session:
        entry = session.get(AuditEntry, 6)
        assert entry is not None
        session.expunge(entry)
    entry.reason = "nothing to see"
    forged = audit._row_hash(as_dict(entry))
    tamper(
        busy_day.service.db,
        f"UPDATE audit_log SET reason = 'nothing to see', row_hash = '{forged}' WHERE id = 6",
    )  # what someone with the database would do
    report = busy_day.service.verify_audit_chain()
    assert report.first_broken_id == 7
    assert "previous row" in report.problem


@pytest.mark.parametrize(("deleted", "named"), [(5, 6), (1, 2)])
def test_a_deleted_row_shows_as_a_gap(busy_day: Ward, deleted: int, named: int) -> None:
    tamper(busy_day.service.db, f"DELETE FROM audit_log WHERE id = {deleted}")
    report = busy_day.service.verify_audit_chain()
    assert report.first_broken_id == named
    assert f"row {deleted} is missing" in report.problem


def test_appending_continues_the_chain_after_a_check(busy_day: Ward) -> None:
    busy_day.service.ensure_user("rn.kim")
    report = busy_day.service.verify_audit_chain()
    assert (report.rows_checked, report.intact) == (11, True)


# --- same transaction -----------------------------------------------------------------------------------


def table_counts(db: Database) -> dict[str, Any]:
    tables = [
        "users",
        "patients",
        "episodes",
        "substance_uses",
        "assessments",
        "assessment_items",
        "assessment_voids",
        "audit_log",
    ]
    counts: dict[str, Any] = {t: raw_count(db, t) for t in tables}
    counts["open episodes"] = raw_count(db, "episodes", "discharged_at IS NULL")
    return counts


@pytest.mark.parametrize("act", [_admit_new, _record, _amend, _void, _discharge, _create_user])
def test_record_and_audit_row_commit_together_or_not_at_all(
    ward: Ward, monkeypatch: pytest.MonkeyPatch, act: Callable[[Ward], object]
) -> None:
    before = table_counts(ward.service.db)
    in_transaction: list[int] = []
    real_append = audit.append

    def append_then_power_cut(session: Any, **kwargs: Any) -> NoReturn:
        real_append(session, **kwargs)
        session.flush()
        in_transaction.append(session.scalar(select(func.count()).select_from(AuditEntry)))
        raise RuntimeError("power cut right after the audit row")

    monkeypatch.setattr(audit, "append", append_then_power_cut)
    with pytest.raises(RuntimeError, match="power cut"):
        act(ward)
    # The audit row had been written inside the transaction ...
    assert in_transaction == [before["audit_log"] + 1]
    # ... and it went with the record: neither is in the file.
    assert table_counts(ward.service.db) == before
    monkeypatch.undo()
    assert ward.service.verify_audit_chain().intact
