"""Behaviour the app's lists share."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import QTableView, QWidget


class ListTable(QTableView):
    """A table the keyboard moves through row by row.

    Qt makes the first row current, but not selected, when a view first takes the focus: nothing looks
    chosen, and the first Down went to the second row (a nurse opened the second patient on the list).
    Here the list keeps no current row until the keyboard or a click picks one, so the first Down picks
    the first row; and the lists that open what is current open nothing just by taking the focus.
    Tab goes on to the controls beside the list, not from cell to cell."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabKeyNavigation(False)

    def focusInEvent(self, event: QFocusEvent) -> None:
        selection = self.selectionModel()
        if selection is None or self.currentIndex().isValid():
            super().focusInEvent(event)
            return
        with QSignalBlocker(selection):
            super().focusInEvent(event)
            if not selection.hasSelection():
                selection.clearCurrentIndex()
        self.viewport().update()
