"""An SQLite database file as a file: its header, a plain connection, SQLite's integrity check.

Standard library only (no SQLAlchemy), so the start can check the ward's file on a worker thread
while the app's heavy modules are still loading (monitor.services.locations.start_integrity_check).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000
# A full integrity_check reads every page and index (minutes on a very large file); quick_check skips
# the index-to-table cross-checks, which keeps a start-up bearable.
QUICK_CHECK_ABOVE_BYTES = 256 * 1024 * 1024


def has_sqlite_header(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


@contextmanager
def plain_connection(path: Path, timeout_s: float = BUSY_TIMEOUT_MS / 1000) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection (closed at the end): no SQLAlchemy, no pragmas, no schema."""
    connection = sqlite3.connect(path, timeout=timeout_s)
    try:
        yield connection
    finally:
        connection.close()


def integrity_problem(path: Path, *, quick: bool = False) -> str | None:
    """None if SQLite's integrity check (or quick check) of the file says ok, else its first complaint."""
    pragma = "quick_check" if quick else "integrity_check"
    try:
        with plain_connection(path) as connection:
            rows = [row[0] for row in connection.execute(f"PRAGMA {pragma}")]
    except sqlite3.Error as exc:
        return str(exc) or type(exc).__name__
    if rows == ["ok"]:
        return None
    # The first complaint, without SQLite's "*** in database main ***" heading.
    lines = [line for row in rows for line in str(row).splitlines() if line and not line.startswith("***")]
    return lines[0] if lines else f"{pragma} did not say ok"


def check_database_file(path: Path, *, quick_above_bytes: int = QUICK_CHECK_ABOVE_BYTES) -> str | None:
    """At start, before open_database: a plain message if the database file is damaged, else None.

    A missing file (a first start) or one that is not SQLite at all is not damage; open_database
    creates or refuses those with its own message.
    """
    path = Path(path).expanduser().absolute()
    if not path.is_file() or not has_sqlite_header(path):
        return None
    quick = path.stat().st_size > quick_above_bytes
    problem = integrity_problem(path, quick=quick)
    if problem is None:
        return None
    log.error("database integrity check failed: %s", problem)
    return f"The database file {path} is damaged (SQLite reports: {problem})."
