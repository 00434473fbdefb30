"""Small dialogs: a reason prompt, discharge, a substance use report, and the version history of an
assessment."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from monitor.domain.scales import COWS
from monitor.domain.substances import ROUTES, SUBSTANCES
from monitor.domain.text import AMOUNT_MAX, NOTE_MAX
from monitor.services.clinical import ClinicalService
from monitor.services.errors import ValidationError
from monitor.services.views import AssessmentView, SubstanceInput
from monitor.ui.errors import describe
from monitor.ui.form_fields import grow_to_fit
from monitor.ui.timefmt import from_qdatetime, local, to_qdatetime
from monitor.ui.typed_fields import TimeEdit


def _named(widget: QWidget, name: str) -> QWidget:
    widget.setAccessibleName(name)
    return widget


class ReasonDialog(QDialog):
    """Asks for a required reason; OK stays disabled until one is typed."""

    def __init__(self, title: str, prompt: str, label: str = "Reason", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        layout = QVBoxLayout(self)
        text = QLabel(prompt)
        text.setWordWrap(True)
        layout.addWidget(text)
        form = QFormLayout()
        self.reason = QLineEdit()
        self.reason.setMaxLength(NOTE_MAX)
        _named(self.reason, label)
        caption = QLabel(self.tr(label))
        caption.setBuddy(self.reason)
        form.addRow(caption, self.reason)
        layout.addLayout(form)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        _named(ok, "OK")
        _named(self.buttons.button(QDialogButtonBox.StandardButton.Cancel), "Cancel")
        ok.setEnabled(False)
        self.reason.textChanged.connect(lambda t: ok.setEnabled(bool(t.strip())))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def value(self) -> str:
        return self.reason.text().strip()


class DischargeDialog(QDialog):
    """Discharges the episode itself: a refusal (a time before the admission, in the future) is shown
    in the dialog, which stays open with what was typed."""

    def __init__(
        self,
        service: ClinicalService,
        actor: str,
        episode_id: int,
        patient: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.actor = actor
        self.episode_id = episode_id
        self.setWindowTitle(self.tr("Discharge {0}").format(patient))
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.when = TimeEdit()
        self.when.setDateTime(to_qdatetime(service.clock.now()))
        _named(self.when, "Discharged at")
        self.note = QLineEdit()
        self.note.setMaxLength(NOTE_MAX)
        _named(self.note, "Discharge note")
        for text, widget in (("Discharged at", self.when), ("Discharge note", self.note)):
            caption = QLabel(self.tr(text))
            caption.setBuddy(widget)
            form.addRow(caption, widget)
        layout.addLayout(form)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        _named(self.message, "Message")
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Discharge"))
        _named(buttons.button(QDialogButtonBox.StandardButton.Ok), "Discharge")
        _named(buttons.button(QDialogButtonBox.StandardButton.Cancel), "Cancel")
        buttons.accepted.connect(self._discharge)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def discharged_at(self) -> datetime:
        return from_qdatetime(self.when.dateTime())

    def _discharge(self) -> None:
        try:
            self.service.discharge(self.actor, self.episode_id, self.discharged_at(), self.note.text())
        except Exception as exc:  # shown in words; the dialog keeps what was typed
            self.message.setText(describe(exc))
            grow_to_fit(self)
            if isinstance(exc, ValidationError) and exc.field == "Discharged at":
                self.when.setFocus()
            return
        self.accept()


class HistoryDialog(QDialog):
    """Every version of one assessment, first to current, with who changed what and why."""

    def __init__(self, versions: list[AssessmentView], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Assessment history"))
        self.resize(1100, 420)
        layout = QVBoxLayout(self)
        intro = QLabel(self.tr("All versions of this assessment. Nothing is ever deleted."))
        layout.addWidget(intro)
        headers = ["Version", "Status", "Time taken", "Recorded", "By", "Total", "Band", "Reason", "Note"]
        headers += [f"{item.number} {item.label}" for item in COWS.items]
        self.table = QTableWidget(len(versions), len(headers))
        _named(self.table, "Versions")
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, view in enumerate(versions):
            reason = view.amend_reason
            if view.entered_in_error:
                reason = (
                    f"Entered in error by {view.voided_by} at {local(view.voided_at)}: {view.void_reason}"
                )
            cells = [
                str(view.version),
                view.status,
                local(view.taken_at),
                local(view.recorded_at),
                view.recorded_by,
                str(view.total),
                view.band_label,
                reason,
                view.note,
            ]
            cells += [str(view.items.get(item.key, "")) for item in COWS.items]
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        layout.addWidget(self.table)
        self.detail = QPlainTextEdit()
        self.detail.setReadOnly(True)
        _named(self.detail, "Changes")
        self.detail.setPlainText(_describe_changes(versions))
        self.detail.setMaximumHeight(120)
        layout.addWidget(self.detail)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        _named(buttons.button(QDialogButtonBox.StandardButton.Close), "Close")
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


def _describe_changes(versions: list[AssessmentView]) -> str:
    lines = []
    for before, after in pairwise(versions):
        changed = [
            f"{item.label} {before.items.get(item.key)} → {after.items.get(item.key)}"
            for item in COWS.items
            if before.items.get(item.key) != after.items.get(item.key)
        ]
        if before.taken_at != after.taken_at:
            changed.append(f"time taken {local(before.taken_at)} → {local(after.taken_at)}")
        lines.append(
            f"Version {after.version} by {after.recorded_by} at {local(after.recorded_at)}: "
            f"total {before.total} → {after.total}; "
            + ("; ".join(changed) or "no item changed")
            + f". Reason: {after.amend_reason}"
        )
    return "\n".join(lines) or "Original version; never amended."


class SubstanceReportDialog(QDialog):
    """A use of a substance reported during the stay (it moves the readiness clock for naltrexone)."""

    def __init__(
        self, service: ClinicalService, actor: str, episode_id: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.actor = actor
        self.episode_id = episode_id
        self.setWindowTitle(self.tr("Report substance use"))
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.substance = QComboBox()
        for known in SUBSTANCES:
            self.substance.addItem(known.label + (" (opioid)" if known.is_opioid else ""), known.key)
        self.last_use = TimeEdit()
        self.last_use.setDateTime(to_qdatetime(service.clock.now()))
        self.amount = QLineEdit()
        self.amount.setMaxLength(AMOUNT_MAX)
        self.amount.setPlaceholderText(self.tr("e.g. 20 g"))
        self.route = QComboBox()
        self.route.addItem("", "")
        for name in ROUTES:
            self.route.addItem(self.tr(name), name)
        for text, widget in (
            ("Substance", self.substance),
            ("Last use", self.last_use),
            ("Amount", self.amount),
            ("Route", self.route),
        ):
            _named(widget, text)
            caption = QLabel(self.tr(text))
            caption.setBuddy(widget)
            form.addRow(caption, widget)
        layout.addLayout(form)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        _named(self.message, "Message")
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.save_button.setText(self.tr("Save"))
        _named(self.save_button, "Save")
        _named(buttons.button(QDialogButtonBox.StandardButton.Cancel), "Cancel")
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _save(self) -> None:
        report = SubstanceInput(
            substance=str(self.substance.currentData()),
            last_use_at=from_qdatetime(self.last_use.dateTime()),
            amount=self.amount.text(),
            route=str(self.route.currentData() or ""),
        )
        try:
            self.service.record_substance_use(self.actor, self.episode_id, report)
        except Exception as exc:  # shown in words; the form keeps what was entered
            self.message.setText(describe(exc))
            return
        self.accept()
