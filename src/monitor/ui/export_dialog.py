"""Export (issue 6): a PDF report, CSV tables, episode JSON or a FHIR bundle, written off the GUI thread.

The nurse picks the format, the episode on screen or a period, and the file; the export runs in a worker
thread (reading a long stay and drawing its PDF takes seconds) with a progress bar, while the alert bar
and the alarm keep working. The service writes the file complete or not at all and audits it.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, Qt, QThread, QUrl, Signal
from PySide6.QtGui import QCloseEvent, QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from monitor.services.clinical import ClinicalService
from monitor.services.exporting import FORMATS, ExportResult
from monitor.services.views import EpisodeDetail
from monitor.ui.errors import describe
from monitor.ui.timefmt import from_qdatetime, to_qdatetime


class ExportWorker(QObject):
    """Runs one export in a worker thread; says how far it is and how it ended through signals."""

    progressed = Signal(int, int)
    succeeded = Signal(object)  # ExportResult
    failed = Signal(str)

    def __init__(
        self,
        service: ClinicalService,
        actor: str,
        fmt: str,
        target: Path,
        episode_ids: list[int],
        since: datetime | None,
        until: datetime | None,
        replace: bool = False,
    ) -> None:
        super().__init__()
        self.service = service
        self.request = (actor, fmt, target, episode_ids, since, until)
        self.replace = replace

    def run(self) -> None:
        actor, fmt, target, episode_ids, since, until = self.request
        try:
            result = self.service.export(
                actor,
                fmt,
                target,
                episode_ids=episode_ids,
                since=since,
                until=until,
                progress=self.progressed.emit,
                replace=self.replace,
            )
        except Exception as exc:  # in words on the dialog, never a traceback
            self.failed.emit(describe(exc))
            return
        self.succeeded.emit(result)


def suggested_name(episode: EpisodeDetail | None, suffix: str, today: datetime) -> str:
    """A file name that says what is inside: "K-1001-2026-11-27.pdf" or "episodes-2026-11-27.csv"."""
    stem = episode.mrn if episode is not None else "episodes"
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem)
    return f"{stem}-{today:%Y-%m-%d}{suffix}"


class ExportDialog(QDialog):
    """Format, what (this episode or a period), file; Export runs it with a progress bar."""

    def __init__(
        self,
        service: ClinicalService,
        actor: str,
        episode: EpisodeDetail | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.actor = actor
        self.episode = episode
        self.exported: ExportResult | None = None
        self.worker_thread: QThread | None = None
        self.worker: ExportWorker | None = None
        self._proposed = ""  # the file name this dialog proposed (replaced when the format changes)
        self._replace_confirmed = ""  # an existing file the save dialog already asked to replace
        self.setWindowTitle(self.tr("Export"))
        self.setMinimumWidth(620)
        layout = QVBoxLayout(self)
        form = QFormLayout()

        self.format_combo = QComboBox(self)
        for spec in FORMATS.values():
            self.format_combo.addItem(self.tr(spec.label), spec.key)
        self._row(form, self.tr("&Format"), self.format_combo, "Format")

        what = QWidget(self)
        what_layout = QVBoxLayout(what)
        what_layout.setContentsMargins(0, 0, 0, 0)
        label = (
            self.tr("This episode: {0} (MRN {1})").format(episode.name, episode.mrn)
            if episode is not None
            else self.tr("This episode (open one first)")
        )
        self.this_episode = QRadioButton(label, what)
        self.this_episode.setAccessibleName("This episode")
        self.period = QRadioButton(self.tr("Every episode open in a &period"), what)
        self.period.setAccessibleName("Every episode open in a period")
        what_layout.addWidget(self.this_episode)
        what_layout.addWidget(self.period)
        dates = QHBoxLayout()
        now = service.clock.now()
        self.since_edit = QDateTimeEdit(to_qdatetime(now - timedelta(days=7)), what)
        self.until_edit = QDateTimeEdit(to_qdatetime(now), what)
        for edit, name in ((self.since_edit, "From"), (self.until_edit, "To")):
            edit.setDisplayFormat("yyyy-MM-dd HH:mm")
            edit.setCalendarPopup(True)
            edit.setAccessibleName(name)
            caption = QLabel(self.tr(name), what)
            caption.setBuddy(edit)
            dates.addWidget(caption)
            dates.addWidget(edit)
        dates.addStretch(1)
        what_layout.addLayout(dates)
        form.addRow(self.tr("What"), what)

        file_row = QHBoxLayout()
        self.file_edit = QLineEdit(self)
        self.choose_button = QPushButton(self.tr("C&hoose…"), self)
        self.choose_button.setAccessibleName("Choose file")
        self.choose_button.setAutoDefault(False)
        file_row.addWidget(self.file_edit, 1)
        file_row.addWidget(self.choose_button)
        caption = QLabel(self.tr("F&ile"), self)
        caption.setBuddy(self.file_edit)
        self.file_edit.setAccessibleName("File")
        form.addRow(caption, file_row)
        layout.addLayout(form)

        self.progress = QProgressBar(self)
        self.progress.setAccessibleName("Export progress")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        layout.addWidget(self.progress)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Message")
        layout.addWidget(self.message)

        buttons = QDialogButtonBox(self)
        self.export_button = buttons.addButton(self.tr("&Export"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setAccessibleName("Export")
        self.open_button = buttons.addButton(
            self.tr("&Open to print"), QDialogButtonBox.ButtonRole.ActionRole
        )
        self.open_button.setAccessibleName("Open to print")
        self.open_button.setToolTip(self.tr("Open the exported file in this computer's viewer, to print it"))
        self.open_button.setEnabled(False)
        self.close_button = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.close_button.setAccessibleName("Close")
        layout.addWidget(buttons)

        self.format_combo.currentIndexChanged.connect(lambda _i: self._format_changed())
        self.this_episode.toggled.connect(lambda _on: self._update())
        self.period.toggled.connect(lambda _on: self._update())
        self.file_edit.textChanged.connect(lambda _t: self._update())
        self.choose_button.clicked.connect(self.choose_file)
        self.export_button.clicked.connect(self.start)
        self.open_button.clicked.connect(self.open_result)
        self.close_button.clicked.connect(self.reject)
        (self.this_episode if episode is not None else self.period).setChecked(True)
        self._format_changed()

    def _row(self, form: QFormLayout, text: str, widget: QWidget, name: str) -> None:
        caption = QLabel(text, self)
        caption.setBuddy(widget)
        widget.setAccessibleName(name)
        form.addRow(caption, widget)

    # -- state

    def format_key(self) -> str:
        return str(self.format_combo.currentData())

    def select_format(self, key: str) -> None:
        self.format_combo.setCurrentIndex(self.format_combo.findData(key))

    def _format_changed(self) -> None:
        spec = FORMATS[self.format_key()]
        if spec.one_episode:
            self.this_episode.setChecked(True)
        # The proposed file follows the format, unless the user typed their own name.
        current = self.file_edit.text()
        if not current or current == self._proposed:
            self._proposed = str(
                self._folder() / suggested_name(self.episode, spec.suffix, self.service.clock.now())
            )
            self.file_edit.setText(self._proposed)
        self._update()

    def _folder(self) -> Path:
        documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        return Path(documents) if documents else Path.home()

    def running(self) -> bool:
        return self.worker_thread is not None

    def _update(self) -> None:
        spec = FORMATS[self.format_key()]
        busy = self.running()
        self.this_episode.setEnabled(self.episode is not None and not busy)
        self.period.setEnabled(not spec.one_episode and not busy)
        for edit in (self.since_edit, self.until_edit):
            edit.setEnabled(self.period.isChecked() and not busy)
        ready = bool(self.file_edit.text().strip()) and (self.period.isChecked() or self.episode is not None)
        self.export_button.setEnabled(ready and not busy)
        for widget in (self.format_combo, self.file_edit, self.choose_button):
            widget.setEnabled(not busy)
        self.close_button.setEnabled(not busy)

    def choose_file(self) -> None:
        spec = FORMATS[self.format_key()]
        chosen, _filter = QFileDialog.getSaveFileName(
            self, self.tr("Export to"), self.file_edit.text(), f"{spec.label} (*{spec.suffix})"
        )
        if chosen:
            self.file_edit.setText(chosen)
            self._replace_confirmed = chosen  # the save dialog asked before choosing an existing file

    def _confirm_replace(self, target: Path) -> bool:
        """A typed name of an existing file: ask, as the save dialog does, with No as the default."""
        answer = QMessageBox.question(
            self,
            self.tr("Replace the file?"),
            self.tr("{0} already exists. Replace it?").format(target),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    # -- running

    def start(self) -> None:
        """Export in a worker thread; the dialog shows progress and stays responsive."""
        if self.running() or not self.export_button.isEnabled():
            return
        since = until = None
        try:
            if self.period.isChecked():
                since = from_qdatetime(self.since_edit.dateTime())
                until = from_qdatetime(self.until_edit.dateTime())
                episode_ids = self.service.episodes_between(since, until)
            else:
                assert self.episode is not None
                episode_ids = [self.episode.id]
        except Exception as exc:
            self.message.setText(describe(exc))
            return
        target = Path(self.file_edit.text().strip())
        replace = target.is_file()
        if replace and str(target) != self._replace_confirmed and not self._confirm_replace(target):
            return
        self.exported = None
        self.open_button.setEnabled(False)
        self.message.setText(self.tr("Exporting…"))
        self.progress.setRange(0, 0)  # busy until the first step is reported
        thread = QThread(self)
        worker = ExportWorker(
            self.service,
            self.actor,
            self.format_key(),
            target,
            episode_ids,
            since,
            until,
            replace,
        )
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.progressed.connect(self._progressed)
        worker.succeeded.connect(self._succeeded)
        worker.failed.connect(self._failed)
        # Direct: quit() is thread-safe, and a queued call would wait for the GUI thread, which may be
        # blocked in wait_for_export() (the lock lets a running export finish).
        worker.succeeded.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.failed.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.finished.connect(self._thread_finished)
        self.worker_thread, self.worker = thread, worker
        self._update()
        thread.start()

    def _progressed(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _succeeded(self, result: ExportResult) -> None:
        self.exported = result
        self.message.setText(self.tr(result.summary()))
        self.open_button.setEnabled(True)

    def _failed(self, text: str) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.message.setText(self.tr("Not exported. {0}").format(text))

    def _thread_finished(self) -> None:
        if self.worker_thread is not None:
            self.worker_thread.wait()
            self.worker_thread.deleteLater()
        if self.worker is not None:
            self.worker.deleteLater()
        self.worker_thread, self.worker = None, None
        self._update()

    def wait_for_export(self, timeout_ms: int = 60_000) -> bool:
        """Block until a running export ends (tests, and closing the window mid-export)."""
        if self.worker_thread is None:
            return True
        finished = self.worker_thread.wait(timeout_ms)
        self._thread_finished()
        return bool(finished)

    def open_result(self) -> None:
        if self.exported is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.exported.path)))

    # -- closing

    def reject(self) -> None:
        if self.running():  # a half-written export is never left behind, but let it finish first
            self.message.setText(self.tr("The export is still running; it finishes in a moment."))
            return
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.running():
            event.ignore()
            self.message.setText(self.tr("The export is still running; it finishes in a moment."))
            return
        super().closeEvent(event)
