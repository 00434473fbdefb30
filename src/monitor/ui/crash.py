"""An unexpected error in the app: a dialog that says what to do, a report for IT without patient data,
and the app keeps running (the error ended one action, not the ward's session).

Exceptions raised in Qt slots reach sys.excepthook; the hook below turns them into words. The report
holds where it happened (types, files, lines), never the error's message or any value: messages can
quote a name or an MRN (ui.errors.scrubbed_traceback).
"""

from __future__ import annotations

import logging
import platform
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from PySide6.QtWidgets import QApplication, QMessageBox

from monitor import __version__
from monitor.ui.errors import scrubbed_traceback

log = logging.getLogger(__name__)


def write_report(folder: Path, exc: BaseException, now: datetime | None = None) -> Path:
    """A report for IT: version, platform, and where the error happened; no message, no values."""
    at = (now or datetime.now(UTC)).astimezone(UTC)
    path = folder / f"error-report-{at:%Y%m%dT%H%M%SZ}.txt"
    path.write_text(
        "\n".join(
            [
                f"Withdrawal monitor {__version__}, error report {at.isoformat()}",
                f"Python {platform.python_version()} on {platform.platform()}",
                "",
                scrubbed_traceback(exc),
                "",
            ]
        ),
        encoding="utf-8",
    )
    path.chmod(0o600)
    return path


def install_excepthook(
    folder: Path, show: Callable[[str], None] | None = None
) -> Callable[[type[BaseException], BaseException, TracebackType | None], None]:
    """Replace sys.excepthook for the GUI; returns the hook (tests call it directly)."""

    def tell(text: str) -> None:
        parent = QApplication.activeWindow()
        QMessageBox.warning(parent, "Withdrawal monitor", text)

    say = show or tell

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        exc.__traceback__ = tb
        try:
            report = write_report(folder, exc)
            where = f"A report for IT, without patient data, is in {report}."
        except OSError:
            where = "No report could be written (the log folder is not writable)."
        log.error("unexpected error:\n%s", scrubbed_traceback(exc))
        say(
            "Something unexpected went wrong and the last action may not have been saved. Records "
            "saved before are safe. Check the record you were working on, then carry on; if it happens "
            f"again, tell IT. {where}"
        )

    sys.excepthook = hook
    return hook
