"""Backups of the SQLite file (issue 7): made, checked, listed, rotated, due, and restored."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command

from monitor.services import backups as backups_module
from monitor.services.backups import (
    KIND_BACKUP,
    KIND_BEFORE_MIGRATION,
    BackupInfo,
    damage_advice,
    newest_good_backup_for,
)
from monitor.services.clinical import ClinicalService
from monitor.services.errors import NotPermitted, ServiceError, ValidationError
from monitor.store import migrations
from monitor.store.database import Database, open_database
from monitor.store.sqlite_file import check_database_file
from tests.conftest import T0, FakeClock
from tests.helpers import admission, cows

# Every test here is about the SQLite file itself.
pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def admin(service: ClinicalService) -> str:
    return service.create_first_administrator("admin", "Ada Admin", "admin passphrase 1").username


def count(path: Path, table: str) -> int:
    with sqlite3.connect(path) as connection:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def mrns(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        return {row[0] for row in connection.execute("SELECT mrn FROM patients")}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def corrupt(path: Path, table: str = "assessments") -> None:
    """Overwrite a table's root page from its header into the middle of the page (a damaged disk block).

    Garbage in a page's free space or inside a text value is invisible to SQLite; a page's header and
    cell pointers are not, so this damage is always found.
    """
    with sqlite3.connect(path) as connection:
        # The app's open connections keep the newest pages in the WAL: fold them into the file first,
        # so the damaged page is the one SQLite reads.
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        root = connection.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    with path.open("r+b") as handle:
        handle.seek((root - 1) * page_size)
        handle.write(b"\xff" * (page_size // 2))


def corrupt_index(path: Path, index: str = "sqlite_autoindex_users_1") -> None:
    """Flip one bit at the end of an index's page (in its first entry's row id): every page still reads,
    but the index no longer matches its table, which only the full integrity check compares."""
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()  # as in corrupt()
        root = connection.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (index,)).fetchone()[0]
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    with path.open("r+b") as handle:
        handle.seek(root * page_size - 1)
        last = handle.read(1)[0]
        handle.seek(root * page_size - 1)
        handle.write(bytes([last ^ 0x01]))


def chart_a_patient(
    service: ClinicalService, nurse: str, mrn: str = "K-1001", name: str = "Alex Example"
) -> int:
    episode = service.admit(nurse, admission(T0 - timedelta(hours=2), mrn=mrn, name=name))
    service.record_assessment(nurse, episode, cows(T0 - timedelta(hours=1), pulse_bpm=72))
    service.record_assessment(nurse, episode, cows(T0, pulse_bpm=85, resting_pulse=1, sweating=2))
    return episode


def folder_listing(path: Path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*")}


# --- making a backup ---------------------------------------------------------------------------------


def test_a_backup_is_an_integrity_checked_copy_with_the_same_rows(
    service: ClinicalService, nurse: str, db_path: Path
) -> None:
    chart_a_patient(service, nurse)
    info = service.backup_now(None)
    assert info.path == db_path.parent / "backups" / "monitor-20261120T090000Z.sqlite"
    assert info.made_at == T0 and info.ok and info.kind == KIND_BACKUP
    assert info.size_bytes == info.path.stat().st_size > 0
    assert mode(info.path) == 0o600
    assert count(info.path, "assessments") == count(db_path, "assessments") == 2
    assert count(info.path, "assessment_items") == count(db_path, "assessment_items")
    with sqlite3.connect(info.path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        # One self-contained file: no -wal needed beside it.
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    # Nothing half-written is left behind.
    assert [p.name for p in info.path.parent.iterdir()] == [info.path.name]


def test_the_apps_own_backup_is_audited_by_the_system_account(service: ClinicalService) -> None:
    info = service.backup_now(None, reason="automatic")
    entry = service.audit_entries(limit=1)[0]
    assert (entry.username, entry.action, entry.reason) == ("system", "backup.create", "automatic")
    assert json.loads(entry.after_json) == {"file": info.path.name, "size_bytes": info.size_bytes}


def test_a_manual_backup_is_audited_by_the_administrator(service: ClinicalService, admin: str) -> None:
    info = service.backup_now(admin)
    entry = service.audit_entries(limit=1)[0]
    assert (entry.username, entry.action, entry.reason) == ("admin", "backup.create", "manual")
    assert json.loads(entry.after_json)["file"] == info.path.name


def test_a_nurse_may_not_make_a_backup_and_nothing_is_written(
    service: ClinicalService, nurse: str, db_path: Path
) -> None:
    with pytest.raises(NotPermitted, match="may not make or restore backups"):
        service.backup_now(nurse)
    assert not (db_path.parent / "backups").exists()


def test_a_backup_to_a_chosen_file_goes_exactly_there(
    service: ClinicalService, admin: str, db_path: Path, tmp_path: Path
) -> None:
    target = tmp_path / "usb" / "ward-3.sqlite"
    target.parent.mkdir()
    info = service.backup_now(admin, target)
    assert info.path == target and mode(target) == 0o600
    assert count(target, "users") == count(db_path, "users")
    assert sorted(p.name for p in target.parent.iterdir()) == ["ward-3.sqlite"]


def test_a_backup_never_overwrites_a_file_or_writes_into_a_missing_folder(
    service: ClinicalService, admin: str, tmp_path: Path
) -> None:
    existing = tmp_path / "notes.sqlite"
    existing.write_text("keep me")
    with pytest.raises(ValidationError, match="already exists"):
        service.backup_now(admin, existing)
    assert existing.read_text() == "keep me"
    with pytest.raises(ValidationError, match="is a folder"):
        service.backup_now(admin, tmp_path)
    with pytest.raises(ValidationError, match="does not exist"):
        service.backup_now(admin, tmp_path / "nowhere" / "b.sqlite")
    assert [e.action for e in service.audit_entries(limit=5)].count("backup.create") == 0


def test_two_backups_in_the_same_second_both_keep_their_file(service: ClinicalService) -> None:
    first = service.backup_now(None)
    second = service.backup_now(None)
    assert second.path.name == "monitor-20261120T090000Z-2.sqlite"
    assert [b.path for b in service.backups()] == [second.path, first.path]


def test_a_damaged_database_gives_no_backup(service: ClinicalService, nurse: str, db_path: Path) -> None:
    chart_a_patient(service, nurse)
    corrupt(db_path)
    with pytest.raises(ServiceError, match="No backup was kept: the copy failed SQLite's integrity check"):
        service.backup_now(None)
    assert list((db_path.parent / "backups").iterdir()) == []


def test_postgresql_is_backed_up_by_its_own_tools(db: Database, clock: FakeClock, tmp_path: Path) -> None:
    server = ClinicalService(dataclasses.replace(db, path=None), clock=clock)
    with pytest.raises(ServiceError, match="pg_dump"):
        server.backup_now(None)
    with pytest.raises(ServiceError, match="pg_restore"):
        server.restore("admin", tmp_path / "x.sqlite")
    assert server.backups() == [] and server.last_good_backup() is None
    assert not server.backup_due()


# --- listing -----------------------------------------------------------------------------------------


def test_backups_lists_ours_newest_first_with_the_pre_migration_copies(
    service: ClinicalService, clock: FakeClock, db_path: Path
) -> None:
    older = service.backup_now(None)
    clock.advance(hours=5)
    newer = service.backup_now(None)
    folder = db_path.parent / "backups"
    migration_copy = folder / "monitor.before-0005-20261120T100000123456Z.sqlite"
    shutil.copy(older.path, migration_copy)
    # Not ours, or not this database's: never listed (so never pruned).
    (folder / "notes.txt").write_text("x")
    (folder / "demo-20261120T100000Z.sqlite").write_bytes(older.path.read_bytes())
    (folder / ".monitor-20261120T150000Z.sqlite.abc.part").write_text("")
    (folder / "monitor-yesterday.sqlite").write_text("")
    empty = folder / "monitor-20261119T090000Z.sqlite"
    empty.write_bytes(b"")

    listed = service.backups()
    assert [b.path for b in listed] == [newer.path, migration_copy, older.path, empty]
    assert [b.kind for b in listed] == [KIND_BACKUP, KIND_BEFORE_MIGRATION, KIND_BACKUP, KIND_BACKUP]
    assert listed[1].made_at == datetime(2026, 11, 20, 10, 0, 0, 123456, tzinfo=UTC)
    assert [b.ok for b in listed] == [True, True, True, False]
    assert service.last_good_backup() == listed[0]


def test_no_backup_yet(service: ClinicalService) -> None:
    assert service.backups() == []
    assert service.last_good_backup() is None


# --- rotation ----------------------------------------------------------------------------------------


def fake_backups(service: ClinicalService, db_path: Path, times: list[datetime]) -> Path:
    """Small valid backups named for `times` (their time comes from the name, never the mtime)."""
    template = service.backup_now(None, db_path.parent / "template.sqlite").path
    folder = db_path.parent / "backups"
    folder.mkdir()
    for when in times:
        shutil.copy(template, folder / f"monitor-{when:%Y%m%dT%H%M%SZ}.sqlite")
    template.unlink()
    return folder


def test_prune_keeps_the_newest_of_7_days_and_4_iso_weeks(service: ClinicalService, db_path: Path) -> None:
    # Two backups a day (02:00 and 08:00 UTC) for 40 days up to Friday 2026-11-20 (ISO week 47).
    days = [T0.replace(hour=0) - timedelta(days=d) for d in range(40)]
    times = [day.replace(hour=h) for day in days for h in (2, 8)]
    folder = fake_backups(service, db_path, times)
    migration_copy = folder / "monitor.before-0005-20260901T000000000000Z.sqlite"
    shutil.copy(folder / "monitor-20261120T080000Z.sqlite", migration_copy)
    foreign = folder / "notes.txt"
    foreign.write_text("not a backup")

    deleted = service.prune_backups(keep_daily=7, keep_weekly=4)

    kept = sorted(p.name for p in folder.iterdir())
    daily = [f"monitor-202611{d:02}T080000Z.sqlite" for d in range(14, 21)]  # 14 to 20 November
    # Weeks 47 and 46 end on days kept already; week 45 ends Sunday 8 November, week 44 on 1 November.
    weekly = ["monitor-20261101T080000Z.sqlite", "monitor-20261108T080000Z.sqlite"]
    assert kept == sorted([*daily, *weekly, migration_copy.name, foreign.name])
    assert len(deleted) == 80 - 9


def test_prune_counts_days_that_have_a_backup_not_calendar_days(
    service: ClinicalService, db_path: Path
) -> None:
    # The ward was closed for a month: the older backups still count as the last days.
    times = [T0, *(datetime(2026, 10, d, 8, tzinfo=UTC) for d in range(1, 11))]
    folder = fake_backups(service, db_path, times)
    service.prune_backups(keep_daily=7, keep_weekly=0)
    expected = ["monitor-20261120T090000Z.sqlite"] + [
        f"monitor-202610{d:02}T080000Z.sqlite" for d in range(5, 11)
    ]
    assert sorted(p.name for p in folder.iterdir()) == sorted(expected)


def test_prune_never_deletes_the_newest(service: ClinicalService, clock: FakeClock) -> None:
    service.backup_now(None)
    clock.advance(hours=4)
    newest = service.backup_now(None)
    service.prune_backups(keep_daily=0, keep_weekly=0)
    assert [b.path for b in service.backups()] == [newest.path]


# --- when a backup is due ----------------------------------------------------------------------------


def test_a_backup_is_due_when_none_exists_or_the_newest_is_as_old_as_the_interval(
    service: ClinicalService, clock: FakeClock
) -> None:
    assert service.backup_due(4)
    service.backup_now(None)
    assert not service.backup_due(4)
    clock.advance(hours=3, minutes=59)
    assert not service.backup_due(4)
    clock.advance(minutes=1)
    assert service.backup_due(4)
    assert not service.backup_due(6)


def test_a_backup_named_in_the_future_does_not_stop_the_backups(
    service: ClinicalService, db_path: Path
) -> None:
    fake_backups(service, db_path, [T0 + timedelta(days=30)])  # made while the clock was wrong
    assert service.backup_due(4)


def test_the_interval_is_a_setting_an_administrator_changes(
    service: ClinicalService, admin: str, nurse: str, clock: FakeClock
) -> None:
    assert service.backup_interval_hours() == 4.0
    service.backup_now(None)
    clock.advance(hours=2)
    assert not service.backup_due()
    service.set_backup_interval_hours(admin, 2, "busy ward: lose at most two hours")
    assert service.backup_interval_hours() == 2.0
    assert service.backup_due()
    entry = service.audit_entries(limit=1)[0]
    assert (entry.username, entry.action) == ("admin", "settings.set")
    assert json.loads(entry.after_json) == {"backup_interval_hours": 2.0}

    for wrong in (0.5, 25, float("nan")):
        with pytest.raises(ValidationError, match="every 1 to 24 hours"):
            service.set_backup_interval_hours(admin, wrong, "typo")
    with pytest.raises(ValidationError, match="reason"):
        service.set_backup_interval_hours(admin, 6, " ")
    with pytest.raises(NotPermitted):
        service.set_backup_interval_hours(nurse, 6, "shorter")
    assert service.backup_interval_hours() == 2.0


def test_the_scheduled_backup_runs_only_when_due_and_rotates(
    service: ClinicalService, clock: FakeClock
) -> None:
    first = service.run_scheduled_backup()
    assert first is not None and service.audit_entries(limit=1)[0].reason == "automatic"
    assert service.run_scheduled_backup() is None
    clock.advance(hours=4)
    second = service.run_scheduled_backup()
    assert second is not None
    # Both are from the same day: the rotation keeps only that day's newest.
    assert [b.path for b in service.backups()] == [second.path]


# --- restoring ---------------------------------------------------------------------------------------


def test_restore_brings_back_the_database_as_it_was_and_keeps_the_current_one_aside(
    service: ClinicalService, admin: str, nurse: str, clock: FakeClock, db_path: Path
) -> None:
    chart_a_patient(service, nurse)
    backup = service.backup_now(admin)
    clock.advance(hours=1)
    service.admit(nurse, admission(clock.now(), mrn="K-2002", name="Blake Sample"))

    kept = service.restore(admin, backup.path)

    assert kept == db_path.with_name("monitor.sqlite.before-restore-20261120T100000Z")
    assert mrns(kept) == {"K-1001", "K-2002"}
    assert mrns(db_path) == {"K-1001"}
    assert mode(db_path) == 0o600 and mode(kept) == 0o600
    assert backup.path.exists()  # the backup itself is only read
    assert not [p for p in db_path.parent.iterdir() if p.name.startswith(".restore-")]

    reopened = open_database(path=db_path)
    try:
        restored = ClinicalService(reopened, clock=clock)
        assert restored.verify_audit_chain().intact
        entry = restored.audit_entries(limit=1)[0]
        assert (entry.username, entry.action) == ("admin", "backup.restore")
        assert json.loads(entry.after_json) == {"file": backup.path.name, "kept_aside": kept.name}
        assert [e.mrn for e in restored.open_episodes()] == ["K-1001"]
    finally:
        reopened.dispose()


def test_a_backup_from_an_older_version_is_brought_up_to_date_as_it_is_restored(
    service: ClinicalService, admin: str, nurse: str, clock: FakeClock, db_path: Path
) -> None:
    chart_a_patient(service, nurse)
    backup = service.backup_now(admin)
    older = open_database(path=backup.path)
    try:
        with older.engine.begin() as connection:
            command.downgrade(migrations.config(connection), "0004")  # before workstation settings
    finally:
        older.dispose()

    service.restore(admin, backup.path)

    reopened = open_database(path=db_path)
    try:
        assert reopened.schema_revision == migrations.head_revision()
        restored = ClinicalService(reopened, clock=clock)
        assert restored.verify_audit_chain().intact
        assert restored.audit_entries(limit=1)[0].action == "backup.restore"
        assert restored.backup_interval_hours() == 4.0  # the table the backup lacked is there, empty
    finally:
        reopened.dispose()
    # The restore's own migration leaves no pre-migration copy of its staging file behind.
    assert sorted(p.name for p in (db_path.parent / "backups").iterdir()) == [backup.path.name]


def test_restore_over_a_damaged_database(
    service: ClinicalService, admin: str, nurse: str, db_path: Path
) -> None:
    chart_a_patient(service, nurse)
    backup = service.backup_now(admin)
    corrupt(db_path, "users")  # even the accounts cannot be read: the backup's decide
    kept = service.restore(admin, backup.path)
    assert check_database_file(kept) is not None
    assert check_database_file(db_path) is None
    assert count(db_path, "assessments") == 2


def refused_backups(service: ClinicalService, tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Files a restore must refuse, each with (part of) the reason it gives."""
    good = service.backup_now(None).path
    folder = tmp_path / "offered"
    folder.mkdir()
    text = folder / "shopping.sqlite"
    text.write_text("milk\neggs\n")
    truncated = folder / "truncated.sqlite"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    damaged = folder / "damaged.sqlite"
    shutil.copy(good, damaged)
    corrupt(damaged)
    foreign = folder / "recipes.sqlite"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE recipes (name TEXT)")
    empty = folder / "empty.sqlite"
    with sqlite3.connect(empty) as connection:
        connection.execute("PRAGMA user_version = 1")  # an SQLite file with no tables at all
    newer = folder / "newer.sqlite"
    shutil.copy(good, newer)
    with sqlite3.connect(newer) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    good.unlink()
    return {
        "text": (text, "it is not an SQLite database"),
        "truncated": (truncated, "is damaged"),
        "damaged": (damaged, "is damaged"),
        "foreign": (foreign, "another program's SQLite file"),
        "empty": (empty, "another program's SQLite file"),
        "newer": (newer, "newer version of the withdrawal monitor"),
        "missing": (folder / "nothing.sqlite", "There is no file"),
        "folder": (folder, "is a folder: give the backup file in it"),
    }


def test_restore_refuses_what_is_not_a_good_backup_of_ours_and_changes_nothing(
    service: ClinicalService, admin: str, nurse: str, db_path: Path, tmp_path: Path
) -> None:
    chart_a_patient(service, nurse)
    offered = refused_backups(service, tmp_path)
    service.db.dispose()  # the pooled connections close: the file holds every page (its WAL folded in)
    before = db_path.read_bytes()
    files_before = folder_listing(db_path.parent)
    for kind, (file, reason) in offered.items():
        with pytest.raises(ValidationError, match=re.escape(reason)) as refusal:
            service.restore(admin, file)
        assert refusal.value.field == "Backup file", kind
        if kind not in ("missing", "folder"):
            assert refusal.value.message.startswith(f"Not restored: {file.name} "), kind
            assert refusal.value.message.endswith("The current database was not changed."), kind
        assert db_path.read_bytes() == before, kind
        assert folder_listing(db_path.parent) == files_before, kind  # no staging, no file kept aside
    assert mrns(db_path) == {"K-1001"}


def test_restore_needs_an_administrator_here_and_in_the_backup(
    service: ClinicalService, admin: str, nurse: str, db_path: Path
) -> None:
    backup = service.backup_now(admin)
    with pytest.raises(NotPermitted):
        service.restore(nurse, backup.path)
    # An administrator made after the backup is not one in it: the restored trail could not name them.
    service.create_user(admin, "it.kim", "Kim IT", "administrator", "temporary passphrase 1")
    service.change_password("it.kim", "temporary passphrase 1", "kim's own passphrase 2")
    service.db.dispose()  # as above: the file alone holds every page before it is compared
    before = db_path.read_bytes()
    with pytest.raises(ServiceError, match=re.escape("Not restored: in that backup, Unknown user 'it.kim'")):
        service.restore("it.kim", backup.path)
    assert db_path.read_bytes() == before


def test_restore_waits_for_no_one_else_to_have_the_database_open(
    service: ClinicalService, admin: str, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backups_module, "SOLE_ACCESS_TIMEOUT_S", 0.1)
    backup = service.backup_now(admin)
    other = sqlite3.connect(db_path)  # another workstation's app
    try:
        other.execute("SELECT count(*) FROM users").fetchone()
        with pytest.raises(ServiceError, match="open in another program"):
            service.restore(admin, backup.path)
    finally:
        other.close()
    assert not list(db_path.parent.glob("*.before-restore-*"))
    assert service.audit_entries(limit=1)[0].action == "backup.create"  # the current one is untouched


def test_restore_refuses_the_database_itself(service: ClinicalService, admin: str, db_path: Path) -> None:
    with pytest.raises(ValidationError, match="is the database itself"):
        service.restore(admin, db_path)


# --- the check at start ------------------------------------------------------------------------------


def test_the_start_check_passes_a_good_file_and_reports_a_damaged_one(
    service: ClinicalService, nurse: str, db_path: Path, tmp_path: Path
) -> None:
    chart_a_patient(service, nurse)
    assert check_database_file(db_path) is None
    damaged = tmp_path / "damaged.sqlite"
    service.db.dispose()  # the app closes, its WAL folded into the file: the file alone is copied
    shutil.copy(db_path, damaged)
    corrupt(damaged)
    with sqlite3.connect(damaged) as connection, pytest.raises(sqlite3.DatabaseError):
        connection.execute("SELECT * FROM assessments").fetchall()  # the damage is real
    message = check_database_file(damaged)
    assert message is not None
    assert message.startswith(f"The database file {damaged} is damaged (SQLite reports: ")
    # Above the size limit the quicker check runs, and finds it too.
    assert check_database_file(damaged, quick_above_bytes=0) is not None
    assert check_database_file(db_path, quick_above_bytes=0) is None


def test_the_full_check_finds_an_index_that_no_longer_matches_its_table(
    service: ClinicalService, nurse: str, db_path: Path, tmp_path: Path
) -> None:
    chart_a_patient(service, nurse)
    damaged = tmp_path / "damaged.sqlite"
    service.db.dispose()  # as above
    shutil.copy(db_path, damaged)
    corrupt_index(damaged)
    assert check_database_file(damaged) == (
        f"The database file {damaged} is damaged "
        "(SQLite reports: row 1 missing from index sqlite_autoindex_users_1)."
    )
    # The quick check reads every page but does not compare indexes with tables: why files up to
    # 256 MiB get the full check.
    assert check_database_file(damaged, quick_above_bytes=0) is None


def test_the_start_check_leaves_new_and_foreign_files_to_open_database(tmp_path: Path) -> None:
    assert check_database_file(tmp_path / "first-start.sqlite") is None
    assert not (tmp_path / "first-start.sqlite").exists()
    text = tmp_path / "notes.sqlite"
    text.write_text("not a database")
    assert check_database_file(text) is None


def test_the_newest_good_backup_skips_a_damaged_one(
    service: ClinicalService, nurse: str, clock: FakeClock, db_path: Path
) -> None:
    assert newest_good_backup_for(db_path) is None
    assert "No good backup was found" in damage_advice(db_path, "The database file is damaged.")
    chart_a_patient(service, nurse)
    good = service.backup_now(None)
    clock.advance(hours=4)
    bad = service.backup_now(None)
    corrupt(bad.path)
    found = newest_good_backup_for(db_path)
    assert isinstance(found, BackupInfo) and found.path == good.path
    advice = damage_advice(db_path, "The database file is damaged.")
    assert advice == (
        "The database file is damaged.\n"
        "The newest good backup is from 2026-11-20 09:00 UTC: restore it with\n"
        f"  monitor --db {db_path} --user ADMINISTRATOR restore {good.path}"
    )
