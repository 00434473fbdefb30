"""Files the app writes for people (exports): complete or not at all, and refusals in words."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from monitor.services.errors import ValidationError


def cannot_write(target: Path, exc: OSError) -> str:
    why = exc.strerror or type(exc).__name__
    return f"Cannot write {target}: {why}. Choose another folder or file name."


# The folder beside an SQLite database where its backups are kept (monitor.services.backups).
BACKUP_FOLDER = "backups"
# The files SQLite keeps beside a database while it is open or after a crash.
_COMPANIONS = ("-wal", "-shm", "-journal")


def _is_clinic_file(target: Path, database: Path) -> bool:
    """The database itself, a file SQLite keeps beside it, or anything in its backup folder."""
    where, db = target.resolve(), database.resolve()
    own = {db, *(db.with_name(db.name + suffix) for suffix in _COMPANIONS)}
    return where in own or (db.parent / BACKUP_FOLDER) in where.parents


@contextlib.contextmanager
def atomic_file(
    path: Path | str, field: str, *, replace: bool = False, database: Path | None = None
) -> Iterator[Path]:
    """A temporary file beside `path` to write; renamed onto `path` when the block ends normally, removed
    otherwise. A reader (or a spreadsheet watching the folder) never sees half a file, and a failed
    export leaves the previous file as it was. OSError becomes a ValidationError naming `field`.

    An existing file is written over only when `replace` says so (a save dialog asked), and never the
    clinic's `database`, the files SQLite keeps beside it or its backups: an export written over the
    database destroyed it."""
    target = Path(path)
    if not str(path).strip():
        raise ValidationError(field, "Choose a file to export to.")
    if target.is_dir():
        raise ValidationError(field, f"{target} is a folder: choose a file name.")
    if database is not None and _is_clinic_file(target, database):
        raise ValidationError(
            field,
            f"{target} is the clinic's database, one of its files or a backup: an export never writes "
            "there. Choose another file name.",
        )
    if not replace and target.exists():
        raise ValidationError(
            field, f"{target} already exists: an export does not write over a file. Choose another name."
        )
    try:
        handle, temp_name = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=".part", dir=target.parent)
        os.close(handle)
    except OSError as exc:
        raise ValidationError(field, cannot_write(target, exc)) from exc
    temp = Path(temp_name)
    try:
        yield temp
        os.replace(temp, target)
    except OSError as exc:
        raise ValidationError(field, cannot_write(target, exc)) from exc
    finally:
        temp.unlink(missing_ok=True)
