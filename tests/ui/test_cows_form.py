"""The bedside COWS form, driven as a nurse would: digits, arrows, Tab, Enter, Esc, the pulse field.

Runs against the real ClinicalService on a fresh temporary database (tests/conftest.py) with the clock
fixed at 2026-11-20 09:00 UTC. Times are shown in the workstation's local time, as everywhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QDateTime, Qt, QTimeZone
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QDateTimeEdit,
    QDialog,
    QLabel,
    QLineEdit,
    QRadioButton,
    QWidget,
)
from pytestqt.qtbot import QtBot

from monitor.domain.scales import COWS
from monitor.services.clinical import ClinicalService
from monitor.services.errors import DatabaseProblem, ProblemKind
from monitor.services.views import AssessmentInput, AssessmentView, EpisodeDetail
from monitor.ui import timefmt
from monitor.ui.cows_form import CowsForm
from monitor.ui.dialogs import HistoryDialog
from tests.conftest import FakeClock
from tests.helpers import admission, all_items

# One allowed value per item, typed as digits in form order: 20 in all, "Moderate" (13-24).
TYPED = (1, 2, 3, 2, 1, 2, 2, 1, 2, 1, 3)
DIGIT_KEYS = {d: getattr(Qt.Key, f"Key_{d}") for d in range(10)}


# --- fixtures and helpers ---------------------------------------------------------------------------


@pytest.fixture
def episode(service: ClinicalService, nurse: str, clock: FakeClock) -> EpisodeDetail:
    episode_id = service.admit(nurse, admission(clock.now() - timedelta(hours=2)))
    return service.episode(episode_id)


@pytest.fixture
def open_form(
    qtbot: QtBot, service: ClinicalService, nurse: str, episode: EpisodeDetail
) -> Callable[..., CowsForm]:
    def make(amend: AssessmentView | None = None) -> CowsForm:
        form = CowsForm(service, nurse, episode, amend=amend)
        qtbot.addWidget(form)
        form.show()
        qtbot.waitExposed(form)
        form.activateWindow()
        qtbot.waitUntil(form.isActiveWindow)
        return form

    return make


@pytest.fixture
def form(open_form: Callable[..., CowsForm]) -> CowsForm:
    return open_form()


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has keyboard focus"
    return widget


def type_digit(qtbot: QtBot, digit: int) -> None:
    """Press a digit wherever the focus is, as a nurse does."""
    qtbot.keyClick(focused(), DIGIT_KEYS[digit])


def press(qtbot: QtBot, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(focused(), key, modifier)


def fill(form: CowsForm, *, skip: tuple[str, ...] = (), **values: int) -> None:
    """Answer every item (0 unless given), except the skipped ones, by clicking its radio."""
    for item in COWS.items:
        if item.key in skip:
            continue
        form.item_widget(item.key).radio(values.get(item.key, 0)).click()


def set_time(form: CowsForm, when: datetime) -> None:
    form.time_edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(when.timestamp()), QTimeZone(b"UTC")))


def visible_text(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


# --- the keyboard path ------------------------------------------------------------------------------


def test_title_header_and_focus_on_item_1(form: CowsForm, qtbot: QtBot) -> None:
    assert form.windowTitle() == "COWS – Alex Example (bed 3B)"
    assert "Alex Example" in form.header_label.text()
    assert "MRN K-1001" in form.header_label.text()
    assert "Bed 3B" in form.header_label.text()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is form.item_widget("resting_pulse"))
    assert form.total_text() == "No total: 11 items missing (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)"
    assert not form.save_button.isEnabled()


def test_typing_eleven_digits_then_return_saves(
    form: CowsForm, qtbot: QtBot, service: ClinicalService, episode: EpisodeDetail, clock: FakeClock
) -> None:
    qtbot.waitUntil(lambda: QApplication.focusWidget() is form.item_widget("resting_pulse"))
    for item, digit in zip(COWS.items, TYPED, strict=True):
        assert focused() is form.item_widget(item.key), f"focus should be on item {item.number}"
        type_digit(qtbot, digit)
        assert form.selected(item.key) == digit

    assert [form.selected(key) for key in COWS.keys] == list(TYPED)
    assert form.total_text() == "Total 20 of 48 – Moderate (13–24)"
    assert form.save_button.isEnabled()
    assert focused() is form.save_button  # all answered: the next Enter saves

    press(qtbot, Qt.Key.Key_Return)

    assert form.result() == QDialog.DialogCode.Accepted
    assert form.saved is not None
    saved = service.assessments(episode.id)
    assert len(saved) == 1
    assert saved[0].total == 20
    assert saved[0].band_label == "Moderate"
    assert saved[0].items == dict(zip(COWS.keys, TYPED, strict=True))
    assert saved[0].taken_at == clock.now()
    assert saved[0].recorded_by == "rn.lee"
    assert saved[0].pulse_bpm is None
    assert form.saved.id == saved[0].id


def test_return_from_a_text_field_saves_when_allowed(
    form: CowsForm, qtbot: QtBot, service: ClinicalService, episode: EpisodeDetail
) -> None:
    fill(form, gooseflesh=5, restlessness=5)
    assert form.total_text() == "Total 10 of 48 – Mild (5–12)"
    form.note_edit.setFocus()
    qtbot.keyClicks(form.note_edit, "calm, asleep before")
    qtbot.keyClick(form.note_edit, Qt.Key.Key_Return)
    saved = service.assessments(episode.id)
    assert [(a.total, a.note) for a in saved] == [(10, "calm, asleep before")]


@pytest.mark.parametrize("where", ["item", "time"])
def test_return_from_an_item_or_the_time_field_saves_when_allowed(
    form: CowsForm, qtbot: QtBot, service: ClinicalService, episode: EpisodeDetail, where: str
) -> None:
    fill(form, anxiety_irritability=4, yawning=4, tremor=4, runny_nose_tearing=4)
    target = form.item_widget("tremor") if where == "item" else form.time_edit
    target.setFocus()
    qtbot.waitUntil(target.hasFocus)
    press(qtbot, Qt.Key.Key_Return)
    assert [a.total for a in service.assessments(episode.id)] == [16]
    assert form.result() == QDialog.DialogCode.Accepted


def test_below_mild_is_labelled_as_the_apps_own_band(form: CowsForm) -> None:
    fill(form, sweating=3)
    assert form.total_text().startswith("Total 3 of 48 – Below mild (0–4")
    assert "app" in form.total_text()


def test_a_digit_the_item_does_not_allow_changes_nothing_and_says_why(form: CowsForm, qtbot: QtBot) -> None:
    box = form.item_widget("restlessness")
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    type_digit(qtbot, 2)
    assert form.selected("restlessness") is None
    assert form.status_text() == "Restlessness allows 0, 1, 3, 5"
    assert focused() is box  # no advance on a refused digit
    type_digit(qtbot, 9)
    assert form.selected("restlessness") is None
    type_digit(qtbot, 5)
    assert form.selected("restlessness") == 5
    assert focused() is form.item_widget("pupil_size")


def test_arrows_move_between_the_options_of_an_item(form: CowsForm, qtbot: QtBot) -> None:
    box = form.item_widget("restlessness")
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    press(qtbot, Qt.Key.Key_Right)
    assert form.selected("restlessness") == 0  # from unanswered: the first option
    press(qtbot, Qt.Key.Key_Right)
    assert form.selected("restlessness") == 1
    press(qtbot, Qt.Key.Key_Down)
    assert form.selected("restlessness") == 3  # values skip 2
    press(qtbot, Qt.Key.Key_Right)
    assert form.selected("restlessness") == 5
    press(qtbot, Qt.Key.Key_Right)
    assert form.selected("restlessness") == 5  # stays on the last
    press(qtbot, Qt.Key.Key_Left)
    assert form.selected("restlessness") == 3
    press(qtbot, Qt.Key.Key_Up)
    assert form.selected("restlessness") == 1
    assert focused() is box  # arrows stay inside the item


def test_tab_and_shift_tab_move_between_items(form: CowsForm, qtbot: QtBot) -> None:
    form.item_widget("sweating").setFocus()
    qtbot.waitUntil(form.item_widget("sweating").hasFocus)
    press(qtbot, Qt.Key.Key_Tab)
    assert focused() is form.item_widget("restlessness")
    press(qtbot, Qt.Key.Key_Tab)
    assert focused() is form.item_widget("pupil_size")
    press(qtbot, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert focused() is form.item_widget("restlessness")


def test_a_mouse_click_picks_an_option(form: CowsForm, qtbot: QtBot) -> None:
    radio = form.item_widget("gi_upset").radio(3)
    qtbot.mouseClick(radio, Qt.MouseButton.LeftButton)
    assert form.selected("gi_upset") == 3
    assert focused() is form.item_widget("gi_upset")  # the keyboard carries on from here


# --- no partial total -------------------------------------------------------------------------------


def test_one_item_missing_means_no_total_and_no_save(
    form: CowsForm, qtbot: QtBot, service: ClinicalService, episode: EpisodeDetail
) -> None:
    fill(form, skip=("pupil_size",), sweating=4, gooseflesh=5)
    assert form.total_text() == "No total: 1 item missing (4)"
    assert "Total" not in form.total_text().replace("No total", "")
    assert not form.save_button.isEnabled()

    form.note_edit.setFocus()
    qtbot.waitUntil(form.note_edit.hasFocus)
    press(qtbot, Qt.Key.Key_Return)

    assert "4. Pupil size" in form.status_text()
    assert focused() is form.item_widget("pupil_size")
    assert form.isVisible() and form.saved is None
    assert service.assessments(episode.id) == []

    type_digit(qtbot, 2)
    assert form.total_text() == "Total 11 of 48 – Mild (5–12)"


def test_several_missing_items_are_listed_by_number(form: CowsForm) -> None:
    fill(form, skip=("pupil_size", "gi_upset", "gooseflesh"))
    assert form.total_text() == "No total: 3 items missing (4, 7, 11)"


# --- pulse ------------------------------------------------------------------------------------------


def test_pulse_scores_item_1_and_locks_its_radios(form: CowsForm, qtbot: QtBot) -> None:
    box = form.item_widget("resting_pulse")
    form.pulse_edit.setFocus()
    qtbot.keyClicks(form.pulse_edit, "96")
    assert form.selected("resting_pulse") == 1
    assert all(not radio.isEnabled() for radio in box.radios())
    assert "Scored from pulse" in form.pulse_message.text()

    form.pulse_edit.clear()
    qtbot.keyClicks(form.pulse_edit, "130")
    assert form.selected("resting_pulse") == 4

    form.pulse_edit.clear()
    qtbot.keyClicks(form.pulse_edit, "80")
    assert form.selected("resting_pulse") == 0

    form.pulse_edit.clear()
    assert form.selected("resting_pulse") is None  # the score came from the pulse: it goes with it
    assert all(radio.isEnabled() for radio in box.radios())


def test_implausible_pulse_says_why_and_leaves_item_1_unanswered(
    form: CowsForm, qtbot: QtBot, service: ClinicalService, episode: EpisodeDetail
) -> None:
    fill(form, skip=("resting_pulse",))
    form.pulse_edit.setFocus()
    qtbot.keyClicks(form.pulse_edit, "300")
    assert form.selected("resting_pulse") is None
    assert "not plausible" in form.pulse_message.text().lower()
    assert "20–250" in form.pulse_message.text()
    assert form.total_text() == "No total: 1 item missing (1)"
    assert not form.save_button.isEnabled()
    # the radios stay locked: a hand-picked score must not be saved beside a pulse of 300
    assert all(not radio.isEnabled() for radio in form.item_widget("resting_pulse").radios())

    press(qtbot, Qt.Key.Key_Return)
    assert "300 bpm" in form.status_text()
    assert focused() is form.pulse_edit
    assert service.assessments(episode.id) == []


def test_a_too_low_pulse_waits_until_the_nurse_leaves_the_field(form: CowsForm, qtbot: QtBot) -> None:
    form.pulse_edit.setFocus()
    qtbot.waitUntil(form.pulse_edit.hasFocus)
    qtbot.keyClicks(form.pulse_edit, "9")  # the first digit of 96: no alarm yet
    assert form.pulse_message.text() == ""
    assert form.selected("resting_pulse") is None
    press(qtbot, Qt.Key.Key_Tab)
    assert "not plausible" in form.pulse_message.text().lower()


def test_the_pulse_is_saved_with_its_score(
    form: CowsForm, qtbot: QtBot, service: ClinicalService, episode: EpisodeDetail
) -> None:
    fill(form, skip=("resting_pulse",), yawning=4)
    form.pulse_edit.setFocus()
    qtbot.keyClicks(form.pulse_edit, "112")
    assert form.total_text() == "Total 6 of 48 – Mild (5–12)"
    press(qtbot, Qt.Key.Key_Return)
    saved = service.assessments(episode.id)
    assert [(a.pulse_bpm, a.items["resting_pulse"], a.total) for a in saved] == [(112, 2, 6)]


# --- time taken -------------------------------------------------------------------------------------


def test_time_defaults_to_now_in_local_time(form: CowsForm, clock: FakeClock) -> None:
    assert form.time_edit.displayFormat() == "yyyy-MM-dd HH:mm"
    assert form.time_edit.text() == timefmt.local(clock.now())  # as the main window shows times
    assert form.taken_at() == clock.now()
    assert form.taken_at().tzinfo is UTC


def test_two_hours_ago_needs_a_reason_for_late_charting(
    form: CowsForm, qtbot: QtBot, service: ClinicalService, episode: EpisodeDetail, clock: FakeClock
) -> None:
    fill(form, tremor=2)
    assert not form.late_reason_edit.isVisibleTo(form)
    assert form.save_button.isEnabled()

    set_time(form, clock.now() - timedelta(hours=2))
    assert form.time_edit.text() == timefmt.local(clock.now() - timedelta(hours=2))
    assert form.late_reason_edit.isVisibleTo(form)
    assert not form.save_button.isEnabled()

    form.note_edit.setFocus()
    qtbot.waitUntil(form.note_edit.hasFocus)
    press(qtbot, Qt.Key.Key_Return)
    assert "late charting" in form.status_text()
    assert focused() is form.late_reason_edit
    assert service.assessments(episode.id) == []

    qtbot.keyClicks(form.late_reason_edit, "patient vomited, charted after")
    assert form.save_button.isEnabled()
    press(qtbot, Qt.Key.Key_Return)
    saved = service.assessments(episode.id)
    assert len(saved) == 1
    assert saved[0].taken_at == clock.now() - timedelta(hours=2)
    assert saved[0].late_reason == "patient vomited, charted after"
    assert saved[0].total == 2


def test_exactly_one_hour_ago_needs_no_reason(form: CowsForm, clock: FakeClock) -> None:
    fill(form)
    set_time(form, clock.now() - timedelta(hours=1))
    assert not form.late_reason_edit.isVisibleTo(form)
    assert form.save_button.isEnabled()


def test_ten_minutes_ahead_is_refused(
    form: CowsForm, qtbot: QtBot, service: ClinicalService, episode: EpisodeDetail, clock: FakeClock
) -> None:
    fill(form)
    set_time(form, clock.now() + timedelta(minutes=10))
    assert form.time_message.text() == "More than 5 minutes in the future: not allowed"
    assert form.time_message.isVisibleTo(form)
    assert not form.save_button.isEnabled()

    form.note_edit.setFocus()
    qtbot.waitUntil(form.note_edit.hasFocus)
    press(qtbot, Qt.Key.Key_Return)
    assert "future" in form.status_text()
    assert focused() is form.time_edit
    assert service.assessments(episode.id) == []

    set_time(form, clock.now() + timedelta(minutes=5))  # clock drift within tolerance is accepted
    assert form.save_button.isEnabled()
    assert not form.time_message.isVisibleTo(form)


def test_the_time_check_follows_the_clock(form: CowsForm, clock: FakeClock) -> None:
    """A form left open: its default time becomes late charting when now moves on."""
    fill(form)
    assert form.save_button.isEnabled()
    clock.advance(minutes=90)
    form.save_button.click()  # the check is redone at save, not only when the time field changes
    assert form.saved is None
    assert form.late_reason_edit.isVisibleTo(form)
    assert "late charting" in form.status_text()


def test_a_pulse_typed_as_scores_is_caught_by_the_digits_not_taken(
    form: CowsForm, qtbot: QtBot, service: ClinicalService, episode: EpisodeDetail
) -> None:
    """QA: "100" typed for the pulse where the form opens (item 1) scores items 1-3, and every later
    score lands one item late; those that no longer fit are refused (3 at item 5, 1 at item 11). The
    first Enter says them all instead of saving."""
    for digit in "100" + "2321221213":  # the pulse, then items 2-11 as the nurse meant them
        type_digit(qtbot, int(digit))
    press(qtbot, Qt.Key.Key_Return)
    assert form.saved is None and form.isVisible()
    assert form.status_text() == (
        'Not saved yet. Not taken: "3" at item 5, "1" at item 11. Were the scores typed one item late '
        "(a pulse typed as scores)? Check the items; a pulse goes in Pulse (Alt+P). Enter saves the "
        "scores as shown."
    )
    assert service.assessments(episode.id) == []
    press(qtbot, Qt.Key.Key_Return)  # seen, and the scores are what she wants: saved as shown
    assert form.saved is not None
    assert [form.saved.items[key] for key in COWS.keys] == [1, 0, 0, 2, 2, 1, 2, 2, 1, 2, 3]


def test_a_digit_typed_after_the_last_item_is_said_at_once(form: CowsForm, qtbot: QtBot) -> None:
    for digit in "00000000000" + "7":  # eleven scores, then a 7 on Save, where nothing takes it
        type_digit(qtbot, int(digit))
    assert form.status_text().startswith('Not taken: "7" after the last item.')
    press(qtbot, Qt.Key.Key_Return)
    assert form.saved is None
    press(qtbot, Qt.Key.Key_Return)
    assert form.saved is not None and form.saved.total == 0


def test_a_digit_the_time_cannot_take_is_said_on_the_status_line(form: CowsForm, qtbot: QtBot) -> None:
    form.time_edit.setFocus()
    qtbot.waitUntil(form.time_edit.hasFocus)
    shown = form.time_edit.text()
    qtbot.keyClick(form.time_edit, Qt.Key.Key_End)
    type_digit(qtbot, 7)  # after the minutes: nothing more fits
    assert form.time_edit.text() == shown
    assert form.status_text().startswith('"7" was not taken: type the time as')


def test_eleven_scores_typed_without_a_slip_save_with_one_enter(form: CowsForm, qtbot: QtBot) -> None:
    for digit in "21322124123":
        type_digit(qtbot, int(digit))
    press(qtbot, Qt.Key.Key_Return)
    assert form.saved is not None and form.saved.total == 23


# --- amending ---------------------------------------------------------------------------------------


@pytest.fixture
def recorded(
    service: ClinicalService, nurse: str, episode: EpisodeDetail, clock: FakeClock
) -> AssessmentView:
    entry = AssessmentInput(
        taken_at=clock.now() - timedelta(minutes=30),
        items=all_items(0, resting_pulse=2, sweating=3, gi_upset=5, gooseflesh=3),
        pulse_bpm=108,
        note="first look",
    )
    return service.record_assessment(nurse, episode.id, entry)


def test_amend_is_prefilled_and_saves_a_second_version(
    open_form: Callable[..., CowsForm],
    qtbot: QtBot,
    service: ClinicalService,
    episode: EpisodeDetail,
    recorded: AssessmentView,
    clock: FakeClock,
) -> None:
    clock.advance(hours=3)  # amended later the same day: still the original clinical time
    form = open_form(recorded)
    assert form.windowTitle() == "Amend COWS – Alex Example (bed 3B)"
    assert {key: form.selected(key) for key in COWS.keys} == recorded.items
    assert form.pulse_edit.text() == "108"
    assert form.note_edit.text() == "first look"
    assert form.taken_at() == recorded.taken_at
    assert form.total_text() == "Total 13 of 48 – Moderate (13–24)"
    assert form.amend_reason_edit is not None
    assert form.amend_reason_edit.accessibleName() == "Reason for amendment"
    assert not form.save_button.isEnabled()  # the reason is required
    qtbot.waitUntil(lambda: QApplication.focusWidget() is form.pulse_edit)  # item 1 is scored from it

    form.item_widget("gi_upset").setFocus()
    qtbot.waitUntil(form.item_widget("gi_upset").hasFocus)
    type_digit(qtbot, 3)
    assert form.total_text() == "Total 11 of 48 – Mild (5–12)"
    press(qtbot, Qt.Key.Key_Return)
    assert "reason for the amendment" in form.status_text()
    assert focused() is form.amend_reason_edit

    qtbot.keyClicks(form.amend_reason_edit, "vomiting was once, not several times")
    press(qtbot, Qt.Key.Key_Return)

    assert form.saved is not None
    assert form.saved.version == 2
    current = service.assessments(episode.id)
    assert len(current) == 1
    assert current[0].version == 2
    assert current[0].total == 11
    assert current[0].amend_reason == "vomiting was once, not several times"
    assert current[0].taken_at == recorded.taken_at
    assert current[0].pulse_bpm == 108
    history = service.assessment_history(current[0].id)
    assert [(v.version, v.total) for v in history] == [(1, 13), (2, 11)]


def test_amend_keeps_the_original_time_to_the_microsecond_when_the_time_is_left(
    open_form: Callable[..., CowsForm],
    qtbot: QtBot,
    service: ClinicalService,
    nurse: str,
    episode: EpisodeDetail,
    clock: FakeClock,
) -> None:
    """The time field holds whole seconds: saving what it held moved the time by the fraction of a
    second, and the history then said "time taken 00:29 -> 00:29", a change nobody made."""
    taken = clock.now() - timedelta(minutes=20, microseconds=164_769)
    first = service.record_assessment(
        nurse, episode.id, AssessmentInput(taken_at=taken, items=all_items(0, yawning=1))
    )
    assert first.taken_at.microsecond == 835_231
    form = open_form(first)
    form.item_widget("yawning").setFocus()
    qtbot.waitUntil(form.item_widget("yawning").hasFocus)
    type_digit(qtbot, 2)
    assert form.amend_reason_edit is not None
    qtbot.keyClicks(form.amend_reason_edit, "yawning was more often")
    press(qtbot, Qt.Key.Key_Return)
    assert form.saved is not None
    assert form.saved.taken_at == first.taken_at
    history = HistoryDialog(service.assessment_history(form.saved.id))
    qtbot.addWidget(history)
    assert "time taken" not in history.detail.toPlainText().lower()


def test_amend_moving_the_time_late_needs_a_late_reason(
    open_form: Callable[..., CowsForm], recorded: AssessmentView, clock: FakeClock
) -> None:
    form = open_form(recorded)
    assert form.amend_reason_edit is not None
    form.amend_reason_edit.setText("time was wrong")
    assert form.save_button.isEnabled()
    set_time(form, clock.now() - timedelta(hours=2))
    assert form.late_reason_edit.isVisibleTo(form)
    assert not form.save_button.isEnabled()
    form.late_reason_edit.setText("seen at 08:00, charted now")
    assert form.save_button.isEnabled()


# --- failures keep the form open --------------------------------------------------------------------


def test_a_refusal_from_the_service_keeps_the_form_and_the_values(
    form: CowsForm,
    qtbot: QtBot,
    service: ClinicalService,
    nurse: str,
    episode: EpisodeDetail,
    clock: FakeClock,
) -> None:
    fill(form, sweating=2, tremor=4)
    form.note_edit.setText("shaky")
    service.discharge(nurse, episode.id, clock.now())  # at another workstation, in between

    form.save_button.click()

    assert form.saved is None
    assert form.isVisible()
    assert "discharged" in form.status_text()
    assert "Traceback" not in form.status_text()
    assert form.selected("sweating") == 2 and form.selected("tremor") == 4
    assert form.note_edit.text() == "shaky"
    assert form.total_text() == "Total 6 of 48 – Mild (5–12)"
    assert service.assessments(episode.id) == []


def test_a_validation_error_is_shown_beside_its_field(
    form: CowsForm, service: ClinicalService, episode: EpisodeDetail, clock: FakeClock
) -> None:
    fill(form)
    set_time(form, clock.now() - timedelta(hours=4))  # before the admission (2 h ago) by more than 1 h
    form.late_reason_edit.setText("paper chart")
    form.save_button.click()
    assert form.saved is None
    assert "before the admission" in form.time_message.text()
    assert "before the admission" in form.status_text()
    assert QApplication.focusWidget() is form.time_edit
    assert form.late_reason_edit.text() == "paper chart"
    assert service.assessments(episode.id) == []


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (DatabaseProblem(ProblemKind.BUSY, "sqlite3.OperationalError: database is locked"), "busy"),
        (RuntimeError("boom at line 42"), "Something unexpected went wrong"),
    ],
)
def test_database_and_unexpected_errors_are_words_not_tracebacks(
    form: CowsForm, monkeypatch: pytest.MonkeyPatch, error: Exception, expected: str
) -> None:
    def fail(*_args: object) -> AssessmentView:
        raise error

    monkeypatch.setattr(form.service, "record_assessment", fail)
    fill(form, yawning=1)
    form.save_button.click()
    assert form.saved is None
    assert form.isVisible()
    assert expected in form.status_text()
    assert "boom" not in form.status_text()
    assert "sqlite3" not in form.status_text()
    assert "Traceback" not in form.status_text()
    assert form.selected("yawning") == 1
    assert form.save_button.isEnabled()  # the nurse can try again


# --- Esc and Cancel ---------------------------------------------------------------------------------


def test_esc_on_an_empty_form_closes_without_asking(
    form: CowsForm, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unexpected() -> bool:
        raise AssertionError("nothing was entered: no question expected")

    monkeypatch.setattr(form, "confirm_discard", unexpected)
    press(qtbot, Qt.Key.Key_Escape)
    assert form.result() == QDialog.DialogCode.Rejected
    assert not form.isVisible()


def test_esc_after_entering_something_asks_first(
    form: CowsForm,
    qtbot: QtBot,
    monkeypatch: pytest.MonkeyPatch,
    service: ClinicalService,
    episode: EpisodeDetail,
) -> None:
    asked: list[bool] = []
    answer = False

    def confirm() -> bool:
        asked.append(True)
        return answer

    monkeypatch.setattr(form, "confirm_discard", confirm)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is form.item_widget("resting_pulse"))
    type_digit(qtbot, 2)
    press(qtbot, Qt.Key.Key_Escape)
    assert asked == [True]
    assert form.isVisible()  # "keep editing": nothing lost
    assert form.selected("resting_pulse") == 2

    answer = True
    form.cancel_button.click()
    assert asked == [True, True]
    assert not form.isVisible()
    assert form.saved is None
    assert service.assessments(episode.id) == []


# --- accessibility and size -------------------------------------------------------------------------


@pytest.mark.parametrize("amending", [False, True])
def test_every_input_and_action_is_named_as_labelled(
    open_form: Callable[..., CowsForm], recorded: AssessmentView, amending: bool
) -> None:
    form = open_form(recorded if amending else None)
    radios = form.findChildren(QRadioButton)
    assert len(radios) == sum(len(item.options) for item in COWS.items) == 45
    for radio in radios:
        assert radio.accessibleName()
        assert radio.accessibleName() == radio.text()
    for item in COWS.items:
        box = form.item_widget(item.key)
        assert box.accessibleName() == box.title() == f"{item.number}. {item.label}"
        for option in item.options:
            assert box.radio(option.value).text() == f"{option.value} – {option.anchor}"

    labels = form.findChildren(QLabel)
    buddies = {label.buddy(): visible_text(label.text()) for label in labels if label.buddy()}
    fields = [
        w
        for w in form.findChildren(QWidget)
        if isinstance(w, QLineEdit | QDateTimeEdit) and not isinstance(w.parentWidget(), QAbstractSpinBox)
    ]
    names = set()
    for field in fields:
        assert field in buddies, f"{field.accessibleName()!r} has no label"
        assert field.accessibleName()
        assert field.accessibleName() == buddies[field]
        names.add(field.accessibleName())
    expected = {"Pulse (bpm)", "Time taken", "Reason for late charting", "Note"}
    if amending:
        expected.add("Reason for amendment")
    assert names == expected

    buttons = [b for b in form.findChildren(QAbstractButton) if not isinstance(b, QRadioButton)]
    button_names = {b.accessibleName() for b in buttons if b.isVisibleTo(form)}
    assert {"Save", "Cancel"} <= button_names
    for button in (form.save_button, form.cancel_button):
        assert button.accessibleName() == visible_text(button.text())


@pytest.mark.parametrize("amending", [False, True])
def test_the_form_fits_a_1366_by_768_screen(
    open_form: Callable[..., CowsForm], recorded: AssessmentView, amending: bool, clock: FakeClock
) -> None:
    form = open_form(recorded if amending else None)
    hint = form.sizeHint()
    assert hint.width() <= 1366
    assert hint.height() <= 768 - 80  # room for a title bar and a task bar
    # the tallest state: late-charting reason shown, a pulse error, a two-line status message
    set_time(form, clock.now() - timedelta(hours=3))
    form.pulse_edit.setText("300")
    form.save_button.click()
    assert form.late_reason_edit.isVisibleTo(form)
    hint = form.sizeHint()
    assert hint.width() <= 1366
    assert hint.height() <= 768 - 80

    form.resize(hint)
    QApplication.processEvents()
    scroll = form._scroll
    content = scroll.widget()
    assert content is not None
    assert content.height() <= scroll.viewport().height(), "the items should not need scrolling"
    assert content.width() <= scroll.viewport().width()
    for key in COWS.keys:
        for radio in form.item_widget(key).radios():
            # every anchor gets the height its wrapped lines need: nothing clipped, nothing elided
            assert radio.height() >= radio.heightForWidth(radio.width())
            assert radio.width() >= radio.sizeHint().width()
