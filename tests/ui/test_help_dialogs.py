"""The Help menu's dialogs: keyboard shortcuts from the menu actions, and About with its licence table."""

from __future__ import annotations

import platform
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractButton, QAbstractItemView, QLabel, QTableView, QWidget
from pytestqt.qtbot import QtBot

import monitor
from monitor.services.clinical import ClinicalService
from monitor.services.locations import display_location
from monitor.ui import help_dialogs
from monitor.ui.help_dialogs import AboutDialog, ShortcutsDialog
from monitor.ui.main_window import MainWindow
from tests.ui.test_main_window import when_dialog_opens


def cells(table: QAbstractItemView) -> list[list[str]]:
    model = table.model()
    return [
        [str(model.index(r, c).data() or "") for c in range(model.columnCount())]
        for r in range(model.rowCount())
    ]


def native(key: str) -> str:
    return QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText)


def assert_all_named(dialog: QWidget) -> None:
    for widget in (*dialog.findChildren(QAbstractButton), *dialog.findChildren(QTableView)):
        if widget.objectName().startswith("qt_"):
            continue  # Qt's own parts, e.g. a table's corner button
        assert widget.accessibleName(), f"{type(widget).__name__} has no accessible name"


@pytest.fixture
def actions(qtbot: QtBot) -> Iterator[list[QAction]]:
    owner = QWidget()  # held here: the actions die with their parent
    qtbot.addWidget(owner)
    made = []
    for text, key in (
        ("&Record COWS…", "Ctrl+R"),
        ("Entered in error…", ""),
        ("Back &up now", ""),
        ("Export…", "Ctrl+Shift+E"),
        ("Refresh", "F5"),
    ):
        action = QAction(text, owner)
        if key:
            action.setShortcut(QKeySequence(key))
        made.append(action)
    yield made
    del owner


def test_shortcuts_lists_the_actions_with_a_shortcut_in_the_given_order(
    qtbot: QtBot, actions: list[QAction]
) -> None:
    dialog = ShortcutsDialog(actions)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.windowTitle() == "Keyboard shortcuts"
    assert dialog.table.accessibleName() == "Keyboard shortcuts"
    assert cells(dialog.table) == [
        ["Record COWS", native("Ctrl+R")],
        ["Export", native("Ctrl+Shift+E")],
        ["Refresh", native("F5")],
    ]
    assert dialog.table.editTriggers() == QAbstractItemView.EditTrigger.NoEditTriggers


def test_shortcuts_documents_the_keys_inside_the_forms(qtbot: QtBot) -> None:
    dialog = ShortcutsDialog([])
    qtbot.addWidget(dialog)
    assert cells(dialog.table) == []
    rows = cells(dialog.form_keys)
    keys = {(where, key) for where, key, _what in rows}
    assert {
        ("COWS form", "0-5"),
        ("COWS form", "Up/Down or Left/Right"),
        ("COWS form", "Enter"),
        ("COWS form", "Esc"),
        ("Sign-in", "Enter"),
    } <= keys
    what = {(where, key): text for where, key, text in rows}
    assert "move to the next" in what["COWS form", "0-5"]
    assert what["COWS form", "Enter"].startswith("save")
    assert "asks first" in what["COWS form", "Esc"]
    assert what["Sign-in", "Enter"] == "sign in"


def test_shortcuts_every_button_and_table_is_named_and_close_closes(
    qtbot: QtBot, actions: list[QAction]
) -> None:
    dialog = ShortcutsDialog(actions)
    qtbot.addWidget(dialog)
    dialog.show()
    assert_all_named(dialog)
    assert dialog.close_button.accessibleName() == "Close"
    dialog.close_button.click()
    assert not dialog.isVisible()


@pytest.fixture
def about(qtbot: QtBot) -> AboutDialog:
    dialog = AboutDialog("postgresql://nurse:***@db.clinic/monitor", "0005")
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_about_shows_version_location_schema_and_runtime(about: AboutDialog) -> None:
    assert about.windowTitle() == "About Withdrawal monitor"
    assert monitor.__version__ in about.title.text()
    assert about.fields["Version"].text() == monitor.__version__
    assert about.fields["Database"].text() == "postgresql://nurse:***@db.clinic/monitor"
    assert about.fields["Schema revision"].text() == "0005"
    assert about.fields["Python"].text() == platform.python_version()
    assert about.fields["Qt"].text() == qVersion()
    assert about.fields["PySide6"].text()
    assert about.disclaimer.text().startswith(
        "This software supports, and does not replace, clinical judgement."
    )
    labels = {label.accessibleName() for label in about.findChildren(QLabel)}
    assert {"Version", "Database", "Schema revision", "Python", "Qt", "PySide6"} <= labels


def test_about_licence_table_reads_installed_metadata(about: AboutDialog) -> None:
    rows = about.licence_rows()
    assert set(help_dialogs.RUNTIME_DISTRIBUTIONS) <= set(rows)
    version, licence = rows["SQLAlchemy"]
    assert version and version != "not installed"
    assert "MIT" in licence  # License-Expression: MIT
    version, licence = rows["PySide6-Essentials"]
    assert version.startswith("6.")
    assert "LGPL" in licence  # License: LGPL-3.0-only OR GPL-2.0-only OR GPL-3.0-only
    # reportlab's License field is a paragraph: the classifier stands in, on one line.
    assert all("\n" not in licence for _version, licence in rows.values())
    assert all(len(licence) <= 60 for _version, licence in rows.values())


def test_about_missing_package_shows_not_installed(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        help_dialogs, "RUNTIME_DISTRIBUTIONS", [*help_dialogs.RUNTIME_DISTRIBUTIONS, "no-such-package"]
    )
    dialog = AboutDialog("/tmp/monitor.sqlite3", "0005")
    qtbot.addWidget(dialog)
    assert dialog.licence_rows()["no-such-package"] == ("not installed", "not installed")


def test_about_every_button_and_table_is_named_and_close_closes(about: AboutDialog) -> None:
    assert_all_named(about)
    assert about.licences.accessibleName() == "Third-party licences"
    assert about.close_button.accessibleName() == "Close"
    about.close_button.click()
    assert not about.isVisible()


def test_f1_and_about_from_the_main_window(qtbot: QtBot, service: ClinicalService, nurse: str) -> None:
    window = MainWindow(service, nurse, "/clinic/monitor.sqlite")
    qtbot.addWidget(window)
    window.show()
    seen: list[str] = []

    def note(dialog: QWidget) -> None:
        seen.append(dialog.windowTitle())
        if isinstance(dialog, ShortcutsDialog):
            model = dialog.table.model()
            seen.extend(str(model.index(r, 1).data()) for r in range(model.rowCount()))
        if isinstance(dialog, AboutDialog):
            seen.append(dialog.fields["Database"].text())
        dialog.close()

    when_dialog_opens(note)
    shortcuts = window.actions_by_name["Keyboard shortcuts"]
    assert shortcuts.shortcut().toString() == "F1"
    shortcuts.trigger()
    assert seen[0] == "Keyboard shortcuts" and "Ctrl+R" in seen and "F1" in seen
    seen.clear()
    when_dialog_opens(note)
    window.actions_by_name["About"].trigger()
    assert seen == ["About Withdrawal monitor", "/clinic/monitor.sqlite"]


def test_the_screen_never_shows_a_database_password() -> None:
    shown = display_location(None, "postgresql+psycopg://monitor:s3cret@db.ward/monitor")
    assert "s3cret" not in shown and shown.startswith("postgresql+psycopg://monitor:***@db.ward")
