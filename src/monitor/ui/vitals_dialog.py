"""Record vital signs: any subset of pulse, blood pressure, respiratory rate, SpO2 and temperature.

Impossible values (a pulse of 0 or 400, a diastolic above the systolic, a time more than 5 minutes
ahead) are refused with the reason beside the field, checked as the nurse types with the same
plausibility limits the service applies (monitor.domain.plausibility), and again by the service on
saving. Charting more than 1 h after the time taken needs a reason (design.md, Data rules).
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QRegularExpression, Qt, QTimer
from PySide6.QtGui import QKeyEvent, QRegularExpressionValidator
from PySide6.QtWidgets import QDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from monitor.domain import charting, plausibility
from monitor.services.clinical import ClinicalService
from monitor.services.errors import ValidationError
from monitor.services.views import EpisodeDetail, VitalsInput, VitalsView
from monitor.ui import form_fields, timefmt
from monitor.ui.errors import describe
from monitor.ui.form_fields import F_LATE, plain

__all__ = ["VITAL_FIELDS", "VitalsDialog"]

# (plausibility key, label with mnemonic, whole numbers only). The labels are the service's
# ValidationError.field values (services.medication.VITAL_FIELDS) once the mnemonic is removed.
VITAL_FIELDS: tuple[tuple[str, str, bool], ...] = (
    ("pulse_bpm", "&Pulse (bpm)", True),
    ("systolic", "&Systolic (mmHg)", True),
    ("diastolic", "&Diastolic (mmHg)", True),
    ("resp_rate", "&Respiratory rate (/min)", True),
    ("spo2", "Sp&O2 (%)", True),
    ("temp_c", "T&emperature (°C)", False),
)
F_TIME = "Time taken"
F_NOTE = "Note"


class VitalsDialog(QDialog):
    """Record one set of vital signs for an episode; after a successful save `saved` holds the result."""

    def __init__(
        self, service: ClinicalService, actor: str, episode: EpisodeDetail, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.actor = actor
        self.episode = episode
        self.saved: VitalsView | None = None
        self._service_errors: dict[str, str] = {}
        self._tried = False
        self.setWindowTitle(
            self.tr("Vital signs – {name} (bed {bed})").format(name=episode.name, bed=episode.bed or "-")
        )
        self.setMinimumWidth(560)
        outer = QVBoxLayout(self)
        outer.addWidget(form_fields.patient_header(self, episode))
        hint = QLabel(self.tr("Enter what you measured; leave the rest empty."), self)
        outer.addWidget(hint)

        form = self._form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        outer.addLayout(form)
        integer = QRegularExpression(r"^\d{0,3}$")
        decimal = QRegularExpression(r"^\d{0,2}([.,]\d?)?$")
        self.edits: dict[str, QLineEdit] = {}
        self.messages: dict[str, QLabel] = {}
        self.field_names: dict[str, str] = {}
        for key, label_text, whole in VITAL_FIELDS:
            edit = QLineEdit(self)
            edit.setValidator(QRegularExpressionValidator(integer if whole else decimal, edit))
            edit.setMaximumWidth(edit.fontMetrics().horizontalAdvance("00000") + 24)
            message = QLabel(self)
            message.setWordWrap(True)
            row = QWidget(self)
            row_layout = QHBoxLayout(row)
            row_layout.setContentsMargins(0, 0, 0, 0)
            row_layout.addWidget(edit)
            row_layout.addWidget(message, 1)
            label = QLabel(self.tr(label_text), self)
            label.setBuddy(edit)
            name = plain(label_text)
            edit.setAccessibleName(name)
            message.setAccessibleName(self.tr("{0} message").format(name))
            form.addRow(label, row)
            self.edits[key] = edit
            self.messages[key] = message
            self.field_names[name] = key
            edit.textChanged.connect(lambda _t, k=key: self._value_changed(k))
            edit.editingFinished.connect(lambda: self._refresh())

        self.time_edit = form_fields.clinical_time_edit(self, service.clock.now())
        self.time_message = form_fields.add_field(self, form, self.tr("&Time taken"), self.time_edit)
        self.late_edit = form_fields.text_edit(self, self.tr("Required: taken more than 1 hour ago"))
        self.late_message = form_fields.add_field(
            self, form, self.tr("Reason for &late charting"), self.late_edit
        )
        self.note_edit = form_fields.text_edit(self, self.tr("Optional"))
        self.note_message = form_fields.add_field(self, form, self.tr("&Note"), self.note_edit)

        self.status_label = form_fields.status_label(self)
        outer.addWidget(self.status_label)
        buttons, self.save_button, self.cancel_button = form_fields.save_cancel_buttons(self)
        outer.addLayout(buttons)

        self._fit_timer = QTimer(self)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(0)
        self._fit_timer.timeout.connect(self._grow_to_fit)
        self.time_edit.dateTimeChanged.connect(lambda _t: self._changed(F_TIME))
        self.late_edit.textChanged.connect(lambda _t: self._changed(F_LATE))
        self.note_edit.textChanged.connect(lambda _t: self._changed(F_NOTE))
        self.save_button.clicked.connect(self._try_save)
        self.cancel_button.clicked.connect(self.reject)
        self._refresh()
        self.edits["pulse_bpm"].setFocus()

    # -- values

    def taken_at(self) -> datetime:
        return timefmt.from_qdatetime(self.time_edit.dateTime())

    def _parsed(self) -> tuple[dict[str, float | None], dict[str, str]]:
        """The values entered (None if empty) and the fields that are not numbers at all."""
        values: dict[str, float | None] = {}
        bad: dict[str, str] = {}
        for key, label_text, whole in VITAL_FIELDS:
            text = self.edits[key].text().strip().replace(",", ".")
            if not text:
                values[key] = None
                continue
            try:
                values[key] = int(text) if whole else float(text)
            except ValueError:
                values[key] = None
                bad[key] = self.tr("Enter {0} as a number.").format(plain(label_text))
        return values, bad

    def _still_typing(self, key: str, value: float | None) -> bool:
        """A too-low value in the field being typed may be the start of a longer one: wait for it."""
        if value is None or self.focusWidget() is not self.edits[key]:
            return False
        limit = plausibility.VITAL_LIMITS[key]
        return 0 < value < limit.low and value * 10 <= limit.high

    def _problems(self, *, lenient: bool) -> dict[str, str]:
        """Field key -> message. lenient: hold back messages about a value still being typed."""
        values, bad = self._parsed()
        problems = dict(bad)
        checked = {k: v for k, v in values.items() if k not in bad}
        for key, message in plausibility.check_vitals(checked):
            if key in problems:
                continue
            if lenient and self._still_typing(key, checked.get(key)):
                continue
            if lenient and "both" in message and self._bp_in_progress():
                continue
            problems[key] = self.tr(message)
        return problems

    def _bp_in_progress(self) -> bool:
        return self.focusWidget() in (self.edits["systolic"], self.edits["diastolic"])

    def _time_verdict(self) -> charting.TimeVerdict:
        return charting.check_clinical_time(self.taken_at(), self.service.clock.now())

    def _blockers(self) -> list[tuple[QWidget, str]]:
        blockers: list[tuple[QWidget, str]] = []
        values, _bad = self._parsed()
        problems = self._problems(lenient=False)
        for key, _label, _whole in VITAL_FIELDS:
            if key in problems:
                blockers.append((self.edits[key], problems[key]))
        if all(v is None for v in values.values()) and not problems:
            blockers.append((self.edits["pulse_bpm"], self.tr("Enter at least one measurement.")))
        verdict = self._time_verdict()
        if verdict is charting.TimeVerdict.IN_FUTURE:
            blockers.append(
                (self.time_edit, self.tr("Time taken is more than 5 minutes in the future: correct it."))
            )
        if verdict is charting.TimeVerdict.LATE and not self.late_edit.text().strip():
            blockers.append(
                (self.late_edit, self.tr("Give a reason for late charting (taken more than 1 hour ago)."))
            )
        return blockers

    # -- reactions

    def _value_changed(self, key: str) -> None:
        name = plain(next(label for k, label, _w in VITAL_FIELDS if k == key))
        self._service_errors.pop(name, None)
        if key in ("systolic", "diastolic"):
            self._service_errors.pop("Systolic (mmHg)", None)
            self._service_errors.pop("Diastolic (mmHg)", None)
        self._changed("")

    def _changed(self, field: str) -> None:
        self._service_errors.pop(field, None)
        self.status_label.clear()
        self._refresh()

    def _refresh(self, *, lenient: bool = True) -> None:
        """Messages beside the fields and whether Save is allowed.

        lenient: hold back a message about the value being typed (a "1" on the way to "104"); a save
        attempt shows everything.
        """
        problems = self._problems(lenient=lenient)
        for key, label_text, _whole in VITAL_FIELDS:
            message = self._service_errors.get(plain(label_text)) or problems.get(key, "")
            self.messages[key].setText(message)
        verdict = self._time_verdict()
        time_message = self._service_errors.get(F_TIME, "")
        if verdict is charting.TimeVerdict.IN_FUTURE:
            time_message = self.tr("More than 5 minutes in the future: not allowed")
        self._set_message(self.time_message, time_message)
        late = form_fields.late_reason_shown(verdict, self._service_errors)
        self._form.setRowVisible(self.late_edit, late)
        late_message = self._service_errors.get(F_LATE, "")
        if not late_message and late and self._tried and not self.late_edit.text().strip():
            late_message = self.tr("Required: the time taken is more than 1 hour ago.")
        self._set_message(self.late_message, late_message if late else "")
        self._set_message(self.note_message, self._service_errors.get(F_NOTE, ""))
        self.save_button.setEnabled(not self._blockers())
        self._grow_to_fit()
        self._fit_timer.start()  # once more after Qt has laid out the new text (size hints settle late)

    def _grow_to_fit(self) -> None:
        form_fields.grow_to_fit(self)

    def _set_message(self, label: QLabel, text: str) -> None:
        form_fields.set_message(self._form, label, text)

    # -- public helpers (tests)

    def message(self, key: str) -> str:
        """The message beside a field: a plausibility key ("pulse_bpm"), "Time taken" or the like."""
        if key in self.messages:
            return self.messages[key].text()
        return {F_TIME: self.time_message, F_LATE: self.late_message, F_NOTE: self.note_message}[key].text()

    def status_text(self) -> str:
        return self.status_label.text()

    # -- saving

    def _entry(self) -> VitalsInput:
        values, _bad = self._parsed()

        def whole(key: str) -> int | None:
            value = values.get(key)
            return None if value is None else int(value)

        temp = values.get("temp_c")
        late = self._time_verdict() is charting.TimeVerdict.LATE
        return VitalsInput(
            taken_at=self.taken_at(),
            pulse_bpm=whole("pulse_bpm"),
            systolic=whole("systolic"),
            diastolic=whole("diastolic"),
            resp_rate=whole("resp_rate"),
            spo2=whole("spo2"),
            temp_c=None if temp is None else float(temp),
            note=self.note_edit.text().strip(),
            late_reason=self.late_edit.text().strip() if late else "",
        )

    def _try_save(self) -> None:
        self._tried = True
        self._refresh(lenient=False)
        if form_fields.show_blockers(self, self.status_label, self._blockers()):
            return
        try:
            view = self.service.record_vitals(self.actor, self.episode.id, self._entry())
        except Exception as exc:  # words on screen, the form keeps its values
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
            key = self.field_names.get(exc.field)
            if key is not None:
                target = self.edits[key]
            else:
                target = {F_TIME: self.time_edit, F_LATE: self.late_edit, F_NOTE: self.note_edit}.get(
                    exc.field
                )
        self._refresh()
        self.status_label.setText(self.tr("Not saved. {0}").format(message))
        if target is not None:
            target.setFocus(Qt.FocusReason.OtherFocusReason)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not form_fields.enter_saves(self, event, self.save_button, self._try_save):
            super().keyPressEvent(event)
