"""The audit viewer as an auditor uses it: filter by patient, user, time and action; export to CSV."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMenu, QWidget
from pytestqt.qtbot import QtBot

from monitor.services.clinical import ClinicalService
from monitor.ui import audit_viewer as viewer_module
from monitor.ui.audit_viewer import COLUMNS, AuditViewer, local_seconds
from monitor.ui.main_window import MainWindow
from monitor.ui.timefmt import to_qdatetime
from tests.conftest import T0
from tests.services.test_audit_queries import trail  # the shared nine-row audit trail fixture

__all__ = ["trail"]


@pytest.fixture
def viewer(qtbot: QtBot, service: ClinicalService, trail: dict[str, int]) -> AuditViewer:
    dialog = AuditViewer(service, "dr.kim")
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def rows(viewer: AuditViewer) -> list[list[str]]:
    model = viewer.model
    return [
        [str(model.index(r, c).data() or "") for c in range(model.columnCount())]
        for r in range(model.rowCount())
    ]


def column(viewer: AuditViewer, name: str) -> list[str]:
    return [row[COLUMNS.index(name)] for row in rows(viewer)]


def named(viewer: AuditViewer, name: str) -> QWidget:
    found = [w for w in viewer.findChildren(QWidget) if w.accessibleName() == name]
    assert len(found) == 1, f"{len(found)} widgets named {name!r}"
    return found[0]


def test_opens_on_every_row_newest_first_in_local_time(viewer: AuditViewer) -> None:
    headers = [viewer.model.headerData(c, Qt.Orientation.Horizontal) for c in range(len(COLUMNS))]
    assert headers == ["Time", "User", "Action", "Record", "Patient MRN", "Reason", "Before", "After"]
    shown = rows(viewer)
    assert len(shown) == 9
    assert viewer.message.text() == "9 rows, newest first."
    assert shown[0][:7] == [
        local_seconds(T0 + timedelta(hours=2, minutes=10)),
        "rn.lee",
        "assessment.entered_in_error",
        "assessment 1",
        "K-1001",
        "Charted on the wrong patient",
        '{"entered_in_error": false}',
    ]
    assert column(viewer, "Patient MRN") == [
        "K-1001",
        "K-1002",
        "K-1001",
        "K-1002",
        "K-1002",
        "K-1001",
        "K-1001",
        "",
        "",
    ]


def test_every_filter_has_a_label_and_the_same_accessible_name(viewer: AuditViewer) -> None:
    labelled = {
        label.text(): label.buddy().accessibleName() for label in viewer.findChildren(QLabel) if label.buddy()
    }
    assert labelled == {name: name for name in ("Patient (MRN)", "User", "From", "To", "Action")}
    for name in ("Search", "Clear filters", "Export CSV", "Close", "Audit trail", "Audit message"):
        named(viewer, name)


def test_patient_filter_shows_only_that_patients_rows(viewer: AuditViewer, qtbot: QtBot) -> None:
    mrn = named(viewer, "Patient (MRN)")
    qtbot.keyClicks(mrn, "K-1001")
    qtbot.keyClick(mrn, Qt.Key.Key_Return)
    assert column(viewer, "Patient MRN") == ["K-1001"] * 4
    assert column(viewer, "Action") == [
        "assessment.entered_in_error",
        "assessment.record",
        "episode.admit",
        "patient.create",
    ]
    assert viewer.message.text() == "4 rows, newest first."


def test_user_action_and_time_filters_narrow_and_combine(viewer: AuditViewer, qtbot: QtBot) -> None:
    qtbot.keyClicks(viewer.user, "dr.kim")
    viewer.search_button.click()
    assert column(viewer, "Action") == ["assessment.record", "user.create"]
    viewer.user.clear()
    actions = [viewer.action.itemText(i) for i in range(viewer.action.count())]
    assert actions == [
        "All actions",
        "assessment.entered_in_error",
        "assessment.record",
        "episode.admit",
        "patient.create",
        "user.create",
    ]
    viewer.action.setCurrentIndex(actions.index("assessment.record"))
    viewer.search_button.click()
    assert column(viewer, "Patient MRN") == ["K-1002", "K-1001"]
    viewer.action.setCurrentIndex(0)
    viewer.since.setDateTime(to_qdatetime(T0 + timedelta(hours=1)))
    viewer.search_button.click()
    assert column(viewer, "Time") == [
        local_seconds(T0 + timedelta(hours=2, minutes=10)),
        local_seconds(T0 + timedelta(hours=1, minutes=10)),
    ]
    viewer.until.setDateTime(to_qdatetime(T0 + timedelta(hours=2)))
    viewer.search_button.click()
    assert column(viewer, "User") == ["dr.kim"]
    viewer.clear_button.click()
    assert len(rows(viewer)) == 9
    assert viewer.since.text() == "any time"


def test_mistakes_in_the_filters_are_said_in_words(viewer: AuditViewer, qtbot: QtBot) -> None:
    viewer.since.setDateTime(to_qdatetime(T0 + timedelta(hours=3)))
    viewer.until.setDateTime(to_qdatetime(T0))
    viewer.search_button.click()
    assert "after its end" in viewer.message.text()
    assert rows(viewer) == []
    viewer.clear_button.click()
    qtbot.keyClicks(viewer.mrn, "K-9999")
    viewer.search_button.click()
    assert viewer.message.text() == "No patient has the MRN 'K-9999'."


def test_export_writes_the_filtered_rows_and_says_how_many(
    viewer: AuditViewer, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "exports" / "alex"
    target.parent.mkdir()
    told: list[str] = []
    monkeypatch.setattr(viewer_module.QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    monkeypatch.setattr(viewer_module.QMessageBox, "information", lambda _p, _t, text: told.append(text))
    qtbot.keyClicks(viewer.mrn, "K-1001")
    viewer.export_button.click()
    written = target.with_suffix(".csv")  # the extension is added
    assert told == [f"Wrote 4 rows to {written}."]
    with written.open(encoding="utf-8-sig", newline="") as stream:
        exported = list(csv.DictReader(stream))
    assert [(r["id"], r["patient_mrn"]) for r in exported] == [
        ("9", "K-1001"),
        ("7", "K-1001"),
        ("4", "K-1001"),
        ("3", "K-1001"),
    ]
    assert exported[0]["reason"] == "Charted on the wrong patient"
    # The export is audited, and the viewer shows it at once.
    assert column(viewer, "Action")[0] == "audit.export"
    assert len(rows(viewer)) == 5
    assert "audit.export" in [viewer.action.itemText(i) for i in range(viewer.action.count())]


def test_an_export_that_cannot_be_written_is_explained(
    viewer: AuditViewer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "no-such-folder" / "audit.csv"
    told: list[str] = []
    monkeypatch.setattr(viewer_module.QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    monkeypatch.setattr(viewer_module.QMessageBox, "information", lambda _p, _t, text: told.append(text))
    viewer.export_button.click()
    assert viewer.message.text().startswith(
        f"Not exported: Cannot write {target}: No such file or directory."
    )
    assert told == []
    assert len(rows(viewer)) == 9  # nothing audited: no export happened


def test_cancelling_the_file_dialog_exports_nothing(
    viewer: AuditViewer, service: ClinicalService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(viewer_module.QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
    viewer.export_button.click()
    assert service.audit_search("dr.kim", action="audit.export") == []


def test_clinic_menu_opens_the_audit_trail(
    qtbot: QtBot, service: ClinicalService, nurse: str, trail: dict[str, int]
) -> None:
    window = MainWindow(service, "dr.kim", "test database")
    qtbot.addWidget(window)
    window.show()
    clinic = next(m for m in window.menuBar().findChildren(QMenu) if m.title() == "&Clinic")
    assert "Audit trail…" in [a.text() for a in clinic.actions()]
    window.actions_by_name["Audit trail"].trigger()
    opened = window.audit_viewer
    assert opened is not None and opened.isVisible()
    assert opened.windowTitle() == "Audit trail"
    assert len(rows(opened)) == 9
    opened.close()
    service.discharge(nurse, trail["jordan"], service.clock.now())
    window.actions_by_name["Audit trail"].trigger()  # reopened: the same viewer, reloaded
    assert window.audit_viewer is opened
    assert column(opened, "Action")[0] == "episode.discharge"
