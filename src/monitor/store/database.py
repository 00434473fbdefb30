"""Opening the database: engine factory, SQLite pragmas, migrations at start, clear refusals.

SQLite (the default, one file per workstation) and PostgreSQL (a ward with several workstations) use
the same models and migrations. Every failure to open becomes a DatabaseProblem with a plain message.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from monitor.store import migrations
from monitor.store.errors import DatabaseProblem, ProblemKind, classify
from monitor.store.sqlite_file import BUSY_TIMEOUT_MS, SQLITE_HEADER

log = logging.getLogger(__name__)

NETWORK_FILESYSTEMS = {"nfs", "nfs4", "cifs", "smbfs", "smb3", "9p", "fuse.sshfs", "afs", "ncpfs", "davfs"}
_WRITE_OPTION = "monitor_write"
_FILE_IDENTITY = "monitor_file_identity"  # in a pooled connection's info: (device, inode) it opened
# The GUI thread and the one background worker; more at once get a connection each, closed after use.
SQLITE_POOL_SIZE = 2
_WRITE_RETRY_S = 0.001  # between tries for the write lock while another process holds it


@dataclass
class Database:
    """An open, migrated database. Use `read()` for queries and `write()` for one clinical transaction."""

    engine: Engine
    url: str
    path: Path | None
    schema_revision: str
    _sessions: sessionmaker[Session]

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work: one BEGIN, so every query in it sees the same snapshot."""
        try:
            with self._sessions() as session, session.begin():
                yield session
        except SQLAlchemyError as exc:
            raise classify(exc) from exc
        except sqlite3.Error as exc:
            raise classify(exc) from exc

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction (BEGIN IMMEDIATE on SQLite), committed durably or not at all."""
        try:
            with self._sessions() as session, session.begin():
                session.connection(execution_options={_WRITE_OPTION: True})
                yield session
        except SQLAlchemyError as exc:
            raise classify(exc) from exc
        except sqlite3.Error as exc:
            raise classify(exc) from exc

    def dispose(self) -> None:
        """Close every pooled connection (SQLite: the last one to close folds the WAL into the file).
        The engine stays usable: a later unit of work opens a new connection."""
        self.engine.dispose()


def sqlite_url(path: Path) -> str:
    return f"sqlite+pysqlite:///{path}"


def _file_identity(path: str) -> tuple[int, int] | None:
    """(device, inode) of the file at `path`; None if there is none (yet)."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino


def _install_sqlite_events(engine: Engine, path: str | None) -> None:
    """Fix the sqlite3 driver's legacy transactions (SQLAlchemy's documented recipe), set the pragmas
    once per connection, and never hand out a pooled connection to a file that is no longer at `path`."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, record: Any) -> None:
        record.info[_FILE_IDENTITY] = _file_identity(path) if path else None
        # Let SQLAlchemy, not the driver, decide when transactions begin (the driver sends no BEGIN
        # before a SELECT, so two reads in one transaction could see different data).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")
            # FULL: a commit that returned survives a power cut (clinical writes).
            cursor.execute("PRAGMA synchronous = FULL")
        finally:
            cursor.close()

    @event.listens_for(engine, "checkout")
    def on_checkout(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        # A pooled connection keeps its file open: if that file was moved or replaced meanwhile (a
        # restore, a file moved aside by hand), the pool discards it and opens the file now at the path,
        # as a new connection per unit of work did. One stat() per unit of work.
        if path and record.info.get(_FILE_IDENTITY) != _file_identity(path):
            raise DisconnectionError("the database file at the path is not the one this connection opened")

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front, so a writer waits (busy timeout) instead of failing
        # half-way when another workstation process upgrades its read to a write.
        if connection.get_execution_options().get(_WRITE_OPTION, False):
            _begin_immediate(connection.connection.dbapi_connection)
        else:
            connection.exec_driver_sql("BEGIN")


def _begin_immediate(dbapi_connection: Any) -> None:
    """BEGIN IMMEDIATE, waiting up to the busy timeout for another writer, and trying often.

    SQLite's own busy wait backs off to one try per 100 ms, so a waiting workstation only gets in when
    a try falls into the short gap between another process's writes: with pooled connections (no
    file opened and closed between them) a process writing one record after another kept the other
    out for the whole busy timeout. Trying every millisecond finds those gaps, so writers take turns.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout = 0")
        try:
            while True:
                try:
                    cursor.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    busy = getattr(exc, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY
                    if not busy or time.monotonic() >= deadline:
                        raise
                time.sleep(_WRITE_RETRY_S)
        finally:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def _read_mounts() -> str | None:
    """The mount table of this machine (Linux); None where there is none to read."""
    try:
        return Path("/proc/mounts").read_text()
    except OSError:
        return None


def is_network_filesystem(path: Path, mounts: str | None = None) -> bool:
    """True if the path lies on a network mount (Linux /proc/mounts; a UNC path on Windows).

    `mounts` is the text of a mount table in /proc/mounts format; by default this machine's.
    """
    text = str(path)
    if text.startswith("\\\\") or text.startswith("//"):
        return True
    if mounts is None:
        mounts = _read_mounts()
        if mounts is None:
            return False
    resolved = path.resolve()
    best_len, best_type = -1, ""
    for line in mounts.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        mount_point = parts[1].replace("\\040", " ")
        if (resolved == Path(mount_point) or Path(mount_point) in resolved.parents) and len(
            mount_point
        ) > best_len:
            best_len, best_type = len(mount_point), parts[2]
    return best_type in NETWORK_FILESYSTEMS


def _prepare_sqlite_file(path: Path) -> None:
    """Refuse what cannot be a database; create a new file readable by this account only (0600)."""
    if is_network_filesystem(path.parent if not path.exists() else path):
        raise DatabaseProblem(ProblemKind.NETWORK_SHARE, str(path))
    if path.is_dir():
        raise DatabaseProblem(ProblemKind.NOT_A_DATABASE, f"{path} is a folder")
    if path.exists() and not path.is_file():
        # A device or a pipe (--db /dev/null): never opened, never chmod-ed. Run as root, the chmod
        # below once made /dev/null unusable for every program on the machine.
        raise DatabaseProblem(ProblemKind.NOT_A_DATABASE, f"{path} is not a regular file")
    if path.exists():
        try:
            with path.open("rb") as handle:
                header = handle.read(len(SQLITE_HEADER))
        except OSError as exc:
            raise classify(exc) from exc
        if header and header != SQLITE_HEADER:
            raise DatabaseProblem(ProblemKind.NOT_A_DATABASE, f"{path}: unknown header")
        if header:
            _refuse_foreign_sqlite(path)
        if os.access(path, os.W_OK):
            try:
                os.chmod(path, 0o600)
            except OSError:
                log.warning("could not restrict database file permissions")
        return
    if not path.parent.exists():
        raise DatabaseProblem(ProblemKind.CANNOT_OPEN, f"folder {path.parent} does not exist")
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        kind = ProblemKind.READ_ONLY if isinstance(exc, PermissionError) else ProblemKind.CANNOT_OPEN
        raise DatabaseProblem(kind, f"{type(exc).__name__}: {exc}") from exc
    os.close(fd)


def _foreign_tables(tables: set[str]) -> set[str]:
    """Tables of a database that has no withdrawal monitor schema revision (another program's)."""
    return set() if migrations.VERSION_TABLE in tables else tables


def _refuse_foreign_sqlite(path: Path) -> None:
    """Refuse another program's SQLite file before anything (even the WAL pragma) writes to it.

    Read-only look at the schema: tables but no schema revision means the file is not ours, and
    migrating it would write clinical tables into someone else's database. A damaged file is refused
    here too, untouched. Anything else inconclusive is left to the normal open to report.
    """
    try:
        connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error as exc:
        problem = classify(exc)
        if problem.kind in (ProblemKind.CORRUPT, ProblemKind.NOT_A_DATABASE):
            raise problem from exc
        return
    finally:
        connection.close()
    foreign = _foreign_tables(tables)
    if foreign:
        raise DatabaseProblem(
            ProblemKind.NOT_A_DATABASE, f"{path}: no schema revision; tables {', '.join(sorted(foreign))}"
        )


def create_db_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # A small pool: opening the file per unit of work cost more than the work itself (open, four
        # pragmas, and on close a checkpoint of the whole WAL with its fsyncs and the WAL's removal).
        # Pooled connections keep their pragmas; a pooled connection to a file no longer at the path
        # is discarded at checkout (on_checkout), and dispose() closes them all. Units of work beyond
        # the pool's size (threads) get a connection of their own, closed when done: never a wait.
        engine = create_engine(
            url,
            poolclass=QueuePool,
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=-1,
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            hide_parameters=True,  # parameters carry names and MRNs: never into logs or error text
        )
        # The file to watch: a plain path (a "file:" URI with uri=true is taken as it is).
        watched = None if parsed.query.get("uri") else parsed.database
        _install_sqlite_events(engine, watched or None)
        return engine
    engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
    if parsed.get_backend_name() == "postgresql":
        _install_postgresql_events(engine)
    return engine


# Any constant: the key of the one advisory lock every write transaction takes on PostgreSQL.
WRITE_LOCK_KEY = 0x57_4D_4F_4E  # "WMON"


def _install_postgresql_events(engine: Engine) -> None:
    """Writers take turns on PostgreSQL too, as on SQLite: each write transaction first takes one
    transaction-level advisory lock (released at commit or rollback).

    The services read, check and then write (an assessment not yet amended, an alert not yet
    acknowledged, the audit chain's last hash); with writers in turn, two workstations doing the same
    thing at once meet a clean "already done" instead of two half-right rows or a forked audit chain.
    A ward's write rate (a few per minute) makes the queue invisible. A writer that waits longer than
    the busy timeout gives up with "busy" (lock_not_available), like SQLite's busy timeout.
    """

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(_WRITE_OPTION, False):
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{BUSY_TIMEOUT_MS}ms'")
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")


def backup_sqlite_file(path: Path, destination: Path) -> Path:
    """A consistent copy through SQLite's online backup API (safe while others write)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(destination, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    os.close(fd)
    source = sqlite3.connect(path)
    try:
        target = sqlite3.connect(destination)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()
    return destination


def open_database(*, path: Path | None = None, url: str | None = None, migrate: bool = True) -> Database:
    """Open (creating if needed) and migrate the database at `path` (SQLite) or `url` (any backend).

    Before a schema upgrade of an existing SQLite file, a backup copy is written beside it under
    `backups/`. A database from a newer version is refused untouched.
    """
    if (path is None) == (url is None):
        raise ValueError("give exactly one of path or url")
    if path is not None:
        path = Path(path).expanduser().absolute()
        _prepare_sqlite_file(path)
        url = sqlite_url(path)
    assert url is not None
    try:
        engine = create_db_engine(url)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise DatabaseProblem(ProblemKind.CANNOT_OPEN, f"{type(exc).__name__}: {exc}") from exc
    try:
        revision = _bring_schema_to_head(engine, path, migrate)
    except DatabaseProblem:
        engine.dispose()
        raise
    except (SQLAlchemyError, sqlite3.Error, OSError) as exc:
        engine.dispose()
        raise classify(exc) from exc
    sessions = sessionmaker(engine, expire_on_commit=False)
    return Database(engine=engine, url=url, path=path, schema_revision=revision, _sessions=sessions)


def _check_revision(current: str | None, tables: set[str]) -> None:
    if current is not None and not migrations.is_known(current):
        raise DatabaseProblem(ProblemKind.NEWER_SCHEMA, f"schema revision {current} is unknown here")
    foreign = _foreign_tables(tables)
    if foreign:
        raise DatabaseProblem(
            ProblemKind.NOT_A_DATABASE, f"no schema revision; tables {', '.join(sorted(foreign))}"
        )


def _bring_schema_to_head(engine: Engine, path: Path | None, migrate: bool) -> str:
    with engine.connect() as connection:
        current = migrations.current_revision(connection)
        tables = set(inspect(connection).get_table_names())
    if current is not None and current == migrations.plain_head():
        return current  # the usual start: nothing to migrate, and alembic is not even imported
    head = migrations.head_revision()
    _check_revision(current, tables)
    if current == head:
        return head
    if not migrate:
        raise DatabaseProblem(
            ProblemKind.OTHER, f"schema at {current}, head is {head}; migration not allowed"
        )
    # Any existing schema is backed up first, also one with no revision left (e.g. downgraded to base);
    # only a brand-new, empty file has nothing worth keeping.
    if path is not None and tables:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")  # microseconds: two backups never collide
        backup = path.parent / "backups" / f"{path.stem}.before-{head}-{stamp}.sqlite"
        backup_sqlite_file(path, backup)
        log.info("backed up the database before migrating to %s", head)
    # BEGIN IMMEDIATE and a second look: when two programs start on the same new file at once, the
    # second waits for the first (busy timeout) and then finds the schema already at head.
    with engine.connect().execution_options(**{_WRITE_OPTION: True}) as connection, connection.begin():
        current = migrations.current_revision(connection)
        _check_revision(current, set(inspect(connection).get_table_names()))
        if current != head:
            migrations.upgrade(connection)
    return head
