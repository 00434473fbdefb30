"""The time and number fields as a nurse in a hurry types into them: what she typed is what they hold,
or they say at once that a keystroke was not taken (never a silently kept or altered value)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from monitor.ui.typed_fields import TIME_FORMAT, DoubleSpinBox, SpinBox, TimeEdit

START = "2026-11-28 03:46"


@pytest.fixture
def time_edit(qtbot: QtBot) -> tuple[TimeEdit, list[str]]:
    edit = TimeEdit()
    qtbot.addWidget(edit)
    edit.setDateTime(QDateTime.fromString(START, TIME_FORMAT))
    said: list[str] = []
    edit.refused.connect(said.append)
    edit.show()
    edit.setFocus()
    return edit, said


def _select_all(qtbot: QtBot, edit: QWidget) -> None:
    qtbot.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)


def _shown(edit: TimeEdit) -> str:
    return edit.dateTime().toString(TIME_FORMAT)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("202611280050", "2026-11-28 00:50"),  # digits only, over the whole field
        ("2026-11-28 00:50", "2026-11-28 00:50"),  # with the separators
        ("2026-11-27 23:05", "2026-11-27 23:05"),  # another day
        ("2025-12-31 23:59", "2025-12-31 23:59"),  # another year
        ("2026-1-5 7:05", "2026-01-05 07:05"),  # short parts, closed by their separators
    ],
)
def test_a_time_typed_over_the_selected_field_is_the_time_held(
    qtbot: QtBot, time_edit: tuple[TimeEdit, list[str]], typed: str, expected: str
) -> None:
    edit, said = time_edit
    _select_all(qtbot, edit)
    qtbot.keyClicks(edit, typed)
    assert _shown(edit) == expected
    assert edit.hasAcceptableInput()
    assert said == []


def test_digits_typed_at_the_start_of_a_part_replace_that_part(
    qtbot: QtBot, time_edit: tuple[TimeEdit, list[str]]
) -> None:
    edit, said = time_edit
    qtbot.keyClick(edit, Qt.Key.Key_Home)
    for _ in range(11):  # to the hours, as the QA run did
        qtbot.keyClick(edit, Qt.Key.Key_Right)
    qtbot.keyClicks(edit, "01")
    assert _shown(edit) == "2026-11-28 01:46"
    assert said == []


def test_a_digit_that_cannot_be_taken_is_said_and_the_time_is_kept(
    qtbot: QtBot, time_edit: tuple[TimeEdit, list[str]]
) -> None:
    edit, said = time_edit
    qtbot.keyClick(edit, Qt.Key.Key_End)  # after the minutes: nothing more fits
    qtbot.keyClick(edit, Qt.Key.Key_7)
    assert _shown(edit) == START
    assert len(said) == 1
    assert said[0].startswith('"7" was not taken: type the time as 2026-11-28 03:46')


def test_an_hour_typed_mid_part_is_not_rewritten_into_another_hour(
    qtbot: QtBot, time_edit: tuple[TimeEdit, list[str]]
) -> None:
    """ "28" is no hour: the 8 is refused and said, not taken as 08 (a time the nurse never typed)."""
    edit, said = time_edit
    edit.setSelectedSection(TimeEdit.Section.HourSection)
    qtbot.keyClicks(edit, "28")
    assert _shown(edit) in ("2026-11-28 02:46", START)
    assert _shown(edit) != "2026-11-28 08:46"
    assert said and said[0].startswith('"8" was not taken')


def _number_field(qtbot: QtBot, field: SpinBox | DoubleSpinBox) -> tuple[QWidget, list[str]]:
    """The field in a window with another field to move to (Tab), as in the dialogs."""
    window = QWidget()
    qtbot.addWidget(window)
    layout = QVBoxLayout(window)
    layout.addWidget(field)
    layout.addWidget(QLineEdit(window))
    said: list[str] = []
    field.refused.connect(said.append)
    window.show()
    window.activateWindow()
    field.setFocus()
    qtbot.waitUntil(field.hasFocus)
    return window, said


def test_a_number_beyond_the_range_is_said_not_cut_to_its_first_digit(qtbot: QtBot) -> None:
    """The snooze of a high alert allows 1-15 min: 60 used to become 6 without a word."""
    minutes = SpinBox()
    minutes.setRange(1, 15)
    minutes.setSuffix(" min")
    minutes.setValue(5)
    _window, said = _number_field(qtbot, minutes)
    _select_all(qtbot, minutes)
    qtbot.keyClicks(minutes, "60")
    assert said == ['"0" was not taken: the value is from 1 to 15 min.']
    assert minutes.value() == 6  # what the field shows is what would be saved, and the nurse was told


def _rise(value: float) -> DoubleSpinBox:
    """The protocol's precipitated-withdrawal rise: whole points from 2 to 20."""
    rise = DoubleSpinBox()
    rise.setDecimals(0)
    rise.setRange(2, 20)
    rise.setSuffix(" points")
    rise.setValue(value)
    return rise


def test_a_minus_sign_in_a_positive_setting_is_said(qtbot: QtBot) -> None:
    rise = _rise(6)
    _window, said = _number_field(qtbot, rise)
    _select_all(qtbot, rise)
    qtbot.keyClicks(rise, "-5")
    assert said[0] == '"-" was not taken: the value is from 2 to 20 points.'
    assert rise.value() == 5


def test_leaving_an_unfinished_number_says_what_the_field_went_back_to(qtbot: QtBot) -> None:
    """ "1." in a field of whole numbers from 2: Qt puts the last value back when the field is left."""
    rise = _rise(9)
    _window, said = _number_field(qtbot, rise)
    _select_all(qtbot, rise)
    qtbot.keyClicks(rise, "1")
    assert not rise.hasAcceptableInput()  # 1 is below the range: maybe the first digit of 12
    qtbot.keyClick(rise, Qt.Key.Key_Tab)
    assert rise.value() == 9
    assert said == ['"1 points" was not taken: the field is back to 9 points.']
