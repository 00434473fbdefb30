"""The main window as a nurse uses it: admit, open, see assessments, void, discharge, and errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QDateTimeEdit,
    QLineEdit,
    QTableView,
    QWidget,
)
from pytestqt.qtbot import QtBot

from monitor.services.clinical import ClinicalService
from monitor.services.errors import DatabaseProblem, ProblemKind
from monitor.services.views import SubstanceInput
from monitor.ui import errors as ui_errors
from monitor.ui.admit_dialog import AdmitDialog
from monitor.ui.dialogs import DischargeDialog, ReasonDialog
from monitor.ui.main_window import ID_ROLE, MainWindow
from monitor.ui.timefmt import to_qdatetime
from monitor.ui.trend import TrendView
from tests.conftest import FakeClock
from tests.helpers import admission, cows


@pytest.fixture
def ward(service: ClinicalService, nurse: str, clock: FakeClock) -> dict[str, int]:
    """Two open episodes with charted COWS, charted as the time passes."""
    start = clock.now()
    kratom = (SubstanceInput("kratom", start - timedelta(days=2), "35 g/day", "oral"),)
    alex = service.admit(nurse, admission(start, "K-1001", "Alex Example", "3B", kratom))
    jordan = service.admit(nurse, admission(start, "K-1002", "Jordan Sample", "3A"))
    clock.advance(minutes=10)
    service.record_assessment(nurse, alex, cows(clock.now(), sweating=1, yawning=1))
    clock.advance(hours=4)
    service.record_assessment(
        nurse, alex, cows(clock.now(), 104, resting_pulse=2, sweating=3, restlessness=3)
    )
    service.record_assessment(nurse, jordan, cows(clock.now(), gooseflesh=5))
    return {"alex": alex, "jordan": jordan}


@pytest.fixture
def window(qtbot: QtBot, service: ClinicalService, nurse: str, ward: dict[str, int]) -> MainWindow:
    win = MainWindow(service, nurse, "test database")
    qtbot.addWidget(win)
    win.show()
    return win


def table_text(table: QTableView) -> list[list[str]]:
    model = table.model()
    return [
        [str(model.index(r, c).data() or "") for c in range(model.columnCount())]
        for r in range(model.rowCount())
    ]


def when_dialog_opens(act: Callable[[QWidget], None]) -> None:
    """Act on the next modal dialog as soon as it is shown (it blocks in exec())."""

    def attempt() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(20, attempt)
            return
        act(dialog)

    QTimer.singleShot(0, attempt)


def test_open_episodes_list_beds_patients_and_latest_cows(window: MainWindow) -> None:
    rows = table_text(window.episodes.table)
    assert [r[:5] for r in rows] == [
        ["3A", "Jordan Sample", "K-1002", "5", "Mild"],
        ["3B", "Alex Example", "K-1001", "8", "Mild"],
    ]


def test_opening_an_episode_shows_header_substances_and_assessments_newest_first(
    window: MainWindow, qtbot: QtBot, ward: dict[str, int]
) -> None:
    window.episodes.select(ward["alex"])
    view = window.episode_view
    assert "Alex Example" in view.header.text() and "K-1001" in view.header.text()
    assert "Kratom" in view.substances.text() and "opioid" in view.substances.text()
    assert "2 days" in view.substances.text()  # last use two days before admission, 4 h 10 min ago
    rows = table_text(view.table)
    assert [(r[1], r[2], r[3], r[4]) for r in rows] == [
        ("8", "Mild", "Original", "rn.lee"),
        ("2", "Below mild", "Original", "rn.lee"),
    ]


def test_entered_in_error_stays_visible_marked_with_its_reason(
    window: MainWindow, qtbot: QtBot, service: ClinicalService, ward: dict[str, int]
) -> None:
    window.episodes.select(ward["alex"])
    view = window.episode_view
    view.table.setCurrentIndex(view.table.model().index(0, 0))  # the newest, total 8

    def give_reason(dialog: QWidget) -> None:
        assert isinstance(dialog, ReasonDialog)
        assert not dialog.buttons.buttons()[0].isEnabled()  # no reason, no OK
        qtbot.keyClicks(dialog.reason, "Charted on the wrong patient")
        qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)

    when_dialog_opens(give_reason)
    view.void_button.click()
    rows = table_text(view.table)
    assert rows[0][1] == "8"
    assert rows[0][3] == "ENTERED IN ERROR: Charted on the wrong patient"
    assert view.model.index(0, 1).data(Qt.ItemDataRole.FontRole).strikeOut()
    # the ward list now shows the latest valid COWS, 2
    assert table_text(window.episodes.table)[1][3] == "2"
    assert len(service.assessments(ward["alex"])) == 2  # nothing deleted


def test_admit_dialog_by_keyboard_admits_a_kratom_patient(
    qtbot: QtBot, service: ClinicalService, nurse: str
) -> None:
    dialog = AdmitDialog(service, nurse)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.mrn, "K-2001")
    qtbot.keyClicks(dialog.name, "Riley Invented")
    qtbot.keyClicks(dialog.birth_date, "1990-01-31")
    qtbot.keyClicks(dialog.bed, "5C")
    row = dialog.add_substance_row("kratom", amount="20 g/day", route="oral")
    assert row == 0
    dialog.admit_button.click()
    assert dialog.result() == dialog.DialogCode.Accepted
    assert dialog.episode_id is not None
    detail = service.episode(dialog.episode_id)
    assert (detail.mrn, detail.name, detail.bed, str(detail.birth_date)) == (
        "K-2001",
        "Riley Invented",
        "5C",
        "1990-01-31",
    )
    assert [(s.substance, s.amount, s.route, s.is_opioid) for s in detail.substances] == [
        ("kratom", "20 g/day", "oral", True)
    ]


def test_admit_dialog_shows_what_is_wrong_and_keeps_the_input(
    qtbot: QtBot, service: ClinicalService, nurse: str
) -> None:
    dialog = AdmitDialog(service, nurse)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.name, "Riley Invented")
    qtbot.keyClicks(dialog.birth_date, "31/01/1990")
    dialog.admit_button.click()
    assert "YYYY-MM-DD" in dialog.status.text()
    dialog.birth_date.setText("1990-01-31")
    dialog.admit_button.click()
    assert dialog.status.text() == "The MRN is required."
    assert dialog.name.text() == "Riley Invented"
    assert dialog.isVisible()
    assert service.open_episodes() == []


def test_the_keyboard_starts_in_the_open_episodes_and_the_first_down_is_the_first_bed(
    window: MainWindow, qtbot: QtBot, ward: dict[str, int]
) -> None:
    """QA: the start left the keyboard on the alert bar's Acknowledge button, and in the list the first
    row was current but not highlighted, so the first Down opened the second patient."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    table = window.episodes.table
    qtbot.waitUntil(table.hasFocus)
    assert window.episode_view.episode is None  # nothing opened by taking the focus
    assert not table.selectionModel().hasSelection()
    qtbot.keyClick(table, Qt.Key.Key_Down)
    assert table_text(table)[0][1] == "Jordan Sample"  # bed 3A sorts first
    assert window.episodes.selected_id() == ward["jordan"]
    assert window.current_episode().id == ward["jordan"]  # type: ignore[union-attr]
    qtbot.keyClick(table, Qt.Key.Key_Down)
    assert window.current_episode().id == ward["alex"]  # type: ignore[union-attr]
    qtbot.keyClick(table, Qt.Key.Key_Tab)
    assert not table.hasFocus()  # Tab leaves the list, not from cell to cell


def test_ctrl_and_a_number_puts_the_keyboard_in_that_views_list(window: MainWindow, qtbot: QtBot) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    for shortcut, table in (
        (Qt.Key.Key_2, window.ward_board.table),
        (Qt.Key.Key_3, window.review_panel.table),
    ):
        qtbot.keyClick(window, shortcut, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(table.hasFocus)
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(window.episodes.table.hasFocus)


def test_discharge_removes_the_episode_from_the_open_list(
    window: MainWindow,
    qtbot: QtBot,
    service: ClinicalService,
    ward: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window.episodes.select(ward["jordan"])
    monkeypatch.setattr("monitor.ui.main_window.QMessageBox.information", lambda *a: None)

    def confirm(dialog: QWidget) -> None:
        assert isinstance(dialog, DischargeDialog)
        qtbot.keyClick(dialog.note, Qt.Key.Key_Return)

    when_dialog_opens(confirm)
    window.episode_view.discharge_button.click()
    assert [r[1] for r in table_text(window.episodes.table)] == ["Alex Example"]
    assert service.episode(ward["jordan"]).discharged_at is not None


def test_a_refused_discharge_keeps_the_dialog_open_with_what_was_typed(
    qtbot: QtBot, service: ClinicalService, nurse: str, ward: dict[str, int]
) -> None:
    episode = service.episode(ward["jordan"])
    dialog = DischargeDialog(service, nurse, episode.id, episode.name)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.when.setDateTime(to_qdatetime(episode.admitted_at - timedelta(days=2)))
    qtbot.keyClicks(dialog.note, "Transferred to the medical ward")
    qtbot.keyClick(dialog.note, Qt.Key.Key_Return)  # Enter, as a nurse in a hurry
    assert dialog.isVisible()
    assert dialog.message.text() == "The discharge time is before the admission."
    assert dialog.note.text() == "Transferred to the medical ward"
    assert dialog.when.hasFocus() or not dialog.isActiveWindow()  # offscreen: no window manager
    assert service.episode(episode.id).discharged_at is None
    dialog.when.setDateTime(to_qdatetime(service.clock.now()))
    qtbot.keyClick(dialog.note, Qt.Key.Key_Return)
    assert not dialog.isVisible() and dialog.result() == DischargeDialog.DialogCode.Accepted
    discharged = service.episode(episode.id)
    assert discharged.discharged_at is not None
    assert discharged.discharge_note == "Transferred to the medical ward"


def test_a_busy_database_is_explained_not_thrown(
    window: MainWindow, service: ClinicalService, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[str] = []
    monkeypatch.setattr(ui_errors.QMessageBox, "warning", lambda _p, _t, text: shown.append(text))

    def busy() -> list[object]:
        raise DatabaseProblem(ProblemKind.BUSY, "sqlite3.OperationalError: database is locked")

    monkeypatch.setattr(service, "open_episodes", busy)
    window.refresh()
    assert shown == [
        "The database is busy: another program or workstation is writing to it.\n"
        "Wait a few seconds and try again. Nothing you entered was lost."
    ]


def test_starting_on_a_file_that_is_not_a_database_shows_a_plain_message(
    tmp_path: Path, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.ui import app

    bogus = tmp_path / "notes.sqlite"
    bogus.write_text("not a database")
    shown: list[str] = []
    monkeypatch.setattr(app.QMessageBox, "critical", lambda _p, _t, text: shown.append(text))
    assert app.run_gui(path=bogus, url=None, user=None) == 2
    assert shown and shown[0].startswith("The file is not a withdrawal monitor database.")
    assert bogus.read_text() == "not a database"


def _named_widgets(root: QWidget) -> list[QWidget]:
    kinds = (QAbstractButton, QLineEdit, QComboBox, QDateTimeEdit, QTableView)
    return [
        w
        for w in root.findChildren(QWidget)
        if isinstance(w, kinds) and w.isVisibleTo(root) and not w.objectName().startswith("qt_")
    ]


def test_every_input_and_button_has_an_accessible_name_matching_its_label(
    window: MainWindow, qtbot: QtBot, service: ClinicalService, nurse: str
) -> None:
    dialog = AdmitDialog(service, nurse)
    qtbot.addWidget(dialog)
    dialog.add_substance_row()
    dialog.show()
    for root in (window.centralWidget(), dialog):
        for widget in _named_widgets(root):
            name = widget.accessibleName()
            assert name, f"{type(widget).__name__} {widget.objectName()} has no accessible name"
            if isinstance(widget, QAbstractButton) and widget.text():
                assert name == widget.text().replace("&", "").replace("…", ""), name


def test_ward_board_and_review_queue_are_one_keystroke_away_and_open_the_episode(
    window: MainWindow, qtbot: QtBot, ward: dict[str, int]
) -> None:
    window.actions_by_name["Ward board"].trigger()  # Ctrl+2
    assert window.views.currentWidget() is window.ward_board
    patients = [row[1] for row in window.ward_board.visible_rows()]
    assert sorted(patients) == ["Alex Example", "Jordan Sample"]
    row = patients.index("Jordan Sample")
    window.ward_board.table.doubleClicked.emit(window.ward_board.proxy.index(row, 1))
    assert window.views.currentIndex() == 0
    assert window.current_episode() is not None and window.current_episode().name == "Jordan Sample"
    window.actions_by_name["Review queue"].trigger()  # Ctrl+3
    assert window.views.currentWidget() is window.review_panel
    assert window.actions_by_name["Bedside"].shortcut().toString() == "Ctrl+1"


def test_the_trend_view_with_no_episode_open_is_not_a_blank_page(qtbot: QtBot, window: MainWindow) -> None:
    window.episode_view.show_episode(None, [], None)  # nothing open at the bedside
    window.actions_by_name["Trend"].trigger()  # Ctrl+4
    assert window.views.currentWidget() is window.trend_tab
    [shown] = window.trend_tab.findChildren(TrendView)  # (asked of the page, not built by asking)
    assert shown.isVisible() and shown.last_24h_button.isVisible()
    assert shown.cows_points()[0].size == 0


def test_trend_view_shows_the_episode_open_at_the_bedside(
    window: MainWindow, qtbot: QtBot, ward: dict[str, int], service: ClinicalService
) -> None:
    window.episodes.select(ward["alex"])
    assert window._trend is None  # not built at start (a fifth of a second of every start)
    window.actions_by_name["Trend"].trigger()  # Ctrl+4
    assert window.views.currentWidget() is window.trend_tab
    assert window.trend_view.isVisible() and window.trend_view.episode_id == ward["alex"]
    xs, ys = window.trend_view.cows_points()
    expected = service.assessments(ward["alex"])
    assert list(ys) == [a.total for a in expected] == [2, 8]
    assert list(xs) == [a.taken_at.timestamp() for a in expected]


def test_the_trend_takes_the_bedsides_fresh_reads_instead_of_reading_again(
    window: MainWindow,
    qtbot: QtBot,
    ward: dict[str, int],
    service: ClinicalService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing was written since the bedside read the episode: the trend draws from that read."""
    window.episodes.select(ward["alex"])
    reads: list[str] = []
    for name in ("episode", "assessment_columns", "doses", "vitals"):
        real = getattr(service, name)
        monkeypatch.setattr(
            service, name, lambda *a, _real=real, _name=name, **k: reads.append(_name) or _real(*a, **k)
        )
    window.actions_by_name["Trend"].trigger()  # Ctrl+4
    assert list(window.trend_view.cows_points()[1]) == [2, 8]
    assert window.trend_view.episode_id == ward["alex"]
    assert reads == []


def test_a_substance_use_reported_during_the_stay_moves_the_readiness_clock(
    window: MainWindow, qtbot: QtBot, ward: dict[str, int], service: ClinicalService, clock: FakeClock
) -> None:
    from monitor.ui.dialogs import SubstanceReportDialog

    window.episodes.select(ward["alex"])
    [before] = service.readiness(ward["alex"])
    assert before.elapsed == timedelta(days=2, hours=4, minutes=10)

    def report(dialog: QWidget) -> None:
        assert isinstance(dialog, SubstanceReportDialog)
        assert dialog.substance.currentData() == "heroin"  # the list starts with the opioids
        dialog.substance.setCurrentIndex(dialog.substance.findData("kratom"))
        dialog.last_use.setDateTime(to_qdatetime(clock.now() - timedelta(hours=20)))
        qtbot.keyClicks(dialog.amount, "10 g")
        dialog.save_button.click()

    when_dialog_opens(report)
    window.actions_by_name["Report substance use"].trigger()  # Ctrl+U
    [after] = service.readiness(ward["alex"])
    assert (after.substance, after.elapsed, after.ready) == ("kratom", timedelta(hours=20), False)
    assert after.clear_at == clock.now() - timedelta(hours=20) + timedelta(days=7)
    assert [e.action for e in service.audit_entries() if e.action == "substance.report"] == [
        "substance.report"
    ]


def test_a_substance_report_with_a_future_time_is_refused_in_the_dialog(
    qtbot: QtBot, service: ClinicalService, nurse: str, ward: dict[str, int], clock: FakeClock
) -> None:
    from monitor.ui.dialogs import SubstanceReportDialog

    dialog = SubstanceReportDialog(service, nurse, ward["alex"])
    qtbot.addWidget(dialog)
    dialog.last_use.setDateTime(to_qdatetime(clock.now() + timedelta(hours=2)))
    dialog.save_button.click()
    assert "more than 5 minutes in the future" in dialog.message.text()
    assert len(service.readiness(ward["alex"])) == 1


def test_opening_a_patient_from_the_alert_list_goes_to_the_bedside_view(
    window: MainWindow, ward: dict[str, int], service: ClinicalService
) -> None:
    window.episodes.select(ward["alex"])
    window.actions_by_name["Trend"].trigger()
    window.open_alert_episode(ward["jordan"])  # what a double-click in the alert list does
    assert window.views.currentIndex() == 0
    assert window.current_episode() is not None and window.current_episode().name == "Jordan Sample"


def test_no_two_alt_keys_on_the_ward_screen_are_the_same(window: MainWindow) -> None:
    """Alt+letter must do one thing: a tab or button sharing a menu's letter takes the key from the menu
    (Alt+V opened the Vital signs tab, not the View menu)."""
    import re

    from PySide6.QtWidgets import QAbstractButton, QTabBar

    window.open_episode(window.episodes.model.index(0, 0).data(ID_ROLE))
    texts = [action.text() for action in window.menuBar().actions()]
    texts += [b.text() for b in window.findChildren(QAbstractButton) if b.isVisibleTo(window)]
    for bar in window.findChildren(QTabBar):
        if bar.isVisibleTo(window):
            texts += [bar.tabText(i) for i in range(bar.count())]
    letters: dict[str, list[str]] = {}
    for text in texts:
        found = re.search(r"&([^&])", text)
        if found:
            letters.setdefault(found.group(1).lower(), []).append(text)
    assert len(letters) >= 15  # the menus, views, tabs and bedside buttons all have one
    assert {key: used for key, used in letters.items() if len(used) > 1} == {}
