"""Backups of the SQLite database (issue 7): made, checked, listed, rotated and restored.

A backup is made with SQLite's online backup API (a consistent copy while others keep writing), written
to a temporary file in the target folder, checked with `PRAGMA integrity_check`, and only then renamed
to its final name, readable by this account only (0600). A file with a backup's name therefore passed
the check when it was written. Backups live in `backups/` beside the database, the folder where
open_database keeps its copy before a schema upgrade:

    monitor-20261127T131500Z.sqlite                          a backup (UTC time; "-2" if two in a second)
    monitor.before-0005-20261127T131500123456Z.sqlite        open_database's copy before migrating

Both are listed (BackupInfo.kind tells them apart); rotation only ever deletes the first kind. The time
of a backup is read from its name, never from the file's mtime (a copy to a USB stick keeps the name).

Making a backup is audited ("backup.create", by the system account for the app's own backups); deleting
old backups in the rotation is only logged: a backup file holds no record that is not also in the
database, and its deletion changes no clinical data. A restore is audited inside the restored database
("backup.restore"), whose chain continues from the backup's last row.

PostgreSQL databases are backed up by the server's tools (pg_dump / pg_restore), not by the app.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from monitor.services.base import ServiceBase
from monitor.services.clock import Clock, SystemClock
from monitor.services.errors import ServiceError, ValidationError
from monitor.services.files import BACKUP_FOLDER, cannot_write
from monitor.store import audit, migrations
from monitor.store.database import open_database
from monitor.store.errors import DatabaseProblem, ProblemKind, classify
from monitor.store.sqlite_file import (
    QUICK_CHECK_ABOVE_BYTES,
    has_sqlite_header,
    integrity_problem,
    plain_connection,
)

log = logging.getLogger(__name__)

KIND_BACKUP = "backup"
KIND_BEFORE_MIGRATION = "before-migration"

BACKUP_INTERVAL_KEY = "backup_interval_hours"
BACKUP_INTERVAL_DEFAULT_HOURS = 4.0
# More often than hourly only churns the disk; more than a day apart risks a whole day's charting.
BACKUP_INTERVAL_MIN_HOURS = 1.0
BACKUP_INTERVAL_MAX_HOURS = 24.0
KEEP_DAILY = 7
KEEP_WEEKLY = 4

# How long a restore waits for the database's other connections to close before it refuses.
SOLE_ACCESS_TIMEOUT_S = 2.0

POSTGRES_REFUSAL = (
    "The app backs up and restores an SQLite database file (--db). A PostgreSQL database is backed up "
    "with pg_dump and restored with pg_restore on the server (see the README)."
)
BACKUP_FIELD = "Backup file"

_STAMP = "%Y%m%dT%H%M%SZ"
_MIGRATION_STAMP = "%Y%m%dT%H%M%S%fZ"  # open_database's pre-migration copies carry microseconds


@dataclass(frozen=True)
class BackupInfo:
    """One backup file. `ok`: passed the integrity check when written and still starts like an SQLite
    file (listing never re-reads whole files; newest_good_backup_for does)."""

    path: Path
    made_at: datetime
    size_bytes: int
    ok: bool
    kind: str = KIND_BACKUP


# --- names -------------------------------------------------------------------------------------------


def backup_folder(database: Path) -> Path:
    return database.parent / BACKUP_FOLDER


def _backup_name(database: Path, made_at: datetime, serial: int = 1) -> str:
    extra = f"-{serial}" if serial > 1 else ""
    return f"{database.stem}-{made_at.astimezone(UTC).strftime(_STAMP)}{extra}.sqlite"


def _patterns(database: Path) -> tuple[re.Pattern[str], re.Pattern[str]]:
    stem = re.escape(database.stem)
    ours = re.compile(rf"{stem}-(?P<stamp>\d{{8}}T\d{{6}}Z)(?:-(?P<serial>\d+))?\.sqlite")
    before_migration = re.compile(rf"{stem}\.before-[^/\\]+-(?P<stamp>\d{{8}}T\d{{12}}Z)\.sqlite")
    return ours, before_migration


def _info(database: Path, file: Path) -> tuple[BackupInfo, int] | None:
    """The backup a file in the backup folder is, with its serial for ordering; None if it is not one."""
    ours, before_migration = _patterns(database)
    if match := ours.fullmatch(file.name):
        kind, stamp_format, serial = KIND_BACKUP, _STAMP, int(match["serial"] or 1)
    elif match := before_migration.fullmatch(file.name):
        kind, stamp_format, serial = KIND_BEFORE_MIGRATION, _MIGRATION_STAMP, 1
    else:
        return None
    try:
        made_at = datetime.strptime(match["stamp"], stamp_format).replace(tzinfo=UTC)
        size = file.stat().st_size
    except (ValueError, OSError):
        return None
    return BackupInfo(file, made_at, size, ok=size > 0 and has_sqlite_header(file), kind=kind), serial


def list_backups(database: Path) -> list[BackupInfo]:
    """The backups of this database in its backup folder, newest first."""
    try:
        files = [f for f in backup_folder(database).iterdir() if f.is_file()]
    except OSError:
        return []
    found = [info for f in files if (info := _info(database, f)) is not None]
    found.sort(key=lambda pair: (pair[0].made_at, pair[1]), reverse=True)
    return [info for info, _serial in found]


# --- checks ------------------------------------------------------------------------------------------


def newest_good_backup_for(path: Path) -> BackupInfo | None:
    """The newest backup of this database that passes a full integrity check now (the one to restore)."""
    database = Path(path).expanduser().absolute()
    for info in list_backups(database):
        if not info.ok:
            continue
        quick = info.size_bytes > QUICK_CHECK_ABOVE_BYTES
        if integrity_problem(info.path, quick=quick) is None:
            return info
        log.warning("the backup made %s fails its integrity check", info.made_at.isoformat())
    return None


def damage_advice(path: Path, problem: str) -> str:
    """What the app or the command line tells the user about a damaged database: the way back."""
    database = Path(path).expanduser().absolute()
    good = newest_good_backup_for(database)
    if good is None:
        return (
            f"{problem}\nNo good backup was found in {backup_folder(database)}. Do not keep working in this "
            "file; ask IT to recover it."
        )
    return (
        f"{problem}\nThe newest good backup is from {good.made_at:%Y-%m-%d %H:%M} UTC: restore it with\n"
        f"  monitor --db {database} --user ADMINISTRATOR restore {good.path}"
    )


# --- copying -----------------------------------------------------------------------------------------


def _online_copy(source: Path, destination: Path) -> None:
    """Copy through SQLite's backup API and make the copy one self-contained file (no WAL beside it)."""
    with plain_connection(source) as reader, plain_connection(destination) as writer:
        reader.backup(writer)
        # The copy inherits the source's WAL flag; a backup must not need a -wal file to be complete.
        writer.execute("PRAGMA journal_mode = DELETE").fetchall()


def _remove_with_journal(path: Path) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _write_checked_copy(database: Path, target: Path) -> int:
    """The copy into a temporary file beside the target, checked, then renamed; returns its size."""
    try:
        handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        os.close(handle)  # mkstemp made it 0600; SQLite writes into it and keeps the mode
    except OSError as exc:
        raise ValidationError(BACKUP_FIELD, cannot_write(target, exc)) from exc
    temp = Path(temp_name)
    try:
        try:
            _online_copy(database, temp)
        except sqlite3.Error as exc:
            raise classify(exc) from exc
        problem = integrity_problem(temp)
        if problem is not None:
            log.error("backup copy failed its integrity check: %s", problem)
            raise ServiceError(
                "No backup was kept: the copy failed SQLite's integrity check, so the database itself may "
                f"be damaged ({problem}). Ask IT to check it; keep the older backups."
            )
        os.chmod(temp, 0o600)
        if target.exists():  # a file appeared since the name was chosen: never overwrite it
            raise ValidationError(BACKUP_FIELD, f"{target} already exists: choose a new file name.")
        os.replace(temp, target)
        return target.stat().st_size
    except OSError as exc:
        raise ValidationError(BACKUP_FIELD, cannot_write(target, exc)) from exc
    finally:
        _remove_with_journal(temp)


def _free_backup_path(database: Path, made_at: datetime) -> Path:
    folder = backup_folder(database)
    serial = 1
    while (candidate := folder / _backup_name(database, made_at, serial)).exists():
        serial += 1
    return candidate


def _checked_target(target: Path) -> Path:
    """Where `-o` asked the backup to go: a new file in an existing folder."""
    target = Path(target).expanduser().absolute()
    if target.is_dir():
        raise ValidationError(BACKUP_FIELD, f"{target} is a folder: give the backup a file name.")
    if target.exists():
        raise ValidationError(
            BACKUP_FIELD,
            f"{target} already exists: choose a new file name (a backup never overwrites a file).",
        )
    if not target.parent.is_dir():
        raise ValidationError(BACKUP_FIELD, f"The folder {target.parent} does not exist.")
    return target


# --- restoring ---------------------------------------------------------------------------------------


def _refuse(source: Path, why: str) -> ValidationError:
    return ValidationError(
        BACKUP_FIELD, f"Not restored: {source.name} {why} The current database was not changed."
    )


def _check_backup_schema(source: Path, copy: Path) -> None:
    """The copy holds a withdrawal monitor schema this version knows (as open_database would decide)."""
    try:
        with plain_connection(copy) as connection:
            tables = {
                row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            revisions = (
                [row[0] for row in connection.execute(f"SELECT version_num FROM {migrations.VERSION_TABLE}")]
                if migrations.VERSION_TABLE in tables
                else []
            )
    except sqlite3.Error as exc:
        raise _refuse(source, f"cannot be read as a database ({exc}).") from exc
    if not revisions:
        # No schema revision: another program's file, or an empty one (restoring it would empty the ward).
        raise _refuse(source, "is not a withdrawal monitor backup: it is another program's SQLite file.")
    if not migrations.is_known(revisions[0]):
        raise _refuse(
            source,
            "was made by a newer version of the withdrawal monitor: install that version to restore it.",
        )


def _stage_restore(source: Path, staged: Path, actor: str, kept_aside: Path, clock: Clock) -> None:
    """Copy the backup to `staged`, check it, bring it to this version's schema and audit the restore in
    it, all before the current database is touched: whatever fails, that one stays as it was."""
    if not has_sqlite_header(source):
        raise _refuse(source, "is not a withdrawal monitor backup: it is not an SQLite database.")
    try:
        _online_copy(source, staged)
    except sqlite3.Error as exc:
        failure = classify(exc)
        if failure.kind in (ProblemKind.CORRUPT, ProblemKind.NOT_A_DATABASE):
            raise _refuse(source, f"is damaged ({exc}).") from exc
        if failure.kind in (ProblemKind.DISK_FULL, ProblemKind.READ_ONLY):
            raise failure from exc  # about the database's folder, where the copy is written
        raise _refuse(source, f"cannot be read ({exc}).") from exc
    damage = integrity_problem(staged)
    if damage is not None:
        raise _refuse(source, f"is damaged: SQLite's integrity check reports {damage!r}.")
    _check_backup_schema(source, staged)
    try:
        restored = open_database(path=staged)  # an older backup is migrated here, not over the live file
    except DatabaseProblem as problem:
        raise _refuse(source, f"cannot be opened: {problem.explanation}") from problem
    try:
        signer = ServiceBase(restored, clock=clock, zone_name="UTC")
        with restored.write() as session:
            try:
                # Checked against the backup's accounts: the restored trail must name a valid administrator.
                admin = signer._actor(session, actor, "backup")
            except ServiceError as refusal:
                raise ServiceError(f"Not restored: in that backup, {refusal.message}") from refusal
            audit.append(
                session,
                at=clock.now(),
                user_id=admin.id,
                action="backup.restore",
                entity="backup",
                entity_id=None,
                after={"file": source.name, "kept_aside": kept_aside.name},
            )
    finally:
        restored.dispose()
    # Fold the copy's WAL into the file: only the file itself is moved into place.
    with plain_connection(staged) as connection:
        connection.execute("PRAGMA journal_mode = DELETE").fetchall()


def _take_sole_access(database: Path) -> None:
    """Refuse while another connection has the database open; otherwise fold its WAL into the file.

    Leaving WAL mode needs the only connection, so it is the test; it also checkpoints the WAL, so the
    file kept aside is complete by itself. A damaged file cannot always switch: it is kept aside as it is
    (its -wal beside it).
    """
    try:
        with plain_connection(database, timeout_s=SOLE_ACCESS_TIMEOUT_S) as connection:
            connection.execute("PRAGMA journal_mode = DELETE").fetchall()
    except sqlite3.Error as exc:
        problem = classify(exc)
        if problem.kind is ProblemKind.BUSY:
            raise ServiceError(
                "Not restored: the database is open in another program or workstation. Close the "
                "withdrawal monitor everywhere it uses this file, then restore again."
            ) from exc
        log.warning("restore: could not leave WAL mode on the current database (%s)", problem.detail)


def _kept_aside_path(database: Path, now: datetime) -> Path:
    base = f"{database.name}.before-restore-{now.astimezone(UTC).strftime(_STAMP)}"
    candidate, serial = database.with_name(base), 1
    while candidate.exists():
        serial += 1
        candidate = database.with_name(f"{base}-{serial}")
    return candidate


def _move_with_journals(source: Path, destination: Path) -> None:
    os.replace(source, destination)
    for suffix in ("-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.replace(f"{source}{suffix}", f"{destination}{suffix}")


def _swap_in(database: Path, staged: Path, kept_aside: Path) -> None:
    """Move the current database (with any journal files) aside, then the restored copy into its place."""
    _move_with_journals(database, kept_aside)
    try:
        os.replace(staged, database)
    except OSError:
        _move_with_journals(kept_aside, database)  # put the current one back: never leave no database
        raise
    os.chmod(database, 0o600)


def restore_database_file(database: Path, source: Path, actor: str, *, clock: Clock | None = None) -> Path:
    """Replace the SQLite database at `database` with the backup `source`; returns where the replaced file
    was kept (`<name>.before-restore-<UTC time>` beside it).

    For a database that can no longer be opened (damaged); BackupsMixin.restore is the way otherwise.
    Nothing may have the database open. The restored copy is migrated to this version's schema and
    carries a "backup.restore" audit row by `actor`, who must be an administrator in the backup.
    """
    clock = clock or SystemClock()
    database = Path(database).expanduser().absolute()
    source = Path(source).expanduser().absolute()
    if source.is_dir():
        raise ValidationError(BACKUP_FIELD, f"{source} is a folder: give the backup file in it.")
    if not source.is_file():
        raise ValidationError(BACKUP_FIELD, f"There is no file {source}.")
    if database.exists() and source.samefile(database):
        raise ValidationError(BACKUP_FIELD, f"{source} is the database itself, not a backup of it.")
    if not database.is_file():
        raise ValidationError(BACKUP_FIELD, f"There is no database at {database} to restore over.")
    kept_aside = _kept_aside_path(database, clock.now())
    try:
        # Staged beside the database: the final rename stays on one file system (atomic).
        staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=database.parent))
    except OSError as exc:
        raise ValidationError(BACKUP_FIELD, cannot_write(database, exc)) from exc
    try:
        staged = staging / database.name
        _stage_restore(source, staged, actor, kept_aside, clock)
        _take_sole_access(database)
        try:
            _swap_in(database, staged, kept_aside)
        except OSError as exc:
            raise ValidationError(BACKUP_FIELD, cannot_write(database, exc)) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info(
        "restored the database from a backup; the replaced file is kept aside"
    )  # no file names: chosen by people
    return kept_aside


# --- the service -------------------------------------------------------------------------------------


def _keepers(backups: list[BackupInfo], keep_daily: int, keep_weekly: int) -> set[Path]:
    """The newest backup, and the newest of each of the last `keep_daily` days and `keep_weekly` ISO
    weeks that have a backup (days with none do not count: a closed ward keeps its older backups)."""
    keep = {backups[0].path} if backups else set()
    days: set[date] = set()
    weeks: set[tuple[int, int]] = set()
    for backup in backups:  # newest first, so the first seen of a day or week is its newest
        day, iso = backup.made_at.date(), backup.made_at.isocalendar()
        week = (iso.year, iso.week)
        if day not in days:
            days.add(day)
            if len(days) <= keep_daily:
                keep.add(backup.path)
        if week not in weeks:
            weeks.add(week)
            if len(weeks) <= keep_weekly:
                keep.add(backup.path)
    return keep


def check_backup_interval(hours: float) -> str | None:
    """None if the interval may be used, otherwise why not."""
    if not math.isfinite(hours) or not BACKUP_INTERVAL_MIN_HOURS <= hours <= BACKUP_INTERVAL_MAX_HOURS:
        return f"Backups are made every {BACKUP_INTERVAL_MIN_HOURS:g} to {BACKUP_INTERVAL_MAX_HOURS:g} hours."
    return None


class BackupsMixin(ServiceBase):
    def backup_now(
        self, actor: str | None, target: Path | None = None, *, reason: str = "manual"
    ) -> BackupInfo:
        """Write a checked backup (default: into backups/ beside the database; `target`: exactly there).

        `actor` None is the app's own backup, signed by the system account; a named account needs the
        "backup" right.
        """
        database = self._database_file()
        if actor is not None:
            with self.db.read() as session:
                self._actor(session, actor, "backup")  # refused before anything is written
        now = self.clock.now()
        if target is None:
            backup_folder(database).mkdir(mode=0o700, exist_ok=True)
            destination = _free_backup_path(database, now)
        else:
            destination = _checked_target(target)
        size = _write_checked_copy(database, destination)
        try:
            with self.db.write() as session:
                user = self._system_user(session) if actor is None else self._actor(session, actor, "backup")
                audit.append(
                    session,
                    at=now,
                    user_id=user.id,
                    action="backup.create",
                    entity="backup",
                    entity_id=None,
                    # The file's name only: a folder's name can name a person.
                    after={"file": destination.name, "size_bytes": size},
                    reason=reason,
                )
        except BaseException:
            destination.unlink(missing_ok=True)  # an unaudited copy of every record must not stay behind
            raise
        log.info("backup written (%d bytes, %s)", size, reason)
        return BackupInfo(destination, now, size, ok=True)

    def backups(self) -> list[BackupInfo]:
        """This database's backups in its backup folder (with the pre-migration copies), newest first."""
        if self.db.path is None:
            return []
        return list_backups(self.db.path)

    def last_good_backup(self) -> BackupInfo | None:
        """The newest backup that passed its check when written and still looks whole (cheap: no re-read)."""
        return next((b for b in self.backups() if b.ok), None)

    def prune_backups(self, keep_daily: int = KEEP_DAILY, keep_weekly: int = KEEP_WEEKLY) -> list[Path]:
        """Delete the app's older backups (see _keepers); pre-migration copies are never deleted.

        Logged, not audited: a backup holds nothing that is not also in the database. Returns the deleted.
        """
        if keep_daily < 0 or keep_weekly < 0:
            raise ValueError("keep counts cannot be negative")
        ours = [b for b in self.backups() if b.kind == KIND_BACKUP]
        keep = _keepers(ours, keep_daily, keep_weekly)
        deleted = []
        for backup in ours:
            if backup.path in keep:
                continue
            try:
                backup.path.unlink()
            except OSError as exc:
                log.warning(
                    "could not delete the old backup made %s: %s", backup.made_at.isoformat(), exc.strerror
                )
                continue
            deleted.append(backup.path)
        if deleted:
            log.info("deleted %d old backups; %d kept", len(deleted), len(ours) - len(deleted))
        return deleted

    def backup_interval_hours(self) -> float:
        """Hours between the app's automatic backups (default 4), the same on every workstation."""
        return self._workstation_setting(BACKUP_INTERVAL_KEY, BACKUP_INTERVAL_DEFAULT_HOURS)

    def set_backup_interval_hours(self, actor: str, hours: float, reason: str) -> None:
        """An administrator sets the automatic backups' interval (audited)."""
        problem = check_backup_interval(hours)
        if problem is not None:
            raise ValidationError("Back up every (hours)", problem)
        before = self.backup_interval_hours()
        self._set_workstation_setting(
            actor, BACKUP_INTERVAL_KEY, float(hours), before, reason, "change the backup interval"
        )

    def backup_due(self, interval_hours: float | None = None) -> bool:
        """True if there is no backup yet or the newest is `interval_hours` old (default: the setting).

        Never due for PostgreSQL (the server's backups are not the app's).
        """
        if self.db.path is None:
            return False
        interval = timedelta(hours=self.backup_interval_hours() if interval_hours is None else interval_hours)
        newest = next(iter(self.backups()), None)
        if newest is None:
            return True
        age = self.clock.now() - newest.made_at
        # A backup from the future means a clock was wrong when it was named: do not let it stop backups.
        return age >= interval or age < -interval

    def run_scheduled_backup(self) -> BackupInfo | None:
        """For the app's timer: back up if due (as the system account), then rotate. None if not due."""
        if not self.backup_due():
            return None
        info = self.backup_now(None, reason="automatic")
        self.prune_backups()
        return info

    def restore(self, actor: str, source: Path) -> Path:
        """Replace this service's SQLite database with the backup `source`; returns the path where the
        replaced database was kept aside (`<name>.before-restore-<UTC time>`).

        Refuses (ValidationError) a file that is not SQLite, is damaged, or has no withdrawal monitor schema
        this version knows, without touching the current database. The service's engine is disposed:
        the caller must open the database again (locations.connect) and not use this service any more.
        """
        database = self._database_file()
        try:
            with self.db.read() as session:
                self._actor(session, actor, "backup")
        except DatabaseProblem as problem:
            if problem.kind is not ProblemKind.CORRUPT:
                raise
            # The current database is damaged (why one restores): the backup's accounts decide.
            log.warning("restore: current database unreadable, checking the actor in the backup only")
        self.db.dispose()
        return restore_database_file(database, source, actor, clock=self.clock)

    def _database_file(self) -> Path:
        if self.db.path is None:
            raise ServiceError(POSTGRES_REFUSAL)
        return self.db.path
