"""The export dialog (issue 6): the export runs in a worker thread with a progress bar; the result or the
refusal is said on the dialog; PDF and FHIR are about the episode on screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from monitor.services.clinical import ClinicalService
from monitor.ui.export_dialog import ExportDialog, suggested_name
from monitor.ui.main_window import MainWindow
from tests.conftest import FakeClock
from tests.report_helpers import MRN, Charted, chart_sample_episode
from tests.ui.test_main_window import when_dialog_opens


@pytest.fixture
def charted(service: ClinicalService, clock: FakeClock, nurse: str, physician: str) -> Charted:
    return chart_sample_episode(service, clock, nurse, physician)


@pytest.fixture
def dialog(qtbot: QtBot, service: ClinicalService, nurse: str, charted: Charted) -> ExportDialog:
    export = ExportDialog(service, nurse, service.episode(charted.episode))
    qtbot.addWidget(export)
    export.show()
    return export


def run_export(qtbot: QtBot, dialog: ExportDialog) -> None:
    dialog.export_button.click()
    assert dialog.running() or dialog.exported is not None or dialog.message.text()
    qtbot.waitUntil(lambda: not dialog.running(), timeout=30_000)
    qtbot.waitUntil(lambda: dialog.message.text() != "Exporting…", timeout=5_000)


def test_a_pdf_is_exported_off_the_gui_thread_with_progress(
    qtbot: QtBot, dialog: ExportDialog, tmp_path: Path
) -> None:
    dialog.select_format("pdf")
    assert not dialog.period.isEnabled()  # a PDF report is about one episode
    target = tmp_path / "report.pdf"
    dialog.file_edit.setText(str(target))
    run_export(qtbot, dialog)
    assert dialog.exported is not None and target.read_bytes().startswith(b"%PDF")
    assert dialog.message.text() == dialog.exported.summary()
    assert (dialog.progress.value(), dialog.progress.maximum()) == (2, 2)
    assert dialog.open_button.isEnabled() and dialog.export_button.isEnabled()


def test_a_refusal_is_said_and_nothing_is_written(qtbot: QtBot, dialog: ExportDialog, tmp_path: Path) -> None:
    dialog.select_format("fhir")
    target = tmp_path / "no-such-folder" / "bundle.json"
    dialog.file_edit.setText(str(target))
    run_export(qtbot, dialog)
    assert dialog.exported is None
    assert dialog.message.text().startswith(f"Not exported. Cannot write {target}")
    assert not dialog.open_button.isEnabled()


def test_a_typed_name_of_an_existing_file_is_replaced_only_after_asking(
    qtbot: QtBot, dialog: ExportDialog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.pdf"
    target.write_bytes(b"yesterday's report")
    dialog.select_format("pdf")
    dialog.file_edit.setText(str(target))
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    asked: list[str] = []

    def answer(_parent: object, _title: str, text: str, *_args: object) -> QMessageBox.StandardButton:
        asked.append(text)
        return answers.pop(0)

    monkeypatch.setattr("monitor.ui.export_dialog.QMessageBox.question", answer)
    dialog.export_button.click()
    assert asked == [f"{target} already exists. Replace it?"]
    assert not dialog.running() and dialog.exported is None
    assert target.read_bytes() == b"yesterday's report"
    run_export(qtbot, dialog)
    assert len(asked) == 2
    assert dialog.exported is not None and target.read_bytes().startswith(b"%PDF")


def test_a_csv_of_a_period(qtbot: QtBot, dialog: ExportDialog, tmp_path: Path) -> None:
    dialog.select_format("csv-alerts")
    dialog.period.setChecked(True)
    assert dialog.since_edit.isEnabled()
    target = tmp_path / "alerts.csv"
    dialog.file_edit.setText(str(target))
    run_export(qtbot, dialog)
    assert dialog.exported is not None and dialog.exported.written == 3
    assert target.read_text(encoding="utf-8-sig").startswith("mrn,")


def test_the_proposed_file_name_follows_the_format(dialog: ExportDialog, clock: FakeClock) -> None:
    dialog.select_format("pdf")
    assert dialog.file_edit.text().endswith(f"{MRN}-2026-11-20.pdf")
    dialog.select_format("json")
    assert dialog.file_edit.text().endswith(f"{MRN}-2026-11-20.json")
    dialog.file_edit.setText("/tmp/mine.json")
    dialog.select_format("fhir")
    assert dialog.file_edit.text() == "/tmp/mine.json"  # a name the nurse typed is kept
    assert suggested_name(None, ".csv", clock.now()) == "episodes-2026-11-20.csv"


def test_export_from_the_patient_menu_of_the_episode_on_screen(
    qtbot: QtBot, service: ClinicalService, nurse: str, charted: Charted, tmp_path: Path
) -> None:
    window = MainWindow(service, nurse, "test database")
    qtbot.addWidget(window)
    window.show()
    window.open_from_overview(charted.episode)
    seen: list[str] = []

    def check(dialog: object) -> None:
        assert isinstance(dialog, ExportDialog)
        seen.append(dialog.this_episode.text())
        dialog.reject()

    when_dialog_opens(check)
    window.actions_by_name["Export"].trigger()
    assert seen == [f"This episode: Alex Example (MRN {MRN})"]
    assert QApplication.activeModalWidget() is None


def test_the_idle_lock_lets_a_running_export_finish_then_closes_the_dialog(
    qtbot: QtBot, service: ClinicalService, nurse: str, charted: Charted, tmp_path: Path
) -> None:
    window = MainWindow(service, nurse, "test database")
    qtbot.addWidget(window)
    window.show()
    window.open_from_overview(charted.episode)
    target = tmp_path / "report.pdf"

    def export_then_lock(dialog: object) -> None:
        assert isinstance(dialog, ExportDialog)
        dialog.select_format("pdf")
        dialog.file_edit.setText(str(target))
        dialog.export_button.click()
        window.lock()  # what the idle timer does mid-export

    when_dialog_opens(export_then_lock)
    window.actions_by_name["Export"].trigger()
    assert window.is_locked()
    assert QApplication.activeModalWidget() is None  # nothing with the patient's name stays on screen
    assert target.read_bytes().startswith(b"%PDF")  # the export finished, complete
    assert [e.action for e in service.audit_search("dr.rao", action="episode.export")] == ["episode.export"]
