"""One place that turns a refusal or a database failure into words for the screen (never a traceback)."""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QMessageBox, QWidget

from monitor.services.errors import DatabaseProblem, ServiceError

log = logging.getLogger(__name__)


def describe(exc: BaseException) -> str:
    """Plain text for the user. Unknown errors are logged (without patient data) and summarised."""
    if isinstance(exc, ServiceError):
        return exc.message
    if isinstance(exc, DatabaseProblem):
        log.warning("database problem (%s): %s", exc.kind.value, exc.detail)
        return exc.message
    log.exception("unexpected error", exc_info=exc)
    return QCoreApplication.translate(
        "errors",
        "Something unexpected went wrong and nothing was saved. What you entered is still on screen. "
        "If it happens again, tell IT what you were doing.",
    )


def show_error(parent: QWidget | None, title: str, exc: BaseException) -> None:
    QMessageBox.warning(parent, title, describe(exc))
