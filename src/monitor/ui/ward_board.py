"""The ward board: every open episode in one table for the physician and the charge nurse.

Worst first by default (highest alert needing action, then the highest COWS); any column sorts; a
double-click opens the episode; a sparkline shows the last 24 h of COWS. The board reloads itself when
the database's change counter moves (a write here or at another workstation).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRectF,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QPainter, QPen, QPolygonF
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from monitor.services.clinical import ClinicalService
from monitor.services.views import AlertView, WardRow
from monitor.ui.errors import describe
from monitor.ui.lists import ListTable
from monitor.ui.timefmt import ago, local

COLUMNS = [
    "Bed",
    "Patient",
    "MRN",
    "Latest COWS",
    "Band",
    "Change",
    "Last COWS",
    "Next due",
    "Alerts",
    "Last antagonist",
    "Last 24 h",
]
SORT_ROLE = Qt.ItemDataRole.UserRole + 10
SPARK_ROLE = Qt.ItemDataRole.UserRole + 11
EPISODE_ROLE = Qt.ItemDataRole.UserRole + 12
SPARK_COLUMN = COLUMNS.index("Last 24 h")
MAX_TOTAL = 48


def alert_text(row: WardRow) -> str:
    """Counts by priority with their shapes, so priority never rests on colour alone."""
    parts = [
        f"▲ {row.alerts_high} high" if row.alerts_high else "",
        f"◆ {row.alerts_medium} medium" if row.alerts_medium else "",
        f"● {row.alerts_low} low" if row.alerts_low else "",
    ]
    return "  ".join(p for p in parts if p) or "none"


def change_text(change: int | None) -> str:
    if change is None:
        return ""
    return f"+{change}" if change > 0 else str(change) if change < 0 else "0"


# The roles WardModel.data answers; Qt asks a cell for about nine on each repaint.
_ROLES_ANSWERED = frozenset(
    (
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.ToolTipRole,
        EPISODE_ROLE,
        SPARK_ROLE,
        SORT_ROLE,
    )
)


class WardModel(QAbstractTableModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[WardRow] = []
        self.now: datetime | None = None

    def set_rows(self, rows: list[WardRow], now: datetime) -> None:
        self.beginResetModel()
        self.rows = rows
        self.now = now
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.tr(COLUMNS[section])
        return None

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role not in _ROLES_ANSWERED or not index.isValid():
            return None  # most of Qt's questions (font, colours, alignment...) on every repaint: first
        row = self.rows[index.row()]
        column = COLUMNS[index.column()]
        if role == EPISODE_ROLE:
            return row.episode_id
        if role == SPARK_ROLE and index.column() == SPARK_COLUMN:
            return row.sparkline
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == "Alerts" and row.top_alert:
                return row.top_alert
            if column == "Next due":
                return self.tr("Next COWS: {0}").format(row.next_due_reason)
        if role == SORT_ROLE:
            return self._sort_key(row, column, index.row())
        return None

    def _text(self, row: WardRow, column: str) -> str:
        """The one cell asked for (Qt asks cell by cell: formatting the whole row each time cost a
        dozen times the work on every repaint of the board)."""
        if column == "Bed":
            return row.bed
        if column == "Patient":
            return row.patient
        if column == "MRN":
            return row.mrn
        if column == "Latest COWS":
            return "" if row.latest_total is None else str(row.latest_total)
        if column == "Band":
            return row.latest_band
        if column == "Change":
            return change_text(row.change)
        if column == "Last COWS":
            return ago(row.latest_at, self.now) if self.now and row.latest_at else self.tr("none yet")
        if column == "Next due":
            return self._due_text(row)
        if column == "Alerts":
            return alert_text(row)
        if column == "Last antagonist" and row.last_antagonist:
            return f"{row.last_antagonist} at {local(row.last_antagonist_at)}"
        return ""  # "Last 24 h" is drawn by its delegate

    def _due_text(self, row: WardRow) -> str:
        if row.next_due_at is None or self.now is None:
            return ""
        minutes = int((row.next_due_at - self.now).total_seconds() // 60)
        when = local(row.next_due_at)[-5:]
        if minutes < 0:
            return self.tr("OVERDUE {0} min ({1})").format(-minutes, when)
        return self.tr("in {0} min ({1})").format(minutes, when) if minutes < 120 else when

    def _sort_key(self, row: WardRow, column: str, position: int) -> Any:
        if column in ("Alerts", "Last 24 h"):
            return (row.worst_priority, row.alerts_high, row.alerts_medium, row.alerts_low)
        if column == "Latest COWS":
            return -1 if row.latest_total is None else row.latest_total
        if column == "Change":
            return -999 if row.change is None else row.change
        if column == "Last COWS":
            return row.latest_at.timestamp() if row.latest_at else 0.0
        if column == "Next due":
            return row.next_due_at.timestamp() if row.next_due_at else 0.0
        return self._text(row, column)


class SparklineDelegate(QStyledItemDelegate):
    """The last 24 h of COWS totals as a small line, scaled 0-48, with the last value as a dot."""

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        super().paint(painter, option, index)
        points = index.data(SPARK_ROLE) or ()
        if not points:
            return
        rect = QRectF(option.rect).adjusted(4, 4, -4, -4)
        start = points[0][0].timestamp()
        span = max(points[-1][0].timestamp() - start, 1.0)
        corners = [
            QPointF(
                rect.left() + rect.width() * (when.timestamp() - start) / span
                if len(points) > 1
                else rect.right(),
                rect.bottom() - rect.height() * total / MAX_TOTAL,
            )
            for when, total in points
        ]
        polygon = QPolygonF(corners)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pen = QPen(option.palette.text().color())
        pen.setWidthF(1.5)
        painter.setPen(pen)
        painter.drawPolyline(polygon)
        painter.setBrush(option.palette.text())
        painter.drawEllipse(corners[-1], 2.5, 2.5)
        painter.restore()


class WardBoard(QWidget):
    """The board widget. `opened(episode_id)` on double-click or Enter."""

    opened = Signal(int)

    def __init__(self, service: ClinicalService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.caption = QLabel(self.tr("<b>Ward board</b> – open episodes, worst first"))
        layout.addWidget(self.caption)
        self.model = WardModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = ListTable()
        self.table.setAccessibleName("Ward board")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(SPARK_COLUMN, QHeaderView.ResizeMode.Fixed)
        self.table.setColumnWidth(SPARK_COLUMN, 140)
        self.table.setItemDelegateForColumn(SPARK_COLUMN, SparklineDelegate(self.table))
        self.caption.setBuddy(self.table)
        layout.addWidget(self.table)
        self.message = QLabel("")
        self.message.setAccessibleName("Ward board message")
        layout.addWidget(self.message)
        self.table.doubleClicked.connect(self._open)
        self.table.activated.connect(self._open)
        self._seen_version: int | None = None
        # The database's change counter is cheap to read: poll it and reload only when it moved.
        self.poll = QTimer(self)
        self.poll.setInterval(2000)
        self.poll.timeout.connect(self.refresh_if_changed)

    def refresh(self, alerts: Sequence[AlertView] | None = None) -> None:
        """alerts: the current alert list when the caller has just read it (else the board reads it)."""
        try:
            rows = self.service.ward_board(alerts)
            self._seen_version = self.service.data_version()
        except Exception as exc:  # shown in words; the last good board stays on screen
            self.message.setText(describe(exc))
            return
        self.message.setText("")
        self.model.set_rows(rows, self.service.clock.now())
        # Worst first by default: the service's order, until someone clicks a column.
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.proxy.sort(-1)

    def refresh_if_changed(self) -> None:
        try:
            version = self.service.data_version()
        except Exception as exc:
            self.message.setText(describe(exc))
            return
        if version != self._seen_version:
            self.refresh()

    def visible_rows(self) -> list[list[str]]:
        """The board as shown (sorted), for tests and screen readers' summaries."""
        return [
            [str(self.proxy.index(r, c).data() or "") for c in range(self.proxy.columnCount())]
            for r in range(self.proxy.rowCount())
        ]

    def _open(self, index: QModelIndex) -> None:
        episode_id = index.data(EPISODE_ROLE)
        if episode_id is not None:
            self.opened.emit(int(episode_id))
