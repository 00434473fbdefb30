"""Ward board and review queue widgets: rows, order, sort, refresh on change, sign-off."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from monitor.services.clinical import ClinicalService
from monitor.ui.main_window import MainWindow
from monitor.ui.review_panel import ReviewPanel, SignOffDialog
from monitor.ui.ward_board import COLUMNS, WardBoard
from tests.conftest import FakeClock
from tests.helpers import cows
from tests.services.test_review import ward  # the shared three-patient ward fixture


@pytest.fixture
def board(qtbot: QtBot, service: ClinicalService, ward: dict[str, int]) -> WardBoard:
    widget = WardBoard(service)
    qtbot.addWidget(widget)
    widget.refresh()
    widget.show()
    return widget


def column(name: str) -> int:
    return COLUMNS.index(name)


def test_board_shows_worst_first_with_numbers_and_shapes(board: WardBoard) -> None:
    rows = board.visible_rows()
    assert [r[column("Patient")] for r in rows] == ["Alex Example", "Sam Sample", "Casey Demo"]
    alex = rows[0]
    assert (alex[column("Latest COWS")], alex[column("Band")], alex[column("Change")]) == (
        "15",
        "Moderate",
        "+11",
    )
    assert alex[column("Alerts")] == "▲ 1 high"  # the too-soon alert was acknowledged at the dose
    assert alex[column("Last antagonist")].startswith("naltrexone 25 mg PO at ")
    assert alex[column("Next due")].startswith("in 90 min")
    assert rows[1][column("Change")] == "-3"
    assert rows[2][column("Last COWS")] == "none yet"


def test_sorting_by_a_column_and_the_sparkline_data(board: WardBoard) -> None:
    board.table.sortByColumn(column("Latest COWS"), Qt.SortOrder.AscendingOrder)
    assert [r[column("Patient")] for r in board.visible_rows()] == [
        "Casey Demo",
        "Sam Sample",
        "Alex Example",
    ]
    board.table.sortByColumn(column("Bed"), Qt.SortOrder.AscendingOrder)
    assert [r[column("Bed")] for r in board.visible_rows()] == ["3A", "3B", "4A"]
    spark = [row.sparkline for row in board.model.rows]
    assert [[t for _, t in s] for s in spark] == [[4, 15], [6, 3], []]


def test_double_click_opens_the_episode(board: WardBoard, qtbot: QtBot, ward: dict[str, int]) -> None:
    index = board.proxy.index(1, column("Patient"))
    with qtbot.waitSignal(board.opened) as signal:
        board.table.doubleClicked.emit(index)
    assert signal.args == [ward["sam"]]


def test_board_reloads_by_itself_when_data_changes(
    board: WardBoard,
    service: ClinicalService,
    nurse: str,
    ward: dict[str, int],
    clock: FakeClock,
) -> None:
    board.refresh_if_changed()  # nothing changed: same rows
    assert board.visible_rows()[1][column("Latest COWS")] == "3"
    clock.advance(minutes=5)
    service.record_assessment(nurse, ward["sam"], cows(clock.now(), sweating=3, gooseflesh=5, yawning=4))
    board.refresh_if_changed()  # what the 2 s poll does
    sam = next(r for r in board.visible_rows() if r[column("Patient")] == "Sam Sample")
    assert (sam[column("Latest COWS")], sam[column("Change")]) == ("12", "+9")
    assert board.poll.interval() == 2000


def test_review_queue_and_sign_off_by_keyboard(
    qtbot: QtBot,
    service: ClinicalService,
    ward: dict[str, int],
    clock: FakeClock,
) -> None:
    physician = service.ensure_user("dr.park", "Dr Jamie Park", "physician").username
    panel = ReviewPanel(service, physician)
    qtbot.addWidget(panel)
    panel.refresh()
    texts = [panel.model.item(r, 0).text() for r in range(panel.model.rowCount())]
    assert texts == ["▲ Precipitated withdrawal"]
    clock.advance(minutes=10)  # nobody acknowledged it: escalated
    service.refresh_alerts()
    panel.refresh()
    texts = [panel.model.item(r, 0).text() for r in range(panel.model.rowCount())]
    assert texts == ["▲ ESCALATED alert"]
    panel.show()
    panel.activateWindow()
    panel.table.setFocus()
    qtbot.waitUntil(panel.table.hasFocus)
    qtbot.keyClick(panel.table, Qt.Key.Key_Down)  # the first row, not the second
    with qtbot.waitSignal(panel.opened) as opened:
        qtbot.keyClick(panel.table, Qt.Key.Key_Return)  # Enter opens it, as a double-click does
    assert opened.args == [ward["alex"]]
    assert panel.sign_button.text() == "Sign o&ff…"  # Alt+F
    dialog = SignOffDialog(service, physician, ward["alex"])
    qtbot.addWidget(dialog)
    assert not dialog.ok.isEnabled()
    qtbot.keyClicks(dialog.comment, "Seen at the bedside; naltrexone paused")
    assert dialog.ok.isEnabled()
    dialog.ok.click()
    assert dialog.result_view is not None and dialog.result_view.period_end == clock.now()
    panel.refresh()
    assert panel.model.rowCount() == 0
    assert panel.message.text() == "Nothing is waiting for review."
    clock.advance(hours=25)
    panel.refresh()
    assert sorted(panel.model.item(r, 2).text() for r in range(panel.model.rowCount())) == [
        "Alex Example",
        "Casey Demo",
        "Sam Sample",
    ]


def test_signing_twice_shows_the_refusal_in_the_dialog(
    qtbot: QtBot,
    service: ClinicalService,
    ward: dict[str, int],
) -> None:
    physician = service.ensure_user("dr.park", "Dr Jamie Park", "physician").username
    service.sign_off(physician, ward["sam"], "first")
    dialog = SignOffDialog(service, physician, ward["sam"])
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.comment, "again")
    dialog.ok.click()
    assert "already signed off" in dialog.message.text()
    assert dialog.comment.toPlainText() == "again"
    assert len(service.sign_offs(ward["sam"])) == 1


def test_the_review_queue_behind_its_tab_is_readable_when_brought_up(
    qtbot: QtBot, service: ClinicalService, ward: dict[str, int]
) -> None:
    """Filled while its tab was hidden, the queue kept the widths of the empty table: "▲ Pre…",
    "Alex Exam…" (seen in the docs' screenshot)."""
    physician = service.ensure_user("dr.park", "Dr Jamie Park", "physician").username
    window = MainWindow(service, physician, "test ward")
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    window.show_view(2)
    table = window.review_panel.table
    qtbot.waitUntil(table.isVisible)
    metrics = table.fontMetrics()
    for column in range(4):
        text = window.review_panel.model.item(0, column).text()
        assert table.columnWidth(column) >= metrics.horizontalAdvance(text), text
