"""Alerts keep their identity through corrections, and a later report never hides an earlier exposure."""

from __future__ import annotations

from datetime import timedelta

from monitor.services.clinical import ClinicalService
from monitor.services.views import AssessmentInput, DoseInput, SubstanceInput
from tests.conftest import FakeClock
from tests.helpers import admission, all_items, cows

MINUTE = timedelta(minutes=1)


def test_amending_a_severe_cows_keeps_its_alert_and_its_acknowledgement(
    service: ClinicalService, nurse: str, clock: FakeClock
) -> None:
    episode = service.admit(nurse, admission(clock.now() - timedelta(hours=1)))
    severe = all_items(
        0,
        sweating=4,
        restlessness=5,
        pupil_size=5,
        bone_joint_aches=4,
        runny_nose_tearing=4,
        gi_upset=5,
        tremor=4,
        yawning=4,
        anxiety_irritability=4,
    )
    first = service.record_assessment(nurse, episode, AssessmentInput(taken_at=clock.now(), items=severe))
    assert first.total == 39
    alerts = service.alerts()
    assert sorted(a.priority for a in alerts) == ["high", "medium"]
    for alert in alerts:
        service.acknowledge_alert(nurse, alert.id, "physician called, clonidine given")
    clock.advance(minutes=5)
    service.amend_assessment(
        nurse,
        first.id,
        AssessmentInput(taken_at=first.taken_at, items=severe, note="pulse re-checked"),
        "note added",
    )
    clock.advance(minutes=11)  # past the escalation time, had the alert been raised anew
    service.refresh_alerts()
    assert service.alerts() == []  # nothing re-raised, nothing sounding
    kept = service.alerts(include_inactive=True)
    assert sorted((a.priority, a.state, a.acknowledge_reason) for a in kept) == [
        ("high", "acknowledged", "physician called, clonidine given"),
        ("medium", "acknowledged", "physician called, clonidine given"),
    ]
    assert {a.key for a in kept} == {
        f"withdrawal_severity:e{episode}:a{first.id}:high",
        f"withdrawal_severity:e{episode}:a{first.id}:medium",
    }


def test_a_use_reported_after_the_dose_does_not_hide_the_one_before_it(
    service: ClinicalService, nurse: str, clock: FakeClock
) -> None:
    heroin = (SubstanceInput("heroin", clock.now() - timedelta(days=3), "0.5 g/day", "intravenous"),)
    episode = service.admit(nurse, admission(clock.now() - timedelta(hours=2), substances=heroin))
    service.record_assessment(nurse, episode, cows(clock.now() - 10 * MINUTE, sweating=1))
    service.record_dose(
        nurse, episode, DoseInput("naltrexone", "oral", 25, clock.now(), warning_reason="induction")
    )
    [soon] = [a for a in service.alerts(include_inactive=True) if a.rule == "antagonist_too_soon"]
    assert soon.state == "acknowledged"
    clock.advance(hours=1)
    service.record_substance_use(nurse, episode, SubstanceInput("heroin", clock.now() - 5 * MINUTE, "a bag"))
    [still] = [a for a in service.alerts(include_inactive=True) if a.rule == "antagonist_too_soon"]
    assert (still.key, still.state, still.resolved_at) == (soon.key, "acknowledged", None)
    assert "3 days" in still.message
    # readiness now counts from the newest use
    [row] = service.readiness(episode)
    assert (row.substance, row.elapsed) == ("heroin", 5 * MINUTE)


def test_a_report_of_an_earlier_use_leaves_readiness_on_the_newest(
    service: ClinicalService, nurse: str, clock: FakeClock
) -> None:
    kratom = (SubstanceInput("kratom", clock.now() - timedelta(days=2)),)
    episode = service.admit(nurse, admission(clock.now(), substances=kratom))
    service.record_substance_use(nurse, episode, SubstanceInput("kratom", clock.now() - timedelta(days=5)))
    [row] = service.readiness(episode)
    assert row.elapsed == timedelta(days=2)


def test_an_amendment_cannot_move_a_cows_to_before_the_admission(
    service: ClinicalService, nurse: str, clock: FakeClock
) -> None:
    import pytest

    from monitor.services.errors import ValidationError

    episode = service.admit(nurse, admission(clock.now() - timedelta(hours=1)))
    first = service.record_assessment(nurse, episode, cows(clock.now(), sweating=1))
    with pytest.raises(ValidationError) as info:
        service.amend_assessment(nurse, first.id, cows(clock.now() - timedelta(days=365), sweating=1), "typo")
    assert info.value.field == "Time taken" and "before the admission" in info.value.message
    assert [a.version for a in service.assessments(episode)] == [1]
