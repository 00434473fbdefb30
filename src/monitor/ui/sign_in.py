"""Signing in (issue 5): the sign-in form and dialog, the first administrator, and password changes.

The service decides everything (credentials, lockout, policy); these widgets only collect the input
and say the service's answer in words. Password fields are cleared after every attempt so a password
never stays on a shared bedside screen.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QFont, QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from monitor.domain.accounts import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, check_password_policy
from monitor.services.clinical import ClinicalService
from monitor.services.errors import SignInRefused
from monitor.services.views import UserView
from monitor.ui.errors import describe
from monitor.ui.form_fields import plain
from monitor.ui.theme import set_tone

__all__ = [
    "MAX_NAME",
    "ChangePasswordDialog",
    "FirstAdministratorDialog",
    "NewAccountDialog",
    "PasswordPair",
    "SignInDialog",
    "SignInForm",
    "add_row",
    "dialog_buttons",
    "message_label",
    "password_edit",
    "policy_label",
]

# The colour the admission dialog uses for what stops the user.
_ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
MAX_NAME = 200


def _tr(text: str) -> str:
    return QCoreApplication.translate("sign_in", text)


# --- pieces the account dialogs share (users_dialog uses them too) -----------------------------------


def password_edit(parent: QWidget) -> QLineEdit:
    edit = QLineEdit(parent)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setMaxLength(MAX_PASSWORD_LENGTH)
    return edit


def add_row(form: QFormLayout, parent: QWidget, label_text: str, widget: QWidget) -> QLabel:
    """A labelled row whose field has the label's text as its accessible name."""
    label = QLabel(label_text, parent)
    label.setBuddy(widget)
    widget.setAccessibleName(plain(label_text))
    form.addRow(label, widget)
    return label


def message_label(parent: QWidget, name: str = "Message") -> QLabel:
    """Where refusals and problems are said, two lines high so the buttons do not jump."""
    label = QLabel(parent)
    label.setWordWrap(True)
    label.setAccessibleName(name)
    set_tone(label, "warning")
    label.setMinimumHeight(2 * label.fontMetrics().lineSpacing())
    return label


def policy_label(parent: QWidget) -> QLabel:
    label = QLabel(
        _tr(
            "A password needs at least {0} characters. A few unrelated words are easy to remember "
            "and hard to guess."
        ).format(MIN_PASSWORD_LENGTH),
        parent,
    )
    label.setWordWrap(True)
    return label


def dialog_buttons(dialog: QDialog, action: str) -> tuple[QDialogButtonBox, QPushButton]:
    """The action (default, named as shown) and Cancel; the caller connects the action."""
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, dialog)
    ok = buttons.addButton(action, QDialogButtonBox.ButtonRole.AcceptRole)
    ok.setAccessibleName(plain(action))
    ok.setDefault(True)
    cancel = buttons.button(QDialogButtonBox.StandardButton.Cancel)
    cancel.setAccessibleName("Cancel")
    cancel.setAutoDefault(False)
    buttons.rejected.connect(dialog.reject)
    return buttons, ok


class PasswordPair:
    """A new password typed twice; says what is wrong with it while it is being typed."""

    def __init__(self, parent: QWidget, form: QFormLayout, label: str, repeat_label: str) -> None:
        self.first = password_edit(parent)
        self.second = password_edit(parent)
        add_row(form, parent, label, self.first)
        add_row(form, parent, repeat_label, self.second)

    def touched(self) -> bool:
        return bool(self.first.text() or self.second.text())

    def problem(self, username: str) -> str | None:
        """None when the password may be used; otherwise what to fix, the policy before the repeat."""
        password = self.first.text()
        if not password:
            return _tr("Type a password of at least {0} characters.").format(MIN_PASSWORD_LENGTH)
        policy = check_password_policy(password, username)
        if policy is not None:
            return policy
        if not self.second.text():
            return _tr("Type the password again to confirm it.")
        if self.second.text() != password:
            return _tr("The two passwords do not match.")
        return None

    def value(self) -> str:
        return self.first.text()

    def clear(self) -> None:
        self.first.clear()
        self.second.clear()


# --- signing in -----------------------------------------------------------------------------------


class SignInForm(QWidget):
    """User name and password; emits `signed_in(UserView)` once the service accepts them.

    An account with a temporary password changes it (ChangePasswordDialog) before the signal is
    emitted; cancelling that change cancels the sign-in.
    """

    signed_in = Signal(object)

    def __init__(
        self,
        service: ClinicalService,
        title: str = "Sign in to the withdrawal monitor",
        parent: QWidget | None = None,
        *,
        hint: str = "",
    ) -> None:
        super().__init__(parent)
        self.service = service
        layout = QVBoxLayout(self)
        self.title = QLabel(title, self)
        self.title.setWordWrap(True)
        font = QFont(self.title.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.title.setFont(font)
        layout.addWidget(self.title)

        form = QFormLayout()
        self.username = QLineEdit(self)
        self.username.setMaxLength(MAX_NAME)
        add_row(form, self, self.tr("&User name"), self.username)
        self.password = password_edit(self)
        add_row(form, self, self.tr("&Password"), self.password)
        layout.addLayout(form)

        self.message = message_label(self, "Sign-in message")
        layout.addWidget(self.message)
        self.hint = QLabel(hint, self)
        self.hint.setWordWrap(True)
        self.hint.setVisible(bool(hint))
        layout.addWidget(self.hint)

        self.sign_in_button = QPushButton(self.tr("Sign in"), self)
        self.sign_in_button.setAccessibleName("Sign in")
        self.sign_in_button.setDefault(True)
        self.sign_in_button.clicked.connect(self.sign_in)
        layout.addWidget(self.sign_in_button, 0, Qt.AlignmentFlag.AlignRight)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Enter in either field reaches here (a line edit passes it on). Accepting it here keeps a
        # surrounding dialog from also pressing its default button: one Enter, one attempt.
        if event.key() in _ENTER_KEYS:
            event.accept()
            self.sign_in()
            return
        super().keyPressEvent(event)

    def prefill(self, username: str) -> None:
        """Put a user name in (e.g. of the locked session) and go to the password, or to the name."""
        self.username.setText(username)
        self.password.clear()
        (self.password if username else self.username).setFocus(Qt.FocusReason.OtherFocusReason)

    def clear(self) -> None:
        self.username.clear()
        self.password.clear()
        self.message.clear()
        self.username.setFocus(Qt.FocusReason.OtherFocusReason)

    def set_message(self, text: str) -> None:
        self.message.setText(text)

    def sign_in(self) -> None:
        username = self.username.text().strip()
        password = self.password.text()
        if not username:
            self._refuse(self.tr("Enter your user name."), self.username)
            return
        if not password:
            self._refuse(self.tr("Enter your password."), self.password)
            return
        # Never left on screen, whatever the answer.
        self.password.clear()
        try:
            view = self.service.sign_in(username, password)
        except Exception as exc:  # a refusal or a database problem, said in words
            self._refuse(describe(exc), self.password)
            return
        if view.must_change_password:
            changed = self._change_password(view)
            if changed is None:
                self._refuse(
                    self.tr("Sign-in cancelled: the temporary password must be changed first."),
                    self.password,
                )
                return
            view = changed
        self.message.clear()
        self.signed_in.emit(view)

    def _change_password(self, view: UserView) -> UserView | None:
        """The required change after a reset or for a new account; None if the user cancelled it."""
        dialog = ChangePasswordDialog(
            self.service,
            view.username,
            self.tr(
                "Your password was set by an administrator. Choose a new one that only you know "
                "before you go on."
            ),
            self,
        )
        try:
            return dialog.user if dialog.exec() == QDialog.DialogCode.Accepted else None
        finally:
            dialog.deleteLater()

    def _refuse(self, text: str, focus: QLineEdit) -> None:
        self.message.setText(text)
        focus.setFocus(Qt.FocusReason.OtherFocusReason)


class SignInDialog(QDialog):
    """The sign-in form in a dialog: accepted with `user` set once someone has signed in."""

    def __init__(self, service: ClinicalService, parent: QWidget | None = None, *, hint: str = "") -> None:
        super().__init__(parent)
        self.user: UserView | None = None
        self.setWindowTitle(self.tr("Withdrawal monitor – sign in"))
        self.setMinimumWidth(380)
        layout = QVBoxLayout(self)
        self.form = SignInForm(service, self.tr("Sign in to the withdrawal monitor"), self, hint=hint)
        self.form.signed_in.connect(self._signed_in)
        layout.addWidget(self.form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName("Cancel")
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.form.prefill("")

    def _signed_in(self, view: UserView) -> None:
        self.user = view
        self.accept()


# --- the first administrator ------------------------------------------------------------------------


class NewAccountDialog(QDialog):
    """What the first-administrator and the add-user dialogs share: an intro, user name and full name,
    any rows the caller adds (a role), a password typed twice under the policy, the message line and the
    create button (enabled once everything is valid). Subclasses implement create_account()."""

    def _build(
        self,
        title: str,
        intro_text: str,
        password_labels: tuple[str, str],
        create_text: str,
        extra_rows: Callable[[QFormLayout], object] | None = None,
    ) -> None:
        self.user: UserView | None = None
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        intro = QLabel(intro_text, self)
        intro.setWordWrap(True)
        layout.addWidget(intro)

        form = QFormLayout()
        self.username = QLineEdit(self)
        self.username.setMaxLength(MAX_NAME)
        add_row(form, self, self.tr("User name"), self.username)
        self.full_name = QLineEdit(self)
        self.full_name.setMaxLength(MAX_NAME)
        add_row(form, self, self.tr("Full name"), self.full_name)
        if extra_rows is not None:
            extra_rows(form)
        self.passwords = PasswordPair(self, form, *password_labels)
        layout.addLayout(form)
        layout.addWidget(policy_label(self))
        self.message = message_label(self)
        layout.addWidget(self.message)

        buttons, self.create_button = dialog_buttons(self, create_text)
        self.create_button.clicked.connect(self.create_account)
        layout.addWidget(buttons)

        for edit in (self.username, self.passwords.first, self.passwords.second):
            edit.textChanged.connect(self._update)
        self._update()

    def _update(self) -> None:
        username = self.username.text().strip()
        problem = self.passwords.problem(username)
        if not username and problem is None:
            problem = self.tr("Enter a user name.")
        self.message.setText(problem if problem and self.passwords.touched() else "")
        self.create_button.setEnabled(bool(username) and problem is None)

    def create_account(self) -> None:
        raise NotImplementedError


class FirstAdministratorDialog(NewAccountDialog):
    """Shown while the database has no administrator: creates one; accepted with `user` set."""

    def __init__(self, service: ClinicalService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self._build(
            self.tr("Withdrawal monitor – first administrator"),
            self.tr(
                "This database has no administrator yet. Create the first administrator account: "
                "it manages users and settings; it does not chart."
            ),
            (self.tr("Password"), self.tr("Repeat password")),
            self.tr("Create administrator"),
        )

    def create_account(self) -> None:
        if not self.create_button.isEnabled():
            return
        try:
            self.user = self.service.create_first_administrator(
                self.username.text(), self.full_name.text(), self.passwords.value()
            )
        except Exception as exc:  # taken name, policy, another workstation was first: stay open
            self.message.setText(describe(exc))
            return
        self.passwords.clear()
        self.accept()


# --- changing a password ----------------------------------------------------------------------------


class ChangePasswordDialog(QDialog):
    """A user changes their own password: required after a reset, or by choice."""

    def __init__(
        self, service: ClinicalService, username: str, reason_text: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.username = username
        self.user: UserView | None = None
        self.setWindowTitle(self.tr("Change password"))
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        self.reason = QLabel(reason_text, self)
        self.reason.setWordWrap(True)
        self.reason.setVisible(bool(reason_text))
        layout.addWidget(self.reason)

        form = QFormLayout()
        form.addRow(self.tr("User name"), QLabel(username, self))
        self.current = password_edit(self)
        add_row(form, self, self.tr("Current password"), self.current)
        self.passwords = PasswordPair(self, form, self.tr("New password"), self.tr("Repeat new password"))
        layout.addLayout(form)
        layout.addWidget(policy_label(self))
        self.message = message_label(self)
        layout.addWidget(self.message)

        buttons, self.change_button = dialog_buttons(self, self.tr("Change password"))
        self.change_button.clicked.connect(self.change)
        layout.addWidget(buttons)

        for edit in (self.current, self.passwords.first, self.passwords.second):
            edit.textChanged.connect(self._update)
        self._update()
        self.current.setFocus(Qt.FocusReason.OtherFocusReason)

    def _problem(self) -> str | None:
        problem = self.passwords.problem(self.username)
        if problem is None and self.passwords.value() == self.current.text():
            problem = self.tr("The new password must differ from the current one.")
        if problem is None and not self.current.text():
            problem = self.tr("Enter your current password.")
        return problem

    def _update(self) -> None:
        problem = self._problem()
        self.message.setText(problem if problem and self.passwords.touched() else "")
        self.change_button.setEnabled(problem is None)

    def change(self) -> None:
        if not self.change_button.isEnabled():
            return
        try:
            self.user = self.service.change_password(
                self.username, self.current.text(), self.passwords.value()
            )
        except Exception as exc:  # wrong current password, locked, policy: stay open and say why
            if isinstance(exc, SignInRefused):
                self.current.clear()  # before the message: clearing re-checks the fields
                self.current.setFocus(Qt.FocusReason.OtherFocusReason)
            self.message.setText(describe(exc))
            return
        self.current.clear()
        self.passwords.clear()
        self.accept()
