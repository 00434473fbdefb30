"""Admit a patient to a detox episode: demographics, bed, and the substances used with last use."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from monitor.domain.substances import ROUTES, SUBSTANCES
from monitor.domain.text import AMOUNT_MAX, BED_MAX, MRN_MAX, NAME_MAX
from monitor.services.clinical import SEXES, ClinicalService
from monitor.services.errors import ValidationError
from monitor.services.views import AdmissionRequest, SubstanceInput
from monitor.ui.errors import describe
from monitor.ui.theme import set_tone
from monitor.ui.timefmt import from_qdatetime, to_qdatetime
from monitor.ui.typed_fields import TimeEdit

SUBSTANCE_COLUMNS = ["Substance", "Last use", "Amount", "Route"]


class AdmitDialog(QDialog):
    def __init__(self, service: ClinicalService, actor: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.actor = actor
        self.episode_id: int | None = None
        now = service.clock.now()
        self.setWindowTitle(self.tr("Admit patient"))
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.fields: dict[str, QWidget] = {}
        self.mrn = QLineEdit()
        self.mrn.setMaxLength(MRN_MAX)
        self.name = QLineEdit()
        self.name.setMaxLength(NAME_MAX)
        self.birth_date = QLineEdit()
        self.birth_date.setPlaceholderText("YYYY-MM-DD")
        self.sex = QComboBox()
        self.sex.addItem("", None)
        for sex in SEXES:
            self.sex.addItem(self.tr(sex), sex)
        self.bed = QLineEdit()
        self.bed.setMaxLength(BED_MAX)
        self.admitted_at = TimeEdit()
        self.admitted_at.setDateTime(to_qdatetime(now))
        for label, widget in (
            ("MRN", self.mrn),
            ("Name", self.name),
            ("Birth date", self.birth_date),
            ("Sex", self.sex),
            ("Bed", self.bed),
            ("Admitted at", self.admitted_at),
        ):
            widget.setAccessibleName(label)
            caption = QLabel(self.tr(label))
            caption.setBuddy(widget)
            form.addRow(caption, widget)
            self.fields[label] = widget
        layout.addLayout(form)

        box = QGroupBox(self.tr("Substances used before admission"))
        box_layout = QVBoxLayout(box)
        self.substances = QTableWidget(0, len(SUBSTANCE_COLUMNS))
        self.substances.setAccessibleName("Substances")
        self.substances.setHorizontalHeaderLabels([self.tr(c) for c in SUBSTANCE_COLUMNS])
        self.substances.horizontalHeader().setStretchLastSection(True)
        self.substances.setMinimumHeight(140)
        box_layout.addWidget(self.substances)
        row_buttons = QHBoxLayout()
        self.add_substance_button = QPushButton(self.tr("Add substance"))
        self.add_substance_button.setAccessibleName("Add substance")
        self.add_substance_button.clicked.connect(lambda: self.add_substance_row())
        self.remove_substance_button = QPushButton(self.tr("Remove substance"))
        self.remove_substance_button.setAccessibleName("Remove substance")
        self.remove_substance_button.clicked.connect(self._remove_current_row)
        row_buttons.addWidget(self.add_substance_button)
        row_buttons.addWidget(self.remove_substance_button)
        row_buttons.addStretch()
        box_layout.addLayout(row_buttons)
        layout.addWidget(box)
        self.fields["Substance"] = self.substances
        self.fields["Last use"] = self.substances
        self.fields["Route"] = self.substances

        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Status")
        set_tone(self.status, "warning")
        layout.addWidget(self.status)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.admit_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.admit_button.setText(self.tr("Admit"))
        self.admit_button.setAccessibleName("Admit")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName("Cancel")
        self.buttons.accepted.connect(self._admit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.resize(720, 560)

    def add_substance_row(
        self, key: str = "kratom", last_use: datetime | None = None, amount: str = "", route: str = ""
    ) -> int:
        row = self.substances.rowCount()
        self.substances.insertRow(row)
        combo = QComboBox()
        combo.setAccessibleName(f"Substance {row + 1}")
        for substance in SUBSTANCES:
            suffix = " (opioid)" if substance.is_opioid else ""
            combo.addItem(substance.label + suffix, substance.key)
        combo.setCurrentIndex(max(0, combo.findData(key)))
        when = TimeEdit()
        when.setDateTime(to_qdatetime(last_use or self.service.clock.now() - timedelta(days=1)))
        when.setAccessibleName(f"Last use {row + 1}")
        amount_edit = QLineEdit(amount)
        amount_edit.setMaxLength(AMOUNT_MAX)
        amount_edit.setPlaceholderText("e.g. 35 g/day")
        amount_edit.setAccessibleName(f"Amount {row + 1}")
        route_combo = QComboBox()
        route_combo.setAccessibleName(f"Route {row + 1}")
        route_combo.addItem("", "")
        for name in ROUTES:
            route_combo.addItem(self.tr(name), name)
        route_combo.setCurrentIndex(max(0, route_combo.findData(route)))
        for column, widget in enumerate((combo, when, amount_edit, route_combo)):
            self.substances.setCellWidget(row, column, widget)
        self.substances.resizeColumnsToContents()
        combo.setFocus()
        return row

    def _remove_current_row(self) -> None:
        row = self.substances.currentRow()
        if row < 0:
            row = self.substances.rowCount() - 1
        if row >= 0:
            self.substances.removeRow(row)

    def request(self) -> AdmissionRequest:
        birth_text = self.birth_date.text().strip()
        birth: date | None = None
        if birth_text:
            try:
                birth = date.fromisoformat(birth_text)
            except ValueError as exc:
                raise ValidationError(
                    "Birth date", "Enter the birth date as YYYY-MM-DD, e.g. 1988-03-14."
                ) from exc
        uses = []
        for row in range(self.substances.rowCount()):
            combo = self.substances.cellWidget(row, 0)
            when = self.substances.cellWidget(row, 1)
            amount = self.substances.cellWidget(row, 2)
            route = self.substances.cellWidget(row, 3)
            assert isinstance(combo, QComboBox) and isinstance(when, TimeEdit)
            assert isinstance(amount, QLineEdit) and isinstance(route, QComboBox)
            uses.append(
                SubstanceInput(
                    substance=str(combo.currentData()),
                    last_use_at=from_qdatetime(when.dateTime()),
                    amount=amount.text().strip(),
                    route=str(route.currentData() or ""),
                )
            )
        return AdmissionRequest(
            mrn=self.mrn.text(),
            name=self.name.text(),
            admitted_at=from_qdatetime(self.admitted_at.dateTime()),
            birth_date=birth,
            sex=self.sex.currentData(),
            bed=self.bed.text(),
            substances=tuple(uses),
        )

    def _admit(self) -> None:
        try:
            self.episode_id = self.service.admit(self.actor, self.request())
        except ValidationError as exc:
            self.status.setText(describe(exc))
            widget = self.fields.get(exc.field)
            if widget is not None:
                widget.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        except Exception as exc:  # every failure is shown in words; the form keeps what was typed
            self.status.setText(describe(exc))
            return
        self.accept()
