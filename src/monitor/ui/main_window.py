"""The main window: open episodes on the left, the selected episode on the right."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QKeySequence, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from monitor.services.clinical import ClinicalService
from monitor.services.views import AssessmentView, EpisodeDetail, EpisodeSummary
from monitor.ui.admit_dialog import AdmitDialog
from monitor.ui.cows_form import CowsForm
from monitor.ui.dialogs import DischargeDialog, HistoryDialog, ReasonDialog
from monitor.ui.errors import show_error
from monitor.ui.timefmt import ago, local

EPISODE_COLUMNS = ["Bed", "Patient", "MRN", "Latest COWS", "Band", "Last COWS"]
ASSESSMENT_COLUMNS = ["Time taken", "Total", "Band", "Status", "Recorded by", "Note"]
ID_ROLE = Qt.ItemDataRole.UserRole + 1


def _readonly_table(name: str) -> QTableView:
    table = QTableView()
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


class EpisodeView(QWidget):
    """One episode: header, substances with last use, and its assessments."""

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
        caption = QLabel(self.tr("<b>Assessments</b> (current versions; history one click away)"))
        layout.addWidget(caption)
        self.model = QStandardItemModel(0, len(ASSESSMENT_COLUMNS))
        self.model.setHorizontalHeaderLabels([self.tr(c) for c in ASSESSMENT_COLUMNS])
        self.table = _readonly_table("Assessments")
        self.table.setModel(self.model)
        caption.setBuddy(self.table)
        layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        self.record_button = _button(self.tr("&Record COWS…"), "Ctrl+R")
        self.history_button = _button(self.tr("&History…"), "Ctrl+H")
        self.amend_button = _button(self.tr("&Amend…"), "Ctrl+E")
        self.void_button = _button(self.tr("Entered in &error…"))
        self.discharge_button = _button(self.tr("&Discharge…"), "Ctrl+D")
        for button in (self.record_button, self.history_button, self.amend_button, self.void_button):
            buttons.addWidget(button)
        buttons.addStretch()
        buttons.addWidget(self.discharge_button)
        layout.addLayout(buttons)
        self.episode: EpisodeDetail | None = None
        self.rows: list[AssessmentView] = []
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._update_buttons())
        self._update_buttons()

    def show_episode(
        self, episode: EpisodeDetail | None, assessments: list[AssessmentView], now: datetime | None
    ) -> None:
        self.episode = episode
        self.rows = assessments
        self.model.removeRows(0, self.model.rowCount())
        if episode is None:
            self.header.setText(self.tr("Select an episode on the left, or admit a patient (Ctrl+N)."))
            self.substances.setText("")
            self._update_buttons()
            return
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
        for view in reversed(assessments):  # newest first: what the nurse looks for
            status = view.status
            cells = [
                local(view.taken_at),
                str(view.total),
                view.band_label,
                status,
                view.recorded_by,
                view.note,
            ]
            row = [QStandardItem(text) for text in cells]
            for item in row:
                item.setData(view.id, ID_ROLE)
                if view.entered_in_error:
                    font = item.font()
                    font.setStrikeOut(True)
                    item.setFont(font)
                    item.setForeground(QBrush(QColor("#777777")))
            if view.entered_in_error:
                row[3].setText(self.tr("ENTERED IN ERROR: {0}").format(view.void_reason))
            self.model.appendRow(row)
        if self.model.rowCount():
            self.table.setCurrentIndex(self.model.index(0, 0))
        self._update_buttons()

    def selected_assessment(self) -> AssessmentView | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        wanted = index.data(ID_ROLE)
        return next((v for v in self.rows if v.id == wanted), None)

    def _update_buttons(self) -> None:
        is_open = self.episode is not None and self.episode.is_open
        chosen = self.selected_assessment()
        self.record_button.setEnabled(is_open)
        self.discharge_button.setEnabled(is_open)
        self.history_button.setEnabled(chosen is not None)
        editable = chosen is not None and not chosen.entered_in_error and is_open
        self.amend_button.setEnabled(editable)
        self.void_button.setEnabled(editable)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class MainWindow(QMainWindow):
    def __init__(self, service: ClinicalService, actor: str, location: str) -> None:
        super().__init__()
        self.service = service
        self.actor = actor
        self.setWindowTitle(self.tr("Withdrawal monitor"))
        self.episodes = EpisodeList()
        self.episode_view = EpisodeView()
        splitter = QSplitter()
        splitter.addWidget(self.episodes)
        splitter.addWidget(self.episode_view)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([560, 800])  # the ward list shows every column on a 1366 px bedside screen
        self.setCentralWidget(splitter)
        self._build_actions()
        self.episodes.opened.connect(self.open_episode)
        view = self.episode_view
        view.record_button.clicked.connect(self.record_cows)
        view.history_button.clicked.connect(self.show_history)
        view.amend_button.clicked.connect(self.amend_selected)
        view.void_button.clicked.connect(self.void_selected)
        view.discharge_button.clicked.connect(self.discharge)
        view.table.doubleClicked.connect(lambda _i: self.show_history())
        user = self.tr("Acting as {0}").format(service.user_label(actor))
        self.statusBar().addWidget(QLabel(user))
        self.statusBar().addPermanentWidget(QLabel(location))
        self.resize(1280, 720)
        self.refresh()

    def _build_actions(self) -> None:
        menu = self.menuBar().addMenu(self.tr("&Patient"))
        toolbar = self.addToolBar(self.tr("Main"))
        toolbar.setObjectName("main-toolbar")
        specs = [
            ("Admit patient…", "Ctrl+N", self.admit),
            ("Record COWS…", "Ctrl+R", self.record_cows),
            ("History…", "Ctrl+H", self.show_history),
            ("Amend…", "Ctrl+E", self.amend_selected),
            ("Discharge…", "Ctrl+D", self.discharge),
            ("Refresh", "F5", self.refresh),
            ("Quit", "Ctrl+Q", self.close),
        ]
        self.actions_by_name: dict[str, QAction] = {}
        for text, key, slot in specs:
            action = QAction(self.tr(text), self)
            action.setShortcut(QKeySequence(key))
            action.triggered.connect(slot)
            menu.addAction(action)
            if text not in ("Quit", "History…", "Amend…"):
                toolbar.addAction(action)
            self.actions_by_name[text.rstrip("…")] = action

    # --- data ------------------------------------------------------------------------------------

    def refresh(self) -> None:
        try:
            self.episodes.show_episodes(self.service.open_episodes())
            current = self.episode_view.episode
            if current is not None:
                self.open_episode(current.id)
        except Exception as exc:
            show_error(self, self.tr("Could not load the ward"), exc)

    def open_episode(self, episode_id: int) -> None:
        try:
            detail = self.service.episode(episode_id)
            rows = self.service.assessments(episode_id)
        except Exception as exc:
            show_error(self, self.tr("Could not open the episode"), exc)
            return
        self.episode_view.show_episode(detail, rows, self.service.clock.now())

    def current_episode(self) -> EpisodeDetail | None:
        return self.episode_view.episode

    # --- actions ---------------------------------------------------------------------------------

    def admit(self) -> None:
        dialog = AdmitDialog(self.service, self.actor, self)
        if dialog.exec() and dialog.episode_id is not None:
            self.episodes.show_episodes(self.service.open_episodes())
            self.episodes.select(dialog.episode_id)
            self.open_episode(dialog.episode_id)

    def record_cows(self) -> None:
        episode = self.current_episode()
        if episode is None or not episode.is_open:
            self.statusBar().showMessage(self.tr("Open an episode first."), 5000)
            return
        form = CowsForm(self.service, self.actor, episode, parent=self)
        if form.exec():
            self.refresh()

    def show_history(self) -> None:
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
        episode = self.current_episode()
        chosen = self.episode_view.selected_assessment()
        if episode is None or chosen is None or chosen.entered_in_error:
            return
        form = CowsForm(self.service, self.actor, episode, amend=chosen, parent=self)
        if form.exec():
            self.refresh()

    def void_selected(self) -> None:
        chosen = self.episode_view.selected_assessment()
        if chosen is None:
            return
        dialog = ReasonDialog(
            self.tr("Entered in error"),
            self.tr(
                "Mark the COWS of {0} (total {1}) as entered in error? It stays in the record, "
                "struck through, with your reason."
            ).format(local(chosen.taken_at), chosen.total),
            "Reason",
            self,
        )
        if not dialog.exec():
            return
        try:
            self.service.mark_entered_in_error(self.actor, chosen.id, dialog.value())
        except Exception as exc:
            show_error(self, self.tr("Not marked"), exc)
        self.refresh()

    def discharge(self) -> None:
        episode = self.current_episode()
        if episode is None or not episode.is_open:
            return
        dialog = DischargeDialog(episode.name, self.service.clock.now(), self)
        if not dialog.exec():
            return
        try:
            self.service.discharge(self.actor, episode.id, dialog.discharged_at(), dialog.note.text())
        except Exception as exc:
            show_error(self, self.tr("Not discharged"), exc)
            return
        QMessageBox.information(
            self, self.tr("Discharged"), self.tr("{0} is discharged.").format(episode.name)
        )
        self.episode_view.show_episode(None, [], None)
        self.refresh()
