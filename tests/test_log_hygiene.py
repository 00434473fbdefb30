"""Nothing about patients in the logs (issue 5): a realistic day, with failures, logs ids and kinds only.

The patient here is invented ("Alex Example", MRN K-1001). Every record that reaches any logger at
DEBUG (the app's own) or INFO (SQLAlchemy's statements) is checked for the name and the MRN, messages
and tracebacks alike. SQLAlchemy's DEBUG level is its result-row echo, a deliberate SQL trace that
prints rows by design; it is never on in the app (the CLI and GUI log at WARNING).
"""

from __future__ import annotations

import ast
import logging
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from monitor.cli.main import main
from monitor.services.clinical import ClinicalService
from monitor.services.errors import DatabaseProblem, ProblemKind
from monitor.store import database as store_database
from monitor.store.database import open_database
from monitor.store.errors import classify
from monitor.store.models import Patient
from monitor.ui import errors as ui_errors
from tests.conftest import FakeClock
from tests.helpers import admission, cows

NAME = "Alex Example"
MRN = "K-1001"
FORBIDDEN = (NAME, "Alex", "Example", MRN)
SRC = Path(__file__).resolve().parents[1] / "src" / "monitor"


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="monitor")
    caplog.set_level(logging.INFO, logger="sqlalchemy")  # every SQL statement sent
    yield caplog


def logged_text(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Each record as a log file would hold it: the message and any traceback."""
    formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    return [formatter.format(record) for record in caplog.records]


def assert_no_patient_data(caplog: pytest.LogCaptureFixture) -> None:
    for line in logged_text(caplog):
        for word in FORBIDDEN:
            assert word not in line, f"{word!r} reached the log: {line[:300]}"


def test_a_day_with_failures_logs_no_name_and_no_mrn(
    everything_logged: pytest.LogCaptureFixture,
    service: ClinicalService,
    nurse: str,
    physician: str,
    clock: FakeClock,
    db_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog = everything_logged
    # Charting as usual.
    episode = service.admit(nurse, admission(clock.now(), MRN, NAME, "3B"))
    clock.advance(minutes=10)
    first = service.record_assessment(nurse, episode, cows(clock.now(), sweating=2))
    clock.advance(minutes=30)
    service.mark_entered_in_error(nurse, first.id, f"Charted on {NAME}'s neighbour by mistake")
    service.refresh_alerts()
    service.audit_search(physician, mrn=MRN)
    service.write_audit_csv(physician, tmp_path / "audit.csv", mrn=MRN)

    # 1. A constraint error: a second patient row with the same MRN (the parameters hold the name).
    with pytest.raises(DatabaseProblem) as duplicate, service.db.write() as session:
        session.add(Patient(mrn=MRN, name=NAME, created_at=clock.now(), created_by_id=1))
    # 2. A value the database layer refuses while binding (its error text quotes every parameter).
    with pytest.raises(DatabaseProblem) as unbindable, service.db.write() as session:
        session.add(Patient(mrn="K-1002", name=NAME, created_at=datetime(2026, 11, 20, 9), created_by_id=1))
    # 3. A locked database: another program holds the write lock.
    monkeypatch.setattr(store_database, "BUSY_TIMEOUT_MS", 50)
    locked_db = open_database(path=db_path)
    holder = sqlite3.connect(db_path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        locked = ClinicalService(locked_db, clock=clock)
        with pytest.raises(DatabaseProblem) as busy:
            locked.admit(nurse, admission(clock.now(), "K-1003", NAME, "4A"))
        assert busy.value.kind is ProblemKind.BUSY
        # The same failure through the command line, which logs the problem's detail at DEBUG.
        export = [
            "--db",
            str(db_path),
            "--user",
            physician,
            "audit",
            "export",
            "--csv",
            str(tmp_path / "x.csv"),
        ]
        assert main([*export, "--mrn", MRN]) == 2
        assert "The database is busy" in capsys.readouterr().err
        locked_db.dispose()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert main(["--db", str(db_path), "alerts", "--mrn", "K-4040"]) == 2  # no such patient: refused
    assert (
        main(["--db", str(db_path), "audit", "export", "--csv", str(tmp_path / "y.csv"), "--mrn", "K-9999"])
        == 2
    )
    capsys.readouterr()

    # The screen shows words; the log gets the kind and a scrubbed detail.
    for problem in (duplicate.value, unbindable.value, busy.value):
        ui_errors.describe(problem)
    # 4. An unexpected error whose message happens to quote the patient: logged without the message.
    try:
        raise RuntimeError(f"could not draw the chart of {NAME} ({MRN})")
    except RuntimeError as exc:
        assert ui_errors.describe(exc).startswith("Something unexpected went wrong")

    lines = logged_text(caplog)
    assert sum("database problem" in line for line in lines) >= 3
    assert any("unexpected error: builtins.RuntimeError (message not logged)" in line for line in lines)
    assert any("test_log_hygiene.py" in line for line in lines)  # where it happened is kept
    assert any("INSERT INTO patients" in line for line in lines)  # the SQL was logged, its values not
    assert "IntegrityError" in duplicate.value.detail and "UNIQUE constraint failed: patients.mrn" in (
        duplicate.value.detail
    )
    assert unbindable.value.detail == "StatementError(ValueError)"
    assert_no_patient_data(caplog)


def test_a_postgresql_duplicate_key_is_logged_without_the_key() -> None:
    class UniqueViolation(Exception):
        sqlstate = "23505"

    driver = UniqueViolation(
        'duplicate key value violates unique constraint "uq_patients_mrn"\n'
        f"DETAIL:  Key (mrn)=({MRN}) already exists."
    )
    wrapped = IntegrityError("INSERT INTO patients ...", {"mrn": MRN, "name": NAME}, driver)
    problem = classify(wrapped)
    assert problem.detail == "IntegrityError(UniqueViolation): SQLSTATE 23505"
    assert all(word not in problem.message for word in FORBIDDEN)


def test_an_error_text_from_the_engine_hides_the_parameters(
    service: ClinicalService, nurse: str, clock: FakeClock
) -> None:
    service.admit(nurse, admission(clock.now() - timedelta(minutes=1), MRN, NAME))
    with service.db.engine.connect() as connection, pytest.raises(IntegrityError) as failure:
        connection.execute(
            text("INSERT INTO patients (mrn, name, created_at, created_by_id) VALUES (:mrn, :name, :at, 1)"),
            {"mrn": MRN, "name": NAME, "at": "2026-11-20 09:00:00"},
        )
    assert "parameters hidden" in str(failure.value)
    assert all(word not in str(failure.value) for word in FORBIDDEN)


LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical", "log"}
PATIENT_WORDS = ("mrn", "patient", "name", "birth")


def test_no_logging_call_in_the_code_passes_patient_fields() -> None:
    """A static look at every log call: no argument reads a patient's name, MRN or birth date."""
    offenders = []
    calls = 0
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            target = node.func.value
            if node.func.attr not in LOG_METHODS or not (
                isinstance(target, ast.Name) and target.id in {"log", "logger", "logging"}
            ):
                continue
            calls += 1
            for argument in [*node.args, *(k.value for k in node.keywords)]:
                source = ast.unparse(argument).replace("__name__", "").lower()
                if any(word in source for word in PATIENT_WORDS):
                    offenders.append(f"{path.relative_to(SRC)}:{node.lineno}: {source}")
    assert calls >= 4  # the scan found the log calls (database, CLI, UI errors)
    assert offenders == []
