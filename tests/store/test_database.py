"""Opening the clinic database: file safety, SQLite settings, transactions, migrations, refusals.

Every refusal must reach the nurse as a plain category with advice (design.md, Storage) and must
leave the file as it was.
"""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
import stat
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import event, func, select, text
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.exc import OperationalError as SAOperationalError
from sqlalchemy.orm import Session

from monitor.services.clinical import ClinicalService
from monitor.store import database, migrations
from monitor.store.database import SQLITE_HEADER, Database, is_network_filesystem, open_database
from monitor.store.errors import DatabaseProblem, ProblemKind, classify
from monitor.store.models import Assessment, User, UTCDateTime
from tests.conftest import T0, FakeClock
from tests.helpers import admission, cows

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
SQL_WORDS = ("SELECT", "INSERT", "UPDATE", "DELETE", "PRAGMA", "BEGIN", "CREATE", "DROP", "alembic")

# About the SQLite file itself (pragmas, WAL, file modes, locking, corruption); PostgreSQL has its own
# checks in tests/store/test_postgresql.py.
pytestmark = pytest.mark.sqlite_only


def assert_plain(problem: DatabaseProblem) -> None:
    """What the nurse reads: a sentence and advice, no traceback, no driver names, no SQL."""
    for shown in (problem.message, str(problem)):
        assert shown.strip()
        assert "Traceback" not in shown
        assert "sqlite3" not in shown.lower()
        assert "Error:" not in shown
        for word in SQL_WORDS:
            assert word not in shown, f"{word!r} shown to the user: {shown!r}"
    assert problem.advice in problem.message


def fingerprint(path: Path) -> tuple[str, int, int]:
    """Content hash, modification time and size: 'unchanged' means all three are."""
    stat = path.stat()
    return hashlib.sha256(path.read_bytes()).hexdigest(), stat.st_mtime_ns, stat.st_size


def raw(path: Path, timeout: float = 5.0) -> sqlite3.Connection:
    """A plain sqlite3 connection in autocommit mode: another program, or another workstation."""
    return sqlite3.connect(path, isolation_level=None, timeout=timeout)


def add_user_raw(connection: sqlite3.Connection, username: str) -> None:
    connection.execute(
        "INSERT INTO users (username, display_name, role, active, is_workstation_default, created_at) "
        "VALUES (?, ?, 'nurse', 1, 0, '2026-11-20 09:00:00.000000')",
        (username, username),
    )


def count(db: Database, model: Any) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def garbage(size: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


# --- the file and its settings ------------------------------------------------------------------------


def test_new_database_file_is_readable_by_this_account_only(db: Database, db_path: Path) -> None:
    assert db_path.is_file()
    assert db_path.stat().st_mode & 0o777 == 0o600


def test_existing_database_with_loose_permissions_is_restricted_on_open(db: Database, db_path: Path) -> None:
    db.dispose()
    db_path.chmod(0o644)
    open_database(path=db_path).dispose()
    assert db_path.stat().st_mode & 0o777 == 0o600


def test_pragmas_are_set_on_every_connection(db: Database) -> None:
    pragmas = ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")

    def settings(session: Session) -> tuple[Any, ...]:
        return tuple(session.execute(text(f"PRAGMA {name}")).scalar() for name in pragmas)

    seen = []
    # Pooled connections keep what was set when they were opened; a connection opened after the pool
    # was emptied (as after a restore), or one beyond the pool's size (units of work at once), too.
    for number, unit in enumerate((db.read, db.write, db.read, db.write, db.read, db.write)):
        if number == 3:
            db.dispose()
        with unit() as session:
            seen.append(settings(session))
    with db.read() as first, db.read() as second, db.read() as third, db.write() as fourth:
        seen += [settings(s) for s in (first, second, third, fourth)]
    assert seen == [("wal", 1, 2, 5000)] * 10


def test_dispose_closes_every_pooled_connection(db: Database, db_path: Path) -> None:
    with db.read() as first, db.read() as second, db.read() as third:  # beyond the pool's size
        for session in (first, second, third):
            session.execute(text("SELECT count(*) FROM users")).scalar()
    with db.write() as session:
        session.execute(text("SELECT count(*) FROM users")).scalar()
    db.dispose()
    # Leaving WAL mode needs the only connection to the file (what a restore checks first).
    other = raw(db_path, timeout=0.1)
    try:
        assert other.execute("PRAGMA journal_mode = DELETE").fetchone() == ("delete",)
    finally:
        other.close()


def test_a_pooled_connection_follows_the_file_now_at_the_path(
    db: Database, service: ClinicalService, nurse: str, db_path: Path, tmp_path: Path
) -> None:
    service.admit(nurse, admission(T0 - timedelta(hours=2)))
    assert [e.mrn for e in service.open_episodes()] == ["K-1001"]  # a pooled connection to this file
    # The file is moved aside with its journals and another moved into its place (as by hand, or a
    # restore) while the pool holds a connection to the old one.
    other_path = tmp_path / "other.sqlite"
    open_database(path=other_path).dispose()
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{db_path}{suffix}").exists():
            os.replace(f"{db_path}{suffix}", tmp_path / f"aside.sqlite{suffix}")
    os.replace(other_path, db_path)
    assert service.open_episodes() == []  # the file now at the path, not the one moved away
    newcomer = service.ensure_user("rn.new", "New Nurse", "nurse").username
    service.admit(newcomer, admission(T0 - timedelta(hours=1)))
    connection = raw(db_path)
    try:
        assert connection.execute("SELECT count(*) FROM episodes").fetchone() == (1,)
    finally:
        connection.close()


def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(DatabaseProblem), db.write() as session:
        session.add(
            Assessment(
                episode_id=999,
                scale="COWS",
                taken_at=T0,
                recorded_at=T0,
                recorded_by_id=999,
                tz_name="UTC",
                total=0,
            )
        )
        session.flush()
    assert count(db, Assessment) == 0


# --- time -----------------------------------------------------------------------------------------------


def test_aware_time_in_aware_utc_out(db: Database, db_path: Path) -> None:
    plus_one = timezone(timedelta(hours=1))
    with db.write() as session:
        session.add(
            User(
                username="a",
                display_name="A",
                role="nurse",
                created_at=datetime(2026, 11, 20, 10, 0, tzinfo=plus_one),
            )
        )
    with db.read() as session:
        stored = session.scalar(select(User.created_at).where(User.username == "a"))
    assert stored == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert stored is not None and stored.tzinfo is UTC
    # On disk: the UTC wall time, so another program reading the file sees 09:00, not 10:00.
    with raw(db_path) as connection:
        on_disk = connection.execute("SELECT created_at FROM users WHERE username = 'a'").fetchone()[0]
    assert on_disk.startswith("2026-11-20 09:00:00")


def test_naive_datetime_is_refused_and_nothing_saved(db: Database) -> None:
    with pytest.raises(DatabaseProblem) as info, db.write() as session:
        session.add(
            User(username="b", display_name="B", role="nurse", created_at=datetime(2026, 11, 20, 9, 0))
        )
        session.flush()
    causes = []
    error: BaseException | None = info.value
    while error is not None:
        causes.append(error)
        error = error.__cause__ or getattr(error, "orig", None)
    assert any(isinstance(e, ValueError) and "naive" in str(e) for e in causes)
    assert count(db, User) == 0


def test_time_type_refuses_naive_and_converts_offsets() -> None:
    kind = UTCDateTime()
    dialect = sqlite_dialect.dialect()
    with pytest.raises(ValueError, match="naive"):
        kind.process_bind_param(datetime(2026, 11, 20, 9, 0), dialect)
    minus_five = timezone(timedelta(hours=-5))
    assert kind.process_bind_param(datetime(2026, 11, 20, 4, 0, tzinfo=minus_five), dialect) == datetime(
        2026, 11, 20, 9, 0
    )


def test_sqlite_times_read_back_as_aware_utc_to_the_microsecond() -> None:
    """SQLite's stored text is parsed by the type itself (not SQLAlchemy's parser): what the app
    writes, a time without a fraction, and a text with an offset written by another program."""
    read = UTCDateTime().result_processor(sqlite_dialect.dialect(), None)
    assert read is not None
    assert read("2026-11-20 09:00:07.000123") == datetime(2026, 11, 20, 9, 0, 7, 123, tzinfo=UTC)
    assert read("2026-11-20 09:00:07") == datetime(2026, 11, 20, 9, 0, 7, tzinfo=UTC)
    assert read("2026-11-20T04:00:00-05:00") == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert read("2026-11-20T09:00:00Z") == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert read(None) is None
    half = read("2026-11-20 09:00:00.5")
    assert half == datetime(2026, 11, 20, 9, 0, 0, 500_000, tzinfo=UTC) and half.tzinfo is UTC


# --- transactions ---------------------------------------------------------------------------------------


def _commit_with_raw_sqlite(db_path: Path, username: str) -> None:
    connection = raw(db_path)
    try:
        add_user_raw(connection, username)
    finally:
        connection.close()


def _commit_with_second_database(db_path: Path, username: str) -> None:
    other = open_database(path=db_path)
    try:
        with other.write() as session:
            session.add(User(username=username, display_name=username, role="nurse", created_at=T0))
    finally:
        other.dispose()


@pytest.mark.parametrize("commit_elsewhere", [_commit_with_raw_sqlite, _commit_with_second_database])
def test_one_read_sees_one_snapshot(
    db: Database, db_path: Path, commit_elsewhere: Callable[[Path, str], None]
) -> None:
    """The legacy sqlite3 driver sent no BEGIN before a SELECT; two reads could disagree."""
    with db.read() as session:
        first = session.scalar(select(func.count()).select_from(User))
        commit_elsewhere(db_path, "other.workstation")
        second = session.scalar(select(func.count()).select_from(User))
        names = session.scalars(select(User.username)).all()
    assert (first, second, names) == (0, 0, [])
    # The other commit did happen: the next unit of work sees it.
    assert count(db, User) == 1


def test_write_takes_the_write_lock_at_begin(db: Database, db_path: Path) -> None:
    other = raw(db_path, timeout=0)
    try:
        # Nothing executed yet in the write transaction, and still nobody else may start writing.
        with db.write(), pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        with db.read() as session:
            session.execute(select(1))
            # A read takes no write lock.
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
    finally:
        other.close()


def test_second_writer_is_told_busy_before_it_starts(
    db: Database, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 200)
    second = open_database(path=db_path)
    entered: list[bool] = []
    try:
        with db.write():
            started = time.monotonic()
            with pytest.raises(DatabaseProblem) as info, second.write():
                entered.append(True)
            waited = time.monotonic() - started
    finally:
        second.dispose()
    assert info.value.kind is ProblemKind.BUSY
    assert entered == [], "the second write began and would fail half-way instead of at BEGIN"
    assert waited < 3.0, f"waited {waited:.2f} s; the busy timeout was 0.2 s"
    assert_plain(info.value)


# --- append-only clinical tables ------------------------------------------------------------------------


@pytest.fixture
def charted(service: ClinicalService, nurse: str, clock: FakeClock) -> ClinicalService:
    """One admission, two assessments, one of them marked entered in error: every protected table has rows."""
    episode = service.admit(nurse, admission(T0 - timedelta(hours=6)))
    service.record_assessment(nurse, episode, cows(T0 - timedelta(minutes=30), sweating=2))
    wrong = service.record_assessment(nurse, episode, cows(T0, tremor=4))
    service.mark_entered_in_error(nurse, wrong.id, "charted on the wrong patient")
    return service


PROTECTED = {
    "assessments": "total = total + 1",
    "assessment_items": "value = 5",
    "assessment_voids": "reason = 'never happened'",
    "audit_log": "reason = 'nothing to see'",
}


@pytest.mark.parametrize("table", sorted(PROTECTED))
@pytest.mark.parametrize("verb", ["UPDATE", "DELETE"])
def test_clinical_rows_cannot_be_changed_or_deleted(
    charted: ClinicalService, db_path: Path, table: str, verb: str
) -> None:
    connection = raw(db_path)
    try:
        before = connection.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
        assert before, f"{table} has no rows to protect"
        statement = f"UPDATE {table} SET {PROTECTED[table]}" if verb == "UPDATE" else f"DELETE FROM {table}"
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute(statement)
        assert connection.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall() == before
    finally:
        connection.close()


# --- migrations -----------------------------------------------------------------------------------------


def versions_in(path: Path) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        return [row[0] for row in connection.execute("SELECT version_num FROM alembic_version")]
    finally:
        connection.close()


def tables_in(path: Path) -> set[str]:
    connection = sqlite3.connect(path)
    try:
        return {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        connection.close()


def test_new_database_is_created_at_the_newest_schema(db: Database, db_path: Path) -> None:
    head = migrations.head_revision()
    assert db.schema_revision == head
    assert versions_in(db_path) == [head]
    assert {"users", "patients", "episodes", "assessments", "assessment_items", "audit_log"} <= tables_in(
        db_path
    )
    # Nothing to keep from a brand-new file: no backup.
    assert not (db_path.parent / "backups").exists()


def test_reopening_does_not_migrate_again(
    db: Database, db_path: Path, service: ClinicalService, nurse: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db.dispose()
    calls: list[object] = []
    monkeypatch.setattr(migrations, "upgrade", lambda *args, **kwargs: calls.append(args))
    again = open_database(path=db_path)
    try:
        assert again.schema_revision == migrations.head_revision()
        with again.read() as session:
            assert session.scalars(select(User.username)).all() == [nurse]
    finally:
        again.dispose()
    assert calls == []
    assert not (db_path.parent / "backups").exists()


def test_database_from_a_newer_version_is_refused_untouched(db: Database, db_path: Path) -> None:
    db.dispose()
    connection = sqlite3.connect(db_path)
    connection.execute("UPDATE alembic_version SET version_num = '9001_from_the_future'")
    connection.commit()
    connection.close()
    before = fingerprint(db_path)
    files_before = sorted(os.listdir(db_path.parent))

    with pytest.raises(DatabaseProblem) as info:
        open_database(path=db_path)

    assert info.value.kind is ProblemKind.NEWER_SCHEMA
    assert "newer version" in info.value.message
    assert_plain(info.value)
    assert fingerprint(db_path) == before
    assert sorted(os.listdir(db_path.parent)) == files_before  # no backup, no stray files
    assert versions_in(db_path) == ["9001_from_the_future"]


def test_older_database_is_backed_up_before_the_upgrade(db: Database, db_path: Path) -> None:
    with db.engine.begin() as connection:
        command.downgrade(migrations.config(connection), "base")
    db.dispose()
    assert versions_in(db_path) == []
    assert "users" not in tables_in(db_path)

    upgraded = open_database(path=db_path)
    upgraded.dispose()

    head = migrations.head_revision()
    assert versions_in(db_path) == [head]
    backups = sorted((db_path.parent / "backups").iterdir())
    assert len(backups) == 1
    backup = backups[0]
    assert backup.name.startswith(f"{db_path.stem}.before-{head}-")
    assert backup.stat().st_mode & 0o777 == 0o600
    connection = sqlite3.connect(backup)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        # The copy is the database as it was before the upgrade.
        assert connection.execute("SELECT count(*) FROM alembic_version").fetchone() == (0,)
        tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "users" not in tables
    finally:
        connection.close()


def test_another_programs_sqlite_file_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "places.sqlite"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    connection.execute("INSERT INTO moz_places (url) VALUES ('https://example.org')")
    connection.commit()
    connection.close()
    before = fingerprint(path)

    with pytest.raises(DatabaseProblem) as info:
        open_database(path=path)

    assert info.value.kind is ProblemKind.NOT_A_DATABASE
    assert_plain(info.value)
    assert fingerprint(path) == before
    assert tables_in(path) == {"moz_places"}


def test_schema_made_meanwhile_by_another_program_is_not_migrated_again(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The GUI and a headless job start together on a new file. The second one looked before the first
    had made the schema; under the write lock it must look again instead of creating tables twice."""
    open_database(path=db_path).dispose()  # the first program, done
    real = migrations.current_revision
    looks: list[str | None] = []

    def stale_first_look(connection: Any) -> str | None:
        found = None if not looks else real(connection)
        looks.append(found)
        return found

    monkeypatch.setattr(migrations, "current_revision", stale_first_look)
    second = open_database(path=db_path)
    second.dispose()
    head = migrations.head_revision()
    assert second.schema_revision == head
    assert looks == [None, head]
    assert versions_in(db_path) == [head]


# --- refusals -------------------------------------------------------------------------------------------


def test_text_file_is_not_a_database_and_is_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "handover.sqlite"
    path.write_text("Bed 3B: COWS 14 at 08:00, recheck at 10:00\n")
    before = fingerprint(path)
    with pytest.raises(DatabaseProblem) as info:
        open_database(path=path)
    assert info.value.kind is ProblemKind.NOT_A_DATABASE
    assert_plain(info.value)
    assert fingerprint(path) == before
    assert path.read_text() == "Bed 3B: COWS 14 at 08:00, recheck at 10:00\n"


def test_folder_is_not_a_database(tmp_path: Path) -> None:
    folder = tmp_path / "monitor.sqlite"
    folder.mkdir()
    with pytest.raises(DatabaseProblem) as info:
        open_database(path=folder)
    assert info.value.kind is ProblemKind.NOT_A_DATABASE
    assert_plain(info.value)
    assert list(folder.iterdir()) == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX thing")
def test_a_device_or_pipe_is_not_a_database_and_keeps_its_permissions(tmp_path: Path) -> None:
    """QA ran `monitor --db /dev/null` as root: the file was chmod-ed to 0600, and /dev/null was no
    longer usable by any other program. A named pipe stands in for the device here."""
    pipe = tmp_path / "monitor.sqlite"
    os.mkfifo(pipe, 0o666)
    pipe.chmod(0o666)  # whatever the umask made of it
    with pytest.raises(DatabaseProblem) as info:
        open_database(path=pipe)  # a pipe opened for reading would wait for a writer forever
    assert info.value.kind is ProblemKind.NOT_A_DATABASE
    assert_plain(info.value)
    assert stat.S_IMODE(pipe.stat().st_mode) == 0o666


def test_missing_folder_cannot_open_and_is_not_created(tmp_path: Path) -> None:
    with pytest.raises(DatabaseProblem) as info:
        open_database(path=tmp_path / "no such folder" / "monitor.sqlite")
    assert info.value.kind is ProblemKind.CANNOT_OPEN
    assert_plain(info.value)
    assert not (tmp_path / "no such folder").exists()


@pytest.mark.skipif(IS_ROOT, reason="root ignores folder permissions; the read-only URL test covers this")
def test_new_database_in_a_read_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(DatabaseProblem) as info:
            open_database(path=folder / "monitor.sqlite")
        assert info.value.kind in (ProblemKind.READ_ONLY, ProblemKind.CANNOT_OPEN)
        assert_plain(info.value)
        assert not (folder / "monitor.sqlite").exists()
    finally:
        folder.chmod(0o700)


def test_read_only_database_reads_but_refuses_to_save(
    service: ClinicalService, nurse: str, db: Database, db_path: Path, clock: FakeClock
) -> None:
    episode = service.admit(nurse, admission(T0 - timedelta(hours=2)))
    db.dispose()
    read_only = open_database(url=f"sqlite:///file:{db_path}?mode=ro&uri=true")
    try:
        viewer = ClinicalService(read_only, clock=clock, zone_name="Europe/Berlin")
        assert [e.mrn for e in viewer.open_episodes()] == ["K-1001"]
        with pytest.raises(DatabaseProblem) as info:
            viewer.record_assessment(nurse, episode, cows(T0, sweating=1))
    finally:
        read_only.dispose()
    assert info.value.kind is ProblemKind.READ_ONLY
    assert_plain(info.value)
    with raw(db_path) as connection:
        assert connection.execute("SELECT count(*) FROM assessments").fetchone() == (0,)


def test_locked_database_is_busy_and_the_retry_saves(
    db_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 200)
    db = open_database(path=db_path)
    try:
        service = ClinicalService(db, clock=clock, zone_name="Europe/Berlin")
        nurse = service.ensure_user("rn.lee").username
        holder = raw(db_path)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(DatabaseProblem) as info:
                service.admit(nurse, admission(T0 - timedelta(hours=1)))
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert info.value.kind is ProblemKind.BUSY
        assert "Nothing you entered was lost" in info.value.message
        assert_plain(info.value)
        assert service.open_episodes() == []
        service.admit(nurse, admission(T0 - timedelta(hours=1)))
        assert [e.mrn for e in service.open_episodes()] == ["K-1001"]
    finally:
        db.dispose()


def _garbage_after_header(path: Path) -> None:
    path.write_bytes(SQLITE_HEADER + garbage(8192))


def _garbage_in_schema_page(path: Path) -> None:
    open_database(path=path).dispose()
    content = bytearray(path.read_bytes())
    content[100:4096] = garbage(3996)
    path.write_bytes(bytes(content))


@pytest.mark.parametrize("damage", [_garbage_after_header, _garbage_in_schema_page])
def test_damaged_file_is_refused_and_kept(tmp_path: Path, damage: Callable[[Path], None]) -> None:
    path = tmp_path / "monitor.sqlite"
    damage(path)
    before = fingerprint(path)
    with pytest.raises(DatabaseProblem) as info:
        open_database(path=path)
    assert info.value.kind in (ProblemKind.CORRUPT, ProblemKind.NOT_A_DATABASE)
    assert_plain(info.value)
    assert fingerprint(path) == before


@pytest.mark.parametrize("kind", list(ProblemKind))
def test_every_problem_reads_as_plain_text(kind: ProblemKind) -> None:
    detail = 'sqlite3.OperationalError: near "SELECT": syntax error\nTraceback (most recent call last):'
    problem = DatabaseProblem(kind, detail)
    assert_plain(problem)
    assert problem.detail == detail  # kept for the log


def test_network_share_message_points_to_the_server_set_up() -> None:
    message = DatabaseProblem(ProblemKind.NETWORK_SHARE).message
    assert "PostgreSQL" in message
    assert "--database-url" in message


# --- error classification --------------------------------------------------------------------------------


def _busy(tmp: Path) -> sqlite3.Error:
    path = tmp / "busy.sqlite"
    holder = raw(path)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    other = raw(path, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        return exc
    finally:
        other.close()
        holder.execute("ROLLBACK")
        holder.close()
    raise AssertionError("no error")


def _read_only(tmp: Path) -> sqlite3.Error:
    path = tmp / "ro.sqlite"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        connection.execute("INSERT INTO t VALUES (1)")
    except sqlite3.Error as exc:
        return exc
    finally:
        connection.close()
    raise AssertionError("no error")


def _full(tmp: Path) -> sqlite3.Error:
    connection = sqlite3.connect(tmp / "full.sqlite")
    connection.execute("CREATE TABLE t (x)")
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.execute(f"PRAGMA max_page_count = {pages}")
    try:
        connection.execute("INSERT INTO t VALUES (?)", (b"x" * 100_000,))
    except sqlite3.Error as exc:
        return exc
    finally:
        connection.close()
    raise AssertionError("no error")


def _corrupt(tmp: Path) -> sqlite3.Error:
    path = tmp / "corrupt.sqlite"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE t (x)")
    connection.commit()
    connection.close()
    content = bytearray(path.read_bytes())
    content[100:] = garbage(len(content) - 100)
    path.write_bytes(bytes(content))
    connection = sqlite3.connect(path)
    try:
        connection.execute("SELECT * FROM sqlite_master").fetchall()
    except sqlite3.Error as exc:
        return exc
    finally:
        connection.close()
    raise AssertionError("no error")


def _not_a_database(tmp: Path) -> sqlite3.Error:
    path = tmp / "text.sqlite"
    path.write_text("just some notes\n" * 100)
    connection = sqlite3.connect(path)
    try:
        connection.execute("SELECT * FROM sqlite_master").fetchall()
    except sqlite3.Error as exc:
        return exc
    finally:
        connection.close()
    raise AssertionError("no error")


def _cannot_open(tmp: Path) -> sqlite3.Error:
    try:
        sqlite3.connect(tmp / "missing" / "x.sqlite")
    except sqlite3.Error as exc:
        return exc
    raise AssertionError("no error")


@pytest.mark.parametrize(
    ("make_error", "code", "kind"),
    [
        (_busy, "SQLITE_BUSY", ProblemKind.BUSY),
        (_read_only, "SQLITE_READONLY", ProblemKind.READ_ONLY),
        (_full, "SQLITE_FULL", ProblemKind.DISK_FULL),
        (_corrupt, "SQLITE_CORRUPT", ProblemKind.CORRUPT),
        (_not_a_database, "SQLITE_NOTADB", ProblemKind.NOT_A_DATABASE),
        (_cannot_open, "SQLITE_CANTOPEN", ProblemKind.CANNOT_OPEN),
    ],
)
def test_real_sqlite_errors_map_to_plain_categories(
    tmp_path: Path, make_error: Callable[[Path], sqlite3.Error], code: str, kind: ProblemKind
) -> None:
    error = make_error(tmp_path)
    assert error.sqlite_errorname.startswith(code)
    assert classify(error).kind is kind
    wrapped = SAOperationalError("SELECT 1", {}, error)
    assert classify(wrapped).kind is kind
    assert_plain(classify(wrapped))


def test_sqlite_error_code_wins_over_the_message_text() -> None:
    error = sqlite3.OperationalError("database is locked")
    error.sqlite_errorname = "SQLITE_FULL"
    assert classify(error).kind is ProblemKind.DISK_FULL


class FakePostgresError(Exception):
    """What psycopg raises: the SQLSTATE in `sqlstate`."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"server said {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("sqlstate", "kind"),
    [
        ("53100", ProblemKind.DISK_FULL),
        ("25006", ProblemKind.READ_ONLY),
        ("40001", ProblemKind.BUSY),
        ("40P01", ProblemKind.BUSY),
        ("55P03", ProblemKind.BUSY),
        ("XX001", ProblemKind.CORRUPT),
        ("08006", ProblemKind.UNAVAILABLE),
        ("08001", ProblemKind.UNAVAILABLE),
        ("42P01", ProblemKind.OTHER),
    ],
)
def test_postgresql_states_map_to_plain_categories(sqlstate: str, kind: ProblemKind) -> None:
    error = FakePostgresError(sqlstate)
    assert classify(error).kind is kind
    assert classify(SAOperationalError("SELECT 1", {}, error)).kind is kind


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (PermissionError(13, "Permission denied"), ProblemKind.READ_ONLY),
        (FileNotFoundError(2, "No such file"), ProblemKind.CANNOT_OPEN),
        (RuntimeError("odd"), ProblemKind.OTHER),
    ],
)
def test_os_errors_map_to_plain_categories(error: Exception, kind: ProblemKind) -> None:
    assert classify(error).kind is kind


def test_classify_keeps_a_problem_as_it_is() -> None:
    problem = DatabaseProblem(ProblemKind.BUSY, "x")
    assert classify(problem) is problem


# --- disk full ------------------------------------------------------------------------------------------


def test_disk_full_during_a_shift_loses_nothing_already_saved(
    db: Database, service: ClinicalService, nurse: str, clock: FakeClock
) -> None:
    episode = service.admit(nurse, admission(T0 - timedelta(hours=8)))

    def cap(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        pages = cursor.execute("PRAGMA page_count").fetchone()[0]
        cursor.execute(f"PRAGMA max_page_count = {pages}")
        cursor.close()

    event.listen(db.engine, "connect", cap)
    db.dispose()  # the pooled connections go: every connection from now on has the cap
    saved = 0
    problem: DatabaseProblem | None = None
    entry = cows(T0, sweating=3, gi_upset=2)
    try:
        for _ in range(200):
            try:
                service.record_assessment(nurse, episode, entry)
            except DatabaseProblem as exc:
                problem = exc
                break
            saved += 1
    finally:
        event.remove(db.engine, "connect", cap)
        db.dispose()  # the capped connections go with the cap (a freed disk frees every connection)
    assert problem is not None, "the capped file never filled up"
    assert problem.kind is ProblemKind.DISK_FULL
    assert_plain(problem)
    assert len(service.assessments(episode)) == saved
    records = [e for e in service.audit_entries() if e.action == "assessment.record"]
    assert len(records) == saved
    assert service.verify_audit_chain().intact
    # Space freed: the same entry saves.
    service.record_assessment(nurse, episode, entry)
    assert len(service.assessments(episode)) == saved + 1
    clinical = [e for e in service.audit_entries(limit=10_000) if not e.action.startswith("alert.")]
    assert len(clinical) == 1 + 2 + saved + 1  # user, admission, records, retry


# --- network shares ---------------------------------------------------------------------------------------


@pytest.fixture
def mounts(tmp_path: Path) -> tuple[Path, str]:
    base = tmp_path.resolve()
    table = "\n".join(
        [
            "/dev/sda1 / ext4 rw,relatime 0 0",
            f"ward-server:/export {base}/ward nfs4 rw,relatime 0 0",
            f"/dev/sdb1 {base}/ward/local ext4 rw 0 0",
            f"//ward-server/share {base}/smb\\040share cifs rw 0 0",
            f"sshfs#me@host: {base}/remote fuse.sshfs rw 0 0",
            "short line",
        ]
    )
    return base, table + "\n"


@pytest.mark.parametrize(
    ("relative", "network"),
    [
        ("ward/monitor.sqlite", True),
        ("ward", True),
        ("ward/local/monitor.sqlite", False),  # the longest mount point decides
        ("smb share/monitor.sqlite", True),  # \040 is a space in /proc/mounts
        ("remote/x/monitor.sqlite", True),
        ("home/monitor.sqlite", False),
        ("wardrobe/monitor.sqlite", False),  # a name prefix is not a parent folder
    ],
)
def test_network_mounts_are_recognised(mounts: tuple[Path, str], relative: str, network: bool) -> None:
    base, table = mounts
    assert is_network_filesystem(base / relative, table) is network


@pytest.mark.parametrize("unc", ["//server/share/monitor.sqlite", "\\\\server\\share\\monitor.sqlite"])
def test_unc_paths_are_network_shares(unc: str) -> None:
    assert is_network_filesystem(Path(unc), "")


@pytest.mark.parametrize("existing", [False, True])
def test_database_on_a_network_share_is_refused(
    mounts: tuple[Path, str], monkeypatch: pytest.MonkeyPatch, existing: bool
) -> None:
    base, table = mounts
    share = base / "ward"
    share.mkdir()
    path = share / "monitor.sqlite"
    if existing:
        open_database(path=path).dispose()
        before = fingerprint(path)
    monkeypatch.setattr(database, "_read_mounts", lambda: table)
    with pytest.raises(DatabaseProblem) as info:
        open_database(path=path)
    assert info.value.kind is ProblemKind.NETWORK_SHARE
    assert_plain(info.value)
    if existing:
        assert fingerprint(path) == before
    else:
        assert not path.exists()
    # The same folder on a local disk opens.
    monkeypatch.setattr(database, "_read_mounts", lambda: "/dev/sda1 / ext4 rw 0 0\n")
    open_database(path=path).dispose()


def test_the_head_read_from_the_scripts_is_alembics_head() -> None:
    # A database at this revision opens without importing alembic (issue 9): it must be the real head.
    assert migrations.plain_head() == migrations.head_revision()
