"""Issue 8: an unexpected error shows what to do, writes a report without patient data, and the app
keeps running; logs go to a rotated file in the user log folder."""

from __future__ import annotations

import logging
import logging.handlers
import stat
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from monitor.services import locations
from monitor.ui.crash import install_excepthook, write_report

SECRET = "Alex Example K-1001"


def raised() -> ValueError:
    try:
        raise ValueError(f"cannot chart {SECRET}")
    except ValueError as exc:
        return exc


def test_the_report_says_where_not_what(tmp_path: Path) -> None:
    report = write_report(tmp_path, raised())
    text = report.read_text(encoding="utf-8")
    assert "builtins.ValueError (message not logged)" in text
    assert "test_crash.py" in text  # where it happened
    assert SECRET not in text and "Alex" not in text
    assert stat.S_IMODE(report.stat().st_mode) == 0o600


@pytest.mark.qt_no_exception_capture
def test_an_error_in_a_button_shows_a_dialog_and_the_app_goes_on(
    qtbot: QtBot, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    told: list[str] = []
    previous = sys.excepthook
    install_excepthook(tmp_path, show=told.append)
    try:
        button = QPushButton("Save")
        qtbot.addWidget(button)

        def broken() -> None:
            raise RuntimeError(f"bug while saving {SECRET}")

        button.clicked.connect(broken)
        with caplog.at_level(logging.ERROR):
            button.click()  # the slot raises; Qt hands the exception to sys.excepthook
        assert len(told) == 1
        assert told[0].startswith(
            "Something unexpected went wrong and the last action may not have been saved."
        )
        [report] = tmp_path.glob("error-report-*.txt")
        assert str(report) in told[0]
        assert SECRET not in report.read_text(encoding="utf-8") and SECRET not in caplog.text
        assert "RuntimeError" in caplog.text
        button.setText("Still here")  # the app (and this widget) carries on
        assert button.text() == "Still here"
    finally:
        sys.excepthook = previous


def test_logs_go_to_a_rotated_file(tmp_path: Path) -> None:
    target = locations.configure_logging(tmp_path)
    try:
        assert locations.configure_logging(tmp_path) == target  # once per process
        handlers = [
            h for h in logging.getLogger().handlers if isinstance(h, logging.handlers.RotatingFileHandler)
        ]
        [handler] = [h for h in handlers if Path(h.baseFilename) == target]
        assert (handler.maxBytes, handler.backupCount) == (locations.LOG_MAX_BYTES, locations.LOG_BACKUPS)
        logging.getLogger("monitor.test").warning("episode %d: alert check failed", 7)
        handler.flush()
        assert "episode 7: alert check failed" in target.read_text(encoding="utf-8")
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
    finally:
        locations.stop_logging(target)
    assert not [h for h in logging.getLogger().handlers if getattr(h, "baseFilename", None) == str(target)]
