"""The medication record, vital signs and readiness for naltrexone, as a nurse meets them.

Numbers come from shared/domain.md: section 3 (an antagonist given too soon after opioids, kratom
included, precipitates withdrawal; a clinic may dose inside the interval on purpose, so the warning is
confirmed with a reason, never a block), section 4 (7 days short-acting and kratom, 14 days methadone and
buprenorphine; baseline COWS not older than 4 h) and section 5 (comfort medicines). Records are charted
at their clinical time with the FakeClock, so no late-charting reason is needed.

The service runs in Europe/Berlin (UTC+1 in November): 09:05 UTC reads "10:05" in messages.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from monitor.domain.scales import COWS
from monitor.services.clinical import ClinicalService
from monitor.services.errors import Conflict, NotFound, ValidationError
from monitor.services.views import AssessmentInput, DoseInput, SubstanceInput, VitalsInput
from monitor.store.database import Database
from tests.conftest import T0, FakeClock
from tests.helpers import admission, raw_count

SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

TOO_SOON_KRATOM = (
    "Naltrexone 25 mg PO at 10:00 given 3 days after the last kratom use (opioid-free interval 7 days)"
)
NO_BASELINE = (
    "Naltrexone 25 mg PO at 10:00 given without a baseline COWS in the 4 h before it (no COWS before it)"
)


def items_for_total(total: int) -> dict[str, int | None]:
    """A complete COWS answer set adding up to `total` (greedy; gooseflesh first as it has no 1 or 2)."""
    remaining = total
    chosen: dict[str, int | None] = {}
    for item in sorted(COWS.items, key=lambda item: item.key != "gooseflesh"):
        value = max(v for v in item.allowed_values if v <= remaining)
        chosen[item.key] = value
        remaining -= value
    assert remaining == 0, total
    return chosen


def chart_cows(service: ClinicalService, nurse: str, episode: int, at: datetime, total: int) -> int:
    return service.record_assessment(nurse, episode, AssessmentInput(at, items_for_total(total))).id


def naltrexone(at: datetime, reason: str = "", mg: float = 25) -> DoseInput:
    return DoseInput("naltrexone", "oral", mg, at, warning_reason=reason)


def actions(service: ClinicalService, action: str) -> list[str]:
    """The reasons of the audit rows with this action, oldest first."""
    return [e.reason for e in reversed(service.audit_entries()) if e.action == action]


@pytest.fixture
def episode(service: ClinicalService, nurse: str) -> int:
    """A patient with no substance history: no interval applies."""
    return service.admit(nurse, admission(T0 - HOUR))


@pytest.fixture
def kratom_episode(service: ClinicalService, nurse: str) -> int:
    """Day 3 after the last kratom use (domain.md section 3: the case reports); alcohol yesterday."""
    return service.admit(
        nurse,
        admission(
            T0 - HOUR,
            mrn="K-2001",
            name="Kim Kratom",
            substances=(
                SubstanceInput("kratom", T0 - 3 * DAY, amount="6 g", route="oral"),
                SubstanceInput("alcohol", T0 - DAY),
            ),
        ),
    )


# --- doses: comfort medicines -----------------------------------------------------------------------


def test_comfort_medicine_is_saved_without_warnings(
    service: ClinicalService, nurse: str, kratom_episode: int
) -> None:
    clonidine = DoseInput("clonidine", "oral", 0.1, T0, note="BP 128/82 checked first")
    assert service.preview_dose(kratom_episode, clonidine) == []

    saved = service.record_dose(nurse, kratom_episode, clonidine)

    assert saved.description == "clonidine 0.1 mg PO"
    assert (saved.drug, saved.drug_label, saved.role, saved.form, saved.dose_mg) == (
        "clonidine",
        "Clonidine",
        "comfort",
        "oral",
        0.1,
    )
    assert (saved.given_at, saved.recorded_at, saved.recorded_by) == (T0, T0, "rn.lee")
    assert (saved.warnings, saved.warning_reason, saved.note) == ((), "", "BP 128/82 checked first")
    assert not saved.entered_in_error
    assert service.doses(kratom_episode) == [saved]
    assert actions(service, "dose.record") == [""]
    # A comfort medicine raises nothing, even in a kratom patient on day 3.
    assert service.alerts(episode_id=kratom_episode) == []


@pytest.mark.parametrize(
    ("entry", "description"),
    [
        (DoseInput("naltrexone", "extended_release_injection", 380, T0), "naltrexone 380 mg XR inj"),
        (DoseInput("naloxone", "im", 0.4, T0), "naloxone 0.4 mg IM"),
        (DoseInput("buprenorphine", "sublingual", 2, T0), "buprenorphine 2 mg SL"),
        (DoseInput("lofexidine", "oral", 0.54, T0), "lofexidine 0.54 mg PO"),
        (DoseInput("loperamide", "oral", 4, T0), "loperamide 4 mg PO"),
    ],
)
def test_every_kind_of_medicine_is_described_as_on_a_chart(
    service: ClinicalService, nurse: str, episode: int, entry: DoseInput, description: str
) -> None:
    chart_cows(service, nurse, episode, T0, 3)  # a baseline, so antagonists need no reason here
    assert service.record_dose(nurse, episode, entry).description == description


def test_doses_are_listed_in_clinical_time_order(
    service: ClinicalService, nurse: str, episode: int, clock: FakeClock
) -> None:
    clock.advance(minutes=30)
    service.record_dose(nurse, episode, DoseInput("ondansetron", "oral", 4, T0 + 30 * MINUTE))
    service.record_dose(nurse, episode, DoseInput("ibuprofen", "oral", 400, T0 + 10 * MINUTE))
    assert [d.description for d in service.doses(episode)] == ["ibuprofen 400 mg PO", "ondansetron 4 mg PO"]


# --- doses: naltrexone in a kratom patient on day 3 ------------------------------------------------


def test_preview_warns_too_soon_after_kratom_and_no_baseline(
    service: ClinicalService, kratom_episode: int
) -> None:
    warnings = service.preview_dose(kratom_episode, naltrexone(T0))
    assert [(w.rule, w.priority, w.message) for w in warnings] == [
        ("antagonist_too_soon", "high", TOO_SOON_KRATOM),
        ("no_baseline_assessment", "medium", NO_BASELINE),
    ]
    # A preview writes nothing.
    assert service.doses(kratom_episode) == []
    assert service.alerts(episode_id=kratom_episode) == []


@pytest.mark.parametrize(
    ("cows_before", "baseline_warning"),
    [
        (4 * HOUR, None),  # exactly 4 h before still counts as the baseline (both ends inclusive)
        (4 * HOUR + MINUTE, "(last COWS 4 h 01 min before the dose)"),
        (0 * HOUR, None),  # taken at the dose time
        (5 * HOUR, "(last COWS 5 h before the dose)"),
    ],
)
def test_no_baseline_warning_looks_back_4_hours(
    service: ClinicalService,
    nurse: str,
    kratom_episode: int,
    clock: FakeClock,
    cows_before: timedelta,
    baseline_warning: str | None,
) -> None:
    dose_at = T0 + 5 * HOUR
    clock.current = dose_at - cows_before
    chart_cows(service, nurse, kratom_episode, clock.now(), 4)
    clock.current = dose_at
    warnings = service.preview_dose(kratom_episode, naltrexone(dose_at))
    assert warnings[0].rule == "antagonist_too_soon"
    baseline = [w.message for w in warnings if w.rule == "no_baseline_assessment"]
    if baseline_warning is None:
        assert baseline == []
    else:
        assert len(baseline) == 1
        assert baseline[0].endswith(baseline_warning)
        assert "without a baseline COWS in the 4 h before it" in baseline[0]


def test_naltrexone_without_a_reason_is_refused_and_nothing_is_saved(
    service: ClinicalService, nurse: str, kratom_episode: int, db: Database
) -> None:
    for reason in ("", "   \n"):
        with pytest.raises(ValidationError) as info:
            service.record_dose(nurse, kratom_episode, naltrexone(T0, reason))
        assert info.value.field == "Reason to give anyway"
        assert f"HIGH: {TOO_SOON_KRATOM}" in info.value.message
        assert f"MEDIUM: {NO_BASELINE}" in info.value.message
        assert "Give a reason to go ahead" in info.value.message
    assert service.doses(kratom_episode) == []
    assert raw_count(db, "doses") == 0
    assert actions(service, "dose.record") == []
    assert service.alerts(include_inactive=True) == []


def test_naltrexone_with_a_reason_is_saved_keeping_warnings_and_reason(
    service: ClinicalService, nurse: str, kratom_episode: int
) -> None:
    why = "Rapid induction per Dr Rao; clonidine given"
    saved = service.record_dose(nurse, kratom_episode, naltrexone(T0, f"  {why} "))

    assert saved.description == "naltrexone 25 mg PO"
    assert saved.role == "antagonist"
    assert saved.warnings == (TOO_SOON_KRATOM, NO_BASELINE)
    assert saved.warning_reason == why
    assert service.doses(kratom_episode) == [saved]
    assert actions(service, "dose.record") == [why]
    record = next(e for e in service.audit_entries() if e.action == "dose.record")
    assert json.loads(record.after_json)["warnings"] == [TOO_SOON_KRATOM, NO_BASELINE]
    # The warnings the nurse confirmed are alerts with the same words, acknowledged by her with her
    # reason as the dose is saved: in the history, not on the list (not asked twice).
    assert service.alerts(episode_id=kratom_episode) == []
    alerts = {a.rule: a for a in service.alerts(include_inactive=True, episode_id=kratom_episode)}
    assert (alerts["antagonist_too_soon"].priority, alerts["antagonist_too_soon"].message) == (
        "high",
        TOO_SOON_KRATOM,
    )
    assert (alerts["no_baseline_assessment"].priority, alerts["no_baseline_assessment"].message) == (
        "medium",
        NO_BASELINE,
    )
    for alert in alerts.values():
        assert (alert.state, alert.acknowledged_by, alert.acknowledged_at, alert.acknowledge_reason) == (
            "acknowledged",
            "rn.lee",
            T0,
            why,
        )
    assert actions(service, "alert.acknowledge") == [why, why]


def test_naltrexone_with_a_baseline_and_no_opioid_history_needs_no_reason(
    service: ClinicalService, nurse: str, episode: int, clock: FakeClock
) -> None:
    chart_cows(service, nurse, episode, T0, 4)
    clock.advance(minutes=5)
    saved = service.record_dose(nurse, episode, naltrexone(clock.now(), "not needed"))
    assert (saved.warnings, saved.warning_reason) == ((), "")


@pytest.mark.parametrize(
    ("entry", "field", "words"),
    [
        (DoseInput("naltrexone", "oral", 0, T0), "Dose (mg)", "more than 0 mg"),
        (DoseInput("naltrexone", "oral", -25, T0), "Dose (mg)", "more than 0 mg"),
        (DoseInput("naltrexone", "oral", 2001, T0), "Dose (mg)", "at most 2000 mg"),
        (DoseInput("naltrexon", "oral", 25, T0), "Medicine", "Unknown drug 'naltrexon'"),
        (DoseInput("naltrexone", "iv", 25, T0), "Form", "allowed forms are oral, extended_release_injection"),
        (DoseInput("clonidine", "oral", 0.1, T0 + 6 * MINUTE), "Time given", "more than 5 minutes"),
        (DoseInput("clonidine", "oral", 0.1, datetime(2026, 11, 20, 9, 0)), "Time given", "time zone"),
    ],
)
def test_bad_doses_are_refused_naming_the_field(
    service: ClinicalService,
    nurse: str,
    kratom_episode: int,
    db: Database,
    entry: DoseInput,
    field: str,
    words: str,
) -> None:
    for attempt in (service.preview_dose, lambda e, d: service.record_dose(nurse, e, d)):
        with pytest.raises(ValidationError) as info:
            attempt(kratom_episode, entry)
        assert info.value.field == field
        assert words in info.value.message
    assert service.doses(kratom_episode) == []
    assert raw_count(db, "doses") == 0


def test_dose_timed_5_minutes_ahead_is_accepted(service: ClinicalService, nurse: str, episode: int) -> None:
    saved = service.record_dose(nurse, episode, DoseInput("clonidine", "oral", 0.1, T0 + 5 * MINUTE))
    assert saved.given_at == T0 + 5 * MINUTE


def test_dose_for_a_discharged_episode_is_a_conflict(
    service: ClinicalService, nurse: str, episode: int
) -> None:
    service.discharge(nurse, episode, T0)
    with pytest.raises(Conflict):
        service.record_dose(nurse, episode, DoseInput("clonidine", "oral", 0.1, T0))
    assert service.doses(episode) == []


# --- doses: late charting, admission, discharge ------------------------------------------------------


def test_a_dose_charted_more_than_1_hour_late_needs_a_reason_which_is_kept(
    service: ClinicalService, nurse: str, episode: int, clock: FakeClock, db: Database
) -> None:
    clock.current = T0 + 3 * HOUR  # 12:00 UTC, charting the clonidine given at 09:00 UTC
    for reason in ("", "  "):
        with pytest.raises(ValidationError) as info:
            service.record_dose(nurse, episode, DoseInput("clonidine", "oral", 0.1, T0, late_reason=reason))
        assert info.value.field == "Reason for late charting"
        assert "more than 1 hour after the time it was taken: give a reason" in info.value.message
    assert service.doses(episode) == []
    assert raw_count(db, "doses") == 0

    why = "Charted from the paper MAR after the fire drill"
    saved = service.record_dose(
        nurse, episode, DoseInput("clonidine", "oral", 0.1, T0, late_reason=f" {why} ")
    )
    assert (saved.given_at, saved.recorded_at, saved.late_reason) == (T0, T0 + 3 * HOUR, why)
    assert service.doses(episode) == [saved]
    assert actions(service, "dose.record") == [why]
    # Exactly 1 h late is not late (design.md): no reason needed, none kept.
    on_time = service.record_dose(nurse, episode, DoseInput("ibuprofen", "oral", 400, T0 + 2 * HOUR))
    assert on_time.late_reason == ""


def test_a_late_antagonist_dose_keeps_both_reasons(
    service: ClinicalService, nurse: str, kratom_episode: int, clock: FakeClock
) -> None:
    clock.current = T0 + 2 * HOUR
    saved = service.record_dose(
        nurse,
        kratom_episode,
        DoseInput("naltrexone", "oral", 25, T0, warning_reason="rapid induction", late_reason="night shift"),
    )
    assert (saved.warning_reason, saved.late_reason) == ("rapid induction", "night shift")
    assert saved.warnings == (TOO_SOON_KRATOM, NO_BASELINE)
    assert actions(service, "dose.record") == ["rapid induction; night shift"]
    # The alerts are acknowledged with the reason to give anyway, not the late-charting one.
    history = service.alerts(include_inactive=True, episode_id=kratom_episode)
    assert sorted(
        (a.rule, a.state, a.acknowledge_reason) for a in history if a.key.endswith(f"d{saved.id}")
    ) == [
        ("antagonist_too_soon", "acknowledged", "rapid induction"),
        ("no_baseline_assessment", "acknowledged", "rapid induction"),
    ]


def test_doses_and_vital_signs_more_than_1_hour_before_admission_are_refused(
    service: ClinicalService, nurse: str, episode: int, db: Database
) -> None:
    # Admitted at 08:00 UTC; 06:00 UTC is 2 h before the admission: almost certainly a wrong date.
    before = T0 - 3 * HOUR
    with pytest.raises(ValidationError) as info:
        service.record_dose(
            nurse, episode, DoseInput("clonidine", "oral", 0.1, before, late_reason="from the ambulance")
        )
    assert info.value.field == "Time given"
    assert info.value.message == "Time given is before the admission; check the date."
    with pytest.raises(ValidationError) as info:
        service.record_vitals(
            nurse, episode, VitalsInput(taken_at=before, pulse_bpm=88, late_reason="from the ambulance")
        )
    assert info.value.field == "Time taken"
    assert info.value.message == "Time taken is before the admission; check the date."
    assert (raw_count(db, "doses"), raw_count(db, "vitals")) == (0, 0)
    assert actions(service, "dose.record") == actions(service, "vitals.record") == []
    # Up to 1 h before the admission is accepted (given on the way in).
    edge = T0 - 2 * HOUR
    dose = service.record_dose(
        nurse, episode, DoseInput("clonidine", "oral", 0.1, edge, late_reason="given in the ambulance")
    )
    vitals = service.record_vitals(
        nurse, episode, VitalsInput(taken_at=edge, pulse_bpm=88, late_reason="ambulance record")
    )
    assert (dose.given_at, vitals.taken_at) == (edge, edge)


def test_a_substance_report_on_a_discharged_episode_is_a_conflict(
    service: ClinicalService, nurse: str, kratom_episode: int, clock: FakeClock
) -> None:
    clock.advance(hours=1)
    service.discharge(nurse, kratom_episode, clock.now())
    before = service.readiness(kratom_episode)
    with pytest.raises(Conflict) as info:
        service.record_substance_use(nurse, kratom_episode, SubstanceInput("kratom", T0 - DAY, "2 g", "oral"))
    assert "discharged" in str(info.value)
    assert service.readiness(kratom_episode) == before
    assert [row.last_use_at for row in before] == [T0 - 3 * DAY]
    assert actions(service, "substance.report") == []


# --- doses entered in error ----------------------------------------------------------------------


def test_dose_entered_in_error_stays_listed_and_its_alerts_are_withdrawn(
    service: ClinicalService, nurse: str, kratom_episode: int, clock: FakeClock
) -> None:
    dose = service.record_dose(nurse, kratom_episode, naltrexone(T0, "rapid induction"))
    assert service.alerts(episode_id=kratom_episode) == []  # acknowledged with the reason at the dose
    assert {(a.rule, a.state) for a in service.alerts(include_inactive=True, episode_id=kratom_episode)} == {
        ("antagonist_too_soon", "acknowledged"),
        ("no_baseline_assessment", "acknowledged"),
    }
    clock.advance(minutes=3)

    voided = service.mark_dose_entered_in_error(nurse, dose.id, "wrong patient")

    assert voided.entered_in_error
    assert (voided.void_reason, voided.voided_by, voided.voided_at) == (
        "wrong patient",
        "rn.lee",
        clock.now(),
    )
    [listed] = service.doses(kratom_episode)
    assert (listed.id, listed.entered_in_error, listed.void_reason) == (dose.id, True, "wrong patient")
    assert listed.warnings == dose.warnings  # what was said at the time stays on the record
    assert service.alerts(episode_id=kratom_episode) == []
    history = service.alerts(include_inactive=True, episode_id=kratom_episode)
    assert {(a.rule, a.state, a.resolved_at) for a in history} == {
        ("antagonist_too_soon", "resolved", clock.now()),
        ("no_baseline_assessment", "resolved", clock.now()),
    }
    assert actions(service, "dose.entered_in_error") == ["wrong patient"]
    assert len(actions(service, "alert.withdraw")) == 2
    # A later COWS rise no longer belongs to a dose that was never given.
    clock.advance(minutes=30)
    chart_cows(service, nurse, kratom_episode, clock.now(), 20)
    assert [a.rule for a in service.alerts(episode_id=kratom_episode)] == []


def test_dose_entered_in_error_needs_a_reason_and_happens_once(
    service: ClinicalService, nurse: str, episode: int
) -> None:
    dose = service.record_dose(nurse, episode, DoseInput("clonidine", "oral", 0.1, T0))
    with pytest.raises(ValidationError) as info:
        service.mark_dose_entered_in_error(nurse, dose.id, "  ")
    assert info.value.field == "Reason"
    assert not service.doses(episode)[0].entered_in_error
    service.mark_dose_entered_in_error(nurse, dose.id, "charted twice")
    with pytest.raises(Conflict):
        service.mark_dose_entered_in_error(nurse, dose.id, "again")
    with pytest.raises(NotFound):
        service.mark_dose_entered_in_error(nurse, 999, "no such dose")
    assert actions(service, "dose.entered_in_error") == ["charted twice"]


# --- vital signs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"pulse_bpm": 0}, "Pulse (bpm)", "not plausible"),
        ({"pulse_bpm": 400}, "Pulse (bpm)", "not plausible"),
        ({"systolic": 80, "diastolic": 80}, "Diastolic (mmHg)", "must be below systolic 80"),
        ({"systolic": 80, "diastolic": 95}, "Diastolic (mmHg)", "must be below systolic 80"),
        ({"systolic": 120}, "Diastolic (mmHg)", "both systolic and diastolic"),
        ({"diastolic": 70}, "Systolic (mmHg)", "both systolic and diastolic"),
        ({}, "Pulse (bpm)", "at least one measurement"),
        ({"spo2": 101}, "SpO2 (%)", "not plausible"),
        ({"resp_rate": 0}, "Respiratory rate (/min)", "not plausible"),
        ({"temp_c": 45.0}, "Temperature (°C)", "not plausible"),
        ({"pulse_bpm": 88, "taken_at": T0 + 6 * MINUTE}, "Time taken", "more than 5 minutes"),
        ({"pulse_bpm": 88, "taken_at": T0 - HOUR - MINUTE}, "Reason for late charting", "give a reason"),
    ],
)
def test_implausible_vital_signs_are_refused_naming_the_field(
    service: ClinicalService,
    nurse: str,
    episode: int,
    db: Database,
    values: dict[str, object],
    field: str,
    words: str,
) -> None:
    fields: dict[str, object] = {"taken_at": T0, **values}
    with pytest.raises(ValidationError) as info:
        service.record_vitals(nurse, episode, VitalsInput(**fields))  # type: ignore[arg-type]
    assert info.value.field == field
    assert words in info.value.message
    assert service.vitals(episode) == []
    assert raw_count(db, "vitals") == 0
    assert actions(service, "vitals.record") == []


def test_valid_vital_signs_are_saved_and_listed(service: ClinicalService, nurse: str, episode: int) -> None:
    entry = VitalsInput(
        taken_at=T0 - 10 * MINUTE,
        pulse_bpm=96,
        systolic=132,
        diastolic=84,
        resp_rate=16,
        spo2=97,
        temp_c=37.4,
        note="sitting",
    )
    saved = service.record_vitals(nurse, episode, entry)
    assert (saved.pulse_bpm, saved.systolic, saved.diastolic, saved.resp_rate, saved.spo2, saved.temp_c) == (
        96,
        132,
        84,
        16,
        97,
        37.4,
    )
    assert (saved.taken_at, saved.recorded_at, saved.recorded_by, saved.note) == (
        T0 - 10 * MINUTE,
        T0,
        "rn.lee",
        "sitting",
    )
    assert service.vitals(episode) == [saved]
    assert actions(service, "vitals.record") == [""]
    # Normal values raise nothing.
    assert service.alerts(episode_id=episode) == []


def test_a_single_measurement_and_a_late_set_with_a_reason_are_saved(
    service: ClinicalService, nurse: str, episode: int
) -> None:
    service.record_vitals(nurse, episode, VitalsInput(taken_at=T0, spo2=95))
    late = VitalsInput(taken_at=T0 - 2 * HOUR, pulse_bpm=70, late_reason="monitor printout, charted late")
    service.record_vitals(nurse, episode, late)
    listed = service.vitals(episode)
    assert [(v.taken_at, v.pulse_bpm, v.spo2) for v in listed] == [
        (T0 - 2 * HOUR, 70, None),
        (T0, None, 95),
    ]
    assert actions(service, "vitals.record") == ["", "monitor printout, charted late"]


def test_vital_signs_entered_in_error_stay_listed(service: ClinicalService, nurse: str, episode: int) -> None:
    saved = service.record_vitals(nurse, episode, VitalsInput(taken_at=T0, spo2=85))
    assert [a.rule for a in service.alerts(episode_id=episode)] == ["vital_signs"]
    service.mark_vitals_entered_in_error(nurse, saved.id, "probe on the wrong patient")
    [listed] = service.vitals(episode)
    assert (listed.entered_in_error, listed.void_reason) == (True, "probe on the wrong patient")
    assert service.alerts(episode_id=episode) == []


# --- readiness for naltrexone -------------------------------------------------------------------------


def test_kratom_on_day_3_is_not_ready_until_day_7(
    service: ClinicalService, kratom_episode: int, clock: FakeClock
) -> None:
    [row] = service.readiness(kratom_episode)  # alcohol is not an opioid: no row
    assert (row.substance, row.label, row.source) == ("kratom", "Kratom (mitragynine)", "reported use")
    assert row.last_use_at == T0 - 3 * DAY
    assert row.elapsed == 72 * HOUR
    assert row.interval_days == 7
    assert row.clear_at == T0 - 3 * DAY + 7 * DAY
    assert not row.ready

    clock.current = row.clear_at - SECOND
    assert not service.readiness(kratom_episode)[0].ready
    clock.current = row.clear_at
    assert service.readiness(kratom_episode)[0].ready


def test_methadone_needs_14_days_and_heroin_7(service: ClinicalService, nurse: str) -> None:
    episode = service.admit(
        nurse,
        admission(
            T0 - HOUR,
            substances=(
                SubstanceInput("heroin", T0 - 8 * DAY),
                SubstanceInput("methadone", T0 - 10 * DAY),
                SubstanceInput("alcohol", T0 - 2 * HOUR),
                SubstanceInput("benzodiazepine", T0 - 2 * DAY),
                SubstanceInput("fentanyl"),  # last use unknown: nothing to count from
            ),
        ),
    )
    rows = service.readiness(episode)
    # The one that clears last comes first.
    assert [(r.substance, r.interval_days, r.elapsed, r.ready, r.clear_at) for r in rows] == [
        ("methadone", 14, 10 * DAY, False, T0 + 4 * DAY),
        ("heroin", 7, 8 * DAY, True, T0 - DAY),
    ]


def test_buprenorphine_given_here_counts_as_a_long_acting_exposure(
    service: ClinicalService, nurse: str, episode: int, clock: FakeClock
) -> None:
    assert service.readiness(episode) == []
    service.record_dose(nurse, episode, DoseInput("buprenorphine", "sublingual", 4, T0))
    clock.advance(hours=2)
    [row] = service.readiness(episode)
    assert (row.substance, row.label, row.source) == ("buprenorphine", "Buprenorphine", "dose given here")
    assert (row.last_use_at, row.elapsed, row.interval_days, row.ready) == (T0, 2 * HOUR, 14, False)
    assert row.clear_at == T0 + 14 * DAY
    # The rules agree: naltrexone now is too soon after the buprenorphine dose.
    chart_cows(service, nurse, episode, clock.now(), 3)
    [warning] = service.preview_dose(episode, naltrexone(clock.now()))
    assert warning.message == (
        "Naltrexone 25 mg PO at 12:00 given 2 h after the last buprenorphine dose "
        "(opioid-free interval 14 days)"
    )


def test_buprenorphine_dose_entered_in_error_leaves_readiness(
    service: ClinicalService, nurse: str, episode: int
) -> None:
    dose = service.record_dose(nurse, episode, DoseInput("buprenorphine", "sublingual", 4, T0))
    service.mark_dose_entered_in_error(nurse, dose.id, "was not given")
    assert service.readiness(episode) == []


def test_later_report_of_kratom_use_replaces_the_older_last_use(
    service: ClinicalService, nurse: str, kratom_episode: int, clock: FakeClock
) -> None:
    clock.advance(hours=20)
    # The patient says on day 2 that they took kratom yesterday evening.
    newer = T0 - 14 * HOUR
    service.record_substance_use(nurse, kratom_episode, SubstanceInput("kratom", newer, "2 g", "oral"))
    [row] = service.readiness(kratom_episode)
    assert (row.last_use_at, row.clear_at, row.source) == (newer, newer + 7 * DAY, "reported use")
    assert row.elapsed == 34 * HOUR
    # A report of an older use does not move the last use back.
    service.record_substance_use(nurse, kratom_episode, SubstanceInput("kratom", T0 - 5 * DAY))
    assert [r.last_use_at for r in service.readiness(kratom_episode)] == [newer]
    assert len(actions(service, "substance.report")) == 2
    # The dose preview uses the newer last use as well.
    chart_cows(service, nurse, kratom_episode, clock.now(), 2)
    [warning] = service.preview_dose(kratom_episode, naltrexone(clock.now()))
    assert "1 day 10 h after the last kratom use (opioid-free interval 7 days)" in warning.message


def test_report_of_use_after_a_clear_admission_history_brings_the_warning_back(
    service: ClinicalService, nurse: str, clock: FakeClock
) -> None:
    episode = service.admit(nurse, admission(T0 - HOUR, substances=(SubstanceInput("heroin", T0 - 9 * DAY),)))
    chart_cows(service, nurse, episode, T0, 2)
    assert service.readiness(episode)[0].ready
    assert service.preview_dose(episode, naltrexone(T0)) == []
    service.record_substance_use(nurse, episode, SubstanceInput("heroin", T0 - 2 * DAY))
    assert not service.readiness(episode)[0].ready
    assert [w.rule for w in service.preview_dose(episode, naltrexone(T0))] == ["antagonist_too_soon"]


@pytest.mark.parametrize(
    ("use", "field", "words"),
    [
        (SubstanceInput("kratum", T0 - DAY), "Substance", "Unknown substance 'kratum'"),
        (SubstanceInput("kratom"), "Last use", "required"),
        (SubstanceInput("kratom", T0 + 6 * MINUTE), "Last use", "future"),
        (SubstanceInput("kratom", T0 - DAY, route="chewed-ish"), "Route", "Route must be one of"),
    ],
)
def test_bad_substance_reports_are_refused(
    service: ClinicalService,
    nurse: str,
    kratom_episode: int,
    use: SubstanceInput,
    field: str,
    words: str,
) -> None:
    before = service.readiness(kratom_episode)
    with pytest.raises(ValidationError) as info:
        service.record_substance_use(nurse, kratom_episode, use)
    assert info.value.field == field
    assert words in info.value.message
    assert service.readiness(kratom_episode) == before
    assert actions(service, "substance.report") == []


def test_opioid_free_interval_follows_the_protocol(
    service: ClinicalService, physician: str, kratom_episode: int
) -> None:
    service.set_protocol_setting(
        physician, "opioid_free_short_days", 10, "physicians adopt 10 days (labels: 7-10)"
    )
    [row] = service.readiness(kratom_episode)
    assert (row.interval_days, row.clear_at) == (10, T0 + 7 * DAY)
