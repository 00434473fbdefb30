"""The clinic's protocol settings: every threshold the alert rules use, its default and its source.

A change needs a reason and is audited by the service (design.md: settings that matter clinically live
in the database with an audit trail, defaults declared in code). Nothing here is a constant the app
keeps: the table is reloaded from the service after each change.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from monitor.services.clinical import ClinicalService
from monitor.services.errors import ValidationError
from monitor.services.views import SettingView
from monitor.ui.errors import describe
from monitor.ui.timefmt import local
from monitor.ui.typed_fields import DoubleSpinBox

__all__ = ["SETTING_COLUMNS", "ProtocolDialog"]

SETTING_COLUMNS = ["Setting", "Value", "Default", "Allowed", "Source", "Last change"]
_KEY_ROLE = Qt.ItemDataRole.UserRole + 1
_MAX_REASON = 2000


def _number(value: float) -> str:
    return f"{value:g}"


def _whole(setting: SettingView) -> bool:
    return all(
        float(v).is_integer() for v in (setting.value, setting.default, setting.minimum, setting.maximum)
    )


def _with_unit(value: float, unit: str) -> str:
    return f"{_number(value)}{unit}" if unit == "%" else f"{_number(value)} {unit}"


class ProtocolDialog(QDialog):
    """View every protocol setting; change the selected one with a reason."""

    def __init__(self, service: ClinicalService, actor: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.actor = actor
        self.settings: list[SettingView] = []
        self.changed = False
        # Everyone may read the protocol; only a physician changes it (the service enforces it too).
        self.may_change = service.may(actor, "set_protocol_setting")
        self.setWindowTitle(self.tr("Protocol settings"))
        self.resize(1200, 640)
        layout = QVBoxLayout(self)
        intro = QLabel(
            self.tr(
                "The thresholds and intervals the alert rules use. Each default comes from the source "
                "shown; the clinic's physicians may change a value, with a reason. Every change is audited."
            ),
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)

        self.model = QStandardItemModel(0, len(SETTING_COLUMNS), self)
        self.model.setHorizontalHeaderLabels([self.tr(c) for c in SETTING_COLUMNS])
        self.table = QTableView(self)
        self.table.setAccessibleName(self.tr("Protocol settings"))
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.verticalHeader().setVisible(False)
        # Rows as tall as their wrapped source text at the width the columns actually get.
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)

        box = QGroupBox(self.tr("Change the selected setting"), self)
        form = QFormLayout(box)
        self.selected_label = QLabel(box)
        self.selected_label.setWordWrap(True)
        form.addRow(self.tr("Setting"), self.selected_label)
        value_label = QLabel(self.tr("New &value"), box)
        self.value_spin = DoubleSpinBox(box)
        self.value_spin.setAccessibleName("New value")
        value_label.setBuddy(self.value_spin)
        form.addRow(value_label, self.value_spin)
        reason_label = QLabel(self.tr("&Reason for the change"), box)
        self.reason_edit = QLineEdit(box)
        self.reason_edit.setMaxLength(_MAX_REASON)
        self.reason_edit.setPlaceholderText(self.tr("Required, e.g. the physicians' decision and its date"))
        self.reason_edit.setAccessibleName("Reason for the change")
        reason_label.setBuddy(self.reason_edit)
        form.addRow(reason_label, self.reason_edit)
        self.message = QLabel(box)
        self.message.setWordWrap(True)
        self.message.setAccessibleName(self.tr("Message"))
        form.addRow(self.message)
        self.apply_button = QPushButton(self.tr("&Change setting"), box)
        self.apply_button.setAccessibleName("Change setting")
        self.apply_button.setAutoDefault(False)
        form.addRow(self.apply_button)
        layout.addWidget(box)
        self.read_only_note = ""
        if not self.may_change:
            box.setTitle(self.tr("Only a physician may change a setting"))
            self.read_only_note = self.tr("You can read the protocol; ask a physician to change a setting.")
            self.message.setText(self.read_only_note)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setAccessibleName("Close")
        close.setAutoDefault(False)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._selection_changed())
        self.value_spin.valueChanged.connect(lambda _v: self._update())
        self.value_spin.refused.connect(self.message.setText)
        self.reason_edit.textChanged.connect(lambda _t: self._update())
        self.reason_edit.returnPressed.connect(self.apply_change)
        self.apply_button.clicked.connect(self.apply_change)
        self.reload()

    # -- data

    def reload(self, select_key: str | None = None) -> None:
        try:
            self.settings = list(self.service.protocol_settings())
        except Exception as exc:
            self.message.setText(self.tr("Could not load the protocol. {0}").format(describe(exc)))
            self.settings = []
        self.model.removeRows(0, self.model.rowCount())
        for setting in self.settings:
            changed = ""
            if setting.changed_at is not None:
                changed = self.tr("{who} at {when}: {why}").format(
                    who=setting.changed_by, when=local(setting.changed_at), why=setting.reason
                )
            value = _with_unit(setting.value, setting.unit)
            if setting.value != setting.default:
                value += " " + self.tr("(changed)")
            cells = [
                self.tr(setting.label),
                value,
                _with_unit(setting.default, setting.unit),
                f"{_number(setting.minimum)}–{_with_unit(setting.maximum, setting.unit)}",
                setting.source,
                changed,
            ]
            row = [QStandardItem(text) for text in cells]
            for item in row:
                item.setData(setting.key, _KEY_ROLE)
                item.setToolTip(setting.source)
            if setting.value != setting.default:
                font = row[1].font()
                font.setBold(True)
                row[1].setFont(font)
            self.model.appendRow(row)
        if self.model.rowCount():
            target = 0
            if select_key is not None:
                target = next((i for i, s in enumerate(self.settings) if s.key == select_key), 0)
            self.table.setCurrentIndex(self.model.index(target, 0))
        self._selection_changed()

    def selected_setting(self) -> SettingView | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        key = index.data(_KEY_ROLE)
        return next((s for s in self.settings if s.key == key), None)

    def select(self, key: str) -> None:
        for row, setting in enumerate(self.settings):
            if setting.key == key:
                self.table.setCurrentIndex(self.model.index(row, 0))
                return

    def _selection_changed(self) -> None:
        setting = self.selected_setting()
        self.message.setText(self.read_only_note)
        self.reason_edit.clear()
        if setting is None:
            self.selected_label.setText(self.tr("Select a setting above."))
        else:
            self.selected_label.setText(
                self.tr("{label}: now {value}; default {default}").format(
                    label=self.tr(setting.label),
                    value=_with_unit(setting.value, setting.unit),
                    default=_with_unit(setting.default, setting.unit),
                )
            )
            whole = _whole(setting)
            self.value_spin.blockSignals(True)
            self.value_spin.setDecimals(0 if whole else 2)
            self.value_spin.setRange(setting.minimum, setting.maximum)
            self.value_spin.setSingleStep(1 if whole else 0.1)
            self.value_spin.setSuffix(setting.unit if setting.unit == "%" else f" {setting.unit}")
            self.value_spin.setValue(setting.value)
            self.value_spin.blockSignals(False)
        self._update()

    def _update(self) -> None:
        setting = self.selected_setting()
        self.value_spin.setEnabled(setting is not None and self.may_change)
        self.reason_edit.setEnabled(setting is not None and self.may_change)
        allowed = (
            self.may_change
            and setting is not None
            and self.value_spin.value() != setting.value
            and bool(self.reason_edit.text().strip())
        )
        self.apply_button.setEnabled(allowed)

    def apply_change(self) -> None:
        setting = self.selected_setting()
        if setting is None:
            return
        if self.value_spin.value() == setting.value:
            self.message.setText(self.tr("Choose a value different from the current one."))
            return
        reason = self.reason_edit.text().strip()
        if not reason:
            self.message.setText(self.tr("Give a reason for the change."))
            self.reason_edit.setFocus()
            return
        try:
            self.service.set_protocol_setting(self.actor, setting.key, self.value_spin.value(), reason)
        except Exception as exc:  # words beside the field, the value and reason stay
            self.message.setText(self.tr("Not changed. {0}").format(describe(exc)))
            if isinstance(exc, ValidationError) and "reason" in exc.field.lower():
                self.reason_edit.setFocus()
            return
        self.changed = True
        self.reload(select_key=setting.key)
        self.message.setText(
            self.tr("{label} is now {value}.").format(
                label=self.tr(setting.label), value=_with_unit(self.value_spin.value(), setting.unit)
            )
        )
