"""Time and number fields that never drop a typed digit in silence.

Qt's QDateTimeEdit and spin boxes refuse a keystroke they cannot take and keep their old value without
a word: digits typed over a selected time ("202611280050" after Ctrl+A), a digit typed between two parts
of a time, 99999 in a field that allows 2-20 (it kept 9). A nurse in a hurry then saves a time or a
value she never typed. These fields take the usual ways of typing a time, and say at once, under the
field (the refused signal) and in a tooltip, when a digit or a minus sign was not taken.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import QAbstractSpinBox, QDateTimeEdit, QDoubleSpinBox, QSpinBox, QToolTip, QWidget

TIME_FORMAT = "yyyy-MM-dd HH:mm"
# Where each part of TIME_FORMAT starts, when the text is complete.
_PART_STARTS = frozenset({0, 5, 8, 11, 14})
_SEPARATORS = frozenset("-/.: ")


def _typed(event: QKeyEvent) -> str:
    """The character a key press types, or "" for a shortcut (Ctrl, Alt, Meta) or a control key."""
    shortcut = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
    if event.modifiers() & (shortcut | Qt.KeyboardModifier.MetaModifier):
        return ""
    text = event.text()
    return text if len(text) == 1 and text.isprintable() else ""


def _say(field: QAbstractSpinBox, message: str) -> None:
    QToolTip.showText(field.mapToGlobal(QPoint(0, field.height())), message, field)


def _state(field: QAbstractSpinBox) -> tuple[str, int, str]:
    editor = field.lineEdit()
    return field.text(), editor.cursorPosition(), editor.selectedText()


class TimeEdit(QDateTimeEdit):
    """A clinical date and time, typed part by part ("2026-11-28 00:50"), or as 12 digits over the
    whole selected field ("202611280050"), or over one part at the cursor; arrows step it.

    The separators a nurse types after a part that filled itself are skipped (Qt would jump over the
    next part). A digit that is still refused is said (refused) and the field keeps its time."""

    refused = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDisplayFormat(TIME_FORMAT)
        self.setCalendarPopup(True)
        self._part_filled = False  # the last digit completed a part and moved to the next one

    def keyPressEvent(self, event: QKeyEvent) -> None:
        typed = _typed(event)
        if typed in _SEPARATORS and self._part_filled:
            self._part_filled = False  # "2026" moved on to the month already: this "-" is typed, not a jump
            event.accept()
            return
        self._part_filled = False
        if not typed.isdigit():
            super().keyPressEvent(event)
            return
        text, cursor, selected = _state(self)
        complete = len(text) == len(TIME_FORMAT)
        if complete and selected == text:
            self.setSelectedSection(self.sectionAt(0))  # typed over the whole field: from the year on
        elif complete and not selected and cursor in _PART_STARTS:
            self.setSelectedSection(self.currentSection())  # typed at the start of a part: over that part
        before = _state(self)
        section = self.currentSection()
        super().keyPressEvent(event)
        after = _state(self)
        if after == before:
            message = self.tr(
                '"{0}" was not taken: type the time as {1} (year-month-day hours:minutes), '
                "or step it with the Up and Down keys."
            ).format(typed, self.dateTime().toString(TIME_FORMAT))
            _say(self, message)
            self.refused.emit(message)
        elif self.currentSection() != section and after[2]:
            self._part_filled = True

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self._part_filled = False
        _left_unfinished(self, event, super().focusOutEvent)


def _left_unfinished(
    field: QAbstractSpinBox, event: QFocusEvent, leave: Callable[[QFocusEvent], None]
) -> None:
    """Leave the field (Qt puts back the last value it could take when the text is unfinished, "1." in a
    field of whole numbers) and say so when it did."""
    unfinished = not field.hasAcceptableInput()
    typed = field.text()
    leave(event)
    if unfinished and field.text() != typed:
        message = field.tr('"{0}" was not taken: the field is back to {1}.').format(typed, field.text())
        _say(field, message)
        field.refused.emit(message)  # type: ignore[attr-defined]


def _press_in_range(
    field: QAbstractSpinBox,
    event: QKeyEvent,
    press: Callable[[QKeyEvent], None],
    signs: str,
    limits: tuple[str, str],
) -> None:
    """Let the field take the key; a digit or one of `signs` it refused (the value would leave the
    range) is said."""
    typed = _typed(event)
    before = _state(field)
    press(event)
    if typed and (typed.isdigit() or typed in signs) and _state(field) == before:
        low, high = limits
        message = field.tr('"{0}" was not taken: the value is from {1} to {2}{3}.').format(
            typed,
            low,
            high,
            field.suffix(),  # type: ignore[attr-defined]
        )
        _say(field, message)
        field.refused.emit(message)  # type: ignore[attr-defined]


class SpinBox(QSpinBox):
    """A whole number in a range; a digit or sign that would leave the range is said, not dropped."""

    refused = Signal(str)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        _press_in_range(self, event, super().keyPressEvent, "+-", (str(self.minimum()), str(self.maximum())))

    def focusOutEvent(self, event: QFocusEvent) -> None:
        _left_unfinished(self, event, super().focusOutEvent)


class DoubleSpinBox(QDoubleSpinBox):
    """A decimal number in a range; a digit, sign or point that would leave it is said, not dropped."""

    refused = Signal(str)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        limits = (self.textFromValue(self.minimum()), self.textFromValue(self.maximum()))
        _press_in_range(self, event, super().keyPressEvent, "+-.,", limits)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        _left_unfinished(self, event, super().focusOutEvent)
