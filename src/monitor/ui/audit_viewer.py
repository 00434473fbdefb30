"""The audit trail viewer: who did what and when, filtered by patient, user, time and action.

Newest first, times in local time; "Export CSV…" writes every matching row (not only those on screen)
through the same service as `monitor audit export`, and the export is itself audited.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QCoreApplication, QDate, QDateTime, Qt, QTime
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from monitor.services.audit_queries import DEFAULT_LIMIT, AuditFilters, AuditRecord
from monitor.services.clinical import ClinicalService
from monitor.ui.errors import describe
from monitor.ui.timefmt import from_qdatetime

COLUMNS = ["Time", "User", "Action", "Record", "Patient MRN", "Reason", "Before", "After"]
COLUMN_WIDTHS = [140, 90, 170, 110, 90, 180, 220]
ALL_ACTIONS = "All actions"
ID_ROLE = Qt.ItemDataRole.UserRole + 1
# The earliest settable time means "no limit" and shows as "any time" (Qt's special value text).
NO_LIMIT = QDateTime(QDate(2000, 1, 1), QTime(0, 0))
MAX_CELL = 200


def local_seconds(dt: datetime) -> str:
    """An audit time as this workstation shows it, to the second."""
    return dt.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _short(text: str) -> str:
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _time_edit(name: str) -> QDateTimeEdit:
    edit = QDateTimeEdit()
    edit.setAccessibleName(name)
    edit.setDisplayFormat("yyyy-MM-dd HH:mm")
    edit.setCalendarPopup(True)
    edit.setMinimumDateTime(NO_LIMIT)
    edit.setSpecialValueText(QCoreApplication.translate("AuditViewer", "any time"))
    edit.setDateTime(NO_LIMIT)
    return edit


class AuditViewer(QDialog):
    """Search the audit trail and export it. Errors appear in words in the message line."""

    def __init__(self, service: ClinicalService, actor: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.actor = actor
        self.rows: list[AuditRecord] = []
        self.setWindowTitle(self.tr("Audit trail"))
        self.resize(1200, 640)  # fits a 1366 x 768 screen with a taskbar
        layout = QVBoxLayout(self)

        filters = QGridLayout()
        self.mrn = QLineEdit()
        self.user = QLineEdit()
        self.since = _time_edit("From")
        self.until = _time_edit("To")
        self.action = QComboBox()
        fields: list[tuple[str, QWidget]] = [
            ("Patient (MRN)", self.mrn),
            ("User", self.user),
            ("From", self.since),
            ("To", self.until),
            ("Action", self.action),
        ]
        for column, (label, widget) in enumerate(fields):
            widget.setAccessibleName(label)
            caption = QLabel(self.tr(label))
            caption.setBuddy(widget)
            filters.addWidget(caption, 0, column)
            filters.addWidget(widget, 1, column)
        self.mrn.setPlaceholderText(self.tr("any patient"))
        self.user.setPlaceholderText(self.tr("any user"))
        layout.addLayout(filters)

        buttons = QHBoxLayout()
        self.search_button = self._button(self.tr("&Search"))
        self.clear_button = self._button(self.tr("&Clear filters"))
        self.export_button = self._button(self.tr("&Export CSV…"))
        self.close_button = self._button(self.tr("Close"))
        for button in (self.search_button, self.clear_button):
            buttons.addWidget(button)
        buttons.addStretch()
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)

        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels([self.tr(c) for c in COLUMNS])
        self.table = QTableView()
        self.table.setAccessibleName("Audit trail")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        # Fixed starting widths: sizing 5,000 rows to their contents would freeze the window.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate(COLUMN_WIDTHS):
            header.resizeSection(column, width)
        header.setStretchLastSection(True)
        layout.addWidget(self.table, 1)

        self.message = QLabel("")
        self.message.setAccessibleName("Audit message")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)

        self.search_button.clicked.connect(self.search)
        self.clear_button.clicked.connect(self.clear_filters)
        self.export_button.clicked.connect(self.ask_export)
        self.close_button.clicked.connect(self.close)
        self.mrn.returnPressed.connect(self.search)
        self.user.returnPressed.connect(self.search)
        self.action.activated.connect(lambda _index: self.search())
        self.search_button.setDefault(True)
        self._load_actions()
        self.search()

    def _button(self, text: str) -> QPushButton:
        button = QPushButton(text)
        button.setAccessibleName(text.replace("…", "").replace("&", ""))
        button.setAutoDefault(False)
        return button

    # --- filters ---------------------------------------------------------------------------------

    def _load_actions(self) -> None:
        current = self.action.currentText()
        try:
            actions = self.service.audit_actions()
        except Exception as exc:
            self.message.setText(describe(exc))
            actions = []
        self.action.clear()
        self.action.addItem(self.tr(ALL_ACTIONS), None)
        for action in actions:
            self.action.addItem(action, action)
        found = self.action.findText(current)
        self.action.setCurrentIndex(max(found, 0))

    def _time(self, edit: QDateTimeEdit) -> datetime | None:
        value = edit.dateTime()
        return None if value == edit.minimumDateTime() else from_qdatetime(value)

    def filters(self) -> AuditFilters:
        """The filters as the service takes them (empty fields filter nothing)."""
        action = self.action.currentData()
        return AuditFilters(
            mrn=self.mrn.text().strip() or None,
            username=self.user.text().strip() or None,
            since=self._time(self.since),
            until=self._time(self.until),
            action=action if isinstance(action, str) else None,
        )

    def clear_filters(self) -> None:
        self.mrn.clear()
        self.user.clear()
        self.since.setDateTime(NO_LIMIT)
        self.until.setDateTime(NO_LIMIT)
        self.action.setCurrentIndex(0)
        self.search()

    # --- data ------------------------------------------------------------------------------------

    def search(self) -> None:
        f = self.filters()
        try:
            rows = self.service.audit_search(
                self.actor, mrn=f.mrn, username=f.username, since=f.since, until=f.until, action=f.action
            )
        except Exception as exc:  # a typo in the MRN, From after To, a busy database: words
            self.message.setText(describe(exc))
            self.show_rows([])
            return
        self.show_rows(rows)
        if not rows:
            self.message.setText(self.tr("No audit rows match these filters."))
        elif len(rows) >= DEFAULT_LIMIT:
            self.message.setText(
                self.tr(
                    "Showing the newest {0} rows. Narrow the filters, or export to CSV for all of them."
                ).format(len(rows))
            )
        else:
            self.message.setText(self.tr("{0} rows, newest first.").format(len(rows)))

    def show_rows(self, rows: list[AuditRecord]) -> None:
        self.rows = rows
        self.model.removeRows(0, self.model.rowCount())
        for record in rows:
            what = record.entity if record.entity_id is None else f"{record.entity} {record.entity_id}"
            cells = [
                local_seconds(record.at),
                record.username,
                record.action,
                what,
                record.patient_mrn,
                record.reason,
                _short(record.before_json),
                _short(record.after_json),
            ]
            items = [QStandardItem(text) for text in cells]
            items[6].setToolTip(record.before_json)
            items[7].setToolTip(record.after_json)
            for item in items:
                item.setData(record.id, ID_ROLE)
            self.model.appendRow(items)

    # --- export ----------------------------------------------------------------------------------

    def ask_export(self) -> None:
        path, _chosen = QFileDialog.getSaveFileName(
            self, self.tr("Export the audit trail"), "audit-trail.csv", self.tr("CSV file (*.csv)")
        )
        if not path:
            return
        if not path.lower().endswith(".csv"):
            path += ".csv"
        self.export(path)

    def export(self, path: str) -> int | None:
        """Write the rows matching the filters to `path`; returns the count, None when refused."""
        f = self.filters()
        try:
            count = self.service.write_audit_csv(
                self.actor,
                path,
                mrn=f.mrn,
                username=f.username,
                since=f.since,
                until=f.until,
                action=f.action,
                replace=True,  # the save dialog asked before an existing file was chosen
            )
        except Exception as exc:
            self.message.setText(self.tr("Not exported: {0}").format(describe(exc)))
            return None
        text = self.tr("Wrote {0} rows to {1}.").format(count, path)
        self._load_actions()  # the export is audited: "audit.export" may be new
        self.search()
        self.message.setText(text)
        QMessageBox.information(self, self.tr("Audit trail exported"), text)
        return count
