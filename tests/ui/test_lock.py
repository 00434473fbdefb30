"""Issue 5: the shared bedside workstation. The idle lock hides patient data, alerts stay counted and
sounding, an unsaved COWS survives the lock for the same nurse and is discarded (with a notice) when
someone else signs in; quick user switch; what a role may not do is disabled on screen."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from monitor.services.clinical import ClinicalService
from monitor.ui.cows_form import CowsForm
from monitor.ui.lock import alert_summary
from monitor.ui.main_window import MainWindow
from monitor.ui.protocol_dialog import ProtocolDialog
from tests.conftest import FakeClock
from tests.helpers import admission, cows
from tests.ui.test_main_window import when_dialog_opens

PASSWORD = "a long bedside passphrase"
NAME = "Alex Example"


@pytest.fixture
def staff(service: ClinicalService) -> dict[str, str]:
    """Accounts with passwords, made as an administrator makes them."""
    admin = service.create_first_administrator("admin", "Ada Admin", PASSWORD).username
    for username, full, role in (
        ("rn.lee", "Robin Lee", "nurse"),
        ("rn.okafor", "Chidi Okafor", "nurse"),
        ("dr.park", "Dr Jamie Park", "physician"),
    ):
        service.create_user(admin, username, full, role, "temporary passphrase")
        service.change_password(username, "temporary passphrase", PASSWORD)
    return {"admin": admin, "nurse": "rn.lee", "other": "rn.okafor", "physician": "dr.park"}


@pytest.fixture
def episode(service: ClinicalService, staff: dict[str, str], clock: FakeClock) -> int:
    episode_id = service.admit(staff["nurse"], admission(clock.now() - timedelta(hours=2), name=NAME))
    service.record_assessment(staff["nurse"], episode_id, cows(clock.now() - timedelta(hours=1), yawning=1))
    return episode_id


@pytest.fixture
def window(qtbot: QtBot, service: ClinicalService, staff: dict[str, str], episode: int) -> MainWindow:
    win = MainWindow(service, staff["nurse"], "test database")
    qtbot.addWidget(win)
    win.show()
    win.open_from_overview(episode)
    return win


def visible_text(window: MainWindow) -> str:
    """Every text a passer-by can read in the window (labels and table cells that are visible)."""
    parts = [w.text() for w in window.findChildren(QLabel) if w.isVisible()]
    for table in (window.episodes.table, window.episode_view.table):
        if table.isVisible():
            model = table.model()
            parts += [str(model.index(r, c).data()) for r in range(model.rowCount()) for c in range(6)]
    return "\n".join(parts)


def sign_in(window: MainWindow, qtbot: QtBot, username: str, password: str = PASSWORD) -> None:
    form = window.lock_screen.form
    form.username.clear()
    qtbot.keyClicks(form.username, username)
    qtbot.keyClicks(form.password, password)
    qtbot.keyClick(form.password, Qt.Key.Key_Return)


def audit_actions(service: ClinicalService, username: str) -> list[str]:
    return [e.action for e in service.audit_search("dr.park", username=username)][::-1]


def test_the_idle_timer_locks_and_hides_patient_data(
    window: MainWindow, qtbot: QtBot, service: ClinicalService
) -> None:
    assert NAME in visible_text(window)
    window.idle.set_interval_ms(100)
    window.idle.restart()
    qtbot.waitUntil(window.is_locked, timeout=3000)
    assert window.stack.currentWidget() is window.lock_screen
    assert NAME not in visible_text(window) and "K-1001" not in visible_text(window)
    assert not window.alert_dock.isVisible() and not window.toolbar.isVisible()
    assert not window.actions_by_name["Record COWS"].isEnabled()  # Ctrl+R does nothing while locked
    assert window.lock_screen.form.username.text() == "rn.lee"  # the same nurse types only the password
    assert window.lock_screen.form.password.hasFocus()
    assert "session.lock" in audit_actions(service, "rn.lee")


def test_activity_keeps_the_workstation_unlocked(window: MainWindow, qtbot: QtBot) -> None:
    window.idle.set_interval_ms(400)
    window.idle.restart()
    window.episode_view.table.setFocus()
    handle = window.windowHandle()  # input arrives at the window first, as from the keyboard
    for _ in range(6):  # 6 x 150 ms of typing: longer than the idle time, never idle for it
        qtbot.wait(150)
        QTest.keyClick(handle, Qt.Key.Key_Down)
    assert not window.is_locked()
    for k in range(6):  # then the mouse alone
        qtbot.wait(150)
        QTest.mouseMove(handle, QPoint(40 + 30 * k, 60))
    assert not window.is_locked()
    qtbot.waitUntil(window.is_locked, timeout=3000)  # then nobody touches it


def test_typing_in_a_dialog_keeps_the_workstation_unlocked(window: MainWindow, qtbot: QtBot) -> None:
    """A dialog is a window of its own, opened after the timer started: typing there is activity too
    (a nurse charting a COWS)."""
    window.idle.set_interval_ms(400)
    window.idle.restart()
    dialog = QDialog(window)
    field = QLineEdit(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QGuiApplication.focusWindow() is dialog.windowHandle(), timeout=3000)
    field.setFocus()
    for _ in range(6):
        qtbot.wait(150)
        QTest.keyClick(dialog.windowHandle(), Qt.Key.Key_A)
    assert field.text() == "aaaaaa"
    assert not window.is_locked()
    qtbot.waitUntil(window.is_locked, timeout=3000)


def test_a_wrong_password_keeps_it_locked_and_the_right_one_opens_it(
    window: MainWindow, qtbot: QtBot, service: ClinicalService
) -> None:
    window.lock()
    sign_in(window, qtbot, "rn.lee", "not the password at all")
    assert window.is_locked()
    assert window.lock_screen.form.message.text() == "Wrong user name or password."
    assert NAME not in visible_text(window)
    sign_in(window, qtbot, "rn.lee")
    assert not window.is_locked()
    assert window.stack.currentWidget() is window.ward_page and window.alert_dock.isVisible()
    assert NAME in visible_text(window)
    assert audit_actions(service, "rn.lee")[-3:] == ["session.lock", "user.sign_in_failed", "user.sign_in"]


def test_alerts_stay_counted_and_sounding_while_locked(
    window: MainWindow, qtbot: QtBot, service: ClinicalService, episode: int, clock: FakeClock
) -> None:
    beeps: list[int] = []
    window.alert_bar.beeper = lambda: beeps.append(1)
    window.lock()
    clock.advance(minutes=1)
    # COWS 39 charted at another workstation while this one is locked: severe withdrawal.
    service.record_assessment(
        "rn.okafor",
        episode,
        cows(
            clock.now(),
            pulse_bpm=130,
            resting_pulse=4,
            sweating=4,
            restlessness=5,
            pupil_size=5,
            bone_joint_aches=4,
            gi_upset=5,
            tremor=4,
            yawning=4,
            anxiety_irritability=4,
        ),
    )
    window.check_alerts()
    summary = window.lock_screen.alerts.text()
    assert "▲ 1 high-priority" in summary and "Sign in to see and act on them." in summary
    assert NAME not in summary and "3B" not in summary
    assert beeps  # the alarm is not silenced by the lock


def test_alert_summary_counts_without_naming_anyone() -> None:
    assert alert_summary([]) == "No alert is waiting."


def fill_some_cows(form: CowsForm, qtbot: QtBot) -> None:
    qtbot.keyClicks(form.pulse_edit, "96")
    form.item_widget("sweating").select_value(2)
    form.item_widget("yawning").select_value(1)
    form.note_edit.setText("restless since lunch")


def lock_while_charting(window: MainWindow, qtbot: QtBot) -> None:
    """Open Record COWS, type part of it, and let the lock come while the form is open."""

    def type_then_lock(dialog: QWidget) -> None:
        assert isinstance(dialog, CowsForm)
        fill_some_cows(dialog, qtbot)
        window.lock()  # what the idle timer does

    when_dialog_opens(type_then_lock)
    window.actions_by_name["Record COWS"].trigger()
    assert window.is_locked()
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, CowsForm) and w.isVisible()]


def test_an_unsaved_cows_survives_the_lock_for_the_same_nurse(
    window: MainWindow, qtbot: QtBot, service: ClinicalService, episode: int
) -> None:
    lock_while_charting(window, qtbot)
    restored: dict[str, object] = {}

    def check_and_save(dialog: QWidget) -> None:
        assert isinstance(dialog, CowsForm)
        restored.update(
            pulse=dialog.pulse_edit.text(),
            sweating=dialog.selected("sweating"),
            yawning=dialog.selected("yawning"),
            note=dialog.note_edit.text(),
            title=dialog.windowTitle(),
            # on where she stopped: the first item still to score (QA: it was the full pulse field)
            focus=dialog.focusWidget() is dialog.item_widget("restlessness"),
        )
        for key in (
            "restlessness",
            "pupil_size",
            "bone_joint_aches",
            "runny_nose_tearing",
            "gi_upset",
            "tremor",
            "anxiety_irritability",
            "gooseflesh",
        ):
            dialog.item_widget(key).select_value(0)
        qtbot.keyClick(dialog, Qt.Key.Key_Return)

    when_dialog_opens(check_and_save)
    sign_in(window, qtbot, "rn.lee")
    qtbot.waitUntil(lambda: bool(restored), timeout=5000)
    assert restored == {
        "pulse": "96",
        "sweating": 2,
        "yawning": 1,
        "note": "restless since lunch",
        "title": f"COWS – {NAME} (bed 3B)",
        "focus": True,
    }
    qtbot.waitUntil(lambda: len(service.assessments(episode)) == 2, timeout=5000)
    saved = service.assessments(episode)[-1]
    assert (saved.total, saved.recorded_by, saved.note) == (2 + 1 + 1, "rn.lee", "restless since lunch")


def test_another_user_signing_in_discards_the_unsaved_cows_with_a_notice(
    window: MainWindow, qtbot: QtBot, service: ClinicalService, episode: int
) -> None:
    lock_while_charting(window, qtbot)
    sign_in(window, qtbot, "rn.okafor")
    assert not window.is_locked() and window.actor == "rn.okafor"
    assert window.notice is not None and window.notice.isVisible()
    assert not window.notice.isModal()  # the new nurse is not blocked (an alarm may need them)
    assert window.notice.text() == (
        f"An unsaved COWS for {NAME} entered by rn.lee was discarded when rn.okafor signed in. "
        "It was never saved; chart it again if it was taken."
    )
    qtbot.wait(50)
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, CowsForm) and w.isVisible()]
    assert len(service.assessments(episode)) == 1
    assert "session.draft_discarded" in audit_actions(service, "rn.lee")
    assert window.user_label.text() == "Signed in: rn.okafor (Chidi Okafor)"
    window.notice.close()


def test_quick_user_switch_empties_the_user_name_and_changes_who_charts(
    window: MainWindow, qtbot: QtBot, service: ClinicalService
) -> None:
    window.actions_by_name["Switch user"].trigger()
    assert window.is_locked()
    assert window.lock_screen.form.username.text() == ""
    assert window.lock_screen.form.username.hasFocus()
    sign_in(window, qtbot, "dr.park")
    assert window.actor == "dr.park"
    assert window.review_panel.actor == "dr.park" and window.alert_panel.actor == "dr.park"
    assert window.review_panel.sign_button.isEnabled()  # a physician signs off; the nurse could not
    assert "session.sign_out" in audit_actions(service, "rn.lee")


def test_what_a_role_may_not_do_is_disabled(window: MainWindow, qtbot: QtBot, staff: dict[str, str]) -> None:
    names = window.actions_by_name
    assert names["Record COWS"].isEnabled() and names["Admit patient"].isEnabled()
    assert not names["Audit trail"].isEnabled()  # a nurse
    assert not names["Users and workstation lock"].isEnabled()
    assert not window.review_panel.sign_button.isEnabled()
    window.switch_user()
    sign_in(window, qtbot, staff["admin"])
    assert names["Audit trail"].isEnabled() and names["Users and workstation lock"].isEnabled()
    assert not names["Record COWS"].isEnabled() and not names["Give dose"].isEnabled()
    assert not window.episode_view.record_button.isEnabled()  # an administrator does not chart


def test_a_dialog_open_at_the_lock_is_closed(window: MainWindow, qtbot: QtBot) -> None:
    def lock_now(dialog: QWidget) -> None:
        window.lock()

    when_dialog_opens(lock_now)
    window.actions_by_name["Give dose"].trigger()
    assert window.is_locked()
    assert QApplication.activeModalWidget() is None


def test_the_idle_minutes_come_from_the_database(
    qtbot: QtBot, service: ClinicalService, staff: dict[str, str], episode: int
) -> None:
    service.set_idle_lock_minutes(staff["admin"], 3, "busy corridor")
    win = MainWindow(service, staff["nurse"], "test database")
    qtbot.addWidget(win)
    assert win.idle.timer.interval() == 3 * 60_000


def test_a_nurse_reads_the_protocol_but_cannot_change_it(
    qtbot: QtBot, service: ClinicalService, staff: dict[str, str]
) -> None:
    nurse_view = ProtocolDialog(service, staff["nurse"])
    qtbot.addWidget(nurse_view)
    nurse_view.show()
    nurse_view.select("high_snooze_cap_minutes")
    assert nurse_view.model.rowCount() > 10  # every setting is listed
    assert not nurse_view.value_spin.isEnabled() and not nurse_view.apply_button.isEnabled()
    assert nurse_view.message.text() == "You can read the protocol; ask a physician to change a setting."
    doctor_view = ProtocolDialog(service, staff["physician"])
    qtbot.addWidget(doctor_view)
    doctor_view.select("high_snooze_cap_minutes")
    assert doctor_view.value_spin.isEnabled() and doctor_view.message.text() == ""
