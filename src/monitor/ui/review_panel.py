"""The physician's review queue and the sign-off of an episode's period."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from monitor.services.clinical import ClinicalService
from monitor.services.views import ReviewItem, SignOffView
from monitor.ui.errors import describe
from monitor.ui.lists import ListTable
from monitor.ui.timefmt import local

QUEUE_COLUMNS = ["What", "Bed", "Patient", "Since", "Detail"]
EPISODE_ROLE = Qt.ItemDataRole.UserRole + 1
KIND_TEXT = {
    "escalated alert": "▲ ESCALATED alert",
    "precipitated withdrawal": "▲ Precipitated withdrawal",
    "not reviewed for 24 h": "○ Not reviewed for 24 h",
}


class ReviewPanel(QWidget):
    """Escalated and precipitated-withdrawal alerts, and episodes not reviewed for 24 h."""

    opened = Signal(int)
    signed = Signal(int)

    def __init__(self, service: ClinicalService, actor: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.actor = actor
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        caption = QLabel(self.tr("<b>Review queue</b> – waiting for the physician"))
        layout.addWidget(caption)
        self.model = QStandardItemModel(0, len(QUEUE_COLUMNS), self)
        self.model.setHorizontalHeaderLabels([self.tr(c) for c in QUEUE_COLUMNS])
        self.table = ListTable()
        self.table.setAccessibleName("Review queue")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        caption.setBuddy(self.table)
        layout.addWidget(self.table)
        buttons = QHBoxLayout()
        self.sign_button = QPushButton(self.tr("Sign o&ff…"))
        self.sign_button.setAccessibleName("Sign off")
        self.sign_button.clicked.connect(self.sign_selected)
        buttons.addWidget(self.sign_button)
        buttons.addStretch()
        layout.addLayout(buttons)
        self.message = QLabel("")
        self.message.setAccessibleName("Review message")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.items: list[ReviewItem] = []
        self.table.doubleClicked.connect(lambda index: self._open(index.row()))
        self.table.activated.connect(lambda index: self._open(index.row()))  # Enter, as on the board

    def refresh(self) -> None:
        try:
            self.items = self.service.review_queue()
        except Exception as exc:
            self.message.setText(describe(exc))
            return
        self.message.setText("" if self.items else self.tr("Nothing is waiting for review."))
        self.model.removeRows(0, self.model.rowCount())
        for item in self.items:
            cells = [
                KIND_TEXT.get(item.kind, item.kind),
                item.bed,
                item.patient,
                local(item.since),
                item.detail,
            ]
            row = [QStandardItem(text) for text in cells]
            for cell in row:
                cell.setData(item.episode_id, EPISODE_ROLE)
            self.model.appendRow(row)
        # Filled while its tab is hidden, the header kept the widths of the empty table ("▲ Pre…").
        self.table.resizeColumnsToContents()

    def selected_episode(self) -> int | None:
        index = self.table.currentIndex()
        return None if not index.isValid() else self.items[index.row()].episode_id

    def sign_selected(self) -> None:
        episode_id = self.selected_episode()
        if episode_id is None:
            self.message.setText(self.tr("Select a patient in the queue first."))
            return
        dialog = SignOffDialog(self.service, self.actor, episode_id, self)
        if dialog.exec():
            self.signed.emit(episode_id)
            self.refresh()

    def _open(self, row: int) -> None:
        if 0 <= row < len(self.items):
            self.opened.emit(self.items[row].episode_id)


class SignOffDialog(QDialog):
    """Sign off an episode's period (from the last sign-off, or admission, to now) with a comment."""

    def __init__(
        self, service: ClinicalService, actor: str, episode_id: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.actor = actor
        self.episode_id = episode_id
        self.result_view: SignOffView | None = None
        episode = service.episode(episode_id)
        previous = service.sign_offs(episode_id)
        start = previous[-1].period_end if previous else episode.admitted_at
        self.setWindowTitle(self.tr("Sign off – {0}").format(episode.name))
        layout = QVBoxLayout(self)
        intro = QLabel(
            self.tr(
                "Sign off {0} (bed {1}) from {2} to now. Later changes to this period will be marked "
                "\u201camended after sign-off\u201d."
            ).format(episode.name, episode.bed, local(start))
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.comment = QPlainTextEdit()
        self.comment.setAccessibleName("Comment")
        self.comment.setTabChangesFocus(True)
        caption = QLabel(self.tr("Comment"))
        caption.setBuddy(self.comment)
        form.addRow(caption, self.comment)
        layout.addLayout(form)
        self.message = QLabel("")
        self.message.setAccessibleName("Sign-off message")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(self.tr("Sign off"))
        self.ok.setAccessibleName("Sign off")
        self.ok.setEnabled(False)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName("Cancel")
        self.comment.textChanged.connect(lambda: self.ok.setEnabled(bool(self.comment.toPlainText().strip())))
        self.buttons.accepted.connect(self._sign)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def _sign(self) -> None:
        try:
            self.result_view = self.service.sign_off(self.actor, self.episode_id, self.comment.toPlainText())
        except Exception as exc:  # shown in words; the comment stays in the box
            self.message.setText(describe(exc))
            return
        self.accept()
