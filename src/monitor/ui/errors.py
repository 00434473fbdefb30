"""One place that turns a refusal or a database failure into words for the screen (never a traceback)."""

from __future__ import annotations

import logging
import traceback

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QMessageBox, QWidget

from monitor.services.errors import DatabaseProblem, ServiceError

log = logging.getLogger(__name__)


def scrubbed_traceback(exc: BaseException) -> str:
    """Where an error happened (types, files, lines), without its message: that may quote a patient."""
    lines: list[str] = []
    current: BaseException | None = exc
    while current is not None and len(lines) < 200:
        lines.append(f"{type(current).__module__}.{type(current).__qualname__} (message not logged)")
        lines.extend(
            f"  {frame.filename}:{frame.lineno} in {frame.name}"
            for frame in traceback.extract_tb(current.__traceback__)
        )
        current = current.__cause__ or current.__context__
        if current is not None:
            lines.append("caused by:")
    return "\n".join(lines)


def describe(exc: BaseException) -> str:
    """Plain text for the user. Unknown errors are logged (without patient data) and summarised."""
    if isinstance(exc, ServiceError):
        return exc.message
    if isinstance(exc, DatabaseProblem):
        log.warning("database problem (%s): %s", exc.kind.value, exc.detail)
        return exc.message
    log.error("unexpected error: %s", scrubbed_traceback(exc))
    return QCoreApplication.translate(
        "errors",
        "Something unexpected went wrong and nothing was saved. What you entered is still on screen. "
        "If it happens again, tell IT what you were doing.",
    )


def show_error(parent: QWidget | None, title: str, exc: BaseException) -> None:
    QMessageBox.warning(parent, title, describe(exc))
