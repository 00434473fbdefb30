"""Readiness for naltrexone: days since the last use of each opioid against its opioid-free interval.

One row per opioid (kratom included), from reported use or from a dose given here. The status is said
in words ("Within interval – ready 2026-11-30 21:00" / "Interval passed") with a shape, never by
colour alone (design.md, UI; domain.md section 3: 7 days short-acting and kratom, 14 days methadone
and buprenorphine, each a protocol setting).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QFont, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from monitor.domain.rules import format_duration
from monitor.services.views import ReadinessRow
from monitor.ui.timefmt import local

__all__ = ["READINESS_COLUMNS", "ReadinessPanel", "elapsed_text", "interval_text", "status_text"]

READINESS_COLUMNS = ["Substance", "Source", "Last use", "Since", "Interval", "Status"]


def _tr(text: str) -> str:
    return QCoreApplication.translate("ReadinessPanel", text)


def elapsed_text(row: ReadinessRow) -> str:
    """ "2 days 4 h ago"; "in the future" for a last use recorded after now."""
    if row.elapsed.total_seconds() < 0:
        return _tr("in the future")
    return _tr("{0} ago").format(format_duration(row.elapsed))


def interval_text(row: ReadinessRow) -> str:
    return _tr("1 day") if row.interval_days == 1 else _tr("{0} days").format(row.interval_days)


def status_text(row: ReadinessRow) -> str:
    if row.ready:
        return "✓ " + _tr("Interval passed")
    return "✗ " + _tr("Within interval – ready {0}").format(local(row.clear_at))


class ReadinessPanel(QWidget):
    """A compact table under the episode header; a line says when nothing is known."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.caption = QLabel(self.tr("<b>Readiness for naltrexone</b> (opioid-free interval)"), self)
        layout.addWidget(self.caption)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName(self.tr("Readiness summary"))
        layout.addWidget(self.summary)
        self.model = QStandardItemModel(0, len(READINESS_COLUMNS), self)
        self.model.setHorizontalHeaderLabels([self.tr(c) for c in READINESS_COLUMNS])
        self.table = QTableView(self)
        self.table.setAccessibleName(self.tr("Readiness for naltrexone"))
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.caption.setBuddy(self.table)
        layout.addWidget(self.table)
        self.rows: list[ReadinessRow] = []
        self.show_rows([], None)

    def show_rows(self, rows: Sequence[ReadinessRow], now: datetime | None) -> None:
        del now  # the rows carry their elapsed time as of the service's now
        self.rows = list(rows)
        self.model.removeRows(0, self.model.rowCount())
        for row in self.rows:
            cells = [
                row.label,
                self.tr(row.source),
                local(row.last_use_at),
                elapsed_text(row),
                interval_text(row),
                status_text(row),
            ]
            items = [QStandardItem(text) for text in cells]
            if not row.ready:
                font = QFont(items[-1].font())
                font.setBold(True)
                items[-1].setFont(font)
            self.model.appendRow(items)
        waiting = [r for r in self.rows if not r.ready]
        if not self.rows:
            self.summary.setText(self.tr("No opioid use recorded for this episode."))
        elif waiting:
            latest = max(waiting, key=lambda r: r.clear_at)
            self.summary.setText(
                self.tr("✗ Within the opioid-free interval until {0} ({1}).").format(
                    local(latest.clear_at), latest.label
                )
            )
        else:
            self.summary.setText(self.tr("✓ Every opioid-free interval has passed."))
        self.table.setVisible(bool(self.rows))
        self._fit_height()

    def _fit_height(self) -> None:
        """As tall as its rows (at most five), so it never steals the tabs' room."""
        header = self.table.horizontalHeader().sizeHint().height()
        rows = min(max(self.model.rowCount(), 1), 5)
        height = (
            header + rows * self.table.verticalHeader().defaultSectionSize() + 2 * self.table.frameWidth()
        )
        self.table.setFixedHeight(height + 2)

    def table_text(self) -> list[list[str]]:
        return [
            [str(self.model.index(r, c).data() or "") for c in range(self.model.columnCount())]
            for r in range(self.model.rowCount())
        ]
