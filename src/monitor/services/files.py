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


@contextlib.contextmanager
def atomic_file(path: Path | str, field: str) -> Iterator[Path]:
    """A temporary file beside `path` to write; renamed onto `path` when the block ends normally, removed
    otherwise. A reader (or a spreadsheet watching the folder) never sees half a file, and a failed
    export leaves the previous file as it was. OSError becomes a ValidationError naming `field`."""
    target = Path(path)
    if not str(path).strip():
        raise ValidationError(field, "Choose a file to export to.")
    if target.is_dir():
        raise ValidationError(field, f"{target} is a folder: choose a file name.")
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
