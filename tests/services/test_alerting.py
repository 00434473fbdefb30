"""The alert workflow through the services, as the nurse and the physician meet it.

The scenario of issue 3: baseline COWS 4 at 09:00, naltrexone 25 mg PO at 09:05, COWS 17 at 09:55, a
rise of 13 in 50 min (domain.md section 4: baseline + 6 raises precipitated withdrawal, Dunn 2023).
Then acknowledge with a reason, snooze capped at 15 min, escalation after 10 min unacknowledged,
silence that escalation overrides, overdue COWS that appear without new data, protocol settings that
change the result, and evaluation as of a past time. Every step is audited.

Times are UTC in the test; the service runs in Europe/Berlin (UTC+1 in November), so messages read one
hour later ("at 10:05" for a dose at 09:05 UTC).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from monitor.domain.scales import COWS
from monitor.services.clinical import ClinicalService
from monitor.services.errors import NotFound, ValidationError
from monitor.services.views import AlertView, AssessmentInput, DoseInput, SubstanceInput, VitalsInput
from monitor.store.database import Database
from tests.conftest import T0, FakeClock
from tests.helpers import admission, raw_count, raw_rows

SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

DOSE_AT = T0 + 5 * MINUTE  # 09:05 UTC
RISE_AT = T0 + 55 * MINUTE  # 09:55 UTC: COWS 17
ESCALATES_AT = RISE_AT + 10 * MINUTE  # 10:05 UTC: 10 min after the alert was first shown
PW = "precipitated_withdrawal"


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


def chart_cows(service: ClinicalService, nurse: str, episode: int, total: int, at: datetime) -> int:
    return service.record_assessment(nurse, episode, AssessmentInput(at, items_for_total(total))).id


def audit_rows(service: ClinicalService, action: str) -> list[tuple[str, str, dict[str, object]]]:
    """(username, reason, after) of the audit rows with this action, oldest first."""
    return [
        (e.username, e.reason, json.loads(e.after_json) if e.after_json else {})
        for e in reversed(service.audit_entries())
        if e.action == action
    ]


def by_rule(views: list[AlertView], rule: str) -> list[AlertView]:
    return [v for v in views if v.rule == rule]


def the(views: list[AlertView], rule: str) -> AlertView:
    found = by_rule(views, rule)
    assert len(found) == 1, [(v.rule, v.state) for v in views]
    return found[0]


@pytest.fixture
def episode(service: ClinicalService, nurse: str) -> int:
    """No substance history, so the naltrexone dose itself raises nothing (the baseline is there)."""
    return service.admit(nurse, admission(T0 - HOUR, mrn="K-1001", name="Alex Example", bed="3B"))


@dataclass(frozen=True)
class Scenario:
    episode: int
    baseline_id: int
    dose_id: int
    rise_id: int


def precipitate(service: ClinicalService, nurse: str, clock: FakeClock, episode: int) -> Scenario:
    """COWS 4 at 09:00, naltrexone 25 mg PO at 09:05, COWS 17 at 09:55; the clock ends at 09:55."""
    clock.current = T0
    baseline = chart_cows(service, nurse, episode, 4, T0)
    clock.current = DOSE_AT
    dose = service.record_dose(
        nurse, episode, DoseInput("naltrexone", "oral", 25, DOSE_AT, warning_reason="rapid induction")
    )
    clock.current = RISE_AT
    rise = chart_cows(service, nurse, episode, 17, RISE_AT)
    return Scenario(episode, baseline, dose.id, rise)


@pytest.fixture
def scenario(service: ClinicalService, nurse: str, clock: FakeClock, episode: int) -> Scenario:
    return precipitate(service, nurse, clock, episode)


def pw_alert(service: ClinicalService) -> AlertView:
    return the(service.alerts(include_inactive=True), PW)


# --- the scenario of the issue ----------------------------------------------------------------------


def test_kratom_day_3_naltrexone_then_cows_rise_raises_one_precipitated_withdrawal_alert(
    service: ClinicalService, nurse: str, clock: FakeClock, db: Database
) -> None:
    episode = service.admit(
        nurse,
        admission(
            T0 - HOUR,
            mrn="K-2001",
            name="Kim Kratom",
            bed="4A",
            substances=(SubstanceInput("kratom", T0 - 3 * DAY),),
        ),
    )
    chart_cows(service, nurse, episode, 4, T0)
    clock.current = DOSE_AT
    with pytest.raises(ValidationError):
        service.record_dose(nurse, episode, DoseInput("naltrexone", "oral", 25, DOSE_AT))
    service.record_dose(
        nurse, episode, DoseInput("naltrexone", "oral", 25, DOSE_AT, warning_reason="rapid induction, Dr Rao")
    )
    assert by_rule(service.alerts(), PW) == []
    clock.current = RISE_AT
    chart_cows(service, nurse, episode, 17, RISE_AT)

    alert = the(service.alerts(), PW)
    assert (alert.priority, alert.state, alert.title) == (
        "high",
        "active",
        "Possible precipitated withdrawal",
    )
    assert (alert.mrn, alert.patient, alert.bed) == ("K-2001", "Kim Kratom", "4A")
    assert alert.message == "COWS 4 -> 17 (+13) 50 min after naltrexone 25 mg PO at 10:05"
    assert "COWS 4 -> 17 (+13) 50 min after naltrexone 25 mg PO" in alert.message
    assert (alert.raised_at, alert.shown_at) == (RISE_AT, RISE_AT)
    evidence = alert.evidence
    assert evidence["rise"] == 13
    assert (evidence["baseline_total"], evidence["trigger_total"], evidence["threshold"]) == (4, 17, 10)
    assert (evidence["minutes_after_dose"], evidence["window_minutes"], evidence["no_baseline"]) == (
        50,
        360,
        False,
    )
    assert evidence["dose"] == "naltrexone 25 mg PO"
    assert alert.sound
    # The too-soon warning confirmed at the dose is its own alert, about the same dose, acknowledged
    # at once by the nurse with the reason she gave (not asked twice): in the history, not on the list.
    assert by_rule(service.alerts(), "antagonist_too_soon") == []
    too_soon = the(service.alerts(include_inactive=True), "antagonist_too_soon")
    assert "3 days after the last kratom use" in too_soon.message
    assert (too_soon.state, too_soon.acknowledged_by, too_soon.acknowledged_at) == (
        "acknowledged",
        "rn.lee",
        DOSE_AT,
    )
    assert too_soon.acknowledge_reason == "rapid induction, Dr Rao"

    # 10:30 UTC: COWS 21 updates the same alert with the peak; it does not raise another.
    clock.current = T0 + 90 * MINUTE
    peak_id = chart_cows(service, nurse, episode, 21, clock.now())
    updated = the(service.alerts(include_inactive=True), PW)
    assert updated.id == alert.id
    assert updated.message == (
        "COWS 4 -> 17 (+13) 50 min after naltrexone 25 mg PO at 10:05; peak COWS 21 at 11:30"
    )
    assert (updated.evidence["peak_total"], updated.evidence["peak_assessment_id"]) == (21, peak_id)
    assert (updated.evidence["rise"], updated.evidence["trigger_total"]) == (13, 17)
    assert updated.raised_at == RISE_AT  # still raised by the first COWS over the line
    assert updated.state == "escalated"  # nobody acknowledged it within 10 min

    alerts_rows = raw_count(db, "alerts")
    raises = len(audit_rows(service, "alert.raise"))
    for _ in range(3):
        service.refresh_alerts()
    clock.advance(minutes=1)
    service.refresh_alerts()
    assert raw_count(db, "alerts") == alerts_rows
    assert len(audit_rows(service, "alert.raise")) == raises
    assert raw_count(db, "alerts", f"rule = '{PW}'") == 1


def test_no_alert_below_the_rise_of_6(
    service: ClinicalService, nurse: str, clock: FakeClock, episode: int
) -> None:
    chart_cows(service, nurse, episode, 4, T0)
    clock.current = DOSE_AT
    service.record_dose(nurse, episode, DoseInput("naltrexone", "oral", 25, DOSE_AT))
    clock.current = RISE_AT
    chart_cows(service, nurse, episode, 9, RISE_AT)  # +5
    assert by_rule(service.refresh_alerts(), PW) == []
    clock.advance(minutes=10)
    chart_cows(service, nurse, episode, 10, clock.now())  # exactly +6
    assert "COWS 4 -> 10 (+6) 1 h after naltrexone 25 mg PO at 10:05" in the(service.alerts(), PW).message


# --- acknowledge -------------------------------------------------------------------------------------


def test_acknowledging_a_high_alert_needs_a_reason(
    service: ClinicalService, nurse: str, scenario: Scenario, db: Database
) -> None:
    alert = the(service.alerts(), PW)
    for reason in ("", "   "):
        with pytest.raises(ValidationError) as info:
            service.acknowledge_alert(nurse, alert.id, reason)
        assert info.value.field == "Reason"
        assert "reason is required" in info.value.message
    assert the(service.alerts(), PW).state == "active"
    assert raw_count(db, "alert_events") == 0
    assert audit_rows(service, "alert.acknowledge") == []


def test_acknowledged_alert_leaves_the_list_and_keeps_who_and_why(
    service: ClinicalService, nurse: str, clock: FakeClock, scenario: Scenario, db: Database
) -> None:
    alert = the(service.alerts(), PW)
    clock.advance(minutes=2)
    why = "Dr Rao informed; clonidine 0.1 mg given"

    done = service.acknowledge_alert(nurse, alert.id, f" {why} ")

    assert (done.state, done.acknowledged_by, done.acknowledge_reason) == ("acknowledged", "rn.lee", why)
    assert done.acknowledged_at == clock.now()
    assert not done.sound and not done.needs_action
    assert by_rule(service.alerts(), PW) == []
    assert the(service.alerts(include_inactive=True), PW) == done
    [(who, reason, after)] = audit_rows(service, "alert.acknowledge")
    assert (who, reason, after["state"]) == ("rn.lee", why, "acknowledge")
    # Acknowledged in time: it never escalates.
    clock.current = ESCALATES_AT + HOUR
    service.refresh_alerts()
    assert pw_alert(service).state == "acknowledged"
    assert pw_alert(service).escalated_at is None
    assert raw_count(db, "alert_events", "kind = 'escalate'") == 0
    # Acknowledging again changes nothing.
    again = service.acknowledge_alert(nurse, alert.id, "again")
    assert (again.acknowledge_reason, again.acknowledged_at) == (why, T0 + 57 * MINUTE)
    assert raw_count(db, "alert_events") == 1


def test_medium_alert_can_be_acknowledged_without_a_reason(
    service: ClinicalService, nurse: str, episode: int
) -> None:
    chart_cows(service, nurse, episode, 27, T0)  # moderately severe: the medium severity alert
    medium = the(service.alerts(), "withdrawal_severity")
    assert (medium.priority, medium.state) == ("medium", "active")
    assert not medium.sound  # only high alerts sound
    done = service.acknowledge_alert(nurse, medium.id)
    assert (done.state, done.acknowledge_reason, done.acknowledged_by) == ("acknowledged", "", "rn.lee")
    assert done.acknowledged_at == T0
    assert by_rule(service.alerts(), "withdrawal_severity") == []
    [(who, reason, after)] = audit_rows(service, "alert.acknowledge")
    assert (who, reason, after["state"]) == ("rn.lee", "", "acknowledge")


# --- warnings confirmed at the dose are acknowledged with the reason --------------------------------


def kratom_day_3(service: ClinicalService, nurse: str) -> int:
    """Admitted 08:00 UTC, last kratom use 3 days ago (inside the 7-day interval), no COWS yet."""
    return service.admit(
        nurse,
        admission(
            T0 - HOUR,
            mrn="K-2001",
            name="Kim Kratom",
            bed="4A",
            substances=(SubstanceInput("kratom", T0 - 3 * DAY),),
        ),
    )


def test_alerts_of_the_warnings_confirmed_at_the_dose_are_acknowledged_with_the_reason(
    service: ClinicalService, nurse: str, clock: FakeClock, db: Database
) -> None:
    episode = kratom_day_3(service, nurse)
    clock.current = DOSE_AT
    why = "Rapid induction per Dr Rao"
    dose = service.record_dose(
        nurse, episode, DoseInput("naltrexone", "oral", 25, DOSE_AT, warning_reason=f" {why} ")
    )
    assert len(dose.warnings) == 2

    # Neither is on the list: the nurse has already made (and given a reason for) this decision.
    assert service.alerts() == []
    history = {a.rule: a for a in service.alerts(include_inactive=True)}
    assert set(history) == {"antagonist_too_soon", "no_baseline_assessment"}
    for rule, priority in (("antagonist_too_soon", "high"), ("no_baseline_assessment", "medium")):
        alert = history[rule]
        assert alert.key == f"{rule}:e{episode}:d{dose.id}"
        assert (alert.priority, alert.state, alert.raised_at) == (priority, "acknowledged", DOSE_AT)
        assert (alert.acknowledged_by, alert.acknowledged_at, alert.acknowledge_reason) == (
            "rn.lee",
            DOSE_AT,
            why,
        )
        assert alert.message in dose.warnings  # the very words she confirmed
        assert not alert.sound and not alert.needs_action
    # Audited as hers, with her reason, once per alert.
    acknowledgements = audit_rows(service, "alert.acknowledge")
    assert [(who, reason) for who, reason, _ in acknowledgements] == [("rn.lee", why), ("rn.lee", why)]
    assert sorted(after["message"] for _, _, after in acknowledgements) == sorted(dose.warnings)
    assert raw_count(db, "alert_events", "kind = 'acknowledge'") == 2
    # The high one never escalates; acknowledging again changes nothing.
    clock.current = DOSE_AT + 2 * HOUR
    service.refresh_alerts()
    too_soon = history["antagonist_too_soon"]
    assert (the(service.alerts(include_inactive=True), "antagonist_too_soon").escalated_at) is None
    assert raw_count(db, "alert_events", "kind = 'escalate'") == 0
    again = service.acknowledge_alert(nurse, too_soon.id, "again")
    assert (again.acknowledge_reason, again.acknowledged_at) == (why, DOSE_AT)
    assert raw_count(db, "alert_events") == 2
    # Evaluated as of a time, it was acknowledged from the moment the dose was saved.
    assert by_rule(service.alerts_as_of(DOSE_AT), "antagonist_too_soon") == []
    assert the(service.alerts_as_of(DOSE_AT, include_all=True), "antagonist_too_soon").state == (
        "acknowledged"
    )


def test_a_dose_given_without_warnings_acknowledges_nothing(
    service: ClinicalService, nurse: str, clock: FakeClock, episode: int, db: Database
) -> None:
    baseline = chart_cows(service, nurse, episode, 4, T0)
    clock.current = DOSE_AT
    # No warning, so a reason typed anyway is not kept and acknowledges nothing.
    dose = service.record_dose(
        nurse, episode, DoseInput("naltrexone", "oral", 25, DOSE_AT, warning_reason="just in case")
    )
    assert (dose.warnings, dose.warning_reason) == ((), "")
    assert service.alerts(include_inactive=True) == []
    # The baseline turns out to be another patient's: the no-baseline alert is raised now, and it is
    # active, because nobody was ever warned about it.
    clock.advance(minutes=2)
    service.mark_entered_in_error(nurse, baseline, "another patient's score")
    alert = the(service.alerts(), "no_baseline_assessment")
    assert (alert.state, alert.acknowledged_by, alert.acknowledge_reason) == ("active", "", "")
    assert raw_count(db, "alert_events") == 0
    assert audit_rows(service, "alert.acknowledge") == []


def test_only_the_warning_the_nurse_confirmed_is_acknowledged(
    service: ClinicalService, nurse: str, clock: FakeClock, db: Database
) -> None:
    """Warned only that it is too soon (a baseline was there); when the baseline is later entered in
    error, the no-baseline alert is new information and stays active."""
    episode = kratom_day_3(service, nurse)
    baseline = chart_cows(service, nurse, episode, 4, T0)
    clock.current = DOSE_AT
    dose = service.record_dose(
        nurse, episode, DoseInput("naltrexone", "oral", 25, DOSE_AT, warning_reason="rapid induction")
    )
    assert len(dose.warnings) == 1 and "kratom" in dose.warnings[0]
    clock.advance(minutes=2)
    service.mark_entered_in_error(nurse, baseline, "another patient's score")
    assert the(service.alerts(include_inactive=True), "antagonist_too_soon").state == "acknowledged"
    no_baseline = the(service.alerts(), "no_baseline_assessment")
    assert (no_baseline.state, no_baseline.shown_at) == ("active", DOSE_AT + 2 * MINUTE)
    assert raw_count(db, "alert_events") == 1


def test_a_dose_timed_a_few_minutes_ahead_has_its_confirmed_warnings_acknowledged_when_raised(
    service: ClinicalService, nurse: str, clock: FakeClock, db: Database
) -> None:
    """A dose time up to 5 min ahead is accepted (clock drift); its alerts are raised only once its
    time comes, by a later refresh, and are acknowledged then by the nurse who confirmed them."""
    episode = kratom_day_3(service, nurse)
    clock.current = DOSE_AT - 3 * MINUTE
    why = "rapid induction, Dr Rao"
    service.record_dose(nurse, episode, DoseInput("naltrexone", "oral", 25, DOSE_AT, warning_reason=why))
    assert service.alerts(include_inactive=True) == []  # not raised before the dose time
    clock.current = DOSE_AT + MINUTE
    assert service.refresh_alerts() == []
    history = service.alerts(include_inactive=True)
    assert sorted((a.rule, a.state, a.acknowledged_by, a.acknowledge_reason) for a in history) == [
        ("antagonist_too_soon", "acknowledged", "rn.lee", why),
        ("no_baseline_assessment", "acknowledged", "rn.lee", why),
    ]
    assert {a.acknowledged_at for a in history} == {DOSE_AT + MINUTE}
    clock.current = DOSE_AT + HOUR
    service.refresh_alerts()
    assert raw_count(db, "alert_events", "kind = 'escalate'") == 0
    assert [who for who, _, _ in audit_rows(service, "alert.acknowledge")] == ["rn.lee", "rn.lee"]


def test_unknown_alert_is_not_found(service: ClinicalService, nurse: str) -> None:
    with pytest.raises(NotFound):
        service.acknowledge_alert(nurse, 404, "reason")


# --- snooze ------------------------------------------------------------------------------------------


def test_high_alert_snooze_is_capped_at_15_minutes(
    service: ClinicalService, nurse: str, clock: FakeClock, scenario: Scenario, db: Database
) -> None:
    alert = the(service.alerts(), PW)
    for minutes in (16, 0, -5):
        with pytest.raises(ValidationError) as info:
            service.snooze_alert(nurse, alert.id, minutes)
        assert info.value.field == "Snooze (minutes)"
    with pytest.raises(ValidationError) as info:
        service.snooze_alert(nurse, alert.id, 16)
    assert "at most 15 min" in info.value.message
    assert raw_count(db, "alert_events") == 0

    snoozed = service.snooze_alert(nurse, alert.id, 15, "calming the patient first")
    assert (snoozed.state, snoozed.snoozed_until, snoozed.sound) == ("snoozed", RISE_AT + 15 * MINUTE, False)
    assert the(service.alerts(), PW).state == "snoozed"  # still on the list, marked snoozed
    [(who, reason, after)] = audit_rows(service, "alert.snooze")
    assert (who, reason) == ("rn.lee", "calming the patient first")
    assert after["until"] == (RISE_AT + 15 * MINUTE).isoformat()

    # Escalation fell due at 10:05 during the snooze: it waits for the snooze to end, then escalates.
    clock.current = RISE_AT + 15 * MINUTE - SECOND
    assert the(service.refresh_alerts(), PW).state == "snoozed"
    assert raw_count(db, "alert_events", "kind = 'escalate'") == 0
    clock.current = RISE_AT + 15 * MINUTE
    ended = the(service.refresh_alerts(), PW)
    assert (ended.state, ended.escalated_at, ended.snoozed_until, ended.sound) == (
        "escalated",
        RISE_AT + 15 * MINUTE,
        None,
        True,
    )


def test_alert_is_active_again_when_a_short_snooze_ends_before_escalation(
    service: ClinicalService, nurse: str, clock: FakeClock, scenario: Scenario
) -> None:
    alert = the(service.alerts(), PW)
    service.snooze_alert(nurse, alert.id, 5)
    clock.current = RISE_AT + 5 * MINUTE
    back = the(service.refresh_alerts(), PW)
    assert (back.state, back.snoozed_until, back.sound) == ("active", None, True)
    clock.current = ESCALATES_AT
    assert the(service.refresh_alerts(), PW).state == "escalated"


def test_snoozing_again_and_again_does_not_put_off_escalation(
    service: ClinicalService, nurse: str, clock: FakeClock, scenario: Scenario, db: Database
) -> None:
    """The cap bounds how long a high alert can wait: a snooze running when escalation falls due puts it
    off to the snooze's end, and no further, however often the snooze is renewed."""
    alert = the(service.alerts(), PW)
    service.snooze_alert(nurse, alert.id, 15)  # 09:55 -> 10:10
    clock.current = RISE_AT + 14 * MINUTE
    service.snooze_alert(nurse, alert.id, 15)  # 10:09 -> 10:24, renewed before the first ends
    clock.current = RISE_AT + 15 * MINUTE
    escalated = the(service.refresh_alerts(), PW)
    assert (escalated.state, escalated.escalated_at, escalated.sound) == (
        "escalated",
        RISE_AT + 15 * MINUTE,
        True,
    )
    assert escalated.for_physician
    assert raw_count(db, "alert_events", "kind = 'escalate'") == 1
    # A snooze after the escalation (the physician has been called) is honoured.
    clock.advance(minutes=1)
    snoozed = service.snooze_alert(nurse, alert.id, 10)
    assert (snoozed.state, snoozed.for_physician, snoozed.sound) == ("snoozed", True, False)


def test_medium_alert_snooze_is_capped_at_60_minutes(
    service: ClinicalService, nurse: str, clock: FakeClock, episode: int
) -> None:
    chart_cows(service, nurse, episode, 27, T0)  # moderately severe: the medium severity alert
    medium = the(service.alerts(), "withdrawal_severity")
    assert medium.priority == "medium"
    with pytest.raises(ValidationError) as info:
        service.snooze_alert(nurse, medium.id, 61)
    assert "medium-priority alert can be snoozed for at most 60 min" in info.value.message
    assert service.snooze_alert(nurse, medium.id, 60).snoozed_until == T0 + HOUR


# --- escalation and sound --------------------------------------------------------------------------


def test_unacknowledged_high_alert_escalates_10_minutes_after_it_was_shown(
    service: ClinicalService, nurse: str, clock: FakeClock, scenario: Scenario, db: Database
) -> None:
    alert = the(service.alerts(), PW)
    assert (alert.shown_at, alert.escalated_at, alert.for_physician) == (RISE_AT, None, False)

    clock.current = RISE_AT
    clock.advance(minutes=9, seconds=59)
    early = the(service.refresh_alerts(), PW)
    assert (early.state, early.escalated_at, early.for_physician) == ("active", None, False)
    assert raw_count(db, "alert_events", "kind = 'escalate'") == 0

    clock.advance(seconds=1)
    late = the(service.refresh_alerts(), PW)
    assert (late.state, late.escalated_at, late.for_physician, late.sound) == (
        "escalated",
        ESCALATES_AT,
        True,
        True,
    )
    assert late.needs_action

    for _ in range(3):
        clock.advance(minutes=1)
        service.refresh_alerts()
    assert raw_count(db, "alert_events", "kind = 'escalate'") == 1
    [(username, reason)] = raw_rows(
        db,
        "SELECT users.username, alert_events.reason FROM alert_events "
        "JOIN users ON users.id = alert_events.user_id WHERE kind = 'escalate'",
    )
    assert (username, reason) == ("system", "not acknowledged in time")
    [(who, why, after)] = audit_rows(service, "alert.escalate")
    assert who == "system"
    assert why == "high priority, not acknowledged within 10 min"
    assert after["for"] == "physician"
    assert after["escalated_at"] == ESCALATES_AT.isoformat()


def test_escalation_counts_from_when_the_alert_was_first_shown_not_the_clinical_time(
    service: ClinicalService, nurse: str, clock: FakeClock, episode: int
) -> None:
    chart_cows(service, nurse, episode, 4, T0)
    clock.current = DOSE_AT
    service.record_dose(nurse, episode, DoseInput("naltrexone", "oral", 25, DOSE_AT))
    clock.current = RISE_AT + 30 * MINUTE  # 10:25: the 09:55 COWS is charted now
    chart_cows(service, nurse, episode, 17, RISE_AT)
    alert = the(service.alerts(), PW)
    assert (alert.raised_at, alert.shown_at, alert.state) == (RISE_AT, clock.now(), "active")
    clock.advance(minutes=10)
    assert the(service.refresh_alerts(), PW).escalated_at == clock.now()


def test_escalation_is_written_by_any_later_write_not_only_the_timer(
    service: ClinicalService, nurse: str, clock: FakeClock, scenario: Scenario, db: Database
) -> None:
    clock.current = ESCALATES_AT + 3 * MINUTE
    service.record_vitals(nurse, scenario.episode, VitalsInput(taken_at=clock.now(), pulse_bpm=104))
    assert raw_count(db, "alert_events", "kind = 'escalate'") == 1
    assert the(service.alerts(), PW).escalated_at == ESCALATES_AT


def test_medium_and_low_alerts_never_escalate(
    service: ClinicalService, nurse: str, clock: FakeClock, episode: int, db: Database
) -> None:
    service.record_vitals(nurse, episode, VitalsInput(taken_at=T0, systolic=86, diastolic=58))
    service.record_dose(nurse, episode, DoseInput("naltrexone", "oral", 25, T0, warning_reason="urgent"))
    clock.advance(hours=3)
    views = service.refresh_alerts()
    assert sorted((v.rule, v.priority, v.state) for v in views) == [
        ("reassessment_overdue", "medium", "active"),  # +30 min, due 09:30 UTC
        ("reassessment_overdue", "medium", "active"),  # +2 h, due 11:00 UTC
        ("vital_signs", "medium", "active"),  # BP 86/58 without clonidine
    ]
    for view in views:
        assert (view.escalated_at, view.sound) == (None, False)
    assert raw_count(db, "alert_events", "kind = 'escalate'") == 0
    # The one step is the nurse's: the no-baseline warning she confirmed at the dose, acknowledged.
    assert raw_count(db, "alert_events") == 1
    assert the(service.alerts(include_inactive=True), "no_baseline_assessment").state == "acknowledged"


def test_silence_stops_the_sound_until_the_alert_escalates(
    service: ClinicalService, nurse: str, clock: FakeClock, scenario: Scenario
) -> None:
    alert = the(service.alerts(), PW)
    assert alert.sound
    clock.advance(minutes=1)
    quiet = service.silence_alert(nurse, alert.id)
    assert (quiet.state, quiet.silenced, quiet.sound) == ("active", True, False)
    assert [(w, r) for w, r, _ in audit_rows(service, "alert.silence")] == [("rn.lee", "")]

    # Silence before escalation does not silence the escalated alarm.
    clock.current = ESCALATES_AT
    loud = the(service.refresh_alerts(), PW)
    assert (loud.state, loud.silenced, loud.sound) == ("escalated", False, True)

    clock.advance(minutes=1)
    quiet_again = service.silence_alert(nurse, alert.id)
    assert (quiet_again.state, quiet_again.silenced, quiet_again.sound) == ("escalated", True, False)
    assert quiet_again.for_physician  # still marked for the physician


# --- overdue assessments appear with the clock ---------------------------------------------------------


def test_post_dose_cows_overdue_appears_on_refresh_and_resolves_with_the_cows(
    service: ClinicalService, nurse: str, clock: FakeClock, episode: int
) -> None:
    service.record_dose(nurse, episode, DoseInput("naltrexone", "oral", 25, T0, warning_reason="urgent"))
    clock.current = T0 + 45 * MINUTE - SECOND
    assert by_rule(service.refresh_alerts(), "reassessment_overdue") == []

    clock.current = T0 + 46 * MINUTE  # nobody touched the app since the dose
    overdue = the(service.refresh_alerts(), "reassessment_overdue")
    assert (overdue.priority, overdue.state, overdue.raised_at) == ("medium", "active", T0 + 45 * MINUTE)
    assert overdue.message == "No COWS 30 min after naltrexone 25 mg PO at 10:00: due 10:30 ± 15 min"
    assert overdue.title == "Post-dose COWS overdue"
    assert the(service.alerts(), "reassessment_overdue").id == overdue.id

    clock.current = T0 + 50 * MINUTE
    cows_id = chart_cows(service, nurse, episode, 6, clock.now())
    assert by_rule(service.alerts(), "reassessment_overdue") == []
    done = the(service.alerts(include_inactive=True), "reassessment_overdue")
    assert (done.id, done.state, done.resolved_at) == (overdue.id, "resolved", T0 + 50 * MINUTE)
    assert done.evidence["resolved_by_assessment_id"] == cows_id


def test_cows_on_time_at_30_minutes_raises_no_overdue_alert(
    service: ClinicalService, nurse: str, clock: FakeClock, episode: int
) -> None:
    service.record_dose(nurse, episode, DoseInput("naltrexone", "oral", 25, T0, warning_reason="urgent"))
    clock.current = T0 + 44 * MINUTE  # 30 min + 14 min: within the 15 min tolerance
    chart_cows(service, nurse, episode, 5, clock.now())
    clock.current = T0 + 2 * HOUR
    assert by_rule(service.refresh_alerts(), "reassessment_overdue") == []
    # The +2 h one is due at 11:00 UTC and raised at 11:15 UTC.
    clock.current = T0 + 2 * HOUR + 15 * MINUTE
    second = the(service.refresh_alerts(), "reassessment_overdue")
    assert second.message == "No COWS 2 h after naltrexone 25 mg PO at 10:00: due 12:00 ± 15 min"


def test_routine_cows_overdue_after_4_hours_15_minutes(
    service: ClinicalService, nurse: str, clock: FakeClock, episode: int
) -> None:
    chart_cows(service, nurse, episode, 3, T0)
    clock.current = T0 + 4 * HOUR + 15 * MINUTE - SECOND
    assert by_rule(service.refresh_alerts(), "routine_assessment_overdue") == []

    clock.current = T0 + 4 * HOUR + 15 * MINUTE
    routine = the(service.refresh_alerts(), "routine_assessment_overdue")
    assert (routine.priority, routine.state, routine.sound) == ("low", "active", False)
    assert routine.message == "Last COWS at 10:00 (3): the next was due at 14:00 (every 4 h)"

    clock.advance(minutes=20)
    chart_cows(service, nurse, episode, 2, clock.now())
    assert by_rule(service.alerts(), "routine_assessment_overdue") == []
    done = the(service.alerts(include_inactive=True), "routine_assessment_overdue")
    assert (done.state, done.resolved_at) == ("resolved", clock.now())


def test_routine_cows_overdue_after_admission_with_no_cows(
    service: ClinicalService, nurse: str, clock: FakeClock
) -> None:
    service.admit(nurse, admission(T0))
    clock.current = T0 + 4 * HOUR + 15 * MINUTE
    routine = the(service.refresh_alerts(), "routine_assessment_overdue")
    assert routine.message == "No COWS since admission at 10:00: the first was due at 14:00 (every 4 h)"


def test_discharge_takes_the_patient_off_the_alert_list(
    service: ClinicalService, nurse: str, clock: FakeClock, scenario: Scenario
) -> None:
    assert by_rule(service.alerts(), PW)
    clock.advance(minutes=1)
    service.discharge(nurse, scenario.episode, clock.now(), "transferred to hospital")
    assert service.alerts() == []
    assert service.refresh_alerts() == []
    # The history of the episode stays.
    assert by_rule(service.alerts(include_inactive=True, episode_id=scenario.episode), PW)
    # Evaluated as of a time: active while the patient was on the ward, history only after discharge.
    assert the(service.alerts_as_of(RISE_AT), PW).state == "active"
    clock.advance(hours=1)
    assert service.alerts_as_of(clock.now()) == []
    assert the(service.alerts_as_of(clock.now(), include_all=True), PW).mrn == "K-1001"


# --- corrections withdraw what they no longer support -------------------------------------------------


def test_severe_cows_entered_in_error_withdraws_its_alert(
    service: ClinicalService, nurse: str, clock: FakeClock, episode: int
) -> None:
    wrong = chart_cows(service, nurse, episode, 27, T0)
    severity = the(service.alerts(), "withdrawal_severity")
    assert (severity.priority, severity.message) == (
        "medium",
        "COWS 27 (moderately severe) at 10:00; alert level 25",
    )
    clock.advance(minutes=2)
    service.mark_entered_in_error(nurse, wrong, "charted on the wrong patient")
    assert by_rule(service.alerts(), "withdrawal_severity") == []
    gone = the(service.alerts(include_inactive=True), "withdrawal_severity")
    assert (gone.id, gone.state, gone.resolved_at) == (severity.id, "resolved", clock.now())
    [(who, _, _)] = audit_rows(service, "alert.withdraw")
    assert who == "system"


def test_severe_cows_amended_below_25_withdraws_its_alert(
    service: ClinicalService, nurse: str, clock: FakeClock, episode: int
) -> None:
    wrong = chart_cows(service, nurse, episode, 38, T0)
    assert {(a.priority, a.rule) for a in service.alerts()} == {
        ("high", "withdrawal_severity"),
        ("medium", "withdrawal_severity"),
    }
    clock.advance(minutes=2)
    service.amend_assessment(nurse, wrong, AssessmentInput(T0, items_for_total(18)), "gooseflesh misread")
    assert by_rule(service.alerts(), "withdrawal_severity") == []
    assert {a.state for a in by_rule(service.alerts(include_inactive=True), "withdrawal_severity")} == {
        "resolved"
    }


def test_rise_cows_entered_in_error_withdraws_the_precipitated_alert(
    service: ClinicalService, nurse: str, clock: FakeClock, scenario: Scenario
) -> None:
    alert = the(service.alerts(), PW)
    clock.advance(minutes=1)
    service.mark_entered_in_error(nurse, scenario.rise_id, "another patient's score")
    assert by_rule(service.alerts(), PW) == []
    assert (pw_alert(service).id, pw_alert(service).state) == (alert.id, "resolved")
    # Withdrawn before it fell due: no escalation later.
    clock.current = ESCALATES_AT + HOUR
    service.refresh_alerts()
    assert pw_alert(service).escalated_at is None


def test_alerts_as_of_with_all_keeps_a_withdrawn_alert_as_resolved(
    service: ClinicalService, nurse: str, clock: FakeClock, scenario: Scenario
) -> None:
    alert = the(service.alerts(), PW)
    clock.advance(minutes=1)
    withdrawn_at = clock.now()
    service.mark_entered_in_error(nurse, scenario.rise_id, "another patient's score")
    clock.advance(minutes=5)
    assert by_rule(service.alerts_as_of(clock.now()), PW) == []
    gone = the(service.alerts_as_of(clock.now(), include_all=True), PW)
    assert (gone.id, gone.key, gone.state, gone.resolved_at) == (
        alert.id,
        alert.key,
        "resolved",
        withdrawn_at,
    )
    assert (gone.message, gone.evidence, gone.raised_at) == (alert.message, alert.evidence, alert.raised_at)
    assert not gone.sound and not gone.needs_action
    # Before it was first shown it is not part of the history yet.
    assert by_rule(service.alerts_as_of(RISE_AT - MINUTE, include_all=True), PW) == []


def test_withdrawn_alert_raised_again_by_new_data_is_the_same_alert_shown_anew(
    service: ClinicalService, nurse: str, clock: FakeClock, scenario: Scenario, db: Database
) -> None:
    alert = the(service.alerts(), PW)
    clock.advance(minutes=1)
    service.mark_entered_in_error(nurse, scenario.rise_id, "another patient's score")
    clock.current = T0 + 70 * MINUTE  # 10:10 UTC: a real rise this time
    chart_cows(service, nurse, scenario.episode, 18, clock.now())
    back = the(service.alerts(), PW)
    assert (back.id, back.state, back.shown_at, back.escalated_at) == (alert.id, "active", clock.now(), None)
    assert back.message == "COWS 4 -> 18 (+14) 1 h 05 min after naltrexone 25 mg PO at 10:05"
    assert back.evidence["rise"] == 14
    assert raw_count(db, "alerts", f"rule = '{PW}'") == 1
    [(who, reason, _)] = audit_rows(service, "alert.reinstate")
    assert (who, reason) == ("system", "the data supports it again")


def test_no_baseline_cows_13_raises_precipitated_withdrawal_marked_so(
    service: ClinicalService, nurse: str, clock: FakeClock, episode: int
) -> None:
    service.record_dose(nurse, episode, DoseInput("naltrexone", "oral", 25, T0, warning_reason="urgent"))
    clock.advance(minutes=30)
    chart_cows(service, nurse, episode, 12, clock.now())
    assert by_rule(service.alerts(), PW) == []
    clock.advance(minutes=30)
    chart_cows(service, nurse, episode, 13, clock.now())
    alert = the(service.alerts(), PW)
    assert alert.message == (
        "COWS 13 1 h after naltrexone 25 mg PO at 10:00, no baseline COWS (alert level 13 without a baseline)"
    )
    assert (alert.evidence["no_baseline"], alert.evidence["rise"], alert.evidence["baseline_total"]) == (
        True,
        None,
        None,
    )


def test_a_rise_after_the_naloxone_window_is_not_precipitated_withdrawal(
    service: ClinicalService, nurse: str, clock: FakeClock, episode: int
) -> None:
    chart_cows(service, nurse, episode, 3, T0)
    service.record_dose(nurse, episode, DoseInput("naloxone", "sc", 0.8, T0))
    clock.advance(minutes=61)
    chart_cows(service, nurse, episode, 12, clock.now())  # +9, but 61 min after naloxone (window 60)
    assert by_rule(service.alerts(include_inactive=True), PW) == []


def test_a_cows_belongs_to_the_latest_antagonist_dose_before_it(
    service: ClinicalService, nurse: str, clock: FakeClock, episode: int
) -> None:
    chart_cows(service, nurse, episode, 3, T0)
    service.record_dose(nurse, episode, DoseInput("naloxone", "sc", 0.8, T0))
    clock.advance(minutes=25)
    chart_cows(service, nurse, episode, 4, clock.now())  # challenge negative
    clock.advance(minutes=5)
    second = service.record_dose(nurse, episode, DoseInput("naltrexone", "oral", 25, clock.now()))
    clock.advance(minutes=40)
    chart_cows(service, nurse, episode, 10, clock.now())  # +6 on the naltrexone's baseline of 4
    alert = the(service.alerts(), PW)
    assert alert.evidence["dose_id"] == second.id
    assert alert.message == "COWS 4 -> 10 (+6) 40 min after naltrexone 25 mg PO at 10:30"


def test_dose_entered_in_error_withdraws_the_precipitated_alert(
    service: ClinicalService, nurse: str, clock: FakeClock, scenario: Scenario
) -> None:
    clock.advance(minutes=1)
    service.mark_dose_entered_in_error(nurse, scenario.dose_id, "charted on the wrong patient")
    assert by_rule(service.alerts(), PW) == []
    assert pw_alert(service).state == "resolved"


# --- vital signs alerts ------------------------------------------------------------------------------


def test_low_blood_pressure_after_clonidine_is_high_priority(
    service: ClinicalService, nurse: str, clock: FakeClock, episode: int
) -> None:
    service.record_dose(nurse, episode, DoseInput("clonidine", "oral", 0.1, T0))
    clock.advance(hours=2)
    service.record_vitals(nurse, episode, VitalsInput(taken_at=clock.now(), systolic=86, diastolic=58))
    alert = the(service.alerts(), "vital_signs")
    assert alert.priority == "high"
    assert alert.message == (
        "BP 86/58 (below 90/60) within 6 h of clonidine 0.1 mg PO at 10:00: hold clonidine"
    )
    # Normal pressure re-measured resolves it.
    clock.advance(minutes=30)
    service.record_vitals(nurse, episode, VitalsInput(taken_at=clock.now(), systolic=104, diastolic=66))
    assert by_rule(service.alerts(), "vital_signs") == []


def test_a_vitals_alert_raised_to_high_escalates_only_after_the_upgrade(
    service: ClinicalService, nurse: str, clock: FakeClock, episode: int, db: Database
) -> None:
    """BP 86/58 at 09:00 is medium; the clonidine given at 08:30 is charted at 09:20, which makes it
    high (hypotension within 6 h of clonidine). The escalation clock starts at 09:20, not 09:00."""
    service.record_vitals(nurse, episode, VitalsInput(taken_at=T0, systolic=86, diastolic=58))
    medium = the(service.alerts(), "vital_signs")
    assert (medium.priority, medium.shown_at, medium.sound) == ("medium", T0, False)

    upgraded_at = T0 + 20 * MINUTE
    clock.current = upgraded_at
    service.record_dose(nurse, episode, DoseInput("clonidine", "oral", 0.1, T0 - 30 * MINUTE))
    high = the(service.alerts(), "vital_signs")
    assert high.id == medium.id  # the same alert, raised in priority
    assert (high.priority, high.state, high.shown_at, high.escalated_at, high.sound) == (
        "high",
        "active",
        upgraded_at,
        None,
        True,
    )
    assert high.message == "BP 86/58 (below 90/60) within 6 h of clonidine 0.1 mg PO at 09:30: hold clonidine"
    assert raw_count(db, "alert_events", "kind = 'escalate'") == 0  # 20 min after 09:00, yet not
    [(who, reason, after)] = audit_rows(service, "alert.raise_priority")
    assert (who, reason, after["priority"], after["message"]) == ("system", "", "high", high.message)
    raised = next(e for e in service.audit_entries() if e.action == "alert.raise_priority")
    assert json.loads(raised.before_json) == {"priority": "medium"}
    assert len(audit_rows(service, "alert.raise")) == 1

    clock.current = upgraded_at + 10 * MINUTE - SECOND
    assert the(service.refresh_alerts(), "vital_signs").state == "active"
    assert raw_count(db, "alert_events", "kind = 'escalate'") == 0
    clock.current = upgraded_at + 10 * MINUTE  # escalate_after_minutes (10) after the upgrade
    late = the(service.refresh_alerts(), "vital_signs")
    assert (late.state, late.escalated_at, late.for_physician) == (
        "escalated",
        upgraded_at + 10 * MINUTE,
        True,
    )
    assert raw_count(db, "alert_events", "kind = 'escalate'") == 1
    assert len(audit_rows(service, "alert.raise_priority")) == 1  # raised once, not on every refresh


def test_an_acknowledged_medium_alert_raised_to_high_needs_a_new_acknowledgement(
    service: ClinicalService, nurse: str, clock: FakeClock, episode: int
) -> None:
    service.record_vitals(nurse, episode, VitalsInput(taken_at=T0, systolic=86, diastolic=58))
    clock.current = T0 + 5 * MINUTE
    medium = the(service.alerts(include_inactive=True), "vital_signs")
    service.acknowledge_alert(nurse, medium.id, "rechecking BP in 15 min")
    assert the(service.alerts(include_inactive=True), "vital_signs").state == "acknowledged"
    clock.current = T0 + 20 * MINUTE  # clonidine given at 08:30 is charted now: hold clonidine
    service.record_dose(nurse, episode, DoseInput("clonidine", "oral", 0.1, T0 - 30 * MINUTE))
    high = the(service.alerts(), "vital_signs")
    assert (high.priority, high.state, high.sound, high.acknowledged_by) == ("high", "active", True, "")
    with pytest.raises(ValidationError):
        service.acknowledge_alert(nurse, high.id, "")  # high priority: a reason is required
    done = service.acknowledge_alert(nurse, high.id, "clonidine held; physician informed")
    assert (done.state, done.acknowledge_reason) == ("acknowledged", "clonidine held; physician informed")


def test_low_blood_pressure_without_clonidine_is_medium_and_low_spo2_is_high(
    service: ClinicalService, nurse: str, episode: int
) -> None:
    service.record_vitals(nurse, episode, VitalsInput(taken_at=T0, systolic=86, diastolic=58))
    assert the(service.alerts(), "vital_signs").priority == "medium"
    service.record_vitals(nurse, episode, VitalsInput(taken_at=T0, spo2=89, resp_rate=8))
    high = [a for a in service.alerts() if a.rule == "vital_signs" and a.priority == "high"]
    assert [a.message for a in high] == ["SpO2 89% (below 92%); RR 8/min (below 10/min)"]


# --- protocol settings --------------------------------------------------------------------------------


def test_raising_the_rise_to_15_withdraws_the_plus_13_alert(
    service: ClinicalService, nurse: str, physician: str, clock: FakeClock, scenario: Scenario
) -> None:
    alert = the(service.alerts(), PW)
    clock.advance(minutes=1)
    why = "Clinic protocol review 2026-11: rise of 15 points"

    service.set_protocol_setting(physician, "pw_rise", 15, why)

    assert by_rule(service.alerts(), PW) == []
    assert (pw_alert(service).id, pw_alert(service).state) == (alert.id, "resolved")
    assert service.protocol().pw_rise == 15
    setting = next(s for s in service.protocol_settings() if s.key == "pw_rise")
    assert (setting.value, setting.default, setting.minimum, setting.maximum) == (15, 6, 2, 20)
    assert (setting.changed_by, setting.changed_at, setting.reason) == ("dr.rao", clock.now(), why)
    assert "Dunn" in setting.source
    [(who, reason, after)] = audit_rows(service, "protocol.set")
    assert (who, reason, after) == ("dr.rao", why, {"pw_rise": 15})
    before = next(e for e in service.audit_entries() if e.action == "protocol.set").before_json
    assert json.loads(before) == {"pw_rise": 6}
    assert setting.unit == "points"
    # The withdrawal is audited with its true cause (the protocol, not a correction of the record).
    [(who, reason, _)] = audit_rows(service, "alert.withdraw")
    assert (who, reason) == (
        "system",
        "the protocol no longer raises it (Precipitated-withdrawal rise changed from 6 to 15)",
    )

    # An hour later, back to 6: the same alert returns (same id, not a duplicate), shown anew, so it
    # escalates 10 min from now, not at a time when it was withdrawn.
    clock.current = T0 + 2 * HOUR
    service.set_protocol_setting(physician, "pw_rise", 6, "back to the published default")
    back = the(service.alerts(), PW)
    assert (back.id, back.state, back.shown_at, back.escalated_at) == (alert.id, "active", clock.now(), None)
    [(who, reason, after)] = audit_rows(service, "alert.reinstate")
    assert (who, reason) == (
        "system",
        "the protocol raises it again (Precipitated-withdrawal rise changed from 15 to 6)",
    )
    assert after["message"] == alert.message
    clock.advance(minutes=10)
    assert the(service.refresh_alerts(), PW).escalated_at == clock.now()
    assert len(audit_rows(service, "alert.raise")) == 2  # the +30 min overdue one and this one, once each


def test_the_rise_threshold_applies_to_new_data_too(
    service: ClinicalService, nurse: str, physician: str, clock: FakeClock, episode: int
) -> None:
    service.set_protocol_setting(physician, "pw_rise", 15, "local protocol")
    precipitate(service, nurse, clock, episode)  # +13
    assert by_rule(service.alerts(include_inactive=True), PW) == []
    clock.advance(minutes=10)
    chart_cows(service, nurse, episode, 19, clock.now())  # +15
    assert "COWS 4 -> 19 (+15)" in the(service.alerts(), PW).message


@pytest.mark.parametrize(
    ("key", "value", "field", "words"),
    [
        # The field is the setting's label, as the protocol dialog shows it ("Setting" if unknown).
        ("pw_rise", 60, "Precipitated-withdrawal rise", "outside the allowed range 2-20 points"),
        ("pw_rise", 1, "Precipitated-withdrawal rise", "outside the allowed range 2-20 points"),
        ("pw_rise", 6.5, "Precipitated-withdrawal rise", "not a whole number; allowed range 2-20 points"),
        ("pw_raise", 8, "Setting", "Unknown protocol setting 'pw_raise'; known settings are pw_rise"),
        (
            "severity_high",
            20,
            "Severity alert, high priority",
            "must be above the severity alert, medium priority (25",
        ),
        (
            "escalate_after_minutes",
            0,
            "Escalate an unacknowledged high-priority alert after",
            "allowed range 1-60 minutes",
        ),
    ],
)
def test_bad_protocol_values_are_refused_naming_the_range(
    service: ClinicalService,
    physician: str,
    scenario: Scenario,
    key: str,
    value: float,
    field: str,
    words: str,
) -> None:
    with pytest.raises(ValidationError) as info:
        service.set_protocol_setting(physician, key, value, "trying")
    assert info.value.field == field
    assert words in info.value.message
    assert all(s.changed_by == "" for s in service.protocol_settings())
    assert audit_rows(service, "protocol.set") == []
    assert the(service.alerts(), PW).state == "active"


def test_protocol_change_needs_a_reason(service: ClinicalService, physician: str) -> None:
    with pytest.raises(ValidationError) as info:
        service.set_protocol_setting(physician, "pw_rise", 8, " ")
    assert info.value.field == "Reason"
    assert service.protocol().pw_rise == 6
    assert audit_rows(service, "protocol.set") == []


def test_settings_list_every_default_with_its_source(service: ClinicalService) -> None:
    settings = {s.key: s for s in service.protocol_settings()}
    assert (settings["pw_rise"].value, settings["pw_rise"].changed_by, settings["pw_rise"].changed_at) == (
        6,
        "",
        None,
    )
    assert settings["high_snooze_cap_minutes"].value == 15
    assert settings["escalate_after_minutes"].value == 10
    assert settings["opioid_free_long_days"].value == 14
    assert all(s.source for s in settings.values())


def test_escalation_time_follows_the_protocol(
    service: ClinicalService, nurse: str, physician: str, clock: FakeClock, episode: int
) -> None:
    service.set_protocol_setting(physician, "escalate_after_minutes", 5, "small ward, physician on site")
    precipitate(service, nurse, clock, episode)
    clock.current = RISE_AT + 5 * MINUTE
    assert the(service.refresh_alerts(), PW).escalated_at == RISE_AT + 5 * MINUTE


# --- as of a time -------------------------------------------------------------------------------------


def test_alerts_as_of_ignores_later_records_and_later_steps(
    service: ClinicalService, nurse: str, clock: FakeClock, scenario: Scenario, db: Database
) -> None:
    alert = the(service.alerts(), PW)
    clock.current = RISE_AT + 3 * MINUTE  # 09:58
    service.acknowledge_alert(nurse, alert.id, "seen, physician called")
    clock.current = T0 + 3 * HOUR
    service.refresh_alerts()
    rows_before = raw_count(db, "alerts")
    events_before = raw_count(db, "alert_events")

    # 09:57: the alert is there and nobody has acknowledged it yet.
    then = the(service.alerts_as_of(RISE_AT + 2 * MINUTE), PW)
    assert (then.id, then.state, then.acknowledged_by, then.message) == (
        alert.id,
        "active",
        "",
        "COWS 4 -> 17 (+13) 50 min after naltrexone 25 mg PO at 10:05",
    )
    # 09:50: the COWS 17 (09:55) did not exist yet; the +30 min COWS was overdue (due 09:35 ± 15).
    earlier = service.alerts_as_of(RISE_AT - 5 * MINUTE)
    assert by_rule(earlier, PW) == []
    overdue = the(earlier, "reassessment_overdue")
    assert (overdue.state, overdue.resolved_at) == ("active", None)
    # 10:00: acknowledged, so only with include_all.
    after = RISE_AT + 5 * MINUTE
    assert by_rule(service.alerts_as_of(after), PW) == []
    acknowledged = the(service.alerts_as_of(after, include_all=True), PW)
    assert (acknowledged.state, acknowledged.acknowledged_by) == ("acknowledged", "rn.lee")
    assert the(service.alerts_as_of(after, include_all=True), "reassessment_overdue").state == "resolved"
    # Before admission there is nothing.
    assert service.alerts_as_of(T0 - 2 * HOUR, include_all=True) == []
    # Evaluating writes nothing.
    assert (raw_count(db, "alerts"), raw_count(db, "alert_events")) == (rows_before, events_before)


def test_alerts_as_of_shows_escalation_from_time_alone(service: ClinicalService, scenario: Scenario) -> None:
    assert the(service.alerts_as_of(ESCALATES_AT - SECOND), PW).state == "active"
    escalated = the(service.alerts_as_of(ESCALATES_AT), PW)
    assert (escalated.state, escalated.escalated_at, escalated.for_physician) == (
        "escalated",
        ESCALATES_AT,
        True,
    )


def test_alerts_as_of_filters_by_mrn(
    service: ClinicalService, nurse: str, clock: FakeClock, scenario: Scenario
) -> None:
    other = service.admit(nurse, admission(clock.now(), mrn="K-3003", name="Sam Other", bed="5C"))
    service.record_vitals(nurse, other, VitalsInput(taken_at=clock.now(), spo2=88))
    at = clock.now()
    assert {a.mrn for a in service.alerts_as_of(at)} == {"K-1001", "K-3003"}
    assert [(a.mrn, a.rule) for a in service.alerts_as_of(at, mrn="K-3003")] == [("K-3003", "vital_signs")]
    assert {a.mrn for a in service.alerts_as_of(at, mrn="K-1001")} == {"K-1001"}
    with pytest.raises(NotFound, match="No patient has the MRN 'K-0000'"):  # not an all-clear
        service.alerts_as_of(at, mrn="K-0000", include_all=True)


def test_alerts_as_of_now_matches_the_alert_list(
    service: ClinicalService, nurse: str, clock: FakeClock, scenario: Scenario
) -> None:
    service.snooze_alert(nurse, the(service.alerts(), PW).id, 10)
    clock.current = T0 + 5 * HOUR
    listed = service.refresh_alerts()
    evaluated = service.alerts_as_of(clock.now())
    assert [(a.key, a.state, a.message, a.escalated_at) for a in evaluated] == [
        (a.key, a.state, a.message, a.escalated_at) for a in listed
    ]


# --- order of the list ---------------------------------------------------------------------------------


def test_alerts_are_listed_highest_priority_first_then_newest(
    service: ClinicalService, nurse: str, clock: FakeClock
) -> None:
    first = service.admit(nurse, admission(T0 - 5 * HOUR, mrn="K-1", name="Ann One", bed="1"))
    second = service.admit(nurse, admission(T0 - HOUR, mrn="K-2", name="Ben Two", bed="2"))
    # 04:00 admission: routine COWS overdue at 08:15 (low).
    service.refresh_alerts()
    # 09:00: COWS 27 for Ben (medium severity alert), SpO2 88 for Ann (high).
    chart_cows(service, nurse, second, 27, T0)
    service.record_vitals(nurse, first, VitalsInput(taken_at=T0 - 30 * MINUTE, spo2=88))
    # 09:10: SpO2 90 for Ben (high, newer).
    clock.advance(minutes=10)
    service.record_vitals(nurse, second, VitalsInput(taken_at=clock.now(), spo2=90))

    listed = service.alerts()
    assert [(a.priority, a.mrn, a.rule, a.raised_at) for a in listed] == [
        ("high", "K-2", "vital_signs", T0 + 10 * MINUTE),
        ("high", "K-1", "vital_signs", T0 - 30 * MINUTE),
        ("medium", "K-2", "withdrawal_severity", T0),
        ("low", "K-1", "routine_assessment_overdue", T0 - 45 * MINUTE),
    ]
    assert [a.priority_rank for a in listed] == [3, 3, 2, 1]
    assert service.refresh_alerts() == listed
