"""The shared bedside workstation: the idle timer and the lock screen that hides patient data.

The lock screen keeps one thing visible: how many alerts are waiting, by priority, without a name or a
bed (whoever walks by learns that someone needs a nurse, not who). The alarm keeps sounding while the
screen is locked; the alert timer keeps running behind it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QWindow
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from monitor.services.clinical import ClinicalService
from monitor.services.views import AlertView
from monitor.ui.sign_in import SignInForm
from monitor.ui.theme import set_tone
from monitor.ui.timefmt import local

# Input that shows someone is at the workstation. Paint and timer events are not activity.
_ACTIVITY = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
        QEvent.Type.TabletPress,
    }
)


class IdleWatcher(QObject):
    """Emits `idle` after `minutes` without a key press, click, mouse move or wheel turn anywhere in
    the application (every window and dialog: a nurse typing a COWS is not idle).

    It watches the app's windows (their QWindow, where Qt delivers input first), not every event of
    every widget: an application-wide event filter ran Python for each of the thousands of events that
    a layout, a repaint or a model reset sends (about 2 µs each; a tenth of the main window's start).
    A window is watched from when it first takes the focus (a dialog, a menu or a list opening) and
    whenever the timer restarts. One shown since then that never took the focus is not: the app opens
    none (a window manager gives a new window the focus)."""

    idle = Signal()

    def __init__(self, minutes: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.idle)
        self.set_minutes(minutes)
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.focusWindowChanged.connect(self._watch)
            self._watch_all()

    def set_minutes(self, minutes: int) -> None:
        self.set_interval_ms(minutes * 60_000)

    def set_interval_ms(self, milliseconds: int) -> None:
        """The idle time in ms (tests use a short one)."""
        self.timer.setInterval(milliseconds)
        if self.timer.isActive():
            self.timer.start()

    def restart(self) -> None:
        self._watch_all()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _watch(self, window: QWindow | None) -> None:
        if window is not None:
            window.installEventFilter(self)  # once per window: Qt keeps one entry per filter

    def _watch_all(self) -> None:
        for window in QGuiApplication.topLevelWindows():
            self._watch(window)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _ACTIVITY and self.timer.isActive():
            self.timer.start()
        return False


def alert_summary(alerts: Sequence[AlertView]) -> str:
    """What a locked screen may say about the alerts: counts by priority, no patient."""
    active = [a for a in alerts if a.needs_action]
    if not active:
        return "No alert is waiting."
    counts = {p: sum(1 for a in active if a.priority == p) for p in ("high", "medium", "low")}
    symbols = {"high": "▲", "medium": "◆", "low": "●"}
    parts = [f"{symbols[p]} {n} {p}-priority" for p, n in counts.items() if n]
    noun = "alert is" if len(active) == 1 else "alerts are"
    return f"{', '.join(parts)} {noun} waiting. Sign in to see and act on them."


class LockScreen(QWidget):
    """Shown instead of the ward while the workstation is locked: who locked it, the alert counts,
    and a sign-in form for the same or another user."""

    def __init__(self, service: ClinicalService, hint: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Locked")
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        self.title = QLabel(self.tr("<span style='font-size:18pt'><b>Workstation locked</b></span>"))
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.title)
        self.detail = QLabel("")
        self.detail.setAccessibleName("Lock detail")
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail.setWordWrap(True)
        layout.addWidget(self.detail)
        self.alerts = QLabel("")
        self.alerts.setAccessibleName("Alerts while locked")
        self.alerts.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.alerts.setWordWrap(True)
        layout.addWidget(self.alerts)
        self.form = SignInForm(service, title=self.tr("Sign in to continue"), hint=hint)
        self.form.setFixedWidth(460)
        # Its natural height: the stretches around it take the spare room, never the fields.
        self.form.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        layout.addWidget(self.form, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)

    def prepare(self, username: str, at: datetime, *, switching: bool) -> None:
        """Before the lock screen shows: the locked user's name is filled in unless switching user."""
        if switching:
            self.detail.setText(self.tr("{0} signed out at {1}.").format(username, local(at)))
        else:
            self.detail.setText(
                self.tr(
                    "Locked at {0}; {1} was signed in. Patient data is hidden until someone signs in: "
                    "the same user carries on where they left off, another user takes over."
                ).format(local(at), username)
            )
        self.form.clear()
        self.form.prefill("" if switching else username)

    def show_alerts(self, alerts: Sequence[AlertView]) -> None:
        text = alert_summary(alerts)
        high = any(a.needs_action and a.priority == "high" for a in alerts)
        set_tone(self.alerts, "warning" if high else None)
        self.alerts.setText(f"<span style='font-size:13pt'><b>{text}</b></span>")
