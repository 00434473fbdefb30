"""Issue 5: starting the app. An empty database asks for the first administrator, then everyone signs in;
a cancelled sign-in opens nothing. The window acts as whoever signed in."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from monitor.services import locations
from monitor.services.clinical import ClinicalService
from monitor.services.demo import DEMO_PASSWORD
from monitor.store.database import open_database
from monitor.ui import app as app_module
from monitor.ui import theme
from monitor.ui.main_window import MainWindow
from monitor.ui.sign_in import FirstAdministratorDialog, SignInDialog
from monitor.ui.welcome import WelcomeDialog
from tests.ui.test_main_window import when_dialog_opens
from tests.ui.test_sign_in import click, named, type_into

PASSWORD = "first admin passphrase"


@pytest.fixture
def windows_at_exec(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """Instead of running the event loop: note the main windows on screen (who acts, visible)."""
    seen: list[tuple[str, bool]] = []

    def fake_exec(*_args: object) -> int:
        seen.extend(
            (w.actor, w.isVisible()) for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)
        )
        return 0

    monkeypatch.setattr(QApplication, "exec", fake_exec)
    return seen


def audit_actions(db_path: Path) -> list[str]:
    db = open_database(path=db_path)
    try:
        service = ClinicalService(db)
        return [e.action for e in service.audit_search("admin")][::-1]
    finally:
        db.dispose()


def test_first_start_creates_the_administrator_then_signs_in(
    qtbot: QtBot, db_path: Path, windows_at_exec: list[tuple[str, bool]]
) -> None:
    def welcome(dialog: QWidget) -> None:
        assert isinstance(dialog, WelcomeDialog)
        assert str(db_path) in named(dialog, "Welcome text").text()  # where the records will be kept
        when_dialog_opens(create_admin)
        click(dialog, "Create the clinic database")

    def create_admin(dialog: QWidget) -> None:
        assert isinstance(dialog, FirstAdministratorDialog)
        values = {"User name": "admin", "Full name": "Ada Admin"}
        type_into(qtbot, dialog, values | {"Password": PASSWORD, "Repeat password": PASSWORD})
        when_dialog_opens(sign_in)
        click(dialog, "Create administrator")

    def sign_in(dialog: QWidget) -> None:
        assert isinstance(dialog, SignInDialog)
        assert dialog.form.username.text() == "admin"  # filled in from the account just made
        qtbot.keyClicks(dialog.form.password, PASSWORD)
        qtbot.keyClick(dialog.form.password, Qt.Key.Key_Return)

    when_dialog_opens(welcome)
    assert app_module.run_gui(path=db_path, url=None, user=None) == 0
    assert windows_at_exec == [("admin", True)]
    assert audit_actions(db_path)[:2] == ["user.create", "user.sign_in"]


def test_first_start_can_explore_the_demo_instead(
    qtbot: QtBot,
    db_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    windows_at_exec: list[tuple[str, bool]],
) -> None:
    demo_file = tmp_path / "demo" / "demo.sqlite"
    demo_file.parent.mkdir()
    monkeypatch.setattr(locations, "demo_database_path", lambda: demo_file)

    def explore(dialog: QWidget) -> None:
        assert isinstance(dialog, WelcomeDialog)
        when_dialog_opens(sign_in_as_demo_nurse)
        click(dialog, "Explore the demo")

    def sign_in_as_demo_nurse(dialog: QWidget) -> None:
        assert isinstance(dialog, SignInDialog)
        assert "password demo-password" in dialog.form.hint.text()
        qtbot.keyClicks(dialog.form.username, "rn.lee")
        qtbot.keyClicks(dialog.form.password, DEMO_PASSWORD)
        qtbot.keyClick(dialog.form.password, Qt.Key.Key_Return)

    when_dialog_opens(explore)
    assert app_module.run_gui(path=db_path, url=None, user=None) == 0
    assert windows_at_exec == [("rn.lee", True)]
    assert demo_file.exists()


def test_a_cancelled_sign_in_opens_no_window(
    qtbot: QtBot, db_path: Path, service: ClinicalService, windows_at_exec: list[tuple[str, bool]]
) -> None:
    service.create_first_administrator("admin", "Ada Admin", PASSWORD)

    def cancel(dialog: QWidget) -> None:
        assert isinstance(dialog, SignInDialog)  # an administrator exists: no first-start dialog
        assert dialog.form.username.text() == "rn.lee"  # --user only fills in the name
        dialog.reject()

    when_dialog_opens(cancel)
    assert app_module.run_gui(path=db_path, url=None, user="rn.lee") == 0
    assert windows_at_exec == []


def test_the_saved_theme_is_shown_from_the_first_dialog_on(
    qtbot: QtBot, db_path: Path, service: ClinicalService, windows_at_exec: list[tuple[str, bool]]
) -> None:
    service.create_first_administrator("admin", "Ada Admin", PASSWORD)
    locations.save_preference(theme.PREFERENCE_KEY, theme.DARK)  # chosen in View > Theme last time
    seen: list[str] = []

    def sign_in(dialog: QWidget) -> None:
        seen.append(theme.scheme(dialog.palette()))
        dialog.reject()

    when_dialog_opens(sign_in)
    try:
        assert app_module.run_gui(path=db_path, url=None, user="admin") == 0
    finally:
        theme.apply_theme(theme.SYSTEM)
    assert seen == [theme.DARK]


def test_a_damaged_database_is_refused_before_anything_opens_it(
    qtbot: QtBot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    windows_at_exec: list[tuple[str, bool]],
) -> None:
    """The start-up integrity check runs beside the loading of the windows' code: its answer still
    comes before the database is opened, and a damaged file is left exactly as it was."""
    from tests.services.test_backups import corrupt_index

    ward = tmp_path / "ward.sqlite"
    service = locations.connect(path=ward)
    service.create_first_administrator("admin", "Ada Admin", PASSWORD)
    service.db.dispose()
    corrupt_index(ward)  # only the full integrity check notices this one
    before = ward.read_bytes()
    shown: list[str] = []
    monkeypatch.setattr(app_module.QMessageBox, "critical", lambda _parent, _title, text: shown.append(text))
    assert app_module.run_gui(path=ward, url=None, user=None) == 2
    assert len(shown) == 1 and f"The database file {ward} is damaged" in shown[0]
    assert windows_at_exec == []
    assert ward.read_bytes() == before
