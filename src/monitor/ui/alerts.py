"""The alert workflow on screen: an always-visible bar, the list across all patients, acknowledge and
snooze dialogs, and the sound (issue 3; design.md UI; domain.md section 6).

Priority is never shown by colour alone: every alert carries its word and its shape as well
(▲ high, ◆ medium, ● low). The bar uses strong backgrounds with their own contrasting text, so it reads
the same in light and dark palettes; with nothing to act on it falls back to the palette's own colours.

Sound: an alert the service says should sound (`AlertView.sound`) beeps on every alert tick and again
every few seconds while it sounds; an escalated one beeps twice (louder). "Silence" silences the
sounding alerts through the service (audited) until they escalate. Sound cannot be switched off.

The widgets keep nothing the database cannot rebuild: they show what the service last returned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QCoreApplication, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QKeyEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from monitor.services.clinical import ClinicalService
from monitor.services.errors import ValidationError
from monitor.services.views import AlertView
from monitor.ui.errors import describe, show_error
from monitor.ui.lists import ListTable
from monitor.ui.timefmt import local
from monitor.ui.typed_fields import SpinBox

__all__ = [
    "PRIORITY_SHAPES",
    "AcknowledgeDialog",
    "AlertBar",
    "AlertPanel",
    "SnoozeDialog",
    "alert_line",
    "priority_colours",
    "priority_text",
    "snooze_cap_minutes",
]

PRIORITY_SHAPES: dict[str, str] = {"high": "▲", "medium": "◆", "low": "●"}
_PRIORITY_WORDS: dict[str, str] = {"high": "HIGH", "medium": "MEDIUM", "low": "LOW"}
# Strong backgrounds with their own text colour: legible on a light or a dark desktop alike.
_PRIORITY_COLOURS: dict[str, tuple[str, str]] = {
    "high": ("#B3261E", "#FFFFFF"),
    "medium": ("#F2A900", "#000000"),
    "low": ("#1F5F99", "#FFFFFF"),
}
_ESCALATED_COLOURS = ("#7A0010", "#FFFFFF")
# Snooze caps when the protocol settings cannot be read (protocol.py defaults).
_DEFAULT_CAPS = {"high": 15, "other": 60}
_MAX_REASON = 2000


def _tr(text: str) -> str:
    return QCoreApplication.translate("alerts", text)


def _plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("…", "").replace("\0", "&")


def priority_text(priority: str, *, title_case: bool = False) -> str:
    """ "▲ HIGH", "◆ MEDIUM", "● LOW" (or "▲ High" ...): the shape and the word, never colour alone."""
    word = _tr(_PRIORITY_WORDS.get(priority, priority.upper()))
    if title_case:
        word = word[:1].upper() + word[1:].lower()
    return f"{PRIORITY_SHAPES.get(priority, '■')} {word}"


def priority_colours(priority: str, escalated: bool = False) -> tuple[str, str]:
    """(background, text) for a priority: a strong colour with a contrasting text colour."""
    if escalated:
        return _ESCALATED_COLOURS
    return _PRIORITY_COLOURS.get(priority, _PRIORITY_COLOURS["low"])


def alert_line(alert: AlertView) -> str:
    """ "▲ HIGH – Alex Example (3B): COWS 4 -> 17 (+13) 50 min after naltrexone 25 mg PO at 09:05"."""
    who = f"{alert.patient} ({alert.bed})" if alert.bed else alert.patient
    escalated = _tr("ESCALATED – for the physician") + " – " if alert.for_physician else ""
    return f"{priority_text(alert.priority)} – {escalated}{who}: {alert.message}"


def state_text(alert: AlertView) -> str:
    """The alert's state in words, with who acted and why where there is something to say."""
    if alert.state == "acknowledged":
        text = _tr("Acknowledged by {who} at {when}").format(
            who=alert.acknowledged_by, when=local(alert.acknowledged_at)
        )
        if alert.acknowledge_reason:
            text += f": {alert.acknowledge_reason}"
        return text
    if alert.state == "snoozed":
        return _tr("Snoozed until {when}").format(when=local(alert.snoozed_until))
    if alert.state == "resolved":
        return _tr("Resolved {when}").format(when=local(alert.resolved_at))
    if alert.state == "escalated" or alert.for_physician:
        return _tr("ESCALATED – for the physician")
    return _tr("Active – needs action")


def sort_for_action(alerts: Sequence[AlertView]) -> list[AlertView]:
    """Highest priority first; within it escalated first, then newest."""
    return sorted(
        alerts,
        key=lambda a: (a.priority_rank, a.for_physician, a.raised_at, a.id),
        reverse=True,
    )


def snooze_cap_minutes(service: ClinicalService, priority: str) -> int:
    """The longest snooze the clinic's protocol allows for this priority."""
    key = "high_snooze_cap_minutes" if priority == "high" else "other_snooze_cap_minutes"
    fallback = _DEFAULT_CAPS["high" if priority == "high" else "other"]
    try:
        settings = service.protocol_settings()
    except Exception:  # the dialog still works with the default cap; the service checks again
        return fallback
    for setting in settings:
        if setting.key == key:
            return max(1, int(setting.value))
    return fallback


def _named(widget: QWidget, name: str) -> None:
    widget.setAccessibleName(name)


def _button(text: str, parent: QWidget | None = None) -> QPushButton:
    button = QPushButton(text, parent)
    button.setAccessibleName(_plain(text))
    return button


# --- dialogs ---------------------------------------------------------------------------------------


class _AlertDialog(QDialog):
    """Shared frame: the alert described at the top, a form, a message line, OK and Cancel."""

    def __init__(self, title: str, alert: AlertView, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.alert = alert
        self.result_view: AlertView | None = None
        self.setWindowTitle(title)
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        header = QLabel(alert_line(alert), self)
        header.setWordWrap(True)
        header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = QFont(header.font())
        font.setBold(True)
        header.setFont(font)
        _named(header, self.tr("Alert"))
        layout.addWidget(header)
        title_label = QLabel(
            self.tr("{title} · raised {when}").format(title=alert.title, when=local(alert.raised_at)), self
        )
        title_label.setWordWrap(True)
        layout.addWidget(title_label)
        self.form = QFormLayout()
        layout.addLayout(self.form)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        _named(self.message, self.tr("Message"))
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._try_accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.cancel_button = cancel

    def _set_ok_text(self, text: str) -> None:
        self.ok_button.setText(text)
        _named(self.ok_button, _plain(text))
        _named(self.cancel_button, _plain(self.cancel_button.text()))

    def _try_accept(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not self.ok_button.isEnabled():
            event.accept()  # Enter does nothing until the form allows it; the message says why
            return
        super().keyPressEvent(event)


class AcknowledgeDialog(_AlertDialog):
    """Acknowledge one alert; a reason is required for a high-priority alert (OK disabled until typed)."""

    def __init__(
        self, service: ClinicalService, actor: str, alert: AlertView, parent: QWidget | None = None
    ) -> None:
        super().__init__(self.tr("Acknowledge alert – {0}").format(alert.patient), alert, parent)
        self.service = service
        self.actor = actor
        self.reason_required = alert.priority == "high"
        label = QLabel(self.tr("&Reason"), self)
        self.reason = QLineEdit(self)
        self.reason.setMaxLength(_MAX_REASON)
        _named(self.reason, _plain(label.text()))
        self.reason.setPlaceholderText(
            self.tr("Required for a high-priority alert: what you did or decided")
            if self.reason_required
            else self.tr("Optional")
        )
        label.setBuddy(self.reason)
        self.form.addRow(label, self.reason)
        self._set_ok_text(self.tr("Acknowledge"))
        self.reason.textChanged.connect(self._changed)
        self._changed()
        self.reason.setFocus()

    def _changed(self) -> None:
        missing = self.reason_required and not self.reason.text().strip()
        self.ok_button.setEnabled(not missing)
        self.message.setText(
            self.tr("A high-priority alert needs a reason to be acknowledged.") if missing else ""
        )

    def _try_accept(self) -> None:
        if not self.ok_button.isEnabled():
            return
        try:
            self.result_view = self.service.acknowledge_alert(
                self.actor, self.alert.id, self.reason.text().strip()
            )
        except Exception as exc:  # words on screen, the dialog and its reason stay
            self.message.setText(self.tr("Not acknowledged. {0}").format(describe(exc)))
            if isinstance(exc, ValidationError) and exc.field == "Reason":
                self.reason.setFocus()
            return
        self.accept()


class SnoozeDialog(_AlertDialog):
    """Snooze one alert for some minutes, capped by priority (high 15 min, others 60 by default)."""

    def __init__(
        self, service: ClinicalService, actor: str, alert: AlertView, parent: QWidget | None = None
    ) -> None:
        super().__init__(self.tr("Snooze alert – {0}").format(alert.patient), alert, parent)
        self.service = service
        self.actor = actor
        self.cap = snooze_cap_minutes(service, alert.priority)
        label = QLabel(self.tr("&Snooze (minutes)"), self)
        self.minutes = SpinBox(self)
        self.minutes.setRange(1, self.cap)
        self.minutes.setValue(min(self.cap, 15 if alert.priority != "high" else 5))
        self.minutes.setSuffix(self.tr(" min"))
        _named(self.minutes, _plain(label.text()))
        label.setBuddy(self.minutes)
        self.form.addRow(label, self.minutes)
        self.limit = QLabel(
            self.tr("At most {cap} min for a {priority}-priority alert (the clinic's protocol).").format(
                cap=self.cap, priority=alert.priority
            ),
            self,
        )
        self.limit.setWordWrap(True)
        self.form.addRow(self.limit)
        self._set_ok_text(self.tr("Snooze"))
        self.minutes.valueChanged.connect(lambda _v: self.message.clear())
        self.minutes.refused.connect(self.message.setText)
        self.minutes.setFocus()

    def _try_accept(self) -> None:
        try:
            self.result_view = self.service.snooze_alert(self.actor, self.alert.id, self.minutes.value())
        except Exception as exc:
            self.message.setText(self.tr("Not snoozed. {0}").format(describe(exc)))
            self.minutes.setFocus()
            return
        self.accept()


# --- the bar ---------------------------------------------------------------------------------------


class AlertBar(QFrame):
    """Always visible at the top of the main window: what needs action now, and the alarm sound."""

    changed = Signal()  # an alert was acknowledged, snoozed or silenced here
    show_all_requested = Signal()

    #: How often a sounding alarm repeats its beep, in ms (a test may shorten it or call sound_tick()).
    sound_interval_ms = 4000
    #: The second beep of an escalated ("louder") alarm follows the first after this many ms.
    echo_ms = 350

    def __init__(self, service: ClinicalService, actor: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.actor = actor
        self.setObjectName("alertBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName(self.tr("Alert bar"))
        self.alerts: list[AlertView] = []
        #: What makes a sound; QApplication.beep by default. Tests replace it to count beeps.
        self.beeper: Callable[[], None] = QApplication.beep
        self.beeps = 0  # beeps played so far (tests and diagnostics)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        text_column = QVBoxLayout()
        text_column.setSpacing(0)
        self.summary = QLabel(self)
        self.summary.setAccessibleName(self.tr("Alerts needing action"))
        self.top_label = QLabel(self)
        self.top_label.setWordWrap(True)
        self.top_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.top_label.setAccessibleName(self.tr("Top alert"))
        self.top_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bold = QFont(self.top_label.font())
        bold.setBold(True)
        bold.setPointSizeF(max(bold.pointSizeF(), 9.0) * 1.1)
        self.top_label.setFont(bold)
        text_column.addWidget(self.summary)
        text_column.addWidget(self.top_label)
        layout.addLayout(text_column, 1)

        self.acknowledge_button = _button(self.tr("&Acknowledge…"), self)
        self.snooze_button = _button(self.tr("Snoo&ze…"), self)
        self.silence_button = _button(self.tr("Si&lence"), self)
        self.show_all_button = _button(self.tr("Show all"), self)
        for button in (
            self.acknowledge_button,
            self.snooze_button,
            self.silence_button,
            self.show_all_button,
        ):
            button.setAutoDefault(False)
            layout.addWidget(button)
        self.acknowledge_button.clicked.connect(lambda: self.acknowledge())
        self.snooze_button.clicked.connect(lambda: self.snooze())
        self.silence_button.clicked.connect(self.silence)
        self.show_all_button.clicked.connect(self.show_all_requested)

        self._sound_timer = QTimer(self)
        self._sound_timer.setInterval(self.sound_interval_ms)
        self._sound_timer.timeout.connect(self.sound_tick)
        self._echo = QTimer(self)
        self._echo.setSingleShot(True)
        self._echo.setInterval(self.echo_ms)
        self._echo.timeout.connect(self._beep)
        self._paint_state(None)
        self._update()

    # -- state

    def needing_action(self) -> list[AlertView]:
        """Alerts nobody has dealt with, most urgent first."""
        return sort_for_action([a for a in self.alerts if a.needs_action])

    def top_alert(self) -> AlertView | None:
        waiting = self.needing_action()
        return waiting[0] if waiting else None

    def sounding(self) -> list[AlertView]:
        return [a for a in self.alerts if a.sound]

    def is_sounding(self) -> bool:
        """Whether the alarm is sounding now (some alert should sound and the repeat timer runs)."""
        return bool(self.sounding()) and self._sound_timer.isActive()

    def is_loud(self) -> bool:
        """An escalated alert sounds: two beeps per tick."""
        return any(a.for_physician for a in self.sounding())

    def text(self) -> str:
        """Everything the bar says, for tests and screen readers."""
        return f"{self.summary.text()}\n{self.top_label.text()}"

    # -- showing

    def show_alerts(self, alerts: Sequence[AlertView]) -> None:
        """Show the unresolved alerts (what refresh_alerts returns) and sound if any should sound.

        Called on every alert tick and after every write: each call with a sounding alert beeps.
        """
        self.alerts = [a for a in alerts if a.state != "resolved"]
        self._update()
        if self.sounding():
            self._sound_timer.setInterval(self.sound_interval_ms)
            if not self._sound_timer.isActive():
                self._sound_timer.start()
            self.sound_tick()
        else:
            self._sound_timer.stop()
            self._echo.stop()

    def _update(self) -> None:
        waiting = self.needing_action()
        top = waiting[0] if waiting else None
        if top is None:
            self.summary.setText("")
            self.summary.setVisible(False)
            snoozed = [a for a in self.alerts if a.state == "snoozed"]
            text = "✓ " + self.tr("No alerts need action")
            if snoozed:
                text += " " + self.tr("({0} snoozed)").format(len(snoozed))
            self.top_label.setText(text)
            self.setAccessibleDescription(text)
        else:
            counts = []
            for priority in ("high", "medium", "low"):
                n = sum(1 for a in waiting if a.priority == priority)
                if n:
                    counts.append(f"{n} {priority_text(priority)}")
            escalated = sum(1 for a in waiting if a.for_physician)
            if len(waiting) == 1:
                summary = self.tr("1 alert needs action: {counts}").format(counts=" · ".join(counts))
            else:
                summary = self.tr("{n} alerts need action: {counts}").format(
                    n=len(waiting), counts=" · ".join(counts)
                )
            if escalated:
                summary += " · " + self.tr("{0} ESCALATED").format(escalated)
            if self.sounding():
                summary += " · " + self.tr("♪ alarm sounding")
            self.summary.setText(summary)
            self.summary.setVisible(True)
            self.top_label.setText(alert_line(top))
            self.setAccessibleDescription(f"{summary}. {alert_line(top)}")
        self._paint_state(top)
        self.acknowledge_button.setEnabled(top is not None)
        self.snooze_button.setEnabled(top is not None)
        self.silence_button.setEnabled(bool(self.sounding()))

    def _paint_state(self, top: AlertView | None) -> None:
        if top is None:
            # Calm: the palette's own colours, whatever the theme.
            self.setStyleSheet("")
            return
        background, foreground = priority_colours(top.priority, top.for_physician)
        self.setStyleSheet(
            f"QFrame#alertBar {{ background-color: {background}; border: 2px solid {foreground}; }}"
            f" QFrame#alertBar QLabel {{ color: {foreground}; background: transparent; }}"
        )

    # -- sound

    def sound_tick(self) -> None:
        """One alarm tick: beep once, or twice for an escalated alert. Nothing when nothing sounds."""
        if not self.sounding():
            self._sound_timer.stop()
            return
        self._beep()
        if self.is_loud():
            self._echo.start()

    def _beep(self) -> None:
        self.beeps += 1
        self.beeper()

    # -- actions

    def _refuse(self, title: str, exc: Exception) -> None:
        show_error(self, title, exc)

    def acknowledge(self, alert: AlertView | None = None) -> bool:
        """Open the acknowledge dialog for this alert (the top one by default)."""
        alert = alert or self.top_alert()
        if alert is None:
            return False
        dialog = AcknowledgeDialog(self.service, self.actor, alert, self)
        done = bool(dialog.exec())
        if done:
            self.changed.emit()
        return done

    def snooze(self, alert: AlertView | None = None) -> bool:
        alert = alert or self.top_alert()
        if alert is None:
            return False
        dialog = SnoozeDialog(self.service, self.actor, alert, self)
        done = bool(dialog.exec())
        if done:
            self.changed.emit()
        return done

    def silence(self) -> None:
        """Silence every sounding alert (the service records who silenced what); they stay shown."""
        sounding = self.sounding()
        if not sounding:
            return
        try:
            for alert in sounding:
                self.service.silence_alert(self.actor, alert.id)
        except Exception as exc:
            self._refuse(self.tr("Not silenced"), exc)
        self._sound_timer.stop()
        self._echo.stop()
        self.changed.emit()


# --- the list --------------------------------------------------------------------------------------

ALERT_COLUMNS = ["Priority", "State", "Bed", "Patient", "MRN", "Alert", "Message", "Raised"]
_ID_ROLE = Qt.ItemDataRole.UserRole + 1


class AlertPanel(QWidget):
    """Alerts across all patients, highest priority and newest first. Double-click opens the patient."""

    open_episode = Signal(int)
    changed = Signal()

    def __init__(self, service: ClinicalService, actor: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.actor = actor
        self.rows: list[AlertView] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        caption = QLabel(self.tr("<b>Alerts</b> (all patients; highest priority, then newest, first)"), self)
        top.addWidget(caption, 1)
        self.show_inactive = QCheckBox(self.tr("Show ac&knowledged and resolved"), self)
        self.show_inactive.setAccessibleName(_plain(self.show_inactive.text()))
        top.addWidget(self.show_inactive)
        layout.addLayout(top)

        self.model = QStandardItemModel(0, len(ALERT_COLUMNS), self)
        self.model.setHorizontalHeaderLabels([self.tr(c) for c in ALERT_COLUMNS])
        self.table = ListTable(self)
        self.table.setAccessibleName(self.tr("Alerts"))
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        caption.setBuddy(self.table)
        layout.addWidget(self.table, 1)

        buttons = QHBoxLayout()
        self.acknowledge_button = _button(self.tr("Acknowledge…"), self)
        self.snooze_button = _button(self.tr("Snooze…"), self)
        self.open_button = _button(self.tr("Open patient"), self)
        for button in (self.acknowledge_button, self.snooze_button, self.open_button):
            button.setAutoDefault(False)
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)

        self.show_inactive.toggled.connect(lambda _on: self.reload())
        self.table.doubleClicked.connect(self._activated)
        self.table.activated.connect(self._activated)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._update_buttons())
        self.acknowledge_button.clicked.connect(self._acknowledge)
        self.snooze_button.clicked.connect(self._snooze)
        self.open_button.clicked.connect(self._open_selected)
        self._update_buttons()

    def reload(self) -> None:
        """Load the alerts again from the service (include_inactive follows the check box)."""
        try:
            alerts = self.service.alerts(include_inactive=self.show_inactive.isChecked())
        except Exception as exc:
            show_error(self, self.tr("Could not load the alerts"), exc)
            return
        self.show_alerts(alerts)

    def show_alerts(self, alerts: Sequence[AlertView]) -> None:
        selected = self.selected_alert()
        self.rows = list(alerts)
        self.model.removeRows(0, self.model.rowCount())
        for alert in self.rows:
            cells = [
                priority_text(alert.priority, title_case=True),
                state_text(alert),
                alert.bed,
                alert.patient,
                alert.mrn,
                alert.title,
                alert.message,
                local(alert.raised_at),
            ]
            row = [QStandardItem(text) for text in cells]
            for item in row:
                item.setData(alert.id, _ID_ROLE)
                item.setToolTip(alert_line(alert))
            background, foreground = priority_colours(alert.priority, alert.for_physician)
            if alert.needs_action:
                row[0].setBackground(QBrush(QColor(background)))
                row[0].setForeground(QBrush(QColor(foreground)))
                font = QFont(row[0].font())
                font.setBold(True)
                row[0].setFont(font)
                if alert.for_physician:
                    row[1].setFont(font)
            self.model.appendRow(row)
        if selected is not None:
            self.select(selected.id)
        self._update_buttons()

    def select(self, alert_id: int) -> None:
        for r in range(self.model.rowCount()):
            if self.model.index(r, 0).data(_ID_ROLE) == alert_id:
                self.table.setCurrentIndex(self.model.index(r, 0))
                return

    def selected_alert(self) -> AlertView | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        wanted = index.data(_ID_ROLE)
        return next((a for a in self.rows if a.id == wanted), None)

    def _update_buttons(self) -> None:
        chosen = self.selected_alert()
        actionable = chosen is not None and chosen.state not in ("acknowledged", "resolved")
        self.acknowledge_button.setEnabled(actionable)
        self.snooze_button.setEnabled(actionable)
        self.open_button.setEnabled(chosen is not None)

    def _activated(self, index: QModelIndex) -> None:
        if index.isValid() and index.data(_ID_ROLE) is not None:
            alert = next((a for a in self.rows if a.id == index.data(_ID_ROLE)), None)
            if alert is not None:
                self.open_episode.emit(alert.episode_id)

    def _open_selected(self) -> None:
        chosen = self.selected_alert()
        if chosen is not None:
            self.open_episode.emit(chosen.episode_id)

    def _acknowledge(self) -> None:
        chosen = self.selected_alert()
        if chosen is not None and AcknowledgeDialog(self.service, self.actor, chosen, self).exec():
            self.changed.emit()

    def _snooze(self) -> None:
        chosen = self.selected_alert()
        if chosen is not None and SnoozeDialog(self.service, self.actor, chosen, self).exec():
            self.changed.emit()
