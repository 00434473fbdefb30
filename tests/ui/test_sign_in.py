"""Signing in as people at the workstation do it: the first administrator on an empty database, the
sign-in form with its refusals and lockout, and the password change a temporary password forces."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDialog,
    QLabel,
    QLineEdit,
    QTableView,
    QWidget,
)
from pytestqt.qtbot import QtBot

from monitor.services.clinical import ClinicalService
from monitor.services.errors import SignInRefused
from monitor.services.views import UserView
from monitor.ui.form_fields import plain
from monitor.ui.sign_in import ChangePasswordDialog, FirstAdministratorDialog, SignInDialog, SignInForm

ADMIN_PW = "admin passphrase 1"
TEMP_PW = "temporary pass 42"
NURSE_PW = "kim's own secret 7"
WRONG = "Wrong user name or password."


@pytest.fixture
def admin(service: ClinicalService) -> str:
    return service.create_first_administrator("admin", "Ada Admin", ADMIN_PW).username


@pytest.fixture
def kim(service: ClinicalService, admin: str) -> str:
    """A nurse whose temporary password is still to be changed."""
    return service.create_user(admin, "rn.kim", "Kim Nurse", "nurse", TEMP_PW).username


@pytest.fixture
def form(qtbot: QtBot, service: ClinicalService) -> SignInForm:
    widget = SignInForm(service, "Sign in to the withdrawal monitor")
    qtbot.addWidget(widget)
    widget.show()
    return widget


def named(root: QWidget, name: str) -> QWidget:
    found = [w for w in root.findChildren(QWidget) if w.accessibleName() == name]
    assert len(found) == 1, f"{len(found)} widgets named {name!r}"
    return found[0]


def type_into(qtbot: QtBot, root: QWidget, values: dict[str, str]) -> None:
    for name, text in values.items():
        field = named(root, name)
        assert isinstance(field, QLineEdit)
        field.clear()
        qtbot.keyClicks(field, text)


def click(root: QWidget, name: str) -> None:
    button = named(root, name)
    assert isinstance(button, QAbstractButton)
    assert button.isEnabled(), f"{name!r} is disabled"
    button.click()


def when_dialog_opens(act: Callable[[QWidget], None]) -> None:
    """Act on the next modal dialog as soon as it is shown (it blocks in exec())."""

    def attempt() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(20, attempt)
            return
        act(dialog)

    QTimer.singleShot(0, attempt)


def sign_in_with(qtbot: QtBot, form: SignInForm, username: str, password: str) -> list[UserView]:
    """Type and click Sign in; what the form emitted."""
    emitted: list[UserView] = []
    form.signed_in.connect(emitted.append)
    form.username.clear()
    qtbot.keyClicks(form.username, username)
    qtbot.keyClicks(form.password, password)
    form.sign_in_button.click()
    form.signed_in.disconnect(emitted.append)
    return emitted


# --- the first administrator ---------------------------------------------------------------------


@pytest.fixture
def first_admin(qtbot: QtBot, service: ClinicalService) -> FirstAdministratorDialog:
    dialog = FirstAdministratorDialog(service)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_the_first_administrator_is_created_and_can_sign_in(
    first_admin: FirstAdministratorDialog, service: ClinicalService, qtbot: QtBot
) -> None:
    texts = [label.text() for label in first_admin.findChildren(QLabel)]
    assert (
        "This database has no administrator yet. Create the first administrator account: "
        "it manages users and settings; it does not chart."
    ) in texts
    assert any("at least 12 characters" in text for text in texts)
    assert not named(first_admin, "Create administrator").isEnabled()

    type_into(
        qtbot,
        first_admin,
        {"User name": "admin", "Full name": "Ada Admin", "Password": ADMIN_PW, "Repeat password": ADMIN_PW},
    )
    assert first_admin.message.text() == ""
    click(first_admin, "Create administrator")

    assert first_admin.result() == QDialog.DialogCode.Accepted
    assert first_admin.user is not None and first_admin.user.role == "administrator"
    assert first_admin.user.display_name == "Ada Admin"
    assert not service.needs_first_administrator()
    assert service.sign_in("admin", ADMIN_PW).username == "admin"
    assert named(first_admin, "Password").text() == ""  # not left in memory on screen


def test_different_repeated_password_disables_create_and_says_so(
    first_admin: FirstAdministratorDialog, qtbot: QtBot
) -> None:
    type_into(
        qtbot,
        first_admin,
        {"User name": "admin", "Password": ADMIN_PW, "Repeat password": ADMIN_PW + "x"},
    )
    assert not first_admin.create_button.isEnabled()
    assert first_admin.message.text() == "The two passwords do not match."


def test_a_short_password_shows_the_policy(
    first_admin: FirstAdministratorDialog, service: ClinicalService, qtbot: QtBot
) -> None:
    type_into(qtbot, first_admin, {"User name": "admin", "Password": "short", "Repeat password": "short"})
    assert first_admin.message.text() == "The password must be at least 12 characters long."
    assert not first_admin.create_button.isEnabled()
    first_admin.create_account()  # Enter on a disabled default button does nothing either
    assert service.needs_first_administrator()


def test_a_refused_first_administrator_keeps_the_dialog_open_with_the_reason(
    first_admin: FirstAdministratorDialog, service: ClinicalService, qtbot: QtBot
) -> None:
    service.ensure_user("rn.lee", "Robin Lee", "nurse")
    type_into(
        qtbot,
        first_admin,
        {"User name": "rn.lee", "Password": ADMIN_PW, "Repeat password": ADMIN_PW},
    )
    click(first_admin, "Create administrator")
    assert first_admin.isVisible() and first_admin.user is None
    assert first_admin.message.text() == "The user name 'rn.lee' is taken; choose another."

    # Another workstation created one meanwhile.
    service.create_first_administrator("admin", "Ada Admin", ADMIN_PW)
    type_into(qtbot, first_admin, {"User name": "admin2"})
    click(first_admin, "Create administrator")
    assert first_admin.isVisible()
    assert first_admin.message.text() == "An administrator account already exists; sign in with it."


# --- the sign-in form ----------------------------------------------------------------------------


def test_the_right_password_signs_in_and_emits_the_account(
    form: SignInForm, service: ClinicalService, admin: str, qtbot: QtBot
) -> None:
    assert form.title.text() == "Sign in to the withdrawal monitor"
    assert not form.hint.isVisibleTo(form)
    with qtbot.waitSignal(form.signed_in, timeout=1000) as signal:
        qtbot.keyClicks(form.username, "admin")
        qtbot.keyClicks(form.password, ADMIN_PW)
        form.sign_in_button.click()
    view = signal.args[0]
    assert isinstance(view, UserView)
    assert view.username == "admin" and view.role == "administrator"
    assert form.password.text() == ""
    assert form.message.text() == ""


def test_a_wrong_password_is_refused_and_only_the_password_is_cleared(
    form: SignInForm, admin: str, qtbot: QtBot
) -> None:
    emitted = sign_in_with(qtbot, form, "admin", "not the password")
    assert emitted == []
    assert form.message.text() == WRONG
    assert form.password.text() == ""
    assert form.username.text() == "admin"
    assert form.focusWidget() is form.password


def test_empty_fields_are_asked_for_without_asking_the_service(
    form: SignInForm, service: ClinicalService, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "sign_in", lambda *_: pytest.fail("the service was asked"))
    form.sign_in_button.click()
    assert form.message.text() == "Enter your user name."
    assert form.focusWidget() is form.username
    qtbot.keyClicks(form.username, "admin")
    form.sign_in_button.click()
    assert form.message.text() == "Enter your password."
    assert form.focusWidget() is form.password


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(
    form: SignInForm, admin: str, qtbot: QtBot
) -> None:
    for _ in range(5):
        assert sign_in_with(qtbot, form, "admin", "guessing wrong") == []
        assert form.message.text() == WRONG
    assert sign_in_with(qtbot, form, "admin", ADMIN_PW) == []
    assert "locked" in form.message.text()
    assert "until 10:05" in form.message.text()  # the service's zone is Europe/Berlin: 09:05 UTC
    assert form.username.text() == "admin" and form.password.text() == ""


def test_enter_in_the_password_field_signs_in_once(
    qtbot: QtBot, service: ClinicalService, admin: str
) -> None:
    dialog = SignInDialog(service)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.windowTitle() == "Withdrawal monitor – sign in"
    emitted: list[UserView] = []
    dialog.form.signed_in.connect(emitted.append)
    qtbot.keyClicks(dialog.form.username, "admin")
    qtbot.keyClicks(dialog.form.password, "a wrong guess")
    qtbot.keyClick(dialog.form.password, Qt.Key.Key_Return)
    # Had the dialog's default button taken the Enter too, "Enter your password." would hide this.
    assert dialog.form.message.text() == WRONG
    qtbot.keyClicks(dialog.form.password, ADMIN_PW)
    qtbot.keyClick(dialog.form.password, Qt.Key.Key_Return)
    assert len(emitted) == 1
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.user is not None and dialog.user.username == "admin"


def test_enter_in_the_user_name_field_signs_in_too(form: SignInForm, admin: str, qtbot: QtBot) -> None:
    emitted: list[UserView] = []
    form.signed_in.connect(emitted.append)
    qtbot.keyClicks(form.password, ADMIN_PW)
    qtbot.keyClicks(form.username, "admin")
    qtbot.keyClick(form.username, Qt.Key.Key_Enter)
    assert [view.username for view in emitted] == ["admin"]


def test_cancel_closes_the_sign_in_dialog_without_a_user(qtbot: QtBot, service: ClinicalService) -> None:
    dialog = SignInDialog(service, hint="Demo accounts: rn.demo / demo password 1")
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.form.hint.isVisible()
    assert dialog.form.hint.text() == "Demo accounts: rn.demo / demo password 1"
    click(dialog, "Cancel")
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert dialog.user is None


def test_prefill_and_clear(form: SignInForm, admin: str, qtbot: QtBot) -> None:
    sign_in_with(qtbot, form, "admin", "wrong one")
    form.prefill("rn.kim")
    assert form.username.text() == "rn.kim" and form.password.text() == ""
    assert form.focusWidget() is form.password
    form.prefill("")
    assert form.focusWidget() is form.username
    qtbot.keyClicks(form.password, "something")
    form.clear()
    assert (form.username.text(), form.password.text(), form.message.text()) == ("", "", "")


# --- the forced password change ------------------------------------------------------------------


def test_a_temporary_password_leads_through_the_change_dialog_before_signing_in(
    form: SignInForm, service: ClinicalService, kim: str, qtbot: QtBot
) -> None:
    seen: dict[str, str] = {}

    def change(dialog: QWidget) -> None:
        assert isinstance(dialog, ChangePasswordDialog)
        seen["reason"] = dialog.reason.text()
        type_into(
            qtbot,
            dialog,
            {"Current password": TEMP_PW, "New password": NURSE_PW, "Repeat new password": NURSE_PW},
        )
        click(dialog, "Change password")

    when_dialog_opens(change)
    emitted = sign_in_with(qtbot, form, kim, TEMP_PW)

    assert "set by an administrator" in seen["reason"]
    assert [(v.username, v.must_change_password) for v in emitted] == [("rn.kim", False)]
    assert not service.sign_in(kim, NURSE_PW).must_change_password
    with pytest.raises(SignInRefused):
        service.sign_in(kim, TEMP_PW)


def test_cancelling_the_password_change_cancels_the_sign_in(
    form: SignInForm, service: ClinicalService, kim: str, qtbot: QtBot
) -> None:
    when_dialog_opens(lambda dialog: click(dialog, "Cancel"))
    assert sign_in_with(qtbot, form, kim, TEMP_PW) == []
    assert form.message.text() == "Sign-in cancelled: the temporary password must be changed first."
    assert service.sign_in(kim, TEMP_PW).must_change_password  # nothing changed


def test_the_change_step_can_be_stood_in_for(
    form: SignInForm, kim: str, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def decline(view: UserView) -> None:
        asked.append(view.username)

    monkeypatch.setattr(form, "_change_password", decline)
    assert sign_in_with(qtbot, form, kim, TEMP_PW) == []
    assert asked == ["rn.kim"]
    assert "must be changed first" in form.message.text()


@pytest.fixture
def change_dialog(qtbot: QtBot, service: ClinicalService, kim: str) -> ChangePasswordDialog:
    dialog = ChangePasswordDialog(service, kim, "Choose your own password.")
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_the_change_password_dialog_changes_the_password(
    change_dialog: ChangePasswordDialog, service: ClinicalService, kim: str, qtbot: QtBot
) -> None:
    assert not change_dialog.change_button.isEnabled()
    type_into(
        qtbot,
        change_dialog,
        {"Current password": TEMP_PW, "New password": NURSE_PW, "Repeat new password": NURSE_PW},
    )
    click(change_dialog, "Change password")
    assert change_dialog.result() == QDialog.DialogCode.Accepted
    assert change_dialog.user is not None and not change_dialog.user.must_change_password
    assert service.sign_in(kim, NURSE_PW).username == kim


def test_a_wrong_current_password_keeps_the_change_dialog_open(
    change_dialog: ChangePasswordDialog, service: ClinicalService, kim: str, qtbot: QtBot
) -> None:
    type_into(
        qtbot,
        change_dialog,
        {"Current password": "not it at all", "New password": NURSE_PW, "Repeat new password": NURSE_PW},
    )
    click(change_dialog, "Change password")
    assert change_dialog.isVisible() and change_dialog.user is None
    assert change_dialog.message.text() == WRONG
    assert change_dialog.current.text() == ""
    assert change_dialog.focusWidget() is change_dialog.current
    assert service.sign_in(kim, TEMP_PW).must_change_password


def test_the_change_dialog_says_what_is_wrong_while_typing(
    change_dialog: ChangePasswordDialog, qtbot: QtBot
) -> None:
    type_into(qtbot, change_dialog, {"Current password": TEMP_PW, "New password": "rn.kim"})
    assert "at least 12" in change_dialog.message.text()
    type_into(qtbot, change_dialog, {"New password": TEMP_PW, "Repeat new password": TEMP_PW})
    assert change_dialog.message.text() == "The new password must differ from the current one."
    type_into(qtbot, change_dialog, {"New password": NURSE_PW, "Repeat new password": NURSE_PW[:-1]})
    assert change_dialog.message.text() == "The two passwords do not match."
    assert not change_dialog.change_button.isEnabled()


# --- accessibility -------------------------------------------------------------------------------


def inputs(root: QWidget) -> list[QWidget]:
    kinds = (QAbstractButton, QLineEdit, QComboBox, QAbstractSpinBox, QTableView)
    return [
        w
        for w in root.findChildren(QWidget)
        if isinstance(w, kinds) and w.isVisibleTo(root) and not w.objectName().startswith("qt_")
    ]


def assert_accessible(root: QWidget) -> None:
    """Every input and button is named; a button's name starts with what it shows; a field's name is
    its label's text."""
    buddies = {label.buddy(): plain(label.text()) for label in root.findChildren(QLabel) if label.buddy()}
    for widget in inputs(root):
        name = widget.accessibleName()
        assert name, f"{type(widget).__name__} in {type(root).__name__} has no accessible name"
        if isinstance(widget, QAbstractButton):
            assert name.startswith(plain(widget.text())), name
        elif isinstance(widget, QLineEdit | QComboBox | QAbstractSpinBox):
            assert buddies.get(widget) == name, f"{name!r} has no label with its text"


def test_every_input_and_button_has_an_accessible_name(
    qtbot: QtBot, service: ClinicalService, kim: str
) -> None:
    dialogs: list[QWidget] = [
        SignInDialog(service, hint="a hint"),
        FirstAdministratorDialog(service),
        ChangePasswordDialog(service, kim, "Why"),
    ]
    for dialog in dialogs:
        qtbot.addWidget(dialog)
        dialog.show()
        assert_accessible(dialog)
    sign_in = dialogs[0]
    assert isinstance(sign_in, SignInDialog)
    assert sign_in.form.message.accessibleName() == "Sign-in message"
    for name in ("User name", "Password", "Sign in", "Cancel"):
        named(sign_in, name)
    for name in ("User name", "Full name", "Password", "Repeat password", "Create administrator"):
        named(dialogs[1], name)
    for name in ("Current password", "New password", "Repeat new password", "Change password"):
        named(dialogs[2], name)
    assert named(sign_in, "Password").echoMode() == QLineEdit.EchoMode.Password
