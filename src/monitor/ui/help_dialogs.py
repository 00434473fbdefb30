"""The Help menu's dialogs: the keyboard shortcuts (F1) and About (version, disclaimer, licences)."""

from __future__ import annotations

import platform
from collections.abc import Iterable
from importlib import metadata

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

import monitor

#: The runtime dependencies listed in About, by distribution name (pyproject.toml's dependencies, plus
#: shiboken6 that PySide6 brings and psycopg for PostgreSQL).
RUNTIME_DISTRIBUTIONS: list[str] = [
    "PySide6-Essentials",
    "shiboken6",
    "pyqtgraph",
    "numpy",
    "SQLAlchemy",
    "alembic",
    "platformdirs",
    "tzlocal",
    "argon2-cffi",
    "reportlab",
    "fhir.resources",
    "pydantic",
    "psycopg",
]

NOT_INSTALLED = "not installed"
UNKNOWN_LICENCE = "unknown"

#: The README's clinical-use disclaimer, word for word.
DISCLAIMER = (
    "This software supports, and does not replace, clinical judgement. Its thresholds are defaults "
    "taken from published sources (listed below) and must be reviewed and signed off by the clinic's "
    "physicians in the protocol settings."
)

_MAX_LICENCE_CHARS = 60


def _readonly_table(name: str, headers: list[str], parent: QWidget) -> QTableWidget:
    table = QTableWidget(0, len(headers), parent)
    table.setAccessibleName(name)
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _add_row(table: QTableWidget, cells: Iterable[str]) -> None:
    row = table.rowCount()
    table.insertRow(row)
    for column, text in enumerate(cells):
        table.setItem(row, column, QTableWidgetItem(text))


def _close_buttons(dialog: QDialog) -> tuple[QDialogButtonBox, QPushButton]:
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dialog)
    close = buttons.button(QDialogButtonBox.StandardButton.Close)
    close.setAccessibleName("Close")
    close.setDefault(True)
    buttons.rejected.connect(dialog.reject)
    return buttons, close


# --- keyboard shortcuts -------------------------------------------------------------------------------


def action_label(action: QAction) -> str:
    """A menu action's text as read aloud: mnemonic ampersands and the trailing "…" removed."""
    text = action.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
    return text.replace("…", "").strip()


#: Keys that work inside a form rather than from a menu (cows_form.py, sign_in.py keyPressEvent).
#: (where, key, what it does); Qt's translation context is ShortcutsDialog.
IN_FORM_KEYS: list[tuple[str, str, str]] = [
    ("COWS form", "0-5", "choose the score of the item and move to the next (only its allowed values)"),
    ("COWS form", "Up/Down or Left/Right", "the previous/next value of the item"),
    ("COWS form", "Enter", "save (on a focused button such as Cancel: press that button)"),
    ("COWS form", "Esc", "cancel (asks first when something was typed)"),
    ("Sign-in", "Enter", "sign in"),
]


class ShortcutsDialog(QDialog):
    """Every menu shortcut (from the actions given, in their order) and the keys inside the forms."""

    def __init__(self, actions: Iterable[QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Keyboard shortcuts"))
        layout = QVBoxLayout(self)

        menu_caption = QLabel(self.tr("Menu commands"), self)
        layout.addWidget(menu_caption)
        self.table = _readonly_table("Keyboard shortcuts", [self.tr("Action"), self.tr("Shortcut")], self)
        for action in actions:
            shortcut = action.shortcut()
            if shortcut.isEmpty():
                continue
            _add_row(
                self.table,
                (action_label(action), shortcut.toString(QKeySequence.SequenceFormat.NativeText)),
            )
        menu_caption.setBuddy(self.table)
        layout.addWidget(self.table, 2)

        form_caption = QLabel(self.tr("In the forms"), self)
        layout.addWidget(form_caption)
        self.form_keys = _readonly_table(
            "Keys in the forms", [self.tr("Where"), self.tr("Key"), self.tr("What it does")], self
        )
        for where, key, what in IN_FORM_KEYS:
            _add_row(self.form_keys, (self.tr(where), self.tr(key), self.tr(what)))
        form_caption.setBuddy(self.form_keys)
        layout.addWidget(self.form_keys, 1)

        self.buttons, self.close_button = _close_buttons(self)
        layout.addWidget(self.buttons)
        self.resize(560, 600)


# --- about ----------------------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    if len(line) > _MAX_LICENCE_CHARS:
        line = line[: _MAX_LICENCE_CHARS - 1].rstrip(" ,;") + "…"
    return line


def _field(meta: metadata.PackageMetadata, name: str) -> str:
    values = meta.get_all(name) or []
    return str(values[0]) if values else ""


def licence_of(meta: metadata.PackageMetadata) -> str:
    """A distribution's licence on one line: License-Expression, else a short License field, else the
    "License ::" classifiers, else the start of a long License field."""
    expression = _field(meta, "License-Expression").strip()
    if expression:
        return _one_line(expression)
    field = _field(meta, "License").strip()
    if field and "\n" not in field and len(field) <= _MAX_LICENCE_CHARS:
        return field
    classifiers = [
        c.split("::")[-1].strip() for c in meta.get_all("Classifier") or [] if c.startswith("License ::")
    ]
    if classifiers:
        return _one_line(", ".join(dict.fromkeys(classifiers)))
    if field:
        return _one_line(field.splitlines()[0])
    return UNKNOWN_LICENCE


def distribution_info(name: str) -> tuple[str, str, str]:
    """(name, version, licence) of an installed distribution; "not installed" in both when it is not."""
    try:
        meta = metadata.metadata(name)
    except metadata.PackageNotFoundError:
        return name, NOT_INSTALLED, NOT_INSTALLED
    return name, _field(meta, "Version"), licence_of(meta)


class AboutDialog(QDialog):
    """About Withdrawal monitor: version, disclaimer, where the data is, versions, third-party licences."""

    def __init__(self, location: str, schema: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("About Withdrawal monitor"))
        layout = QVBoxLayout(self)

        self.title = QLabel(self.tr("Withdrawal monitor {version}").format(version=monitor.__version__), self)
        self.title.setAccessibleName("Application and version")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.title.setFont(font)
        layout.addWidget(self.title)

        self.disclaimer = QLabel(self.tr(DISCLAIMER), self)
        self.disclaimer.setAccessibleName("Clinical-use disclaimer")
        self.disclaimer.setWordWrap(True)
        layout.addWidget(self.disclaimer)

        form = QFormLayout()
        self.fields: dict[str, QLabel] = {}
        for name, caption, value in (
            ("Version", self.tr("Version"), monitor.__version__),
            ("Database", self.tr("Database"), location),
            ("Schema revision", self.tr("Schema revision"), schema),
            ("Python", self.tr("Python"), platform.python_version()),
            ("Qt", self.tr("Qt"), qVersion()),
            ("PySide6", self.tr("PySide6"), PySide6.__version__),
        ):
            label = QLabel(value, self)
            label.setAccessibleName(name)
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            caption_label = QLabel(caption, self)
            caption_label.setBuddy(label)
            form.addRow(caption_label, label)
            self.fields[name] = label
        layout.addLayout(form)

        licences_caption = QLabel(self.tr("Third-party licences"), self)
        layout.addWidget(licences_caption)
        self.licences = _readonly_table(
            "Third-party licences", [self.tr("Package"), self.tr("Version"), self.tr("Licence")], self
        )
        for name in RUNTIME_DISTRIBUTIONS:
            package, version, licence = distribution_info(name)
            if version == NOT_INSTALLED:
                version = licence = self.tr(NOT_INSTALLED)
            _add_row(self.licences, (package, version, licence))
        licences_caption.setBuddy(self.licences)
        layout.addWidget(self.licences, 1)

        self.buttons, self.close_button = _close_buttons(self)
        layout.addWidget(self.buttons)
        self.resize(620, 640)

    def licence_rows(self) -> dict[str, tuple[str, str]]:
        """The licence table as {package: (version, licence)}."""
        table = self.licences
        rows: dict[str, tuple[str, str]] = {}
        for row in range(table.rowCount()):
            cells = [table.item(row, column) for column in range(3)]
            package, version, licence = (cell.text() if cell is not None else "" for cell in cells)
            rows[package] = (version, licence)
        return rows
