"""Giving doses, charting vital signs and the readiness panel, as a nurse does it (real service, temp DB)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QLabel,
    QLineEdit,
    QTableView,
    QWidget,
)
from pytestqt.qtbot import QtBot

from monitor.domain import medications
from monitor.services.clinical import ClinicalService
from monitor.services.errors import DatabaseProblem, ProblemKind, ValidationError
from monitor.services.views import DoseInput, SubstanceInput, VitalsInput
from monitor.ui.dose_dialog import DoseDialog
from monitor.ui.main_window import TAB_MEDICATION, TAB_VITALS, MainWindow
from monitor.ui.protocol_dialog import ProtocolDialog
from monitor.ui.timefmt import local, to_qdatetime
from monitor.ui.vitals_dialog import VitalsDialog
from tests.conftest import T0, FakeClock
from tests.helpers import admission, cows
from tests.ui.test_main_window import table_text, when_dialog_opens


@pytest.fixture
def kratom_day3(service: ClinicalService, nurse: str, clock: FakeClock) -> int:
    """A kratom user admitted today whose last use was 3 days ago: inside the 7-day interval."""
    start = clock.now()
    kratom = (SubstanceInput("kratom", start - timedelta(days=3), "35 g/day", "oral"),)
    return service.admit(nurse, admission(start, "K-3001", "Alex Example", "3B", kratom))


def _dose_dialog(qtbot: QtBot, service: ClinicalService, nurse: str, episode_id: int) -> DoseDialog:
    dialog = DoseDialog(service, nurse, service.episode(episode_id))
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _vitals_dialog(qtbot: QtBot, service: ClinicalService, nurse: str, episode_id: int) -> VitalsDialog:
    dialog = VitalsDialog(service, nurse, service.episode(episode_id))
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


# --- dose dialog ------------------------------------------------------------------------------------


def test_naltrexone_on_day_3_after_kratom_warns_and_needs_a_reason_then_saves_with_it(
    qtbot: QtBot, service: ClinicalService, nurse: str, kratom_day3: int
) -> None:
    dialog = _dose_dialog(qtbot, service, nurse, kratom_day3)
    assert dialog.save_button.text() == "&Save"
    dialog.select_drug("naltrexone")
    assert dialog.form_key() == "oral"
    qtbot.keyClicks(dialog.dose_edit, "25")

    warnings = dialog.warning_text().splitlines()
    assert len(warnings) == 2
    too_soon, no_baseline = warnings
    # priority in words and a shape, never colour alone
    assert too_soon.startswith("▲ HIGH – Antagonist within the opioid-free interval: Naltrexone 25 mg PO")
    assert "3 days after the last kratom use (opioid-free interval 7 days)" in too_soon
    assert no_baseline.startswith("◆ MEDIUM – No baseline COWS before an antagonist:")
    # a reason is required, and the button says what saving now means
    assert dialog.reason_edit.isVisible()
    assert dialog.save_button.text() == "&Give anyway"
    assert dialog.save_button.accessibleName() == "Give anyway"
    assert not dialog.save_button.isEnabled()

    qtbot.keyClick(dialog.dose_edit, Qt.Key.Key_Return)  # Enter: not saved, says why, goes to the field
    assert service.doses(kratom_day3) == []
    assert dialog.isVisible()
    assert "Give a reason" in dialog.status_text()
    assert dialog.focusWidget() is dialog.reason_edit
    assert dialog.reason_message.text() == "Give a reason to give this dose despite the warnings."

    qtbot.keyClicks(dialog.reason_edit, "Rapid induction, Dr. Example's order")
    assert dialog.save_button.isEnabled()
    qtbot.keyClick(dialog.reason_edit, Qt.Key.Key_Return)
    assert dialog.result() == QDialog.DialogCode.Accepted
    [dose] = service.doses(kratom_day3)
    assert dose.description == "naltrexone 25 mg PO"
    assert dose.warning_reason == "Rapid induction, Dr. Example's order"
    assert len(dose.warnings) == 2 and "kratom" in dose.warnings[0]
    assert dialog.saved == dose


def test_warnings_follow_every_change_of_drug_form_dose_and_time(
    qtbot: QtBot, service: ClinicalService, nurse: str, kratom_day3: int, clock: FakeClock
) -> None:
    dialog = _dose_dialog(qtbot, service, nurse, kratom_day3)
    dialog.select_drug("naltrexone")
    assert dialog.warning_text() == "Enter the dose: the checks run as you type."
    qtbot.keyClicks(dialog.dose_edit, "380")
    dialog.select_form("extended_release_injection")
    assert "Naltrexone 380 mg XR inj" in dialog.warning_text()
    # a dose time more than 5 min ahead: refused beside the field, no checks on an impossible time
    dialog.time_edit.setDateTime(to_qdatetime(clock.now() + timedelta(minutes=20)))
    assert dialog.time_message.text().startswith("More than 5 minutes in the future")
    assert dialog.warning_text() == "Correct the time given: the checks run as you type."
    dialog.time_edit.setDateTime(to_qdatetime(clock.now()))
    assert dialog.time_message.text() == ""
    assert "▲ HIGH" in dialog.warning_text()
    # switching to a comfort medicine drops the warnings, the reason and "Give anyway"
    dialog.select_drug("ondansetron")
    assert dialog.warning_text() == ""
    assert not dialog.warnings_box.isVisible()
    assert not dialog.reason_edit.isVisible()
    assert dialog.save_button.text() == "&Save"


def test_a_comfort_medicine_shows_no_warnings_and_saves_without_a_reason(
    qtbot: QtBot, service: ClinicalService, nurse: str, kratom_day3: int
) -> None:
    dialog = _dose_dialog(qtbot, service, nurse, kratom_day3)
    dialog.select_drug("clonidine")
    assert dialog.typical_label.text() == "Typical: 0.1-0.2 mg PO q4-8h (check BP first)"
    qtbot.keyClicks(dialog.dose_edit, "0.1")
    assert dialog.warning_text() == ""
    assert not dialog.warnings_box.isVisible()
    assert not dialog.reason_edit.isVisible()
    assert dialog.save_button.text() == "&Save"
    entry = DoseInput("clonidine", "oral", 0.1, service.clock.now())
    assert service.preview_dose(kratom_day3, entry) == []
    qtbot.keyClicks(dialog.note_edit, "BP 128/84 checked")
    qtbot.keyClick(dialog.note_edit, Qt.Key.Key_Return)
    assert dialog.result() == QDialog.DialogCode.Accepted
    [dose] = service.doses(kratom_day3)
    assert (dose.description, dose.warning_reason, dose.warnings, dose.note) == (
        "clonidine 0.1 mg PO",
        "",
        (),
        "BP 128/84 checked",
    )


def test_the_pick_list_has_every_drug_grouped_antagonists_first_and_forms_follow_the_drug(
    qtbot: QtBot, service: ClinicalService, nurse: str, kratom_day3: int
) -> None:
    dialog = _dose_dialog(qtbot, service, nurse, kratom_day3)
    texts = dialog.drug_texts()
    assert texts[:3] == [
        "— Antagonists – can precipitate withdrawal; checked before saving —",
        "Naltrexone (antagonist)",
        "Naloxone (antagonist)",
    ]
    assert texts[3] == "— Opioid agonists —"
    assert "— Comfort and adjunct medicines —" in texts
    assert dialog.drug_key() is None  # nothing chosen for the nurse
    for drug in medications.DRUGS:
        dialog.select_drug(drug.key)
        assert dialog.drug_key() == drug.key
        assert [dialog.form_combo.itemData(i) for i in range(dialog.form_combo.count())] == list(drug.forms)
        assert dialog.form_combo.isEnabled() == (len(drug.forms) > 1)
    dialog.select_drug("naltrexone")
    assert dialog.form_texts() == ["PO – oral", "XR inj – extended-release injection"]
    dialog.select_drug("naloxone")
    assert dialog.form_texts() == [
        "IV – intravenous",
        "IM – intramuscular",
        "SC – subcutaneous",
        "IN – intranasal",
    ]
    assert dialog.typical_label.text().startswith("Typical: 0.4 mg IM (Dunn 2023)")
    dialog.select_drug("gabapentin")
    assert dialog.form_texts() == ["PO – oral"]
    assert dialog.typical_label.text() == "No typical dose listed: check the prescription."
    # headings cannot be chosen
    heading = dialog.drug_combo.model().index(0, 0)  # type: ignore[union-attr]
    assert not (dialog.drug_combo.model().flags(heading) & Qt.ItemFlag.ItemIsEnabled)


def test_dose_errors_appear_beside_the_field_and_the_form_keeps_its_values(
    qtbot: QtBot,
    service: ClinicalService,
    nurse: str,
    kratom_day3: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dialog = _dose_dialog(qtbot, service, nurse, kratom_day3)
    qtbot.keyClick(dialog.drug_combo, Qt.Key.Key_Return)  # nothing chosen yet
    assert dialog.drug_message.text() == "Choose a medicine from the list."
    dialog.select_drug("lorazepam")
    qtbot.keyClicks(dialog.dose_edit, "0")
    assert dialog.dose_message.text() == "The dose must be more than 0 mg and at most 2000 mg."
    dialog.dose_edit.setText("1")
    assert dialog.dose_message.text() == ""

    def refuse(*_args: object) -> object:
        raise ValidationError("Dose (mg)", "Lorazepam 1 mg was already given 2 min ago.")

    monkeypatch.setattr(service, "record_dose", refuse)
    dialog.save_button.click()
    assert dialog.dose_message.text() == "Lorazepam 1 mg was already given 2 min ago."
    assert dialog.isVisible() and dialog.dose_edit.text() == "1" and dialog.drug_key() == "lorazepam"

    def busy(*_args: object) -> object:
        raise DatabaseProblem(ProblemKind.BUSY, "sqlite3.OperationalError: database is locked")

    monkeypatch.setattr(service, "record_dose", busy)
    dialog.save_button.click()
    assert dialog.status_text().startswith("Not saved. The database is busy")
    assert "Traceback" not in dialog.status_text() and "sqlite3" not in dialog.status_text()
    assert dialog.isVisible()


def test_a_dose_given_more_than_1_hour_ago_needs_a_late_charting_reason(
    qtbot: QtBot, service: ClinicalService, nurse: str, kratom_day3: int, clock: FakeClock
) -> None:
    clock.advance(hours=3)  # admitted at 09:00 UTC, now 12:00 UTC
    dialog = _dose_dialog(qtbot, service, nurse, kratom_day3)
    dialog.select_drug("clonidine")
    qtbot.keyClicks(dialog.dose_edit, "0.1")
    # given now, or exactly 1 h ago: on time, no late-charting field
    assert not dialog.late_edit.isVisible()
    dialog.time_edit.setDateTime(to_qdatetime(clock.now() - timedelta(hours=1)))
    assert not dialog.late_edit.isVisible()
    assert dialog.save_button.isEnabled()

    # 2 h ago: the field appears, is required, and is named like the label (mnemonic Alt+L)
    dialog.time_edit.setDateTime(to_qdatetime(clock.now() - timedelta(hours=2)))
    assert dialog.late_edit.isVisible()
    assert dialog.late_edit.accessibleName() == "Reason for late charting"
    assert dialog.late_message.accessibleName() == "Reason for late charting message"
    [label] = [w for w in dialog.findChildren(QLabel) if w.buddy() is dialog.late_edit]
    assert label.text() == "Reason for &late charting"
    assert dialog.late_edit.placeholderText() == "Required: given more than 1 hour ago"
    assert dialog.late_message.text() == ""  # nothing said before the nurse tries to save
    assert not dialog.save_button.isEnabled()
    qtbot.keyClick(dialog.dose_edit, Qt.Key.Key_Return)  # Enter: not saved, says why, goes to the field
    assert service.doses(kratom_day3) == []
    assert dialog.isVisible()
    assert dialog.focusWidget() is dialog.late_edit
    assert dialog.late_message.text() == "Give a reason for late charting (given more than 1 hour ago)."
    assert dialog.status_text() == (
        "Not saved yet. Give a reason for late charting (given more than 1 hour ago)."
    )

    # 5 h ago is 2 h before the admission: the service refuses it, beside the time given
    dialog.time_edit.setDateTime(to_qdatetime(clock.now() - timedelta(hours=5)))
    qtbot.keyClicks(dialog.late_edit, "Charted from the paper MAR")
    assert dialog.save_button.isEnabled()
    qtbot.keyClick(dialog.late_edit, Qt.Key.Key_Return)
    assert dialog.isVisible() and service.doses(kratom_day3) == []
    assert dialog.time_message.text() == "Time given is before the admission; check the date."
    assert dialog.status_text() == "Not saved. Time given is before the admission; check the date."
    assert dialog.focusWidget() is dialog.time_edit

    # corrected to 2 h ago: saved with the reason, which stays on the dose
    dialog.time_edit.setDateTime(to_qdatetime(clock.now() - timedelta(hours=2)))
    assert dialog.time_message.text() == ""
    assert dialog.late_edit.text() == "Charted from the paper MAR"  # the form kept it
    qtbot.keyClick(dialog.late_edit, Qt.Key.Key_Return)
    assert dialog.result() == QDialog.DialogCode.Accepted
    [dose] = service.doses(kratom_day3)
    assert (dose.description, dose.given_at, dose.late_reason) == (
        "clonidine 0.1 mg PO",
        clock.now() - timedelta(hours=2),
        "Charted from the paper MAR",
    )
    assert dialog.saved == dose


def test_the_services_late_charting_refusal_shows_beside_the_late_reason(
    qtbot: QtBot,
    service: ClinicalService,
    nurse: str,
    kratom_day3: int,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The service decides with its own clock: if it finds the dose late the form did not, the field
    appears with the service's words, and an on-time dose passes no late reason."""
    dialog = _dose_dialog(qtbot, service, nurse, kratom_day3)
    dialog.select_drug("ondansetron")
    qtbot.keyClicks(dialog.dose_edit, "4")
    assert not dialog.late_edit.isVisible()
    sent: list[DoseInput] = []
    words = "This is charted more than 1 hour after the time it was taken: give a reason."

    def refuse(_actor: str, _episode: int, entry: DoseInput) -> object:
        sent.append(entry)
        raise ValidationError("Reason for late charting", words)

    monkeypatch.setattr(service, "record_dose", refuse)
    qtbot.keyClick(dialog.dose_edit, Qt.Key.Key_Return)
    assert sent[0].late_reason == ""
    assert dialog.late_edit.isVisible()
    assert dialog.late_message.text() == words
    assert dialog.focusWidget() is dialog.late_edit
    assert dialog.isVisible() and dialog.dose_edit.text() == "4"
    qtbot.keyClicks(dialog.late_edit, "x")
    assert dialog.late_message.text() == ""  # typing a reason clears the service's message


# --- vitals dialog ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"pulse_bpm": "0"}, "pulse_bpm", "Pulse 0 bpm is not plausible; enter 20 to 250."),
        ({"pulse_bpm": "400"}, "pulse_bpm", "Pulse 400 bpm is not plausible; enter 20 to 250."),
        (
            {"systolic": "90", "diastolic": "120"},
            "diastolic",
            "Diastolic 120 must be below systolic 90.",
        ),
        ({"spo2": "101"}, "spo2", "SpO2 101 % is not plausible; enter 50 to 100."),
        ({"systolic": "120"}, "diastolic", "Enter both systolic and diastolic pressure, or neither."),
    ],
)
def test_impossible_vital_signs_are_refused_with_the_reason_beside_the_field(
    qtbot: QtBot,
    service: ClinicalService,
    nurse: str,
    kratom_day3: int,
    values: dict[str, str],
    field: str,
    message: str,
) -> None:
    dialog = _vitals_dialog(qtbot, service, nurse, kratom_day3)
    for key, text in values.items():
        qtbot.keyClicks(dialog.edits[key], text)
    dialog.save_button.click()  # disabled: nothing happens
    qtbot.keyClick(dialog.edits[next(iter(values))], Qt.Key.Key_Return)  # Enter: says why
    assert dialog.message(field) == message
    assert message in dialog.status_text()
    assert not dialog.save_button.isEnabled()
    assert dialog.isVisible()
    assert service.vitals(kratom_day3) == []


def test_a_future_time_is_refused_and_a_late_one_needs_a_reason(
    qtbot: QtBot, service: ClinicalService, nurse: str, kratom_day3: int, clock: FakeClock
) -> None:
    clock.advance(hours=2)  # admitted 2 h ago: vital signs taken 2 h ago are from the admission
    dialog = _vitals_dialog(qtbot, service, nurse, kratom_day3)
    qtbot.keyClicks(dialog.edits["pulse_bpm"], "88")
    dialog.time_edit.setDateTime(to_qdatetime(clock.now() + timedelta(minutes=10)))
    assert dialog.message("Time taken") == "More than 5 minutes in the future: not allowed"
    qtbot.keyClick(dialog.edits["pulse_bpm"], Qt.Key.Key_Return)
    assert service.vitals(kratom_day3) == []
    assert "future" in dialog.status_text()

    dialog.time_edit.setDateTime(to_qdatetime(clock.now() - timedelta(hours=2)))
    assert dialog.message("Time taken") == ""
    assert dialog.late_edit.isVisible()
    qtbot.keyClick(dialog.edits["pulse_bpm"], Qt.Key.Key_Return)
    assert service.vitals(kratom_day3) == []
    assert dialog.focusWidget() is dialog.late_edit
    qtbot.keyClicks(dialog.late_edit, "Monitor was charted on paper during the fire drill")
    qtbot.keyClick(dialog.late_edit, Qt.Key.Key_Return)
    assert dialog.result() == QDialog.DialogCode.Accepted
    [saved] = service.vitals(kratom_day3)
    assert saved.pulse_bpm == 88 and saved.taken_at == clock.now().replace(second=0) - timedelta(hours=2)


def test_any_subset_of_vital_signs_saves_and_the_service_checks_again(
    qtbot: QtBot,
    service: ClinicalService,
    nurse: str,
    kratom_day3: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dialog = _vitals_dialog(qtbot, service, nurse, kratom_day3)
    assert not dialog.save_button.isEnabled()  # nothing measured yet
    qtbot.keyClick(dialog.edits["pulse_bpm"], Qt.Key.Key_Return)
    assert dialog.status_text() == "Not saved yet. Enter at least one measurement."
    # a pulse typed digit by digit: "1" is not flagged while the nurse is still typing
    qtbot.keyClicks(dialog.edits["pulse_bpm"], "1")
    assert dialog.message("pulse_bpm") == ""
    qtbot.keyClicks(dialog.edits["pulse_bpm"], "04")
    qtbot.keyClicks(dialog.edits["systolic"], "118")
    qtbot.keyClicks(dialog.edits["diastolic"], "76")
    qtbot.keyClicks(dialog.edits["temp_c"], "37,2")

    # the service refuses something the form could not know: its message appears beside the field
    real = service.record_vitals

    def refuse(*_args: object) -> object:
        raise ValidationError("Temperature (°C)", "Temperature 37.2 °C was charted twice.")

    monkeypatch.setattr(service, "record_vitals", refuse)
    dialog.save_button.click()
    assert dialog.message("temp_c") == "Temperature 37.2 °C was charted twice."
    assert dialog.edits["pulse_bpm"].text() == "104"
    monkeypatch.setattr(service, "record_vitals", real)
    dialog.save_button.click()
    assert dialog.result() == QDialog.DialogCode.Accepted
    [saved] = service.vitals(kratom_day3)
    assert (saved.pulse_bpm, saved.systolic, saved.diastolic, saved.resp_rate, saved.spo2, saved.temp_c) == (
        104,
        118,
        76,
        None,
        None,
        37.2,
    )


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        (VitalsInput(taken_at=T0, pulse_bpm=0), "Pulse (bpm)"),
        (VitalsInput(taken_at=T0, pulse_bpm=400), "Pulse (bpm)"),
        (
            VitalsInput(taken_at=T0, systolic=90, diastolic=120),
            "Diastolic (mmHg)",
        ),
        (
            VitalsInput(taken_at=T0 + timedelta(minutes=6), pulse_bpm=80),
            "Time taken",
        ),
    ],
)
def test_the_service_refuses_the_same_impossible_values_naming_the_dialogs_field(
    service: ClinicalService, nurse: str, kratom_day3: int, entry: VitalsInput, field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        service.record_vitals(nurse, kratom_day3, entry)
    assert refused.value.field == field
    assert service.vitals(kratom_day3) == []


# --- main window: tabs, readiness, entered in error -------------------------------------------------


@pytest.fixture
def window(qtbot: QtBot, service: ClinicalService, nurse: str, kratom_day3: int) -> MainWindow:
    win = MainWindow(service, nurse, "test database")
    qtbot.addWidget(win)
    win.show()
    win.episodes.select(kratom_day3)
    return win


def test_readiness_rows_show_each_opioid_against_its_interval(
    qtbot: QtBot, service: ClinicalService, nurse: str, clock: FakeClock
) -> None:
    now = clock.now()
    uses = (
        SubstanceInput("kratom", now - timedelta(days=2, hours=4), "20 g/day", "oral"),
        SubstanceInput("heroin", now - timedelta(days=10), "", "smoked"),
        SubstanceInput("methadone", now - timedelta(days=3), "60 mg/day", "oral"),
        SubstanceInput("alcohol", now - timedelta(days=1)),
    )
    episode = service.admit(nurse, admission(now, "K-3002", "Jordan Sample", "4A", uses))
    win = MainWindow(service, nurse, "test database")
    qtbot.addWidget(win)
    win.show()
    win.episodes.select(episode)
    panel = win.episode_view.readiness
    rows = {row[0]: row for row in panel.table_text()}
    assert set(rows) == {"Kratom (mitragynine)", "Heroin", "Methadone"}  # opioids only; alcohol is not one
    assert rows["Kratom (mitragynine)"] == [
        "Kratom (mitragynine)",
        "reported use",
        local(now - timedelta(days=2, hours=4)),
        "2 days 4 h ago",
        "7 days",
        f"✗ Within interval – ready {local(now + timedelta(days=4, hours=20))}",
    ]
    assert rows["Methadone"][3:] == [
        "3 days ago",
        "14 days",
        f"✗ Within interval – ready {local(now + timedelta(days=11))}",
    ]
    assert rows["Heroin"][3:] == ["10 days ago", "7 days", "✓ Interval passed"]
    assert panel.summary.text() == (
        f"✗ Within the opioid-free interval until {local(now + timedelta(days=11))} (Methadone)."
    )


def test_give_dose_from_the_main_window_shows_it_on_the_medication_tab_newest_first(
    window: MainWindow, qtbot: QtBot, service: ClinicalService, nurse: str, kratom_day3: int, clock: FakeClock
) -> None:
    service.record_dose(nurse, kratom_day3, DoseInput("ondansetron", "oral", 4, clock.now()))
    clock.advance(minutes=20)

    def give(dialog: QWidget) -> None:
        assert isinstance(dialog, DoseDialog)
        dialog.select_drug("naltrexone")
        qtbot.keyClicks(dialog.dose_edit, "1")
        qtbot.keyClicks(dialog.reason_edit, "Low-dose induction")
        qtbot.keyClick(dialog.reason_edit, Qt.Key.Key_Return)

    when_dialog_opens(give)
    window.actions_by_name["Give dose"].trigger()
    view = window.episode_view
    assert window.actions_by_name["Give dose"].shortcut().toString() == "Ctrl+M"
    assert view.current_tab() == TAB_MEDICATION
    rows = table_text(view.dose_table)
    assert [r[1:4] for r in rows] == [
        ["Naltrexone 1 mg PO", "Antagonist", "Given"],
        ["Ondansetron 4 mg PO", "Comfort", "Given"],
    ]
    assert rows[0][6].startswith("Warned: Naltrexone 1 mg PO at ")
    assert rows[0][6].endswith("Given because: Low-dose induction")
    # the readiness panel is still what it was: the kratom interval runs on
    assert "Within interval" in view.readiness.table_text()[0][5]


def test_entered_in_error_works_on_the_selected_tabs_record(
    window: MainWindow, qtbot: QtBot, service: ClinicalService, nurse: str, kratom_day3: int, clock: FakeClock
) -> None:
    service.record_dose(nurse, kratom_day3, DoseInput("ibuprofen", "oral", 400, clock.now()))
    service.record_vitals(nurse, kratom_day3, VitalsInput(clock.now(), pulse_bpm=92, spo2=97))
    service.record_assessment(nurse, kratom_day3, cows(clock.now(), sweating=1))
    window.refresh()
    view = window.episode_view

    def give_reason(text: str) -> None:
        def act(dialog: QWidget) -> None:
            qtbot.keyClicks(dialog.reason, text)  # type: ignore[attr-defined]
            qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)  # type: ignore[attr-defined]

        when_dialog_opens(act)

    view.tabs.setCurrentIndex(TAB_MEDICATION)
    assert view.void_button.isEnabled() and not view.amend_button.isEnabled()
    give_reason("Charted for the wrong patient")
    view.void_button.click()
    assert view.current_tab() == TAB_MEDICATION
    rows = table_text(view.dose_table)
    assert rows[0][3] == "ENTERED IN ERROR: Charted for the wrong patient"
    assert view.dose_model.index(0, 1).data(Qt.ItemDataRole.FontRole).strikeOut()
    assert service.doses(kratom_day3)[0].entered_in_error
    assert not service.assessments(kratom_day3)[0].entered_in_error  # the other tabs are untouched

    view.tabs.setCurrentIndex(TAB_VITALS)
    assert table_text(view.vitals_table)[0][1:7] == ["92", "", "", "97", "", "Recorded"]
    give_reason("Wrong monitor")
    window.actions_by_name["Entered in error"].trigger()
    assert table_text(view.vitals_table)[0][6] == "ENTERED IN ERROR: Wrong monitor"
    assert view.vitals_model.index(0, 1).data(Qt.ItemDataRole.FontRole).strikeOut()
    assert not view.void_button.isEnabled()  # already voided
    assert len(service.vitals(kratom_day3)) == 1  # nothing deleted


def test_record_vitals_from_the_main_window(
    window: MainWindow, qtbot: QtBot, service: ClinicalService, kratom_day3: int
) -> None:
    def chart(dialog: QWidget) -> None:
        assert isinstance(dialog, VitalsDialog)
        qtbot.keyClicks(dialog.edits["resp_rate"], "14")
        qtbot.keyClicks(dialog.edits["spo2"], "98")
        qtbot.keyClick(dialog.edits["spo2"], Qt.Key.Key_Return)

    when_dialog_opens(chart)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
    qtbot.keyClick(window, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    view = window.episode_view
    assert view.current_tab() == TAB_VITALS
    assert table_text(view.vitals_table)[0][1:7] == ["", "", "14", "98", "", "Recorded"]


# --- accessibility ----------------------------------------------------------------------------------


def _inputs(root: QWidget) -> list[QWidget]:
    kinds = (QAbstractButton, QLineEdit, QComboBox, QAbstractSpinBox, QTableView, QCheckBox)
    return [
        w
        for w in root.findChildren(QWidget)
        if isinstance(w, kinds) and w.isVisibleTo(root) and not w.objectName().startswith("qt_")
    ]


def test_every_input_and_action_of_the_new_dialogs_has_its_label_as_accessible_name(
    window: MainWindow, qtbot: QtBot, service: ClinicalService, nurse: str, kratom_day3: int
) -> None:
    dose = _dose_dialog(qtbot, service, nurse, kratom_day3)
    dose.select_drug("naltrexone")
    qtbot.keyClicks(dose.dose_edit, "25")
    vitals = _vitals_dialog(qtbot, service, nurse, kratom_day3)
    protocol = ProtocolDialog(service, nurse)
    qtbot.addWidget(protocol)
    protocol.show()
    expected_names = {
        dose.drug_combo: "Medicine",
        dose.form_combo: "Form",
        dose.dose_edit: "Dose (mg)",
        dose.time_edit: "Time given",
        dose.note_edit: "Note",
        dose.reason_edit: "Reason to give anyway",
        vitals.edits["pulse_bpm"]: "Pulse (bpm)",
        vitals.edits["resp_rate"]: "Respiratory rate (/min)",
        vitals.edits["spo2"]: "SpO2 (%)",
        vitals.edits["temp_c"]: "Temperature (°C)",
        vitals.time_edit: "Time taken",
    }
    for widget, name in expected_names.items():
        assert widget.accessibleName() == name
    for root in (dose, vitals, protocol, window.centralWidget(), window.alert_panel):
        for widget in _inputs(root):
            name = widget.accessibleName()
            assert name, f"{type(widget).__name__} in {type(root).__name__} has no accessible name"
            if isinstance(widget, QAbstractButton) and widget.text():
                assert name == widget.text().replace("&", "").replace("…", ""), name
