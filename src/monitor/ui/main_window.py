"""The main window: open episodes on the left, the selected episode on the right."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSignalBlocker,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QBrush,
    QCloseEvent,
    QFont,
    QKeySequence,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from monitor.domain import accounts
from monitor.domain.medications import FORM_ABBREVIATIONS, format_mg
from monitor.services import locations
from monitor.services.clinical import ClinicalService
from monitor.services.views import (
    AlertView,
    AssessmentColumns,
    AssessmentRow,
    AssessmentView,
    DoseView,
    EpisodeDetail,
    EpisodeSummary,
    ReadinessRow,
    UserView,
    VitalsView,
)
from monitor.ui import theme
from monitor.ui.alerts import AlertBar, AlertPanel
from monitor.ui.background import BackgroundTask
from monitor.ui.errors import describe, show_error
from monitor.ui.lists import ListTable
from monitor.ui.lock import IdleWatcher, LockScreen
from monitor.ui.readiness import ReadinessPanel
from monitor.ui.review_panel import ReviewPanel
from monitor.ui.sign_in import ChangePasswordDialog
from monitor.ui.theme import set_tone, tone_colour
from monitor.ui.timefmt import ago, local
from monitor.ui.ward_board import WardBoard

if TYPE_CHECKING:
    from monitor.ui.audit_viewer import AuditViewer
    from monitor.ui.cows_form import CowsDraft
    from monitor.ui.trend import TrendView

# What the first screen does not need: the dialogs, and the charts' module (pyqtgraph and numpy, a third
# of a second). Each is imported where it is used; the window loads them all once it has been shown
# (load_deferred_modules), so that the nurse sees the ward sooner and the first COWS form or Trend opens
# as quickly as any later one. The most used first.
DEFERRED_MODULES = (
    "monitor.ui.cows_form",
    "monitor.ui.dose_dialog",
    "monitor.ui.vitals_dialog",
    "monitor.ui.dialogs",
    "monitor.ui.trend",
    "monitor.ui.admit_dialog",
    "monitor.ui.export_dialog",
    "monitor.ui.audit_viewer",
    "monitor.ui.help_dialogs",
    "monitor.ui.protocol_dialog",
    "monitor.ui.users_dialog",
)
# After the window's first paint.
DEFERRED_LOAD_DELAY_MS = 500

EPISODE_COLUMNS = ["Bed", "Patient", "MRN", "Latest COWS", "Band", "Last COWS"]
ASSESSMENT_COLUMNS = ["Time taken", "Total", "Band", "Status", "Recorded by", "Note"]
DOSE_COLUMNS = ["Time given", "Medicine", "Role", "Status", "Given by", "Note", "Warnings"]
VITALS_COLUMNS = [
    "Time taken",
    "Pulse (bpm)",
    "BP (mmHg)",
    "Resp. rate (/min)",
    "SpO2 (%)",
    "Temp. (°C)",
    "Status",
    "Recorded by",
    "Note",
]
ID_ROLE = Qt.ItemDataRole.UserRole + 1
TAB_ASSESSMENTS, TAB_MEDICATION, TAB_VITALS = 0, 1, 2
_SIZED_ROWS = 40  # rows whose contents size the columns of the long tables (about a screenful)


def _readonly_table(name: str) -> QTableView:
    table = ListTable()
    table.setAccessibleName(name)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _button(text: str, shortcut: str = "") -> QPushButton:
    button = QPushButton(text)
    button.setAccessibleName(text.replace("…", "").replace("&", ""))
    if shortcut:
        button.setToolTip(f"{text.replace('&', '')} ({shortcut})")
    return button


class EpisodeList(QWidget):
    """Open episodes: bed, patient, latest COWS. Enter or double-click opens one."""

    opened = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel(self.tr("<b>Open episodes</b>"))
        layout.addWidget(title)
        self.model = QStandardItemModel(0, len(EPISODE_COLUMNS))
        self.model.setHorizontalHeaderLabels([self.tr(c) for c in EPISODE_COLUMNS])
        self.proxy = QSortFilterProxyModel()
        self.proxy.setSourceModel(self.model)
        self.table = _readonly_table("Open episodes")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        title.setBuddy(self.table)
        layout.addWidget(self.table)
        self.table.activated.connect(self._activated)
        self.table.selectionModel().currentRowChanged.connect(lambda current, _prev: self._activated(current))

    def show_episodes(self, episodes: list[EpisodeSummary]) -> None:
        selected = self.selected_id()
        self.model.removeRows(0, self.model.rowCount())
        for episode in episodes:
            latest = "" if episode.latest_total is None else str(episode.latest_total)
            cells = [
                episode.bed,
                episode.name,
                episode.mrn,
                latest,
                episode.latest_band,
                local(episode.latest_taken_at),
            ]
            row = [QStandardItem(text) for text in cells]
            for item in row:
                item.setData(episode.id, ID_ROLE)
            if episode.latest_total is not None:
                row[3].setData(episode.latest_total, Qt.ItemDataRole.UserRole)
            self.model.appendRow(row)
        if selected is not None:
            # Re-selecting after a reload is not the user opening the episode: no second load.
            with QSignalBlocker(self.table.selectionModel()):
                self.select(selected)

    def selected_id(self) -> int | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        value = index.data(ID_ROLE)
        return int(value) if value is not None else None

    def select(self, episode_id: int) -> None:
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if index.data(ID_ROLE) == episode_id:
                self.table.setCurrentIndex(index)
                return

    def _activated(self, index: QModelIndex) -> None:
        if index.isValid() and index.data(ID_ROLE) is not None:
            self.opened.emit(int(index.data(ID_ROLE)))


class _RecordsModel(QAbstractTableModel):
    """A read-only table of an episode's records, newest first, each cell formatted when Qt asks for it,
    so only the rows on screen ever are (a long stay has 20,000 assessments and a thousand vital sign
    sets). An entered-in-error row is struck through and greyed; its status cell says so."""

    columns: Sequence[str] = ()

    def count(self) -> int:
        raise NotImplementedError

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.count()

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.tr(self.columns[section])
        return None

    @staticmethod
    def struck(role: int) -> object:
        """The look of an entered-in-error row for `role` (None: the table's own)."""
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setStrikeOut(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(tone_colour("muted"))
        return None


class _NewestFirstModel(_RecordsModel):
    """Records given oldest first, as the services return them, shown newest first."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[Any] = []  # newest first

    def count(self) -> int:
        return len(self.rows)

    def set_rows(self, records: Sequence[Any]) -> None:
        self.beginResetModel()
        self.rows = list(reversed(records))
        self.endResetModel()

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if not index.isValid():
            return None
        view = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(view, index.column())
        if role == ID_ROLE:
            return view.id
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(view)
        if view.entered_in_error:
            return self.struck(role)
        return self._look(view, index.column(), role)

    def _text(self, view: Any, column: int) -> str:
        raise NotImplementedError

    def _tooltip(self, view: Any) -> str | None:
        """A row's tooltip (None: none)."""
        return None

    def _look(self, view: Any, column: int, role: int) -> object:
        """Any other role of a cell of a row not entered in error (None: the table's own)."""
        return None


class AssessmentTableModel(_RecordsModel):
    """The assessments tab: one row per current assessment, newest first (what the nurse looks for).

    A cell is formatted when Qt asks for it, so only the rows on screen ever are: a long stay has
    20,000 assessments, and one QStandardItem per cell (120,000 of them) took about a second to build on
    every opening. An entered-in-error row is struck through and greyed, with the word in its status."""

    columns = ASSESSMENT_COLUMNS

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows = AssessmentColumns(episode_id=0)  # oldest first; shown newest first

    def count(self) -> int:
        return len(self.rows)

    def set_rows(self, assessments: AssessmentColumns) -> None:
        """assessments oldest first, as the service returns them (one column-wise read)."""
        self.beginResetModel()
        self.rows = assessments
        self.endResetModel()

    def position(self, row: int) -> int:
        """The index in self.rows of a table row (the newest is row 0)."""
        return len(self.rows) - 1 - row

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if not index.isValid():
            return None
        i = self.position(index.row())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(i, index.column())
        if role == ID_ROLE:
            return self.rows.ids[i]
        if self.rows.entered_in_error[i]:
            return self.struck(role)
        return None

    def _text(self, i: int, column: int) -> str:
        rows = self.rows
        if column == 0:
            return local(rows.taken_at_utc(i))
        if column == 1:
            return str(rows.totals[i])
        if column == 2:
            return rows.band_labels[i]
        if column == 3:
            if rows.entered_in_error[i]:
                return self.tr("ENTERED IN ERROR: {0}").format(rows.void_reasons.get(rows.ids[i], ""))
            return rows.status(i)
        if column == 4:
            return rows.recorded_by(i)
        return rows.notes[i]


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


class DoseTableModel(_NewestFirstModel):
    """The medication tab: one row per dose, newest first, each cell formatted when Qt asks for it (a
    long stay has hundreds of doses). An antagonist's medicine is bold; an entered-in-error row is struck
    through and greyed, with the word in its status; every cell's tooltip is the warning or the dose."""

    columns = DOSE_COLUMNS

    def _warned(self, view: DoseView) -> str:
        if not view.warnings:
            return ""
        return self.tr("Warned: {0}. Given because: {1}").format(
            "; ".join(view.warnings), view.warning_reason
        )

    def _tooltip(self, view: DoseView) -> str:
        return self._warned(view) or view.description

    def _look(self, view: DoseView, column: int, role: int) -> object:
        if role == Qt.ItemDataRole.FontRole and view.role == "antagonist" and column == 1:
            font = QFont()
            font.setBold(True)
            return font
        return None

    def _text(self, view: DoseView, column: int) -> str:
        if column == 0:
            return local(view.given_at)
        if column == 1:
            form = FORM_ABBREVIATIONS.get(view.form, view.form)
            return f"{view.drug_label} {format_mg(view.dose_mg)} mg {form}"
        if column == 2:
            roles = {"antagonist": self.tr("Antagonist"), "agonist": self.tr("Opioid agonist")}
            return roles.get(view.role, self.tr("Comfort"))
        if column == 3:
            if view.entered_in_error:
                return self.tr("ENTERED IN ERROR: {0}").format(view.void_reason)
            return self.tr("Given")
        if column == 4:
            return view.recorded_by
        if column == 5:
            return view.note
        return self._warned(view)


class VitalsTableModel(_NewestFirstModel):
    """The vital signs tab: one row per reading, newest first, each cell formatted when Qt asks for it
    (a long stay has over a thousand readings: a QStandardItem per cell took a tenth of a second on
    every opening). An entered-in-error row is struck through and greyed, with the word in its status."""

    columns = VITALS_COLUMNS

    def _text(self, view: VitalsView, column: int) -> str:
        if column == 0:
            return local(view.taken_at)
        if column == 2:
            if view.systolic is None and view.diastolic is None:
                return ""
            return f"{_number(view.systolic)}/{_number(view.diastolic)}"
        if column == 6:
            if view.entered_in_error:
                return self.tr("ENTERED IN ERROR: {0}").format(view.void_reason)
            return self.tr("Recorded")
        if column == 7:
            return view.recorded_by
        if column == 8:
            return view.note
        value = {1: view.pulse_bpm, 3: view.resp_rate, 4: view.spo2, 5: view.temp_c}[column]
        return _number(value)


class EpisodeView(QWidget):
    """One episode: header, substances, readiness, and tabs of assessments, medication and vital signs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.header = QLabel(self.tr("Select an episode on the left, or admit a patient (Ctrl+N)."))
        self.header.setWordWrap(True)
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setAccessibleName("Episode")
        layout.addWidget(self.header)
        self.substances = QLabel("")
        self.substances.setWordWrap(True)
        self.substances.setAccessibleName("Substances")
        layout.addWidget(self.substances)
        self.readiness = ReadinessPanel()
        layout.addWidget(self.readiness)

        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Records")
        # Assessments (current versions; history one click away)
        self.model = AssessmentTableModel(self)
        self.table = _readonly_table("Assessments")
        # Column widths from a screenful of rows, not from a sample of a thousand rows of a long stay
        # (nor from all 20,000, which precision 0 means while the tab is hidden).
        self.table.horizontalHeader().setResizeContentsPrecision(_SIZED_ROWS)
        self.table.setModel(self.model)
        self.tabs.addTab(self.table, self.tr("Assessme&nts"))
        self.dose_model = DoseTableModel(self)
        self.dose_table = _readonly_table("Medication")
        self.dose_table.horizontalHeader().setResizeContentsPrecision(_SIZED_ROWS)
        self.dose_table.setModel(self.dose_model)
        self.tabs.addTab(self.dose_table, self.tr("&Medication"))
        self.vitals_model = VitalsTableModel(self)
        self.vitals_table = _readonly_table("Vital signs")
        # Column widths from a screenful of rows: 0 ("the rows on screen") measures every row while the
        # tab is hidden, and a long stay has over a thousand readings.
        self.vitals_table.horizontalHeader().setResizeContentsPrecision(_SIZED_ROWS)
        self.vitals_table.setModel(self.vitals_model)
        self.tabs.addTab(self.vitals_table, self.tr("Vital si&gns"))
        layout.addWidget(self.tabs, 1)

        buttons = QHBoxLayout()
        self.record_button = _button(self.tr("&Record COWS…"), "Ctrl+R")
        self.dose_button = _button(self.tr("Give d&ose…"), "Ctrl+M")
        self.vitals_button = _button(self.tr("Record vitals…"), "Ctrl+T")
        self.history_button = _button(self.tr("Histor&y…"), "Ctrl+H")
        self.amend_button = _button(self.tr("Am&end…"), "Ctrl+E")
        self.void_button = _button(self.tr("Entered &in error…"))
        self.discharge_button = _button(self.tr("&Discharge…"), "Ctrl+D")
        for button in (
            self.record_button,
            self.dose_button,
            self.vitals_button,
            self.history_button,
            self.amend_button,
            self.void_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch()
        buttons.addWidget(self.discharge_button)
        layout.addLayout(buttons)
        self.episode: EpisodeDetail | None = None
        # The signed-in user may chart (nurse or physician): an administrator alone only reads.
        self.may_chart = True
        self.rows = AssessmentColumns(episode_id=0)  # the assessments shown, oldest first
        self.dose_rows: list[DoseView] = []
        self.vitals_rows: list[VitalsView] = []
        for table in (self.table, self.dose_table, self.vitals_table):
            table.selectionModel().currentRowChanged.connect(lambda *_: self._update_buttons())
        self._tab_tables: list[tuple[QTableView, QAbstractTableModel]] = [
            (self.table, self.model),
            (self.dose_table, self.dose_model),
            (self.vitals_table, self.vitals_model),
        ]
        self.tabs.currentChanged.connect(self._select_first_row)
        self.tabs.currentChanged.connect(lambda _i: self._update_buttons())
        self._update_buttons()

    def show_episode(
        self,
        episode: EpisodeDetail | None,
        assessments: AssessmentColumns | Sequence[AssessmentView],
        now: datetime | None,
        *,
        doses: Sequence[DoseView] = (),
        vitals: Sequence[VitalsView] = (),
        readiness: Sequence[ReadinessRow] = (),
    ) -> None:
        self.episode = episode
        if not isinstance(assessments, AssessmentColumns):
            assessments = AssessmentColumns.from_views(episode.id if episode else 0, assessments)
        if episode is None:
            assessments = AssessmentColumns(episode_id=0)
        self.rows = assessments
        self.dose_rows = list(doses)
        self.vitals_rows = list(vitals)
        self.model.set_rows(assessments)
        self.dose_model.set_rows(self.dose_rows if episode is not None else [])
        self.vitals_model.set_rows(self.vitals_rows if episode is not None else [])
        if episode is None:
            self.header.setText(self.tr("Select an episode on the left, or admit a patient (Ctrl+N)."))
            self.substances.setText("")
            self.readiness.show_rows([], None)
            self.readiness.setVisible(False)
            self._update_buttons()
            return
        self.readiness.setVisible(True)
        self.readiness.show_rows(readiness, now)
        birth = episode.birth_date.isoformat() if episode.birth_date else "unknown"
        state = (
            self.tr("admitted {0} by {1}").format(local(episode.admitted_at), episode.admitted_by)
            if episode.is_open
            else self.tr("DISCHARGED {0} by {1}").format(local(episode.discharged_at), episode.discharged_by)
        )
        self.header.setText(
            f"<span style='font-size:14pt'><b>{_esc(episode.name)}</b></span> &nbsp; MRN {_esc(episode.mrn)}"
            f" &nbsp; born {birth} &nbsp; {_esc(episode.sex or '')}"
            f" &nbsp; bed <b>{_esc(episode.bed or '-')}</b>"
            f"<br>{state}"
        )
        parts = []
        for use in episode.substances:
            since = f" ({ago(use.last_use_at, now)})" if now and use.last_use_at else ""
            extra = ", ".join(x for x in (use.amount, use.route) if x)
            parts.append(
                f"<b>{_esc(use.label)}</b>{' – opioid' if use.is_opioid else ''}: last use "
                f"{local(use.last_use_at) or 'unknown'}{since}{'; ' + _esc(extra) if extra else ''}"
            )
        self.substances.setText(
            self.tr("Substances: ") + (" · ".join(parts) if parts else self.tr("none recorded"))
        )
        self._select_first_row(self.tabs.currentIndex())
        self._update_buttons()

    def _select_first_row(self, tab: int) -> None:
        """The newest record of the tab's table is the current row when nothing is (after a reload).
        Done for the tab on screen, and for the others when they are shown: selecting a row makes Qt
        size the table's columns to its contents, about 5 ms a table on a long stay."""
        table, model = self._tab_tables[tab] if 0 <= tab < len(self._tab_tables) else (None, None)
        if (
            table is not None
            and model is not None
            and model.rowCount()
            and not table.currentIndex().isValid()
        ):
            table.setCurrentIndex(model.index(0, 0))

    def current_tab(self) -> int:
        return self.tabs.currentIndex()

    def _selected_id(self, table: QTableView) -> int | None:
        index = table.currentIndex()
        if not index.isValid():
            return None
        value = index.data(ID_ROLE)
        return int(value) if value is not None else None

    def selected_assessment(self) -> AssessmentRow | None:
        index = self.table.currentIndex()
        return self.model.rows.row(self.model.position(index.row())) if index.isValid() else None

    def selected_dose(self) -> DoseView | None:
        wanted = self._selected_id(self.dose_table)
        return next((v for v in self.dose_rows if v.id == wanted), None)

    def selected_vitals(self) -> VitalsView | None:
        wanted = self._selected_id(self.vitals_table)
        return next((v for v in self.vitals_rows if v.id == wanted), None)

    def _update_buttons(self) -> None:
        is_open = self.episode is not None and self.episode.is_open and self.may_chart
        tab = self.current_tab()
        chosen = self.selected_assessment() if tab == TAB_ASSESSMENTS else None
        self.record_button.setEnabled(is_open)
        self.dose_button.setEnabled(is_open)
        self.vitals_button.setEnabled(is_open)
        self.discharge_button.setEnabled(is_open)
        self.history_button.setEnabled(chosen is not None)
        editable = chosen is not None and not chosen.entered_in_error and is_open
        self.amend_button.setEnabled(editable)
        record: AssessmentRow | DoseView | VitalsView | None = chosen
        if tab == TAB_MEDICATION:
            record = self.selected_dose()
        elif tab == TAB_VITALS:
            record = self.selected_vitals()
        self.void_button.setEnabled(record is not None and not record.entered_in_error and is_open)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class MainWindow(QMainWindow):
    #: How often the alerts are re-evaluated (ms): overdue alerts appear without anyone touching the app.
    alert_interval_ms = 30_000
    #: How often the database's change counter is read (ms): another workstation's write shows within 2 s.
    change_poll_ms = 1_000
    #: How often the app asks whether an automatic backup is due (ms).
    backup_check_ms = 10 * 60_000

    def __init__(
        self, service: ClinicalService, actor: str, location: str, *, sign_in_hint: str = ""
    ) -> None:
        super().__init__()
        self.service = service
        self.actor = actor
        self.location = location
        # The idle lock: who was signed in when it locked, and the COWS they had not saved yet.
        self.locked_user: str | None = None
        self.pending_draft: CowsDraft | None = None
        self.pending_patient = ""
        self.notice: QMessageBox | None = None
        # The database's change counter when the ward was last loaded (refresh_if_changed).
        self._seen_version: int | None = None
        self._bedside_stale = False  # another workstation wrote while the bedside was not on screen
        self._rows_version: int | None = None  # the change counter when the bedside's rows were read
        self.setWindowTitle(self.tr("Withdrawal monitor"))
        self.episodes = EpisodeList()
        self.episode_view = EpisodeView()
        splitter = QSplitter()
        splitter.addWidget(self.episodes)
        splitter.addWidget(self.episode_view)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([560, 800])  # the ward list shows every column on a 1366 px bedside screen
        self.splitter = splitter
        # The alert bar sits above everything and is never hidden.
        self.alert_bar = AlertBar(service, actor)
        central = QWidget()
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(4, 4, 4, 0)
        central_layout.addWidget(self.alert_bar)
        # Three views of one ward: the bedside (list and episode), the ward board, the review queue.
        self.ward_board = WardBoard(service)
        self.review_panel = ReviewPanel(service, actor)
        self.views = QTabWidget()
        self.views.setAccessibleName("Views")
        self.views.addTab(splitter, self.tr("&Bedside"))
        self.views.addTab(self.ward_board, self.tr("&Ward board"))
        self.views.addTab(self.review_panel, self.tr("Review &queue"))
        # The trend view (eight pyqtgraph plots, a fifth of a second to build) is built the first time
        # it is looked at, not at every start: its tab holds a page it is put into then.
        self._trend: TrendView | None = None
        self.trend_tab = QWidget()
        self.trend_tab.setAccessibleName("Trend")
        trend_layout = QVBoxLayout(self.trend_tab)
        trend_layout.setContentsMargins(0, 0, 0, 0)
        self.views.addTab(self.trend_tab, self.tr("&Trend"))
        central_layout.addWidget(self.views, 1)
        # The ward and the lock screen share the window: locking swaps one for the other.
        self.lock_screen = LockScreen(service, hint=sign_in_hint)
        self.lock_screen.form.signed_in.connect(self._unlocked)
        self.stack = QStackedWidget()
        self.stack.addWidget(central)
        self.stack.addWidget(self.lock_screen)
        self.ward_page = central
        self.setCentralWidget(self.stack)
        self.alert_panel = AlertPanel(service, actor)
        self.alert_dock = QDockWidget(self.tr("Alerts"), self)
        self.alert_dock.setObjectName("alerts-dock")
        self.alert_dock.setAccessibleName("Alerts")
        self.alert_dock.setWidget(self.alert_panel)
        self.alert_dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.alert_dock)
        # The list is a few rows high: the bar above says what matters, the episode keeps the room.
        self.resizeDocks([self.alert_dock], [190], Qt.Orientation.Vertical)
        self.audit_viewer: AuditViewer | None = None
        self._build_actions()
        self.episodes.opened.connect(self.open_episode)
        view = self.episode_view
        view.record_button.clicked.connect(self.record_cows)
        view.dose_button.clicked.connect(self.give_dose)
        view.vitals_button.clicked.connect(self.record_vitals)
        view.history_button.clicked.connect(self.show_history)
        view.amend_button.clicked.connect(self.amend_selected)
        view.void_button.clicked.connect(self.void_selected)
        view.discharge_button.clicked.connect(self.discharge)
        view.table.doubleClicked.connect(lambda _i: self.show_history())
        self.alert_bar.changed.connect(self.show_alerts)
        self.alert_bar.show_all_requested.connect(self.show_alert_list)
        self.alert_panel.changed.connect(self.show_alerts)
        self.alert_panel.open_episode.connect(self.open_alert_episode)
        self.ward_board.opened.connect(self.open_from_overview)
        self.review_panel.opened.connect(self.open_from_overview)
        self.review_panel.signed.connect(lambda _episode: self.refresh())
        self.views.currentChanged.connect(lambda _index: self._refresh_overview())
        self.user_label = QLabel("")
        self.user_label.setAccessibleName("Signed in user")
        self.statusBar().addWidget(self.user_label)
        self.backup_label = QLabel("")
        self.backup_label.setAccessibleName("Last good backup")
        self.statusBar().addPermanentWidget(self.backup_label)
        self.statusBar().addPermanentWidget(QLabel(location))
        self.idle = IdleWatcher(self._idle_minutes(), self)
        self.idle.idle.connect(self.lock)
        self.set_user(actor)
        self.resize(1280, 800)
        self.alert_timer = QTimer(self)
        self.alert_timer.setInterval(self.alert_interval_ms)
        self.alert_timer.timeout.connect(self.check_alerts)
        # The start's evaluation of the ward first, then the lists with the alerts it showed: not read
        # twice, and the change counter is read after the audit rows that evaluation may write (read
        # before them, the first poll would reload everything for this workstation's own writes).
        self._reload(self.check_alerts())
        self.alert_timer.start()
        self.ward_board.poll.start()
        self.idle.restart()
        # Another workstation's writes show here within 2 s: poll the database's change counter.
        self.change_poll = QTimer(self)
        self.change_poll.setInterval(self.change_poll_ms)
        self.change_poll.timeout.connect(self.refresh_if_changed)
        self.change_poll.start()
        # Automatic backups (SQLite): checked every few minutes, made when due, off the GUI thread.
        self.backup_task = BackgroundTask(self.service.run_scheduled_backup, self)
        self.backup_task.done.connect(lambda _info: self.show_backup_state())
        self.backup_task.failed.connect(self._backup_failed)
        self.backup_timer = QTimer(self)
        self.backup_timer.setInterval(self.backup_check_ms)
        self.backup_timer.timeout.connect(self.backup_task.start)
        self.show_backup_state()
        # The keyboard starts in the list of open episodes (a nurse's first Down is the first bed), not
        # on the alert bar's Acknowledge button, first in the tab order.
        self.episodes.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def load_deferred_modules(self) -> None:
        """Load DEFERRED_MODULES once the window has been shown (the app calls this after showing it),
        one per turn of the event loop, so that a key pressed meanwhile waits for one module at most.
        The trend view itself is still built on first use."""
        pending = list(DEFERRED_MODULES)

        def load_next() -> None:
            importlib.import_module(pending.pop(0))
            if pending:
                QTimer.singleShot(0, self, load_next)

        QTimer.singleShot(DEFERRED_LOAD_DELAY_MS, self, load_next)

    def start_backups(self) -> None:
        """The automatic backups: one now if due, then a check every backup_check_ms (the app calls this;
        tests that are not about backups leave it off)."""
        self.backup_timer.start()
        self.backup_task.start()

    def closeEvent(self, event: QCloseEvent) -> None:
        # A backup in progress finishes (its file is checked and renamed, or removed) before the
        # database is closed behind it.
        self.backup_timer.stop()
        self.backup_task.wait()
        if self._trend is not None:
            self._trend.wait_for_items()
        super().closeEvent(event)

    def _build_actions(self) -> None:
        menu = self.menuBar().addMenu(self.tr("&Patient"))
        toolbar = self.addToolBar(self.tr("Main"))
        toolbar.setObjectName("main-toolbar")
        specs = [
            ("Admit patient…", "Ctrl+N", self.admit),
            ("Record COWS…", "Ctrl+R", self.record_cows),
            ("Give dose…", "Ctrl+M", self.give_dose),
            ("Record vitals…", "Ctrl+T", self.record_vitals),
            ("History…", "Ctrl+H", self.show_history),
            ("Amend…", "Ctrl+E", self.amend_selected),
            ("Entered in error…", "", self.void_selected),
            ("Report substance use…", "Ctrl+U", self.report_substance),
            ("Discharge…", "Ctrl+D", self.discharge),
            ("Export…", "Ctrl+Shift+E", self.export),
            ("Refresh", "F5", self.refresh),
            ("Quit", "Ctrl+Q", self.close),
        ]
        self.actions_by_name: dict[str, QAction] = {}
        self.toolbar = toolbar
        for text, key, slot in specs:
            action = QAction(self.tr(text), self)
            if key:
                action.setShortcut(QKeySequence(key))
            action.triggered.connect(slot)
            menu.addAction(action)
            if text not in ("Quit", "History…", "Amend…", "Entered in error…", "Export…"):
                toolbar.addAction(action)
            self.actions_by_name[text.rstrip("…")] = action
        view_menu = self.menuBar().addMenu(self.tr("&View"))
        for number, text in enumerate(("Bedside", "Ward board", "Review queue", "Trend")):
            action = QAction(self.tr(text), self)
            action.setShortcut(QKeySequence(f"Ctrl+{number + 1}"))
            action.triggered.connect(lambda _checked=False, n=number: self.show_view(n))
            view_menu.addAction(action)
            self.actions_by_name[text] = action
        view_menu.addSeparator()
        self._build_theme_menu(view_menu.addMenu(self.tr("T&heme")))
        clinic = self.menuBar().addMenu(self.tr("&Clinic"))
        session = self.menuBar().addMenu(self.tr("&Session"))
        for menu_for, text, key, slot in (
            (clinic, "Alerts", "Ctrl+L", self.show_alert_list),
            (clinic, "Protocol…", "", self.edit_protocol),
            (clinic, "Audit trail…", "", self.show_audit_trail),
            (clinic, "Users and workstation lock…", "", self.manage_users),
            (clinic, "Back up now", "", self.back_up_now),
            (session, "Lock screen", "Ctrl+Shift+L", self.lock),
            (session, "Switch user…", "Ctrl+Shift+U", self.switch_user),
            (session, "Change my password…", "", self.change_own_password),
        ):
            action = QAction(self.tr(text), self)
            if key:
                action.setShortcut(QKeySequence(key))
            action.triggered.connect(slot)
            menu_for.addAction(action)
            self.actions_by_name[text.rstrip("…")] = action
        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        for text, key, slot in (
            ("Keyboard shortcuts", "F1", self.show_shortcuts),
            ("About", "", self.show_about),
        ):
            action = QAction(self.tr(text), self)
            if key:
                action.setShortcut(QKeySequence(key))
            action.triggered.connect(slot)
            help_menu.addAction(action)
            self.actions_by_name[text] = action

    # --- who is signed in, the idle lock ---------------------------------------------------------

    # Actions that chart (a nurse's or physician's); an administrator alone only reads.
    CHARTING_ACTIONS = (
        "Admit patient",
        "Record COWS",
        "Give dose",
        "Record vitals",
        "Amend",
        "Entered in error",
        "Report substance use",
        "Discharge",
    )

    def set_user(self, username: str) -> None:
        """Act as this (signed-in) account from now on; what the role may not do is disabled."""
        self.actor = username
        for part in (self.alert_bar, self.alert_panel, self.review_panel):
            part.actor = username
        if self.audit_viewer is not None:
            self.audit_viewer.close()
            self.audit_viewer = None  # it was opened for the previous user
        may = self.service.may
        chart = may(username, "record_assessment")
        for name in self.CHARTING_ACTIONS:
            self.actions_by_name[name].setEnabled(chart)
        self.episode_view.may_chart = chart
        self.episode_view._update_buttons()
        self.actions_by_name["Audit trail"].setEnabled(may(username, "view_audit"))
        self.actions_by_name["Export"].setEnabled(may(username, "export"))
        self.actions_by_name["Users and workstation lock"].setEnabled(may(username, "manage_users"))
        self.actions_by_name["Back up now"].setEnabled(
            may(username, "backup") and self.service.db.path is not None
        )
        self.review_panel.sign_button.setEnabled(may(username, "sign_off"))
        self.user_label.setText(self.tr("Signed in: {0}").format(self.service.user_label(username)))

    def _idle_minutes(self) -> int:
        try:
            return self.service.idle_lock_minutes()
        except Exception as exc:  # a database problem must not stop the lock: use the default
            describe(exc)
            return accounts.IDLE_LOCK_DEFAULT_MINUTES

    def is_locked(self) -> bool:
        return self.locked_user is not None

    def lock(self) -> None:
        """Hide patient data until the same or another user signs in (the idle timer calls this too)."""
        self._lock(switching=False)

    def switch_user(self) -> None:
        """Quick user switch: lock, with an empty user name for the next person."""
        self._lock(switching=True)

    def _lock(self, *, switching: bool) -> None:
        if self.is_locked():
            return
        self.idle.stop()
        draft = self._close_windows_for_lock()
        self.locked_user = self.actor
        self.pending_draft = draft
        try:
            self.service.record_session_event(self.actor, "sign_out" if switching else "lock")
        except Exception as exc:  # the audit row is wanted, but the screen must lock regardless
            describe(exc)
        self.stack.setCurrentWidget(self.lock_screen)
        self.alert_dock.hide()
        self.toolbar.hide()
        self.menuBar().setEnabled(False)
        for action in self.actions_by_name.values():
            action.setEnabled(False)
        self.user_label.setText(self.tr("Locked: nobody is signed in"))
        # Once shown, so that the focus lands in the form (password, or user name when switching).
        self.lock_screen.prepare(self.actor, self.service.clock.now(), switching=switching)

    def _close_windows_for_lock(self) -> CowsDraft | None:
        """Close every dialog (newest first) and hide the audit viewer; an unsaved COWS is kept."""
        from monitor.ui.cows_form import CowsForm
        from monitor.ui.export_dialog import ExportDialog

        draft: CowsDraft | None = None
        self.pending_patient = ""
        for widget in reversed(QApplication.topLevelWidgets()):
            if widget is self or not widget.isVisible():
                continue
            if isinstance(widget, ExportDialog):
                widget.wait_for_export()  # its file is complete or absent; then it closes like the rest
                widget.reject()
            elif isinstance(widget, CowsForm):
                kept = widget.close_for_lock()
                if kept is not None:
                    draft, self.pending_patient = kept, widget.episode.name
            elif isinstance(widget, QDialog):
                widget.reject()
            elif widget is self.audit_viewer:
                widget.hide()
        if self.notice is not None:
            self.notice.close()
        return draft

    def _unlocked(self, user: UserView) -> None:
        """Someone signed in on the lock screen: the same user carries on, another one takes over."""
        previous, draft = self.locked_user, self.pending_draft
        self.locked_user, self.pending_draft = None, None
        notice = ""
        if user.username != previous:
            if draft is not None and previous is not None:
                notice = self.tr(
                    "An unsaved COWS for {0} entered by {1} was discarded when {2} signed in. "
                    "It was never saved; chart it again if it was taken."
                ).format(self.pending_patient, previous, user.username)
                try:
                    self.service.record_session_event(previous, "draft_discarded")
                except Exception as exc:
                    describe(exc)
            draft = None
        self.menuBar().setEnabled(True)
        for action in self.actions_by_name.values():
            action.setEnabled(True)
        self.set_user(user.username)
        self.stack.setCurrentWidget(self.ward_page)
        self.toolbar.show()
        self.alert_dock.show()
        self.idle.set_minutes(self._idle_minutes())
        self.idle.restart()
        self.refresh()
        if notice:
            self._show_notice(notice)
        if draft is not None:
            # After this slot returns: the form is modal and must not run inside the sign-in click.
            QTimer.singleShot(0, lambda: self._restore_draft(draft))

    def _show_notice(self, text: str) -> None:
        """A notice that does not block the new user (the alarm may need them first)."""
        box = QMessageBox(QMessageBox.Icon.Information, self.tr("Unsaved COWS discarded"), text)
        box.setParent(self, box.windowFlags())
        box.setModal(False)
        box.show()
        self.notice = box

    def _restore_draft(self, draft: CowsDraft) -> None:
        from monitor.ui.cows_form import CowsForm

        try:
            episode = self.service.episode(draft.episode_id)
        except Exception as exc:
            show_error(self, self.tr("Could not reopen the unsaved COWS"), exc)
            return
        self.open_from_overview(episode.id)
        self._chart(episode, partial(CowsForm, amend=draft.amend, draft=draft), TAB_ASSESSMENTS)

    def export(self) -> None:
        """PDF, CSV, episode JSON or FHIR of the episode on screen (or a period), off the GUI thread."""
        from monitor.ui.export_dialog import ExportDialog

        ExportDialog(self.service, self.actor, self.current_episode(), self).exec()

    def show_shortcuts(self) -> None:
        from monitor.ui.help_dialogs import ShortcutsDialog

        ShortcutsDialog(list(self.actions_by_name.values()), self).exec()

    def show_about(self) -> None:
        from monitor.ui.help_dialogs import AboutDialog

        AboutDialog(self.location, self.service.db.schema_revision, self).exec()

    def manage_users(self) -> None:
        from monitor.ui.users_dialog import UsersDialog

        dialog = UsersDialog(self.service, self.actor, self)
        dialog.exec()
        if dialog.changed:
            self.idle.set_minutes(self._idle_minutes())

    def change_own_password(self) -> None:
        ChangePasswordDialog(self.service, self.actor, "", self).exec()

    # --- changes made elsewhere, backups ---------------------------------------------------------

    def _data_version(self) -> int | None:
        try:
            return self.service.data_version()
        except Exception as exc:  # a busy or unreachable database: try again at the next tick
            describe(exc)
            return None

    def refresh_if_changed(self) -> None:
        """Reload when another workstation (or process) wrote; never under an open dialog or the lock."""
        if self.is_locked() or QApplication.activeModalWidget() is not None:
            return
        version = self._data_version()
        if version is not None and version != self._seen_version:
            self._seen_version = version
            self.refresh()

    def show_backup_state(self) -> None:
        """The status bar's "last good backup", amber when there is none or it is over twice the interval."""
        try:
            last = self.service.last_good_backup()
            interval = self.service.backup_interval_hours()
        except Exception as exc:
            self.backup_label.setText(self.tr("Backups: {0}").format(describe(exc)))
            return
        if self.service.db.path is None:
            self.backup_label.setText(self.tr("Backups: by the database server (pg_dump)"))
            return
        if last is None:
            self.backup_label.setText(self.tr("⚠ No backup yet"))
            set_tone(self.backup_label, "caution")
            return
        too_old = self.service.clock.now() - last.made_at > timedelta(hours=2 * interval)
        text = self.tr("⚠ Last good backup {0}: too old") if too_old else self.tr("Last good backup {0}")
        self.backup_label.setText(text.format(local(last.made_at)))
        set_tone(self.backup_label, "caution" if too_old else None)

    def _backup_failed(self, text: str) -> None:
        self.backup_label.setText(self.tr("⚠ Automatic backup failed: {0}").format(text))
        set_tone(self.backup_label, "warning")

    def back_up_now(self) -> None:
        try:
            info = self.service.backup_now(self.actor, reason="by hand from the app")
        except Exception as exc:
            show_error(self, self.tr("No backup made"), exc)
            return
        self.show_backup_state()
        self.statusBar().showMessage(self.tr("Backup written: {0}").format(info.path), 10_000)

    # --- data ------------------------------------------------------------------------------------

    def refresh(self) -> None:
        self._reload(None)

    def _reload(self, alerts: list[AlertView] | None) -> None:
        """The ward list, the episode on screen and the alerts. alerts: the list the alert bar was just
        given (at start, by check_alerts); None reads them."""
        # Read before the reload: a write landing during it moves the counter again, so the next poll
        # reloads once more; this workstation's own writes do not cause a second reload.
        self._seen_version = self._data_version()
        try:
            self.episodes.show_episodes(self.service.open_episodes())
            current = self.episode_view.episode
            if current is not None and self.views.currentIndex() == 0:
                self.open_episode(current.id)
            else:
                # Not on screen: reloaded when the bedside is shown again (a long stay takes a second).
                self._bedside_stale = current is not None
        except Exception as exc:
            show_error(self, self.tr("Could not load the ward"), exc)
        self._refresh_overview(alerts=alerts if alerts is not None else self.show_alerts())

    def _build_theme_menu(self, menu: QMenu) -> None:
        """View > Theme: follow the system, light or dark; saved for this workstation's OS account."""
        group = QActionGroup(self)
        current = theme.chosen_theme(locations.read_preferences())
        self.theme_actions: dict[str, QAction] = {}
        for key, words in theme.THEMES.items():
            action = QAction(self.tr(words), self, checkable=True)
            action.setChecked(key == current)
            action.triggered.connect(lambda _checked=False, choice=key: self.choose_theme(choice))
            group.addAction(action)
            menu.addAction(action)
            self.theme_actions[key] = action
        theme.events.changed.connect(self._theme_changed)

    def choose_theme(self, choice: str) -> None:
        theme.apply_theme(choice)
        self.theme_actions[choice].setChecked(True)
        try:
            locations.save_preference(theme.PREFERENCE_KEY, choice)
        except OSError as exc:
            # Shown now, just not remembered: say so, nothing else is at stake.
            show_error(self, self.tr("The theme is not saved for the next start"), exc)

    @property
    def trend_view(self) -> TrendView:
        """The trend view, built on first use."""
        if self._trend is None:
            from monitor.ui.trend import TrendView  # the charts' module, loaded on first use

            # The heat map's item scores are read off the GUI thread once the chart is drawn.
            self._trend = TrendView(self.service, defer_items=True)
            layout = self.trend_tab.layout()
            assert layout is not None
            layout.addWidget(self._trend)
            self._trend.setVisible(self.trend_tab.isVisible())  # added to a page already on screen
        return self._trend

    def _theme_changed(self, _scheme: str) -> None:
        """The tables ask for their tones as they paint; the trend charts draw with colours fixed when
        they are built, so the trend view is built again in the new theme (now if on screen, else when
        next looked at). Nothing is read again from the database."""
        if self._trend is not None:
            self._trend.wait_for_items()
            self._trend.hide()
            self._trend.deleteLater()
            self._trend = None
            self._refresh_overview()

    def _refresh_overview(self, alerts: Sequence[AlertView] | None = None) -> None:
        """Reload the ward board or review queue when it is the view on screen (the others on demand).
        alerts: the list the alert bar was just given in the same reload (the board shows it too), if any."""
        current = self.views.currentWidget()
        if current is self.splitter and self._bedside_stale and self.episode_view.episode is not None:
            self.open_episode(self.episode_view.episode.id)
        elif current is self.ward_board:
            self.ward_board.refresh(alerts)
        elif current is self.review_panel:
            self.review_panel.refresh()
        elif current is self.trend_tab and self.episode_view.episode is not None:
            # The trend of the episode open at the bedside; drawn only when looked at (it is the heavy view).
            # It takes the bedside's assessments, doses and vital signs only when nothing was written
            # since they were read (the change counter has not moved); otherwise it reads them again.
            episode_id = self.episode_view.episode.id
            rows = self.episode_view.rows
            fresh = (
                not self._bedside_stale
                and rows.episode_id == episode_id
                and self._rows_version is not None
                and self._data_version() == self._rows_version
            )
            if fresh:
                view = self.episode_view
                self.trend_view.show_episode(
                    episode_id,
                    columns=rows,
                    doses=view.dose_rows,
                    vitals=view.vitals_rows,
                    detail=view.episode,
                )
            else:
                self.trend_view.show_episode(episode_id)
        elif current is self.trend_tab:
            # No episode open at the bedside: the view's empty charts and buttons, not a blank page.
            self.trend_view.show()

    def show_view(self, index: int) -> None:
        """Ctrl+1 to Ctrl+4: the view, with the keyboard in its list (the open episodes, the ward board,
        the review queue), not left on a button of the alert bar."""
        self.views.setCurrentIndex(index)
        lists = (self.episodes.table, self.ward_board.table, self.review_panel.table)
        if index < len(lists):
            lists[index].setFocus(Qt.FocusReason.ShortcutFocusReason)

    def open_from_overview(self, episode_id: int) -> None:
        """From the ward board or the review queue to the bedside view of that episode."""
        self.views.setCurrentIndex(0)
        # Selecting the row is not a second opening: the episode is loaded once, here.
        with QSignalBlocker(self.episodes.table.selectionModel()):
            self.episodes.select(episode_id)
        self.open_episode(episode_id)

    def check_alerts(self) -> list[AlertView] | None:
        """The alert tick: re-evaluate every open episode now, then show the bar and the list.

        Called at start and by the timer every alert_interval_ms; a test calls it directly. Returns what
        the bar shows (None when the alerts could not be checked).
        """
        return self._show_alerts(self.service.refresh_alerts)

    def show_alerts(self) -> list[AlertView] | None:
        """After a write: the service re-evaluated the changed episode in the same transaction, so
        reading the alerts is enough (no second evaluation of the whole ward on the GUI thread).
        Returns what the bar shows (None when they could not be read)."""
        return self._show_alerts(self.service.alerts)

    def _show_alerts(self, load: Callable[[], list[AlertView]]) -> list[AlertView] | None:
        try:
            alerts = load()
        except Exception as exc:
            # The bar must never go quietly blank: it says the alerts could not be checked.
            self.alert_bar.top_label.setText(
                self.tr("⚠ Alerts could not be checked. {0}").format(describe(exc))
            )
            return None
        self.alert_bar.show_alerts(alerts)
        self.lock_screen.show_alerts(alerts)
        if not self.is_locked():
            if self.alert_panel.show_inactive.isChecked():
                self.alert_panel.reload()  # acknowledged and resolved ones too: a query of its own
            else:
                self.alert_panel.show_alerts(alerts)  # the same list the bar shows, not read twice
        return alerts

    def open_episode(self, episode_id: int) -> None:
        self._bedside_stale = False
        # The change counter before the read: the trend may take these assessment columns while it has
        # not moved (a write during the read moves it, so they are then read again).
        self._rows_version = self._data_version()
        try:
            detail = self.service.episode(episode_id)
            # The table shows totals, read as columns (a long stay has 20,000 rows: no view object per
            # assessment, only the rows on screen are formatted); the amend form reads its version's
            # items when opened.
            rows = self.service.assessment_columns(episode_id)
            doses = self.service.doses(episode_id)
            vitals = self.service.vitals(episode_id)
            readiness = self.service.readiness(episode_id)
        except Exception as exc:
            show_error(self, self.tr("Could not open the episode"), exc)
            return
        tab = self.episode_view.current_tab()
        self.episode_view.show_episode(
            detail,
            rows,
            self.service.clock.now(),
            doses=doses,
            vitals=vitals,
            readiness=readiness,
        )
        self.episode_view.tabs.setCurrentIndex(tab)

    def open_alert_episode(self, episode_id: int) -> None:
        # Always to the bedside view, so the next action (Ctrl+R ...) is on the patient on screen.
        self.open_from_overview(episode_id)

    def current_episode(self) -> EpisodeDetail | None:
        return self.episode_view.episode

    # --- actions ---------------------------------------------------------------------------------

    def show_alert_list(self) -> None:
        self.alert_dock.show()
        self.alert_dock.raise_()
        self.alert_panel.table.setFocus()

    def show_audit_trail(self) -> None:
        """The audit viewer, beside the window (not modal): open it, keep charting, come back."""
        from monitor.ui.audit_viewer import AuditViewer

        if self.audit_viewer is None:
            self.audit_viewer = AuditViewer(self.service, self.actor, self)
        else:
            self.audit_viewer.search()  # rows written since it was last shown
        self.audit_viewer.show()
        self.audit_viewer.raise_()
        self.audit_viewer.activateWindow()

    def edit_protocol(self) -> None:
        from monitor.ui.protocol_dialog import ProtocolDialog

        dialog = ProtocolDialog(self.service, self.actor, self)
        dialog.exec()
        if dialog.changed:
            self.refresh()

    def admit(self) -> None:
        from monitor.ui.admit_dialog import AdmitDialog

        dialog = AdmitDialog(self.service, self.actor, self)
        if dialog.exec() and dialog.episode_id is not None:
            self.episodes.show_episodes(self.service.open_episodes())
            with QSignalBlocker(self.episodes.table.selectionModel()):
                self.episodes.select(dialog.episode_id)
            self.open_episode(dialog.episode_id)
            self.check_alerts()

    def _open_or_say(self) -> EpisodeDetail | None:
        episode = self.current_episode()
        if episode is None or not episode.is_open:
            self.statusBar().showMessage(self.tr("Open an episode first."), 5000)
            return None
        return episode

    def _chart(
        self, episode: EpisodeDetail | None, dialog: Callable[..., QDialog], tab: int | None = None
    ) -> None:
        """Open a charting dialog on the episode; after a save show its tab (if given) and refresh."""
        if episode is None:
            return
        if dialog(self.service, self.actor, episode, parent=self).exec():
            if tab is not None:
                self.episode_view.tabs.setCurrentIndex(tab)
            self.refresh()

    def record_cows(self) -> None:
        from monitor.ui.cows_form import CowsForm

        self._chart(self._open_or_say(), CowsForm, TAB_ASSESSMENTS)

    def give_dose(self) -> None:
        from monitor.ui.dose_dialog import DoseDialog

        self._chart(self._open_or_say(), DoseDialog, TAB_MEDICATION)

    def record_vitals(self) -> None:
        from monitor.ui.vitals_dialog import VitalsDialog

        self._chart(self._open_or_say(), VitalsDialog, TAB_VITALS)

    def show_history(self) -> None:
        from monitor.ui.dialogs import HistoryDialog

        if self.episode_view.current_tab() != TAB_ASSESSMENTS:
            return
        chosen = self.episode_view.selected_assessment()
        if chosen is None:
            return
        try:
            versions = self.service.assessment_history(chosen.id)
        except Exception as exc:
            show_error(self, self.tr("Could not load the history"), exc)
            return
        HistoryDialog(versions, self).exec()

    def amend_selected(self) -> None:
        from monitor.ui.cows_form import CowsForm

        episode = self.current_episode()
        if self.episode_view.current_tab() != TAB_ASSESSMENTS:
            return
        chosen = self.episode_view.selected_assessment()
        if chosen is None or chosen.entered_in_error:
            return
        try:  # this very version (the form refuses it if it was amended meanwhile), with its items
            version = next(v for v in self.service.assessment_history(chosen.id) if v.id == chosen.id)
        except Exception as exc:
            show_error(self, self.tr("Could not load the assessment"), exc)
            return
        self._chart(episode, partial(CowsForm, amend=version))

    def void_selected(self) -> None:
        """Mark the record selected on the current tab (COWS, dose or vital signs) entered in error."""
        from monitor.ui.dialogs import ReasonDialog

        view = self.episode_view
        tab = view.current_tab()
        if tab == TAB_MEDICATION:
            dose = view.selected_dose()
            if dose is None or dose.entered_in_error:
                return
            what = self.tr("the dose {0} given {1}").format(dose.description, local(dose.given_at))
            mark: Callable[[str], object] = partial(
                self.service.mark_dose_entered_in_error, self.actor, dose.id
            )
        elif tab == TAB_VITALS:
            vitals = view.selected_vitals()
            if vitals is None or vitals.entered_in_error:
                return
            what = self.tr("the vital signs taken {0}").format(local(vitals.taken_at))
            mark = partial(self.service.mark_vitals_entered_in_error, self.actor, vitals.id)
        else:
            chosen = view.selected_assessment()
            if chosen is None or chosen.entered_in_error:
                return
            what = self.tr("the COWS of {0} (total {1})").format(local(chosen.taken_at), chosen.total)
            mark = partial(self.service.mark_entered_in_error, self.actor, chosen.id)
        dialog = ReasonDialog(
            self.tr("Entered in error"),
            self.tr(
                "Mark {0} as entered in error? It stays in the record, struck through, with your reason."
            ).format(what),
            "Reason",
            self,
        )
        if not dialog.exec():
            return
        try:
            mark(dialog.value())
        except Exception as exc:
            show_error(self, self.tr("Not marked"), exc)
        self.refresh()

    def report_substance(self) -> None:
        """A use disclosed during the stay: the readiness panel and the too-soon rule take it into account."""
        from monitor.ui.dialogs import SubstanceReportDialog

        episode = self._open_or_say()
        if episode is None:
            return
        if SubstanceReportDialog(self.service, self.actor, episode.id, self).exec():
            self.open_episode(episode.id)
            self.check_alerts()

    def discharge(self) -> None:
        from monitor.ui.dialogs import DischargeDialog

        episode = self.current_episode()
        if episode is None or not episode.is_open:
            return
        if not DischargeDialog(self.service, self.actor, episode.id, episode.name, self).exec():
            return
        QMessageBox.information(
            self, self.tr("Discharged"), self.tr("{0} is discharged.").format(episode.name)
        )
        self.episode_view.show_episode(None, [], None)
        self.refresh()
