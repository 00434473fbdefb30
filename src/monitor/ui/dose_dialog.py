"""Give a dose: pick the medicine, form, mg and time; for an antagonist see what the rules will say first.

Keyboard-first like the COWS form: labels with mnemonics, accessible names equal to the labels, messages
beside (under) the field they are about, Enter saves when allowed, and nothing leaves the form on an
error. Before a naltrexone or naloxone dose is saved the nurse sees, live, what the rules will say
(too soon after opioid use, no baseline COWS; issue 3), each with its priority in words and a shape.
With warnings the dose needs a "Reason to give anyway" and the Save button says "Give anyway": the
clinician decides, nothing blocks a dose given with a reason (domain.md section 3: rapid induction
deliberately doses inside the interval). A dose charted more than 1 h after the time given needs a
"Reason for late charting", as an assessment or vital signs do (design.md, Data rules).
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QRegularExpression, Qt, QTimer
from PySide6.QtGui import QFont, QKeyEvent, QRegularExpressionValidator, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from monitor.domain import charting, medications, plausibility
from monitor.domain.medications import FORM_ABBREVIATIONS, DrugRole
from monitor.domain.rules import RULE_TITLES
from monitor.services.clinical import ClinicalService
from monitor.services.errors import ValidationError
from monitor.services.views import DoseInput, DoseView, EpisodeDetail, WarningView
from monitor.ui import form_fields, timefmt
from monitor.ui.alerts import priority_text
from monitor.ui.errors import describe
from monitor.ui.form_fields import F_LATE, plain

__all__ = ["FORM_NAMES", "DoseDialog"]

# What each form abbreviation stands for, shown beside it in the form list.
FORM_NAMES: dict[str, str] = {
    "oral": "oral",
    "extended_release_injection": "extended-release injection",
    "iv": "intravenous",
    "im": "intramuscular",
    "sc": "subcutaneous",
    "intranasal": "intranasal",
    "sublingual": "sublingual",
    "buccal": "buccal",
    "transdermal": "transdermal",
}

_ROLE_HEADINGS: tuple[tuple[DrugRole, str], ...] = (
    (DrugRole.ANTAGONIST, "Antagonists – can precipitate withdrawal; checked before saving"),
    (DrugRole.AGONIST, "Opioid agonists"),
    (DrugRole.COMFORT, "Comfort and adjunct medicines"),
)
_KEY_ROLE = Qt.ItemDataRole.UserRole + 1

# The service's ValidationError.field values for a dose (services.medication).
F_MEDICINE = "Medicine"
F_FORM = "Form"
F_DOSE = "Dose (mg)"
F_TIME = "Time given"
F_NOTE = "Note"
F_REASON = "Reason to give anyway"


def form_text(form: str) -> str:
    """ "PO – oral", "XR inj – extended-release injection", "buccal"."""
    abbreviation = FORM_ABBREVIATIONS.get(form, form)
    name = QApplication.translate("DoseDialog", FORM_NAMES.get(form, form))
    return abbreviation if abbreviation == name else f"{abbreviation} – {name}"


class DoseDialog(QDialog):
    """Record one dose for an episode; after a successful save `saved` holds the result."""

    def __init__(
        self,
        service: ClinicalService,
        actor: str,
        episode: EpisodeDetail,
        *,
        drug_key: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.actor = actor
        self.episode = episode
        self.saved: DoseView | None = None
        self.warnings: list[WarningView] = []
        self._preview_problem = ""
        self._service_errors: dict[str, str] = {}
        self._tried = False
        self.setWindowTitle(
            self.tr("Give dose – {name} (bed {bed})").format(name=episode.name, bed=episode.bed or "-")
        )
        self.setMinimumWidth(640)

        outer = QVBoxLayout(self)
        outer.addWidget(form_fields.patient_header(self, episode))

        form = self._form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        outer.addLayout(form)

        self.drug_combo = QComboBox(self)
        self.drug_combo.setModel(self._drug_model())
        self.drug_combo.setPlaceholderText(self.tr("Choose a medicine"))
        self.drug_combo.setCurrentIndex(-1)
        self.drug_combo.setMaxVisibleItems(30)
        self.drug_message = self._add_field(self.tr("&Medicine"), self.drug_combo)

        self.form_combo = QComboBox(self)
        self.form_message = self._add_field(self.tr("&Form"), self.form_combo)

        self.dose_edit = QLineEdit(self)
        self.dose_edit.setValidator(
            QRegularExpressionValidator(QRegularExpression(r"^\d{0,4}([.,]\d{0,4})?$"), self.dose_edit)
        )
        self.dose_edit.setPlaceholderText(self.tr("mg"))
        self.dose_edit.setMaximumWidth(self.dose_edit.fontMetrics().horizontalAdvance("0000.0000") + 24)
        self.typical_label = QLabel(self)
        self.typical_label.setWordWrap(True)
        self.typical_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.typical_label.setAccessibleName(self.tr("Typical dose"))
        dose_row = QWidget(self)
        row_layout = QHBoxLayout(dose_row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(self.dose_edit)
        row_layout.addWidget(self.typical_label, 1)
        self.dose_message = self._add_field(self.tr("&Dose (mg)"), self.dose_edit, container=dose_row)

        self.time_edit = form_fields.clinical_time_edit(self, service.clock.now())
        self.time_message = self._add_field(self.tr("&Time given"), self.time_edit)

        # Shown (and required) only when the time given is more than 1 h before now.
        self.late_edit = form_fields.text_edit(self, self.tr("Required: given more than 1 hour ago"))
        self.late_message = self._add_field(self.tr("Reason for &late charting"), self.late_edit)

        self.note_edit = form_fields.text_edit(self, self.tr("Optional"))
        self.note_message = self._add_field(self.tr("&Note"), self.note_edit)

        # What the rules will say: shown for antagonists, recomputed on every change.
        self.warnings_box = QFrame(self)
        self.warnings_box.setFrameShape(QFrame.Shape.StyledPanel)
        box_layout = QVBoxLayout(self.warnings_box)
        box_layout.setContentsMargins(8, 6, 8, 6)
        caption = QLabel(self.tr("<b>What the rules will say about this dose</b>"), self.warnings_box)
        box_layout.addWidget(caption)
        self.warnings_label = QLabel(self.warnings_box)
        self.warnings_label.setWordWrap(True)
        self.warnings_label.setTextFormat(Qt.TextFormat.PlainText)
        self.warnings_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warnings_label.setAccessibleName(self.tr("What the rules will say"))
        box_layout.addWidget(self.warnings_label)
        outer.addWidget(self.warnings_box)

        reason_form = self._reason_form = QFormLayout()
        reason_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.reason_edit = form_fields.text_edit(
            self, self.tr("Required: why the dose is given despite the warnings")
        )
        self.reason_message = self._add_field(
            self.tr("&Reason to give anyway"), self.reason_edit, layout=reason_form
        )
        outer.addLayout(reason_form)

        self.status_label = form_fields.status_label(self)
        outer.addWidget(self.status_label)
        buttons, self.save_button, self.cancel_button = form_fields.save_cancel_buttons(self)
        outer.addLayout(buttons)

        self._fit_timer = QTimer(self)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(0)
        self._fit_timer.timeout.connect(self._grow_to_fit)
        self.drug_combo.currentIndexChanged.connect(self._drug_changed)
        self.form_combo.currentIndexChanged.connect(lambda _i: self._input_changed(F_FORM))
        self.dose_edit.textChanged.connect(lambda _t: self._input_changed(F_DOSE))
        self.time_edit.dateTimeChanged.connect(lambda _t: self._input_changed(F_TIME))
        self.late_edit.textChanged.connect(lambda _t: self._late_changed())
        self.note_edit.textChanged.connect(lambda _t: self._input_changed(F_NOTE))
        self.reason_edit.textChanged.connect(lambda _t: self._reason_changed())
        self.save_button.clicked.connect(self._try_save)
        self.cancel_button.clicked.connect(self.reject)

        if drug_key is not None:
            self.select_drug(drug_key)
        self._drug_changed()
        self.drug_combo.setFocus()

    # -- building

    def _drug_model(self) -> QStandardItemModel:
        model = QStandardItemModel(self)
        for role, heading in _ROLE_HEADINGS:
            drugs = [d for d in medications.DRUGS if d.role is role]
            if not drugs:
                continue
            head = QStandardItem(f"— {self.tr(heading)} —")
            head.setFlags(Qt.ItemFlag.NoItemFlags)  # a heading: not selectable, skipped by the keyboard
            font = QFont(head.font())
            font.setBold(True)
            head.setFont(font)
            model.appendRow(head)
            for drug in drugs:
                label = self.tr(drug.label)
                if role is DrugRole.ANTAGONIST:
                    label = self.tr("{label} (antagonist)").format(label=label)
                item = QStandardItem(label)
                item.setData(drug.key, _KEY_ROLE)
                item.setData(label, Qt.ItemDataRole.AccessibleTextRole)
                model.appendRow(item)
        return model

    def _add_field(
        self,
        label_text: str,
        widget: QWidget,
        *,
        container: QWidget | None = None,
        layout: QFormLayout | None = None,
        name: str | None = None,
    ) -> QLabel:
        """A labelled row with a message row under it (hidden while empty); returns the message label."""
        return form_fields.add_field(
            self, layout or self._form, label_text, widget, container=container, name=name
        )

    # -- public helpers (tests, screenshots)

    def select_drug(self, key: str) -> None:
        for row in range(self.drug_combo.count()):
            if self.drug_combo.itemData(row, _KEY_ROLE) == key:
                self.drug_combo.setCurrentIndex(row)
                return
        raise medications.UnknownDrug(key)

    def select_form(self, form: str) -> None:
        index = self.form_combo.findData(form)
        if index < 0:
            raise medications.InvalidForm(self.drug_key() or "", form, ())
        self.form_combo.setCurrentIndex(index)

    def drug_key(self) -> str | None:
        if self.drug_combo.currentIndex() < 0:
            return None
        value = self.drug_combo.currentData(_KEY_ROLE)
        return str(value) if value else None

    def form_key(self) -> str | None:
        value = self.form_combo.currentData()
        return str(value) if value else None

    def form_texts(self) -> list[str]:
        return [self.form_combo.itemText(i) for i in range(self.form_combo.count())]

    def drug_texts(self) -> list[str]:
        return [self.drug_combo.itemText(i).strip() for i in range(self.drug_combo.count())]

    def given_at(self) -> datetime:
        return timefmt.from_qdatetime(self.time_edit.dateTime())

    def warning_text(self) -> str:
        return self.warnings_label.text() if self.warnings_box.isVisible() else ""

    def status_text(self) -> str:
        return self.status_label.text()

    def is_antagonist(self) -> bool:
        key = self.drug_key()
        return key is not None and medications.drug(key).role is DrugRole.ANTAGONIST

    # -- reactions

    def _drug_changed(self) -> None:
        key = self.drug_key()
        self.form_combo.blockSignals(True)
        self.form_combo.clear()
        if key is not None:
            drug = medications.drug(key)
            for form in drug.forms:
                self.form_combo.addItem(form_text(form), form)
            self.form_combo.setCurrentIndex(0)
            if drug.typical:
                self.typical_label.setText(self.tr("Typical: {0}").format(self.tr(drug.typical)))
            else:
                self.typical_label.setText(self.tr("No typical dose listed: check the prescription."))
        else:
            self.typical_label.setText("")
        self.form_combo.setEnabled(self.form_combo.count() > 1)
        self.form_combo.blockSignals(False)
        self._service_errors.pop(F_MEDICINE, None)
        self._input_changed(F_FORM)

    def _input_changed(self, field: str) -> None:
        self._service_errors.pop(field, None)
        if field != F_NOTE:
            self._update_preview()
        self.status_label.clear()
        self._refresh()

    def _late_changed(self) -> None:
        self._service_errors.pop(F_LATE, None)
        self.status_label.clear()
        self._refresh()

    def _reason_changed(self) -> None:
        self._service_errors.pop(F_REASON, None)
        self.status_label.clear()
        self._refresh()

    # -- checks

    def _dose_mg(self) -> tuple[float | None, str]:
        text = self.dose_edit.text().strip().replace(",", ".")
        if not text:
            return None, self.tr("Enter the dose in mg.")
        try:
            value = float(text)
        except ValueError:
            return None, self.tr("Enter the dose as a number of mg, e.g. 25 or 0.4.")
        problem = plausibility.check_dose_mg(value)
        if problem:
            return None, self.tr(problem)
        return value, ""

    def _time_verdict(self) -> charting.TimeVerdict:
        return charting.check_clinical_time(self.given_at(), self.service.clock.now())

    def _entry(self) -> DoseInput | None:
        key, form = self.drug_key(), self.form_key()
        mg, _problem = self._dose_mg()
        if key is None or form is None or mg is None:
            return None
        reason = self.reason_edit.text().strip() if self._reason_visible() else ""
        late = self._time_verdict() is charting.TimeVerdict.LATE
        return DoseInput(
            drug=key,
            form=form,
            dose_mg=mg,
            given_at=self.given_at(),
            note=self.note_edit.text().strip(),
            warning_reason=reason,
            late_reason=self.late_edit.text().strip() if late else "",
        )

    def _update_preview(self) -> None:
        """Ask the service what the rules will say about the dose as entered now."""
        self.warnings = []
        self._preview_problem = ""
        if not self.is_antagonist():
            return
        entry = self._entry()
        if entry is None or self._time_verdict() is charting.TimeVerdict.IN_FUTURE:
            return
        try:
            self.warnings = list(self.service.preview_dose(self.episode.id, entry))
        except Exception as exc:  # the service checks again on saving; say why nothing is shown
            self._preview_problem = describe(exc)

    def _reason_visible(self) -> bool:
        return bool(self.warnings) or F_REASON in self._service_errors

    def _late_visible(self) -> bool:
        return form_fields.late_reason_shown(self._time_verdict(), self._service_errors)

    def _local_problems(self) -> dict[str, str]:
        problems: dict[str, str] = {}
        if self.drug_key() is None:
            problems[F_MEDICINE] = self.tr("Choose a medicine from the list.")
        elif self.form_key() is None:
            problems[F_FORM] = self.tr("Choose the form.")
        _mg, mg_problem = self._dose_mg()
        if mg_problem:
            problems[F_DOSE] = mg_problem
        verdict = self._time_verdict()
        if verdict is charting.TimeVerdict.IN_FUTURE:
            problems[F_TIME] = self.tr("More than 5 minutes in the future: not allowed. Correct the time.")
        if verdict is charting.TimeVerdict.LATE and not self.late_edit.text().strip():
            problems[F_LATE] = self.tr("Give a reason for late charting (given more than 1 hour ago).")
        if self._reason_visible() and not self.reason_edit.text().strip():
            problems[F_REASON] = self.tr("Give a reason to give this dose despite the warnings.")
        return problems

    def _blockers(self) -> list[tuple[QWidget, str]]:
        widgets = {
            F_MEDICINE: self.drug_combo,
            F_FORM: self.form_combo,
            F_DOSE: self.dose_edit,
            F_TIME: self.time_edit,
            F_LATE: self.late_edit,
            F_REASON: self.reason_edit,
        }
        problems = self._local_problems()
        return [(widgets[f], problems[f]) for f in widgets if f in problems]

    def _refresh(self) -> None:
        """Messages beside the fields, the warnings, the reason row, and the Save button."""
        problems = self._local_problems()
        shown = {
            # An empty dose is not an error until the nurse tries to save: say nothing yet.
            F_DOSE: "" if not self.dose_edit.text().strip() and not self._tried else problems.get(F_DOSE, ""),
            F_TIME: problems.get(F_TIME, ""),
            F_LATE: problems.get(F_LATE, "") if self._tried else "",
            F_MEDICINE: problems.get(F_MEDICINE, "") if self._tried else "",
            F_FORM: problems.get(F_FORM, "") if self._tried else "",
            F_REASON: problems.get(F_REASON, "") if self._tried else "",
            F_NOTE: "",
        }
        for field, message in self._service_errors.items():
            if field in shown:
                shown[field] = message
        labels = {
            F_MEDICINE: self.drug_message,
            F_FORM: self.form_message,
            F_DOSE: self.dose_message,
            F_TIME: self.time_message,
            F_LATE: self.late_message,
            F_NOTE: self.note_message,
            F_REASON: self.reason_message,
        }
        for field, label in labels.items():
            layout = self._reason_form if field == F_REASON else self._form
            form_fields.set_message(layout, label, shown[field])
        self._form.setRowVisible(self.late_edit, self._late_visible())

        antagonist = self.is_antagonist()
        self.warnings_box.setVisible(antagonist)
        if antagonist:
            self.warnings_label.setText(self._warnings_text())
        reason_visible = self._reason_visible()
        self._reason_form.setRowVisible(self.reason_edit, reason_visible)
        if not reason_visible:
            self._reason_form.setRowVisible(self.reason_message, False)
        save_text = self.tr("&Give anyway") if self.warnings else self.tr("&Save")
        self.save_button.setText(save_text)
        self.save_button.setAccessibleName(plain(save_text))
        self.save_button.setEnabled(not problems)
        self._grow_to_fit()
        self._fit_timer.start()  # once more after Qt has laid out the new text (size hints settle late)

    def _grow_to_fit(self) -> None:
        form_fields.grow_to_fit(self)

    def _warnings_text(self) -> str:
        if self._preview_problem:
            return self.tr("The checks could not run: {0} They run again when you save.").format(
                self._preview_problem
            )
        if self.drug_key() is not None and self._dose_mg()[0] is None:
            return self.tr("Enter the dose: the checks run as you type.")
        if self._time_verdict() is charting.TimeVerdict.IN_FUTURE:
            return self.tr("Correct the time given: the checks run as you type.")
        if not self.warnings:
            return "✓ " + self.tr(
                "No warnings: not within an opioid-free interval, and a baseline COWS exists."
            )
        lines = []
        for warning in self.warnings:
            title = RULE_TITLES.get(warning.rule, warning.rule)
            lines.append(f"{priority_text(warning.priority)} – {self.tr(title)}: {warning.message}")
        return "\n".join(lines)

    # -- saving

    def _try_save(self) -> None:
        """Save when allowed; otherwise say what is missing and go to it. Errors keep the form open."""
        self._tried = True
        self._update_preview()  # the data or the clock may have moved on since the last check
        self._refresh()
        if form_fields.show_blockers(self, self.status_label, self._blockers()):
            return
        entry = self._entry()
        if entry is None:  # pragma: no cover - _blockers covers every missing part
            return
        try:
            view = self.service.record_dose(self.actor, self.episode.id, entry)
        except Exception as exc:  # ServiceError, DatabaseProblem or a bug: words on screen, never a trace
            self._show_save_error(exc)
            return
        self.saved = view
        self.accept()

    def _show_save_error(self, exc: Exception) -> None:
        message = describe(exc)
        self._service_errors.clear()
        target: QWidget | None = None
        if isinstance(exc, ValidationError):
            self._service_errors[exc.field] = message
            target = {
                F_MEDICINE: self.drug_combo,
                F_FORM: self.form_combo,
                F_DOSE: self.dose_edit,
                F_TIME: self.time_edit,
                F_LATE: self.late_edit,
                F_NOTE: self.note_edit,
                F_REASON: self.reason_edit,
            }.get(exc.field)
            if exc.field == F_REASON:
                self._update_preview()  # the warnings changed under us: show them
        self._refresh()
        self.status_label.setText(self.tr("Not saved. {0}").format(message))
        if target is not None:
            target.setFocus(Qt.FocusReason.OtherFocusReason)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not form_fields.enter_saves(self, event, self.save_button, self._try_save):
            super().keyPressEvent(event)
