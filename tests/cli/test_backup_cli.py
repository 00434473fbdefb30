"""`monitor backup` and `monitor restore` end to end on a seeded demo database."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.cli.main import main
from monitor.services.clinical import ClinicalService
from monitor.store.database import open_database
from tests.helpers import admission

BACKUP_LINE = re.compile(r"backup written: (?P<path>.+) \((?P<size>[\d.]+ (bytes|KiB|MiB))\)")


@pytest.fixture
def ward(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A seeded database with the accounts admin (administrator) and rn.lee (nurse)."""
    path = tmp_path / "ward.sqlite"
    assert main(["--db", str(path), "demo", "--no-gui"]) == 0
    capsys.readouterr()
    return path


def last_audit_row(path: Path) -> tuple[str, str, str, dict[str, object]]:
    with sqlite3.connect(path) as connection:
        username, action, reason, after = connection.execute(
            "SELECT u.username, a.action, a.reason, a.after_json FROM audit_log a "
            "JOIN users u ON u.id = a.user_id ORDER BY a.id DESC LIMIT 1"
        ).fetchone()
    return username, action, reason, json.loads(after)


def written_backup(capsys: pytest.CaptureFixture[str]) -> Path:
    line = capsys.readouterr().out.strip()
    match = BACKUP_LINE.fullmatch(line)
    assert match is not None, line
    return Path(match["path"])


def mrns(path: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main(["--db", str(path), "episodes", "--json"]) == 0
    return [e["mrn"] for e in json.loads(capsys.readouterr().out)]


def refused(capsys: pytest.CaptureFixture[str]) -> str:
    """The one-line refusal on stderr (no traceback)."""
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("monitor: ") and "Traceback" not in captured.err
    return captured.err


def test_backup_without_user_is_the_applications_own(ward: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", str(ward), "backup"]) == 0
    written = written_backup(capsys)
    assert written.parent == ward.parent / "backups"
    assert re.fullmatch(r"ward-\d{8}T\d{6}Z\.sqlite", written.name)
    made_at = datetime.strptime(written.name[5:21], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - made_at).total_seconds()) < 60
    assert written.stat().st_mode & 0o777 == 0o600
    assert last_audit_row(ward) == (
        "system",
        "backup.create",
        "command line",
        {"file": written.name, "size_bytes": written.stat().st_size},
    )


def test_backup_to_a_chosen_file_by_an_administrator(
    ward: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "copy for IT.sqlite"
    assert main(["--db", str(ward), "--user", "admin", "backup", "-o", str(target)]) == 0
    assert capsys.readouterr().out.startswith(f"backup written: {target} (")
    assert target.is_file() and not (ward.parent / "backups").exists()
    assert last_audit_row(ward)[:2] == ("admin", "backup.create")


def test_backup_refusals_exit_2_with_one_line(
    ward: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    existing = tmp_path / "existing.sqlite"
    existing.write_text("keep")
    assert main(["--db", str(ward), "backup", "-o", str(existing)]) == 2
    assert "already exists" in refused(capsys)
    assert existing.read_text() == "keep"
    assert main(["--db", str(ward), "--user", "rn.lee", "backup"]) == 2
    assert "rn.lee (nurse) may not make or restore backups" in refused(capsys)
    assert main(["--db", str(ward), "--user", "nobody", "backup"]) == 2
    assert "There is no account 'nobody'" in refused(capsys)
    assert not (ward.parent / "backups").exists()


@pytest.mark.parametrize("command", [["backup"], ["--user", "admin", "restore", "x.sqlite"]])
def test_postgresql_is_refused_before_connecting(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:9/nowhere"
    assert main(["--database-url", url, *command]) == 2
    assert "pg_dump" in refused(capsys)


def test_restore_brings_back_the_backup_and_says_what_was_kept(
    ward: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", str(ward), "--user", "admin", "backup"]) == 0
    backup = written_backup(capsys)
    database = open_database(path=ward)
    try:
        service = ClinicalService(database)
        service.admit("rn.lee", admission(datetime.now(UTC), mrn="K-9009", name="Admitted Later"))
    finally:
        database.dispose()
    assert "K-9009" in mrns(ward, capsys)

    assert main(["--db", str(ward), "--user", "admin", "restore", str(backup)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"restored {backup} into {ward}"
    kept = Path(out[1].removeprefix("the replaced database is kept as "))
    assert re.fullmatch(r"ward\.sqlite\.before-restore-\d{8}T\d{6}Z", kept.name)
    assert kept.parent == ward.parent

    assert "K-9009" not in mrns(ward, capsys)
    assert main(["--db", str(ward), "audit", "verify"]) == 0
    assert "intact" in capsys.readouterr().out
    assert last_audit_row(ward)[:3] == ("admin", "backup.restore", "")


def test_restore_refusals_exit_2_and_leave_the_database(
    ward: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "notes.sqlite"
    text.write_text("shopping list\n")
    before = ward.read_bytes()
    assert main(["--db", str(ward), "restore", str(text)]) == 2
    assert "needs --user NAME of an administrator" in refused(capsys)
    assert main(["--db", str(ward), "--user", "admin", "restore", str(text)]) == 2
    assert "notes.sqlite is not a withdrawal monitor backup: it is not an SQLite database" in refused(capsys)
    assert main(["--db", str(ward), "--user", "rn.lee", "restore", str(text)]) == 2
    assert "may not make or restore backups" in refused(capsys)
    assert ward.read_bytes() == before
    assert not list(tmp_path.glob("*.before-restore-*"))


def test_restore_over_a_database_too_damaged_to_open(
    ward: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", str(ward), "backup"]) == 0
    backup = written_backup(capsys)
    with ward.open("r+b") as handle:  # the schema's own page: nothing in the file can be found
        handle.seek(100)
        handle.write(b"\xff" * 1900)
    assert main(["--db", str(ward), "episodes"]) == 2
    message = refused(capsys)
    assert "damaged" in message
    # The way back, named: the newest good backup and the command that restores it.
    assert f"restore {backup}" in message, message

    assert main(["--db", str(ward), "--user", "admin", "restore", str(backup)]) == 0
    assert "the replaced database is kept as" in capsys.readouterr().out
    assert len(mrns(ward, capsys)) == 4


def test_the_help_says_who_may(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["backup", "--help"])
    assert "system account" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["restore", "--help"])
    assert "must be an administrator" in capsys.readouterr().out
