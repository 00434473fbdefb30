"""Pieces the dose and vital-signs dialogs share: fields with a message beside (under) them, the
charting time, the status line with Save and Cancel, Enter to save, and growing to fit the messages.

Texts go through the dialog's own tr(), so they translate as before.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from monitor.domain import charting
from monitor.services.views import EpisodeDetail
from monitor.ui import timefmt
from monitor.ui.typed_fields import TimeEdit

MAX_REASON = 2000
# The service's ValidationError.field for the reason a record is charted late.
F_LATE = "Reason for late charting"
_ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


def plain(text: str) -> str:
    """A label's visible text: mnemonic ampersands and ellipses removed ("&&" stays a literal "&")."""
    return text.replace("&&", "\0").replace("&", "").replace("…", "").replace("\0", "&")


def patient_header(dialog: QDialog, episode: EpisodeDetail) -> QLabel:
    """The patient's name, MRN and bed in bold."""
    header = QLabel(
        dialog.tr("{name}    MRN {mrn}    Bed {bed}").format(
            name=episode.name, mrn=episode.mrn, bed=episode.bed or dialog.tr("none")
        ),
        dialog,
    )
    font = QFont(header.font())
    font.setBold(True)
    header.setFont(font)
    return header


def add_field(
    dialog: QDialog,
    form: QFormLayout,
    label_text: str,
    widget: QWidget,
    *,
    container: QWidget | None = None,
    name: str | None = None,
) -> QLabel:
    """A labelled row with a message row under it (hidden while empty); returns the message label."""
    label = QLabel(label_text, dialog)
    label.setBuddy(widget)
    widget.setAccessibleName(name or plain(label_text))
    form.addRow(label, container or widget)
    message = QLabel(dialog)
    message.setWordWrap(True)
    message.setAccessibleName(dialog.tr("{0} message").format(name or plain(label_text)))
    form.addRow("", message)
    form.setRowVisible(message, False)
    return message


def set_message(form: QFormLayout, label: QLabel, text: str) -> None:
    """Show a message under its field, or hide its row while there is none."""
    label.setText(text)
    form.setRowVisible(label, bool(text))


def late_reason_shown(verdict: charting.TimeVerdict, service_errors: dict[str, str]) -> bool:
    """The late-charting reason is asked for when the time is more than 1 h ago, or the service refused
    the record for it."""
    return verdict is charting.TimeVerdict.LATE or F_LATE in service_errors


def clinical_time_edit(dialog: QDialog, now: datetime) -> TimeEdit:
    """A date and time field set to now (to the minute)."""
    edit = TimeEdit(dialog)
    edit.setDateTime(timefmt.to_qdatetime(now.astimezone(UTC).replace(second=0, microsecond=0)))
    return edit


def text_edit(dialog: QDialog, placeholder: str) -> QLineEdit:
    """A one-line free text field (a reason or a note)."""
    edit = QLineEdit(dialog)
    edit.setMaxLength(MAX_REASON)
    edit.setPlaceholderText(placeholder)
    return edit


def status_label(dialog: QDialog) -> QLabel:
    """The status line above the buttons, two lines high so a message does not move them."""
    label = QLabel(dialog)
    label.setWordWrap(True)
    label.setAccessibleName(dialog.tr("Status"))
    label.setMinimumHeight(2 * label.fontMetrics().lineSpacing())
    return label


def save_cancel_buttons(dialog: QDialog) -> tuple[QHBoxLayout, QPushButton, QPushButton]:
    """Save (the default button) and Cancel at the right."""
    buttons = QHBoxLayout()
    buttons.addStretch(1)
    save = QPushButton(dialog.tr("&Save"), dialog)
    save.setAccessibleName(plain(save.text()))
    save.setDefault(True)
    cancel = QPushButton(dialog.tr("Cancel"), dialog)
    cancel.setAccessibleName(plain(cancel.text()))
    cancel.setAutoDefault(False)
    buttons.addWidget(save)
    buttons.addWidget(cancel)
    return buttons, save, cancel


def show_blockers(dialog: QDialog, status: QLabel, blockers: list[tuple[QWidget, str]]) -> bool:
    """Say what stops saving and go to the first such field; False when nothing does."""
    if not blockers:
        return False
    status.setText(dialog.tr("Not saved yet. {0}").format(" ".join(message for _w, message in blockers)))
    blockers[0][0].setFocus(Qt.FocusReason.OtherFocusReason)
    return True


def enter_saves(
    dialog: QDialog, event: QKeyEvent, save_button: QPushButton, save: Callable[[], None]
) -> bool:
    """Enter (without Ctrl) saves, or clicks the focused button if that is another one; True when the
    key was handled (accepted), False to leave it to QDialog."""
    if event.key() not in _ENTER_KEYS or event.modifiers() & Qt.KeyboardModifier.ControlModifier:
        return False
    focus = dialog.focusWidget()
    if isinstance(focus, QAbstractButton) and focus is not save_button:
        focus.click()  # Enter on a focused Cancel means Cancel
    else:
        save()
    event.accept()
    return True


def grow_to_fit(dialog: QDialog) -> None:
    """Rows and messages appear and go: grow to show them, never shrink under the nurse."""
    layout = dialog.layout()
    if layout is None:  # pragma: no cover - the dialogs set their layout when built
        return
    layout.invalidate()
    layout.activate()
    width = max(dialog.width(), dialog.sizeHint().width())
    height = dialog.sizeHint().height()
    if layout.hasHeightForWidth():
        # Wrapped text (messages, warnings) needs the height for the width it actually gets.
        height = max(height, layout.totalHeightForWidth(width))
    hint = QSize(width, height).expandedTo(dialog.size())
    screen = dialog.screen()
    if screen is not None:
        hint = hint.boundedTo(screen.availableGeometry().size())
    if hint != dialog.size():
        dialog.resize(hint)
