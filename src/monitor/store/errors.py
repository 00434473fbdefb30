"""Database failures as plain categories a nurse can act on (qutebrowser maps SQLite errors the same way).

Nothing here shows a traceback: each problem carries a one-line explanation and what to do.
"""

from __future__ import annotations

import enum
import sqlite3


class ProblemKind(enum.Enum):
    BUSY = "busy"
    READ_ONLY = "read-only"
    DISK_FULL = "disk full"
    CORRUPT = "corrupt"
    NOT_A_DATABASE = "not a database"
    NEWER_SCHEMA = "newer version"
    NETWORK_SHARE = "network share"
    CANNOT_OPEN = "cannot open"
    UNAVAILABLE = "server unavailable"
    OTHER = "database error"


_EXPLANATION: dict[ProblemKind, tuple[str, str]] = {
    ProblemKind.BUSY: (
        "The database is busy: another program or workstation is writing to it.",
        "Wait a few seconds and try again. Nothing you entered was lost.",
    ),
    ProblemKind.READ_ONLY: (
        "The database can only be read here, so nothing can be saved.",
        "Ask IT to give this account write access to the database folder, then try again.",
    ),
    ProblemKind.DISK_FULL: (
        "The disk that holds the database is full, so nothing can be saved.",
        "Ask IT to free space on the disk, then save again. What you entered is still on screen.",
    ),
    ProblemKind.CORRUPT: (
        "The database file is damaged.",
        "Do not keep working in it. Ask IT to restore the newest backup; the damaged file is kept.",
    ),
    ProblemKind.NOT_A_DATABASE: (
        "The file is not a withdrawal monitor database.",
        "Check the path you gave. The file was left untouched.",
    ),
    ProblemKind.NEWER_SCHEMA: (
        "The database was written by a newer version of the withdrawal monitor.",
        "Install the newer version on this workstation. The database was left untouched.",
    ),
    ProblemKind.NETWORK_SHARE: (
        "The database is on a network share, where SQLite can corrupt it.",
        "Keep the file on a local disk, or use the ward's PostgreSQL server "
        "(--database-url, see the README's multi-workstation set-up).",
    ),
    ProblemKind.CANNOT_OPEN: (
        "The database file cannot be opened or created at that location.",
        "Check that the folder exists and that this account may write there.",
    ),
    ProblemKind.UNAVAILABLE: (
        "The database server cannot be reached.",
        "Check the network and that the server is running, then try again.",
    ),
    ProblemKind.OTHER: (
        "The database reported an unexpected error.",
        "Try again. If it keeps happening, tell IT what you were doing.",
    ),
}


class DatabaseProblem(Exception):
    """A database failure explained for the user. `detail` is for the log, never for the screen."""

    def __init__(self, kind: ProblemKind, detail: str = "") -> None:
        self.kind = kind
        self.detail = detail
        explanation, advice = _EXPLANATION[kind]
        self.explanation = explanation
        self.advice = advice
        super().__init__(f"{explanation} {advice}")

    @property
    def message(self) -> str:
        return f"{self.explanation}\n{self.advice}"


_SQLITE_CODES: dict[str, ProblemKind] = {
    "SQLITE_BUSY": ProblemKind.BUSY,
    "SQLITE_LOCKED": ProblemKind.BUSY,
    "SQLITE_READONLY": ProblemKind.READ_ONLY,
    "SQLITE_FULL": ProblemKind.DISK_FULL,
    "SQLITE_CORRUPT": ProblemKind.CORRUPT,
    "SQLITE_NOTADB": ProblemKind.NOT_A_DATABASE,
    "SQLITE_CANTOPEN": ProblemKind.CANNOT_OPEN,
    "SQLITE_PERM": ProblemKind.READ_ONLY,
}

# PostgreSQL SQLSTATE classes (psycopg exposes them as `sqlstate`).
_PG_STATES: dict[str, ProblemKind] = {
    "53100": ProblemKind.DISK_FULL,
    "25006": ProblemKind.READ_ONLY,
    "40001": ProblemKind.BUSY,
    "40P01": ProblemKind.BUSY,
    "55P03": ProblemKind.BUSY,
    "XX001": ProblemKind.CORRUPT,
}


def log_detail(exc: BaseException, orig: BaseException) -> str:
    """What the log may keep of a failure: its type and error code, never SQL parameters or values.

    SQLAlchemy's text of an error quotes the statement's parameters (a patient's name and MRN), and
    PostgreSQL's quotes the offending key ("Key (mrn)=(K-1001) already exists"); neither is kept.
    SQLite's own messages name tables and columns but never bound values, so they stay: IT needs them.
    """
    inner = getattr(exc, "orig", None)  # SQLAlchemy's wrapper of a driver or binding error
    if not isinstance(inner, BaseException):
        inner = orig
    outer, cause = type(exc).__name__, type(inner).__name__
    parts = [outer if outer == cause else f"{outer}({cause})"]
    if isinstance(orig, sqlite3.Error):
        name = getattr(orig, "sqlite_errorname", "") or ""
        if name:
            parts.append(name)
        parts.append(str(orig).splitlines()[0] if str(orig) else "")
    state = getattr(orig, "sqlstate", None)
    if isinstance(state, str):
        parts.append(f"SQLSTATE {state}")
    if isinstance(orig, OSError) and orig.errno is not None:
        parts.append(f"errno {orig.errno}")
    return ": ".join(p for p in parts if p)


def classify(exc: BaseException) -> DatabaseProblem:
    """Map a driver or SQLAlchemy exception to a user-facing category."""
    if isinstance(exc, DatabaseProblem):
        return exc
    # Here, not at the top: this module is imported at start before SQLAlchemy has to load.
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    orig: BaseException = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    detail = log_detail(exc, orig)
    if isinstance(orig, sqlite3.Error):
        name = getattr(orig, "sqlite_errorname", "") or ""
        for prefix, kind in _SQLITE_CODES.items():
            if name.startswith(prefix):
                return DatabaseProblem(kind, detail)
        text = str(orig).lower()
        if "locked" in text or "busy" in text:
            return DatabaseProblem(ProblemKind.BUSY, detail)
        if "readonly" in text or "read-only" in text:
            return DatabaseProblem(ProblemKind.READ_ONLY, detail)
        if "full" in text:
            return DatabaseProblem(ProblemKind.DISK_FULL, detail)
        if "not a database" in text:
            return DatabaseProblem(ProblemKind.NOT_A_DATABASE, detail)
        if "malformed" in text:
            return DatabaseProblem(ProblemKind.CORRUPT, detail)
        if "unable to open" in text:
            return DatabaseProblem(ProblemKind.CANNOT_OPEN, detail)
    state = getattr(orig, "sqlstate", None)
    if isinstance(state, str):
        if state in _PG_STATES:
            return DatabaseProblem(_PG_STATES[state], detail)
        if state.startswith("08"):
            return DatabaseProblem(ProblemKind.UNAVAILABLE, detail)
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return DatabaseProblem(ProblemKind.UNAVAILABLE, detail)
    if isinstance(orig, PermissionError):
        return DatabaseProblem(ProblemKind.READ_ONLY, detail)
    if isinstance(orig, OSError):
        return DatabaseProblem(ProblemKind.CANNOT_OPEN, detail)
    if isinstance(exc, SQLAlchemyError | sqlite3.Error):
        return DatabaseProblem(ProblemKind.OTHER, detail)
    return DatabaseProblem(ProblemKind.OTHER, detail)
