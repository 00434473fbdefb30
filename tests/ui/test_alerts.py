"""The alert workflow on screen (issue 3): a dose, then a rising COWS, and the high alert appears, sounds,
escalates to the physician and is acknowledged with a reason. Real service on a temp database; time is
moved with the FakeClock and the alert tick is called directly (never a sleep)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox, QWidget
from pytestqt.qtbot import QtBot

from monitor.services.clinical import ClinicalService
from monitor.services.views import AlertView, VitalsInput
from monitor.ui.alerts import AcknowledgeDialog, AlertBar, SnoozeDialog, alert_line
from monitor.ui.cows_form import CowsForm
from monitor.ui.dose_dialog import DoseDialog
from monitor.ui.main_window import TAB_MEDICATION, MainWindow
from monitor.ui.protocol_dialog import ProtocolDialog
from tests.conftest import FakeClock
from tests.helpers import admission, cows
from tests.ui.test_main_window import table_text, when_dialog_opens

# Baseline COWS 4 and a later COWS 17: +13, far above the +6 of the protocol.
BASELINE = {"sweating": 1, "yawning": 1, "restlessness": 1, "anxiety_irritability": 1}
RISEN = {
    "sweating": 3,
    "restlessness": 3,
    "pupil_size": 2,
    "bone_joint_aches": 2,
    "runny_nose_tearing": 2,
    "gi_upset": 2,
    "tremor": 1,
    "yawning": 1,
    "anxiety_irritability": 1,
}
PW_MESSAGE = "COWS 4 -> 17 (+13) 50 min after naltrexone 25 mg PO at 10:05"  # Europe/Berlin, dose 09:05 UTC


@pytest.fixture
def beeps() -> list[int]:
    return []


@pytest.fixture
def alex(service: ClinicalService, nurse: str, clock: FakeClock) -> int:
    """Alex Example in bed 3B, no opioid in the last weeks, a baseline COWS of 4 at 09:00 UTC."""
    episode = service.admit(
        nurse, admission(clock.now() - timedelta(hours=1), "K-1001", "Alex Example", "3B")
    )
    service.record_assessment(nurse, episode, cows(clock.now(), **BASELINE))
    return episode


@pytest.fixture
def window(qtbot: QtBot, service: ClinicalService, nurse: str, alex: int, beeps: list[int]) -> MainWindow:
    win = MainWindow(service, nurse, "test database")
    qtbot.addWidget(win)
    win.alert_bar.beeper = lambda: beeps.append(1)
    win.show()
    win.episodes.select(alex)
    return win


def _give_naltrexone_through_the_window(window: MainWindow, qtbot: QtBot) -> None:
    def give(dialog: QWidget) -> None:
        assert isinstance(dialog, DoseDialog)
        dialog.select_drug("naltrexone")
        qtbot.keyClicks(dialog.dose_edit, "25")
        # a baseline 5 min old and no opioid use: nothing to warn about, a plain Save
        assert dialog.warning_text().startswith("✓ No warnings")
        assert dialog.save_button.text() == "&Save"
        qtbot.keyClick(dialog.dose_edit, Qt.Key.Key_Return)

    when_dialog_opens(give)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
    qtbot.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)


def _record_cows_through_the_window(window: MainWindow, items: dict[str, int]) -> None:
    def chart(dialog: QWidget) -> None:
        assert isinstance(dialog, CowsForm)
        for key in ("resting_pulse", *(k for k in dialog._items if k != "resting_pulse")):
            dialog.item_widget(key).select_value(items.get(key, 0))
        dialog.save_button.click()

    when_dialog_opens(chart)
    window.episode_view.record_button.click()


def _high(window: MainWindow) -> AlertView:
    [alert] = [a for a in window.alert_bar.alerts if a.rule == "precipitated_withdrawal"]
    return alert


@pytest.fixture
def precipitated(
    window: MainWindow, qtbot: QtBot, service: ClinicalService, alex: int, clock: FakeClock
) -> MainWindow:
    """Naltrexone 25 mg PO 5 min after the baseline, then a COWS of 17 50 min later, all in the GUI."""
    clock.advance(minutes=5)
    _give_naltrexone_through_the_window(window, qtbot)
    assert window.episode_view.current_tab() == TAB_MEDICATION
    assert table_text(window.episode_view.dose_table)[0][1] == "Naltrexone 25 mg PO"
    assert not window.alert_bar.is_sounding()
    clock.advance(minutes=50)
    _record_cows_through_the_window(window, RISEN)
    assert [a.total for a in service.assessments(alex)] == [4, 17]
    return window


def test_a_rising_cows_after_naltrexone_raises_the_high_alert_in_the_bar_and_the_list(
    precipitated: MainWindow, beeps: list[int]
) -> None:
    window = precipitated
    bar = window.alert_bar
    top = bar.top_alert()
    assert top is not None and top.rule == "precipitated_withdrawal"
    # the bar: the top alert by shape, word, patient, bed and the numbers behind it
    assert bar.top_label.text() == f"▲ HIGH – Alex Example (3B): {PW_MESSAGE}"
    assert bar.summary.text() == "1 alert needs action: 1 ▲ HIGH · ♪ alarm sounding"
    assert "#B3261E" in bar.styleSheet() and "#FFFFFF" in bar.styleSheet()  # strong colour, white text
    # the alarm sounds (once per tick: not escalated)
    assert bar.is_sounding() and not bar.is_loud()
    assert len(beeps) >= 1
    assert bar.silence_button.isEnabled()
    # the list: every patient, highest priority and newest first
    rows = table_text(window.alert_panel.table)
    assert rows[0][:6] == [
        "▲ High",
        "Active – needs action",
        "3B",
        "Alex Example",
        "K-1001",
        "Possible precipitated withdrawal",
    ]
    assert rows[0][6] == PW_MESSAGE
    assert len(rows) == 1  # the +30 min reassessment was late but is met by this COWS: resolved


def test_acknowledging_a_high_alert_needs_a_reason_and_then_it_leaves_the_bar(
    precipitated: MainWindow, qtbot: QtBot, service: ClinicalService, nurse: str
) -> None:
    window = precipitated
    bar = window.alert_bar
    seen: list[str] = []

    def try_without_reason(dialog: QWidget) -> None:
        assert isinstance(dialog, AcknowledgeDialog)
        seen.append(dialog.message.text())
        assert not dialog.ok_button.isEnabled()
        qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)  # Enter does nothing without a reason
        assert dialog.isVisible()
        qtbot.keyClicks(dialog.reason, "   ")  # blanks are no reason
        assert not dialog.ok_button.isEnabled()
        dialog.reject()

    when_dialog_opens(try_without_reason)
    bar.acknowledge_button.click()
    assert seen == ["A high-priority alert needs a reason to be acknowledged."]
    assert _high(window).state == "active"
    assert bar.top_alert() is not None and bar.top_alert().rule == "precipitated_withdrawal"  # type: ignore[union-attr]

    def acknowledge(dialog: QWidget) -> None:
        assert isinstance(dialog, AcknowledgeDialog)
        qtbot.keyClicks(dialog.reason, "Seen by Dr. Example; clonidine given, COWS again in 30 min")
        assert dialog.ok_button.isEnabled()
        qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)

    when_dialog_opens(acknowledge)
    bar.acknowledge_button.click()
    # gone from the bar, which is calm again, and nothing sounds
    assert bar.needing_action() == []
    assert bar.top_label.text() == "✓ No alerts need action"
    assert bar.styleSheet() == ""
    assert not bar.is_sounding()
    # the list hides it until asked for acknowledged and resolved alerts
    assert all(r[5] != "Possible precipitated withdrawal" for r in table_text(window.alert_panel.table))
    window.alert_panel.show_inactive.setChecked(True)
    rows = [r for r in table_text(window.alert_panel.table) if r[5] == "Possible precipitated withdrawal"]
    assert len(rows) == 1
    assert rows[0][1].startswith("Acknowledged by rn.lee at ")
    assert rows[0][1].endswith(": Seen by Dr. Example; clonidine given, COWS again in 30 min")
    [stored] = [a for a in service.alerts(include_inactive=True) if a.rule == "precipitated_withdrawal"]
    assert stored.state == "acknowledged" and stored.acknowledged_by == nurse


def test_an_unacknowledged_high_alert_escalates_after_10_minutes_for_the_physician_and_sounds_louder(
    precipitated: MainWindow, qtbot: QtBot, clock: FakeClock, beeps: list[int]
) -> None:
    window = precipitated
    bar = window.alert_bar
    # silenced: still shown, no sound (the service records who silenced it)
    bar.silence_button.click()
    assert not bar.is_sounding()
    assert _high(window).silenced and _high(window).state == "active"
    assert bar.top_label.text().startswith("▲ HIGH – Alex Example (3B)")

    clock.advance(minutes=9)
    window.check_alerts()
    assert not _high(window).for_physician and not bar.is_sounding()

    clock.advance(minutes=1)  # 10 min after it was first shown
    window.check_alerts()
    alert = _high(window)
    assert alert.state == "escalated" and alert.for_physician
    assert bar.top_label.text() == f"▲ HIGH – ESCALATED – for the physician – Alex Example (3B): {PW_MESSAGE}"
    assert "1 ESCALATED" in bar.summary.text()
    assert "#7A0010" in bar.styleSheet()
    # escalation ends the silence: it sounds again, twice per tick
    assert bar.is_sounding() and bar.is_loud()
    before = len(beeps)
    bar.sound_tick()
    qtbot.waitUntil(lambda: len(beeps) == before + 2, timeout=2000)
    rows = table_text(window.alert_panel.table)
    assert rows[0][1] == "ESCALATED – for the physician" and rows[0][0] == "▲ High"


def test_the_alarm_repeats_on_its_own_timer_while_an_alert_sounds(
    precipitated: MainWindow, qtbot: QtBot, beeps: list[int]
) -> None:
    bar = precipitated.alert_bar
    bar._sound_timer.setInterval(20)
    before = len(beeps)
    qtbot.waitUntil(lambda: len(beeps) >= before + 3, timeout=2000)
    bar.silence_button.click()
    assert not bar._sound_timer.isActive()


def test_snooze_is_capped_by_priority_and_takes_the_alert_off_the_bar(
    precipitated: MainWindow, qtbot: QtBot, service: ClinicalService
) -> None:
    window = precipitated
    caps: list[int] = []

    def snooze(dialog: QWidget) -> None:
        assert isinstance(dialog, SnoozeDialog)
        caps.append(dialog.minutes.maximum())
        assert dialog.minutes.accessibleName() == "Snooze (minutes)"
        dialog.minutes.setValue(10)
        dialog.ok_button.click()

    when_dialog_opens(snooze)
    window.alert_bar.snooze_button.click()
    assert caps == [15]
    assert _high(window).state == "snoozed"
    assert window.alert_bar.top_alert() is None
    assert window.alert_bar.top_label.text() == "✓ No alerts need action (1 snoozed)"
    assert not window.alert_bar.is_sounding()

    # a medium- or low-priority alert may be snoozed for up to 60 min
    medium = dataclasses.replace(_high(window), priority="medium", priority_rank=2)
    dialog = SnoozeDialog(service, window.actor, medium, window)
    qtbot.addWidget(dialog)
    assert dialog.minutes.maximum() == 60


def test_the_service_refusing_a_snooze_shows_its_reason_in_the_dialog(
    precipitated: MainWindow, qtbot: QtBot, service: ClinicalService, nurse: str
) -> None:
    high = _high(precipitated)
    dialog = SnoozeDialog(service, nurse, high)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.minutes.setMaximum(30)  # as if the form allowed more than the protocol does
    dialog.minutes.setValue(30)
    dialog.ok_button.click()
    assert dialog.message.text() == ("Not snoozed. A high-priority alert can be snoozed for at most 15 min.")
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert service.alert(high.id).state == "active"


def test_the_protocol_cap_is_what_the_snooze_dialog_allows(
    precipitated: MainWindow, qtbot: QtBot, service: ClinicalService, nurse: str, physician: str
) -> None:
    dialog = ProtocolDialog(service, physician)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.select("high_snooze_cap_minutes")
    row = table_text(dialog.table)[dialog.table.currentIndex().row()]
    assert row[:4] == ["Longest snooze of a high-priority alert", "15 minutes", "15 minutes", "1–60 minutes"]
    assert "domain.md section 6" in row[4]
    dialog.value_spin.setValue(10)
    assert not dialog.apply_button.isEnabled()  # no reason yet
    qtbot.keyClicks(dialog.reason_edit, "Physicians' meeting 2026-11-19")
    dialog.apply_button.click()
    row = table_text(dialog.table)[dialog.table.currentIndex().row()]
    assert row[1] == "10 minutes (changed)"
    assert row[5].startswith("dr.rao at ") and row[5].endswith(": Physicians' meeting 2026-11-19")
    snooze = SnoozeDialog(service, nurse, _high(precipitated))
    qtbot.addWidget(snooze)
    assert snooze.minutes.maximum() == 10


def test_typed_values_beyond_the_allowed_range_are_said_in_the_dialogs(
    precipitated: MainWindow, qtbot: QtBot, service: ClinicalService, nurse: str, physician: str
) -> None:
    """99999 in a setting of 1-60 kept its first digit, and 60 min in a 15-min snooze became 6, without
    a word (QA found both): the dialogs now say it where the nurse or physician is looking."""
    dialog = ProtocolDialog(service, physician)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.select("high_snooze_cap_minutes")
    dialog.value_spin.setFocus()
    qtbot.keyClick(dialog.value_spin, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(dialog.value_spin, "99999")
    assert dialog.value_spin.value() == 9
    assert dialog.message.text() == '"9" was not taken: the value is from 1 to 60 minutes.'

    snooze = SnoozeDialog(service, nurse, _high(precipitated))
    qtbot.addWidget(snooze)
    snooze.show()
    snooze.minutes.setFocus()
    qtbot.keyClick(snooze.minutes, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(snooze.minutes, "60")
    assert snooze.minutes.value() == 6
    assert snooze.message.text() == '"0" was not taken: the value is from 1 to 15 min.'


def test_double_clicking_an_alert_opens_that_patients_episode(
    window: MainWindow, qtbot: QtBot, service: ClinicalService, nurse: str, clock: FakeClock, alex: int
) -> None:
    other = service.admit(nurse, admission(clock.now(), "K-1002", "Jordan Sample", "3A"))
    service.record_vitals(nurse, other, VitalsInput(taken_at=clock.now(), spo2=89))  # a high alert
    window.refresh()
    window.episodes.select(alex)
    assert window.current_episode().id == alex  # type: ignore[union-attr]
    table = window.alert_panel.table
    row = next(r for r, cells in enumerate(table_text(table)) if cells[3] == "Jordan Sample")
    index = table.model().index(row, 3)
    centre = table.visualRect(index).center()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert window.current_episode().id == other  # type: ignore[union-attr]
    assert window.episodes.selected_id() == other


def test_overdue_alerts_appear_on_the_timer_without_anyone_touching_the_app(
    window: MainWindow, qtbot: QtBot, clock: FakeClock
) -> None:
    assert window.alert_timer.isActive() and window.alert_timer.interval() == 30_000
    assert window.alert_bar.top_label.text() == "✓ No alerts need action"
    assert window.alert_bar.styleSheet() == ""  # calm: the palette's own colours
    clock.advance(hours=4, minutes=16)  # the routine COWS was due 4 h after the baseline, +15 min grace
    window.alert_timer.setInterval(10)
    qtbot.waitUntil(lambda: window.alert_bar.top_alert() is not None, timeout=3000)
    top = window.alert_bar.top_alert()
    assert top is not None and top.rule == "routine_assessment_overdue"
    assert window.alert_bar.top_label.text().startswith("● LOW – Alex Example (3B): ")
    assert not window.alert_bar.is_sounding()  # low priority: shown, not sounded


def test_show_all_raises_the_alert_list(window: MainWindow, qtbot: QtBot) -> None:
    window.alert_dock.hide()
    window.alert_bar.show_all_button.click()
    assert window.alert_dock.isVisible()
    assert window.actions_by_name["Protocol"].text() == "Protocol…"


def test_alert_line_marks_escalation_and_bed(precipitated: MainWindow) -> None:
    alert = _high(precipitated)
    assert alert_line(alert) == f"▲ HIGH – Alex Example (3B): {PW_MESSAGE}"


def test_the_bar_never_goes_quietly_blank_when_alerts_cannot_be_checked(
    window: MainWindow, service: ClinicalService, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.services.errors import DatabaseProblem, ProblemKind

    def busy() -> list[AlertView]:
        raise DatabaseProblem(ProblemKind.BUSY, "sqlite3.OperationalError: database is locked")

    monkeypatch.setattr(service, "refresh_alerts", busy)
    window.check_alerts()
    assert window.alert_bar.top_label.text().startswith("⚠ Alerts could not be checked. The database is busy")


def test_alert_dialogs_name_their_inputs_after_their_labels(
    precipitated: MainWindow, qtbot: QtBot, service: ClinicalService, nurse: str
) -> None:
    high = _high(precipitated)
    ack = AcknowledgeDialog(service, nurse, high)
    snooze = SnoozeDialog(service, nurse, high)
    for dialog in (ack, snooze):
        qtbot.addWidget(dialog)
        dialog.show()
        ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
        assert ok.accessibleName() == ok.text().replace("&", "")
        assert dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).accessibleName()
    assert ack.reason.accessibleName() == "Reason"
    bar: AlertBar = precipitated.alert_bar
    for button in (bar.acknowledge_button, bar.snooze_button, bar.silence_button, bar.show_all_button):
        assert button.accessibleName() == button.text().replace("&", "").replace("…", "")


def test_the_start_evaluates_once_and_its_own_alerts_cause_no_reload(
    qtbot: QtBot,
    service: ClinicalService,
    nurse: str,
    alex: int,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An overdue COWS fell due while no window was open: the start's evaluation raises it (an audit
    row), the bar shows it, the stored alerts are not read a second time, and the first change poll
    does not reload the ward for that write of the window's own."""
    clock.advance(hours=5)  # past the 4 h routine interval and its 15 min grace
    calls: list[str] = []
    for name in ("refresh_alerts", "alerts", "open_episodes"):
        real = getattr(service, name)
        monkeypatch.setattr(
            service, name, lambda *a, _real=real, _name=name, **k: calls.append(_name) or _real(*a, **k)
        )
    win = MainWindow(service, nurse, "test database")
    qtbot.addWidget(win)
    assert calls == ["refresh_alerts", "open_episodes"]
    assert win.alert_bar.top_label.text() == (
        "● LOW – Alex Example (3B): Last COWS at 10:00 (4): the next was due at 14:00 (every 4 h)"
    )
    assert any(e.action == "alert.raise" for e in service.audit_entries())
    win.refresh_if_changed()  # the change poll's tick
    assert calls == ["refresh_alerts", "open_episodes"]
