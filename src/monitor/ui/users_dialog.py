"""User accounts and the workstation lock, for administrators (issue 5).

Every change goes through the service, which checks the actor's role and audits it; the table is
reloaded from the service after each one. A refusal is said in the message line, never as a traceback.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from monitor.domain import accounts
from monitor.services.backups import (
    BACKUP_INTERVAL_DEFAULT_HOURS,
    BACKUP_INTERVAL_MAX_HOURS,
    BACKUP_INTERVAL_MIN_HOURS,
)
from monitor.services.clinical import ClinicalService
from monitor.services.views import UserView
from monitor.ui.dialogs import ReasonDialog
from monitor.ui.errors import describe
from monitor.ui.form_fields import plain
from monitor.ui.sign_in import (
    NewAccountDialog,
    PasswordPair,
    add_row,
    dialog_buttons,
    message_label,
    policy_label,
)
from monitor.ui.typed_fields import SpinBox

__all__ = [
    "ROLE_CHOICES",
    "USER_COLUMNS",
    "AddUserDialog",
    "ResetPasswordDialog",
    "UsersDialog",
    "account_status",
    "role_label",
]

USER_COLUMNS = ["User name", "Name", "Role", "Status"]
_USERNAME_ROLE = Qt.ItemDataRole.UserRole + 1
# The roles an administrator hands out; a clinician who also administers holds both in one account.
ROLE_CHOICES: tuple[str, ...] = (
    accounts.NURSE,
    accounts.PHYSICIAN,
    accounts.ADMINISTRATOR,
    accounts.ROLE_SEPARATOR.join((accounts.PHYSICIAN, accounts.ADMINISTRATOR)),
    accounts.ROLE_SEPARATOR.join((accounts.NURSE, accounts.ADMINISTRATOR)),
)


def role_label(role: str) -> str:
    """A role string as people read it: "physician+administrator" → "Physician + administrator"."""
    text = " + ".join(part.strip() for part in role.split(accounts.ROLE_SEPARATOR))
    return text[:1].upper() + text[1:]


def _clock_time(dt: datetime) -> str:
    """A stored UTC time as this workstation's clock shows it (timefmt.local without the date)."""
    return dt.astimezone().strftime("%H:%M")


def account_status(view: UserView, now: datetime) -> str:
    """What stops the account from working, most pressing first; "Active" when nothing does."""
    if not view.active:
        return "Deactivated"
    if view.locked_until is not None and view.locked_until > now:
        return f"Locked until {_clock_time(view.locked_until)}"
    if not view.has_password:
        return "No password yet"
    if view.must_change_password:
        return "Must change password"
    return "Active"


def _button(parent: QWidget, text: str, name: str | None = None) -> QPushButton:
    button = QPushButton(text, parent)
    button.setAccessibleName(name or plain(text))
    button.setAutoDefault(False)
    return button


class UsersDialog(QDialog):
    """The accounts list with add, reset and deactivate, and the idle lock of every workstation."""

    def __init__(self, service: ClinicalService, actor: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.actor = actor
        self.users: list[UserView] = []
        self.changed = False
        self.idle_minutes = accounts.IDLE_LOCK_DEFAULT_MINUTES
        # False when the actor may not see the accounts: every action is then disabled.
        self._loaded = False
        self.setWindowTitle(self.tr("User accounts"))
        self.resize(760, 560)
        layout = QVBoxLayout(self)
        intro = QLabel(
            self.tr(
                "Accounts are deactivated, never deleted: their records keep their author. "
                "New and reset accounts must change the temporary password at the next sign-in."
            ),
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)

        self.model = QStandardItemModel(0, len(USER_COLUMNS), self)
        self.model.setHorizontalHeaderLabels([self.tr(c) for c in USER_COLUMNS])
        self.table = QTableView(self)
        self.table.setAccessibleName(self.tr("User accounts"))
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        layout.addWidget(self.table, 1)

        row = QHBoxLayout()
        self.add_button = _button(self, self.tr("Add user…"))
        self.reset_button = _button(self, self.tr("Reset password…"))
        self.deactivate_button = _button(self, self.tr("Deactivate…"))
        for button in (self.add_button, self.reset_button, self.deactivate_button):
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)

        box = QGroupBox(self.tr("Every workstation: idle lock and automatic backups"), self)
        form = QFormLayout(box)
        self.idle_spin = SpinBox(box)
        self.idle_spin.setRange(accounts.IDLE_LOCK_MIN_MINUTES, accounts.IDLE_LOCK_MAX_MINUTES)
        self.apply_button = _button(box, self.tr("Apply"), "Apply idle lock")
        spin_row = QHBoxLayout()
        spin_row.addWidget(self.idle_spin)
        spin_row.addWidget(self.apply_button)
        spin_row.addStretch(1)
        label = QLabel(self.tr("Lock after (minutes)"), box)
        label.setBuddy(self.idle_spin)
        self.idle_spin.setAccessibleName(plain(label.text()))
        form.addRow(label, spin_row)
        explain = QLabel(
            self.tr("Every workstation on this database locks after this many minutes without use."), box
        )
        explain.setWordWrap(True)
        form.addRow(explain)
        # Automatic backups (SQLite): how many hours apart; each made by whichever workstation is running.
        self.backup_spin = SpinBox(box)
        self.backup_spin.setRange(int(BACKUP_INTERVAL_MIN_HOURS), int(BACKUP_INTERVAL_MAX_HOURS))
        self.backup_apply = _button(box, self.tr("Apply"), "Apply backup interval")
        backup_row = QHBoxLayout()
        backup_row.addWidget(self.backup_spin)
        backup_row.addWidget(self.backup_apply)
        backup_row.addStretch(1)
        backup_label = QLabel(self.tr("Back up every (hours)"), box)
        backup_label.setBuddy(self.backup_spin)
        self.backup_spin.setAccessibleName(plain(backup_label.text()))
        form.addRow(backup_label, backup_row)
        layout.addWidget(box)
        self.backup_hours = int(BACKUP_INTERVAL_DEFAULT_HOURS)

        self.message = message_label(self)
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setAccessibleName("Close")
        close.setAutoDefault(False)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._update_buttons())
        self.add_button.clicked.connect(self.add_user)
        self.reset_button.clicked.connect(self.reset_password)
        self.deactivate_button.clicked.connect(self.deactivate)
        self.idle_spin.valueChanged.connect(lambda _v: self._update_buttons())
        self.apply_button.clicked.connect(self.apply_idle_lock)
        self.backup_spin.valueChanged.connect(lambda _v: self._update_buttons())
        self.backup_apply.clicked.connect(self.apply_backup_interval)
        self.reload()

    # -- data

    def reload(self, select_username: str | None = None) -> None:
        """Fill the table and the idle lock from the service; a refusal leaves them empty and says why."""
        if select_username is None and (current := self.selected_user()) is not None:
            select_username = current.username
        try:
            self.users = self.service.users(self.actor)
            self.idle_minutes = self.service.idle_lock_minutes()
            self.backup_hours = round(self.service.backup_interval_hours())
            self._loaded = True
        except Exception as exc:  # e.g. a nurse opened it: NotPermitted, in words
            self.users = []
            self.idle_minutes = accounts.IDLE_LOCK_DEFAULT_MINUTES
            self._loaded = False
            self.message.setText(describe(exc))
        now = self.service.clock.now()
        self.model.removeRows(0, self.model.rowCount())
        for view in self.users:
            cells = [view.username, view.display_name, role_label(view.role), account_status(view, now)]
            items = [QStandardItem(text) for text in cells]
            for item in items:
                item.setData(view.username, _USERNAME_ROLE)
            self.model.appendRow(items)
        target = next((i for i, v in enumerate(self.users) if v.username == select_username), None)
        if target is not None:
            self.table.setCurrentIndex(self.model.index(target, 0))
        for spin, value in ((self.idle_spin, self.idle_minutes), (self.backup_spin, self.backup_hours)):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)
        self._update_buttons()

    def selected_user(self) -> UserView | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        username = index.data(_USERNAME_ROLE)
        return next((v for v in self.users if v.username == username), None)

    def _update_buttons(self) -> None:
        selected = self.selected_user()
        self.add_button.setEnabled(self._loaded)
        self.reset_button.setEnabled(self._loaded and selected is not None)
        self.deactivate_button.setEnabled(self._loaded and selected is not None and selected.active)
        self.idle_spin.setEnabled(self._loaded)
        self.apply_button.setEnabled(self._loaded and self.idle_spin.value() != self.idle_minutes)
        self.backup_spin.setEnabled(self._loaded)
        self.backup_apply.setEnabled(self._loaded and self.backup_spin.value() != self.backup_hours)

    def _done(self, text: str, select_username: str | None = None) -> None:
        self.changed = True
        self.reload(select_username)
        self.message.setText(text)

    # -- actions

    def add_user(self) -> None:
        dialog = AddUserDialog(self.service, self.actor, self)
        if self._open(dialog) and dialog.user is not None:
            self._done(
                self.tr(
                    "{0} was created and must change the temporary password at the first sign-in."
                ).format(dialog.user.username),
                dialog.user.username,
            )

    def reset_password(self) -> None:
        selected = self.selected_user()
        if selected is None:
            return
        dialog = ResetPasswordDialog(self.service, self.actor, selected.username, self)
        if self._open(dialog):
            self._done(
                self.tr("The password of {0} was reset; they must change it at the next sign-in.").format(
                    selected.username
                )
            )

    def deactivate(self) -> None:
        selected = self.selected_user()
        if selected is None:
            return
        reason = self._ask_reason(
            self.tr("Deactivate {0}").format(selected.username),
            self.tr(
                "{0} ({1}) will no longer be able to sign in. Their records keep their name. "
                "Why is the account deactivated?"
            ).format(selected.username, selected.display_name),
        )
        if reason is None:
            return
        try:
            self.service.deactivate_user(self.actor, selected.username, reason)
        except Exception as exc:  # the last administrator, or the actor may not: in words
            self.message.setText(describe(exc))
            return
        self._done(self.tr("{0} is deactivated.").format(selected.username))

    def apply_idle_lock(self) -> None:
        minutes = self.idle_spin.value()
        reason = self._ask_reason(
            self.tr("Change the workstation lock"),
            self.tr(
                "Every workstation on this database will lock after {0} idle minutes (now {1}). "
                "Why is it changed?"
            ).format(minutes, self.idle_minutes),
        )
        if reason is None:
            return
        try:
            self.service.set_idle_lock_minutes(self.actor, minutes, reason)
        except Exception as exc:
            self.message.setText(describe(exc))
            return
        self._done(self.tr("Workstations now lock after {0} idle minutes.").format(minutes))

    def apply_backup_interval(self) -> None:
        hours = self.backup_spin.value()
        reason = self._ask_reason(
            self.tr("Change the backup interval"),
            self.tr("Automatic backups every {0} hours (now {1}). Why is it changed?").format(
                hours, self.backup_hours
            ),
        )
        if reason is None:
            return
        try:
            self.service.set_backup_interval_hours(self.actor, hours, reason)
        except Exception as exc:
            self.message.setText(describe(exc))
            return
        self._done(self.tr("Automatic backups now every {0} hours.").format(hours))

    # -- modal steps, one method each so tests can stand in for them

    def _ask_reason(self, title: str, prompt: str) -> str | None:
        dialog = ReasonDialog(title, prompt, parent=self)
        try:
            return dialog.value() if dialog.exec() == QDialog.DialogCode.Accepted else None
        finally:
            dialog.deleteLater()

    def _open(self, dialog: QDialog) -> bool:
        try:
            return dialog.exec() == QDialog.DialogCode.Accepted
        finally:
            dialog.deleteLater()


class AddUserDialog(NewAccountDialog):
    """A new account with a temporary password; accepted with `user` set."""

    def __init__(self, service: ClinicalService, actor: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.actor = actor
        self.role = QComboBox(self)
        for role in ROLE_CHOICES:
            self.role.addItem(self.tr(role_label(role)), role)
        self._build(
            self.tr("Add user"),
            self.tr(
                "Give the temporary password to the person in private: they must change it at their "
                "first sign-in."
            ),
            (self.tr("Temporary password"), self.tr("Repeat temporary password")),
            self.tr("Create user"),
            extra_rows=lambda form: add_row(form, self, self.tr("Role"), self.role),
        )

    def create_account(self) -> None:
        if not self.create_button.isEnabled():
            return
        try:
            self.user = self.service.create_user(
                self.actor,
                self.username.text(),
                self.full_name.text(),
                str(self.role.currentData()),
                self.passwords.value(),
            )
        except Exception as exc:  # a taken name, the policy, the actor's rights: stay open
            self.message.setText(describe(exc))
            return
        self.passwords.clear()
        self.accept()


class ResetPasswordDialog(QDialog):
    """An administrator sets a temporary password (also lifts a lockout); accepted with `user` set."""

    def __init__(
        self, service: ClinicalService, actor: str, username: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.actor = actor
        self.username = username
        self.user: UserView | None = None
        self.setWindowTitle(self.tr("Reset password of {0}").format(username))
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        intro = QLabel(
            self.tr(
                "Set a temporary password for {0}. They must change it at their next sign-in. "
                "A reset also lifts a lockout."
            ).format(username),
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.passwords = PasswordPair(
            self, form, self.tr("Temporary password"), self.tr("Repeat temporary password")
        )
        layout.addLayout(form)
        layout.addWidget(policy_label(self))
        self.message = message_label(self)
        layout.addWidget(self.message)

        buttons, self.reset_button = dialog_buttons(self, self.tr("Reset password"))
        self.reset_button.clicked.connect(self.reset)
        layout.addWidget(buttons)

        for edit in (self.passwords.first, self.passwords.second):
            edit.textChanged.connect(self._update)
        self._update()

    def _update(self) -> None:
        problem = self.passwords.problem(self.username)
        self.message.setText(problem if problem and self.passwords.touched() else "")
        self.reset_button.setEnabled(problem is None)

    def reset(self) -> None:
        if not self.reset_button.isEnabled():
            return
        try:
            self.user = self.service.reset_password(self.actor, self.username, self.passwords.value())
        except Exception as exc:
            self.message.setText(describe(exc))
            return
        self.passwords.clear()
        self.accept()
