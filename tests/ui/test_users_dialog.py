"""User accounts as an administrator manages them: the list with each account's status, adding,
resetting and deactivating accounts, the workstation lock, and what a nurse sees instead."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget
from pytestqt.qtbot import QtBot

from monitor.services.clinical import ClinicalService
from monitor.services.errors import SignInRefused
from monitor.ui.dialogs import ReasonDialog
from monitor.ui.timefmt import local
from monitor.ui.users_dialog import (
    USER_COLUMNS,
    AddUserDialog,
    ResetPasswordDialog,
    UsersDialog,
    role_label,
)
from tests.conftest import T0, FakeClock
from tests.ui.test_sign_in import assert_accessible, click, named, type_into, when_dialog_opens

ADMIN_PW = "admin passphrase 1"
TEMP_PW = "temporary pass 42"
NURSE_PW = "kim's own secret 7"
NEW_TEMP_PW = "another temporary 8"


@pytest.fixture
def admin(service: ClinicalService) -> str:
    return service.create_first_administrator("admin", "Ada Admin", ADMIN_PW).username


@pytest.fixture
def kim(service: ClinicalService, admin: str) -> str:
    """A nurse with her own password (the temporary one already changed)."""
    service.create_user(admin, "rn.kim", "Kim Nurse", "nurse", TEMP_PW)
    service.change_password("rn.kim", TEMP_PW, NURSE_PW)
    return "rn.kim"


def open_users(qtbot: QtBot, service: ClinicalService, actor: str) -> UsersDialog:
    dialog = UsersDialog(service, actor)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


@pytest.fixture
def users(qtbot: QtBot, service: ClinicalService, admin: str, kim: str) -> UsersDialog:
    return open_users(qtbot, service, admin)


def rows(dialog: UsersDialog) -> list[list[str]]:
    model = dialog.model
    return [
        [str(model.index(r, c).data() or "") for c in range(model.columnCount())]
        for r in range(model.rowCount())
    ]


def status_of(dialog: UsersDialog, username: str) -> str:
    return next(row[3] for row in rows(dialog) if row[0] == username)


def select(dialog: UsersDialog, username: str) -> None:
    row = next(i for i, cells in enumerate(rows(dialog)) if cells[0] == username)
    dialog.table.setCurrentIndex(dialog.model.index(row, 0))


def reasons(dialog: UsersDialog, monkeypatch: pytest.MonkeyPatch, answer: str | None) -> list[str]:
    """Stand in for the reason prompt; returns the prompts it was shown."""
    asked: list[str] = []

    def ask(title: str, prompt: str) -> str | None:
        asked.append(f"{title}: {prompt}")
        return answer

    monkeypatch.setattr(dialog, "_ask_reason", ask)
    return asked


def test_the_list_shows_every_account_with_its_status(
    qtbot: QtBot, service: ClinicalService, admin: str, kim: str, clock: FakeClock
) -> None:
    for _ in range(5):
        with pytest.raises(SignInRefused):
            service.sign_in(kim, "a wrong guess")
    service.create_user(admin, "dr.new", "Noor New", "physician+administrator", TEMP_PW)
    service.ensure_user("rn.lee", "Robin Lee", "nurse")  # from before sign-in existed
    service.create_user(admin, "rn.gone", "Gone Nurse", "nurse", TEMP_PW)
    service.deactivate_user(admin, "rn.gone", "Left the clinic")

    dialog = open_users(qtbot, service, admin)

    headers = [dialog.model.headerData(c, Qt.Orientation.Horizontal) for c in range(len(USER_COLUMNS))]
    assert headers == ["User name", "Name", "Role", "Status"]
    locked_until = local(T0 + timedelta(minutes=5)).split()[-1]  # HH:MM on this workstation's clock
    assert rows(dialog) == [
        ["admin", "Ada Admin", "Administrator", "Active"],
        ["dr.new", "Noor New", "Physician + administrator", "Must change password"],
        ["rn.kim", "Kim Nurse", "Nurse", f"Locked until {locked_until}"],
        ["rn.lee", "Robin Lee", "Nurse", "No password yet"],
        ["rn.gone", "Gone Nurse", "Nurse", "Deactivated"],
    ]
    # Nothing selected: nothing to reset or deactivate.
    assert not dialog.reset_button.isEnabled() and not dialog.deactivate_button.isEnabled()

    clock.advance(minutes=6)  # the lock has run out
    dialog.reload()
    assert status_of(dialog, kim) == "Active"


def test_add_user_creates_a_nurse_who_must_change_the_password(
    users: UsersDialog, service: ClinicalService, qtbot: QtBot
) -> None:
    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, AddUserDialog)
        type_into(
            qtbot,
            dialog,
            {
                "User name": "rn.sam",
                "Full name": "Sam Nurse",
                "Temporary password": TEMP_PW,
                "Repeat temporary password": TEMP_PW,
            },
        )
        dialog.role.setCurrentIndex(dialog.role.findData("nurse"))
        click(dialog, "Create user")

    when_dialog_opens(fill)
    click(users, "Add user")

    assert users.changed
    assert ["rn.sam", "Sam Nurse", "Nurse", "Must change password"] in rows(users)
    assert users.selected_user() is not None and users.selected_user().username == "rn.sam"
    assert "rn.sam was created" in users.message.text()
    view = service.sign_in("rn.sam", TEMP_PW)
    assert view.role == "nurse" and view.must_change_password


def test_the_add_user_dialog_offers_readable_roles_and_says_why_it_refuses(
    qtbot: QtBot, service: ClinicalService, admin: str, kim: str
) -> None:
    dialog = AddUserDialog(service, admin)
    qtbot.addWidget(dialog)
    dialog.show()
    offered = [(dialog.role.itemText(i), dialog.role.itemData(i)) for i in range(dialog.role.count())]
    assert offered == [
        ("Nurse", "nurse"),
        ("Physician", "physician"),
        ("Administrator", "administrator"),
        ("Physician + administrator", "physician+administrator"),
        ("Nurse + administrator", "nurse+administrator"),
    ]
    type_into(qtbot, dialog, {"User name": kim, "Temporary password": "too short"})
    assert dialog.message.text() == "The password must be at least 12 characters long."
    assert not dialog.create_button.isEnabled()
    type_into(qtbot, dialog, {"Temporary password": TEMP_PW, "Repeat temporary password": TEMP_PW})
    click(dialog, "Create user")
    assert dialog.isVisible() and dialog.user is None
    assert "already exists" in dialog.message.text()


def test_reset_password_sets_a_temporary_one_and_lifts_the_lock(
    users: UsersDialog, service: ClinicalService, kim: str, qtbot: QtBot
) -> None:
    for _ in range(5):
        with pytest.raises(SignInRefused):
            service.sign_in(kim, "a wrong guess")
    users.reload()
    assert status_of(users, kim).startswith("Locked until")

    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, ResetPasswordDialog)
        assert dialog.windowTitle() == "Reset password of rn.kim"
        assert any(
            "must change it at their next sign-in" in label.text() for label in dialog.findChildren(QLabel)
        )
        type_into(
            qtbot,
            dialog,
            {"Temporary password": NEW_TEMP_PW, "Repeat temporary password": NEW_TEMP_PW},
        )
        click(dialog, "Reset password")

    select(users, kim)
    when_dialog_opens(fill)
    click(users, "Reset password")

    assert users.changed
    assert status_of(users, kim) == "Must change password"
    assert "must change it at the next sign-in" in users.message.text()
    assert service.sign_in(kim, NEW_TEMP_PW).must_change_password


def test_deactivate_asks_for_a_reason_and_the_account_can_no_longer_sign_in(
    users: UsersDialog, service: ClinicalService, kim: str, qtbot: QtBot
) -> None:
    def give_reason(dialog: QWidget) -> None:
        assert isinstance(dialog, ReasonDialog)
        type_into(qtbot, dialog, {"Reason": "Left the clinic"})
        click(dialog, "OK")

    select(users, kim)
    assert users.deactivate_button.isEnabled()
    when_dialog_opens(give_reason)
    click(users, "Deactivate")

    assert users.changed
    assert status_of(users, kim) == "Deactivated"
    assert users.selected_user() is not None and users.selected_user().username == kim
    assert not users.deactivate_button.isEnabled()  # already inactive
    assert users.reset_button.isEnabled()
    with pytest.raises(SignInRefused) as refused:
        service.sign_in(kim, NURSE_PW)
    assert "deactivated" in refused.value.message


def test_cancelling_the_reason_deactivates_nothing(
    users: UsersDialog, kim: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = reasons(users, monkeypatch, None)
    select(users, kim)
    click(users, "Deactivate")
    assert len(asked) == 1 and "rn.kim (Kim Nurse) will no longer be able to sign in" in asked[0]
    assert status_of(users, kim) == "Active"
    assert not users.changed


def test_the_last_administrator_cannot_be_deactivated(
    users: UsersDialog, service: ClinicalService, admin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reasons(users, monkeypatch, "Tidying up")
    select(users, admin)
    click(users, "Deactivate")
    assert users.message.text() == "This is the last administrator account; create another one first."
    assert status_of(users, admin) == "Active"
    assert not users.changed
    assert service.sign_in(admin, ADMIN_PW).active


def test_a_nurse_sees_the_refusal_instead_of_the_accounts(
    qtbot: QtBot, service: ClinicalService, kim: str
) -> None:
    dialog = open_users(qtbot, service, kim)
    assert (
        dialog.message.text()
        == "rn.kim (nurse) may not manage user accounts: that needs the administrator role."
    )
    assert rows(dialog) == []
    for name in (
        "Add user",
        "Reset password",
        "Deactivate",
        "Apply idle lock",
        "Lock after (minutes)",
        "Apply backup interval",
        "Back up every (hours)",
    ):
        assert not named(dialog, name).isEnabled(), name
    assert named(dialog, "Close").isEnabled()


def test_the_idle_lock_applies_five_minutes_and_keeps_to_its_range(
    users: UsersDialog, service: ClinicalService, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = reasons(users, monkeypatch, "Busy corridor past the workstation")
    spin = users.idle_spin
    assert spin.accessibleName() == "Lock after (minutes)"
    assert spin.value() == 10
    assert not users.apply_button.isEnabled()  # nothing to apply yet
    spin.setValue(0)
    assert spin.value() == 1
    spin.setValue(61)
    assert spin.value() == 60

    spin.setValue(5)
    click(users, "Apply idle lock")

    assert service.idle_lock_minutes() == 5
    assert "after 5 idle minutes (now 10)" in asked[0]
    assert users.message.text() == "Workstations now lock after 5 idle minutes."
    assert users.changed
    assert spin.value() == 5 and not users.apply_button.isEnabled()


def test_the_backup_interval_applies_and_keeps_to_its_range(
    users: UsersDialog, service: ClinicalService, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = reasons(users, monkeypatch, "Night shift writes little")
    spin = users.backup_spin
    assert spin.accessibleName() == "Back up every (hours)"
    assert spin.value() == 4 and not users.backup_apply.isEnabled()
    spin.setValue(0)
    assert spin.value() == 1
    spin.setValue(25)
    assert spin.value() == 24
    spin.setValue(8)
    click(users, "Apply backup interval")
    assert service.backup_interval_hours() == 8
    assert "every 8 hours (now 4)" in asked[0]
    assert users.message.text() == "Automatic backups now every 8 hours."
    assert not users.backup_apply.isEnabled()


def test_a_refused_idle_lock_change_is_said_in_words(
    qtbot: QtBot, service: ClinicalService, admin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    service.create_user(admin, "it.sam", "Sam IT", "administrator", TEMP_PW)
    service.change_password("it.sam", TEMP_PW, ADMIN_PW)
    dialog = open_users(qtbot, service, "it.sam")
    service.deactivate_user(admin, "it.sam", "Left the clinic")  # meanwhile, at another workstation
    reasons(dialog, monkeypatch, "Busy corridor")
    dialog.idle_spin.setValue(20)
    click(dialog, "Apply idle lock")
    assert dialog.message.text() == "The account 'it.sam' is deactivated and cannot record."
    assert service.idle_lock_minutes() == 10
    assert not dialog.changed


def test_every_input_and_button_has_an_accessible_name(
    users: UsersDialog, qtbot: QtBot, service: ClinicalService, admin: str, kim: str
) -> None:
    select(users, kim)
    add = AddUserDialog(service, admin)
    reset = ResetPasswordDialog(service, admin, kim)
    for dialog in (add, reset):
        qtbot.addWidget(dialog)
        dialog.show()
    for root in (users, add, reset):
        assert_accessible(root)
    for name in ("User accounts", "Add user", "Reset password", "Deactivate", "Close", "Message"):
        named(users, name)
    assert named(users, "Apply idle lock").text() == "Apply"
    for name in ("User name", "Full name", "Role", "Temporary password", "Repeat temporary password"):
        named(add, name)
    named(add, "Create user")
    for name in ("Temporary password", "Repeat temporary password", "Reset password"):
        named(reset, name)
    assert isinstance(named(users, "Close"), QAbstractButton)
    assert role_label("nurse+administrator") == "Nurse + administrator"
