"""A realistic episode for the export tests, charted through the services (invented patient).

The story, in UTC (the service reads Europe/Berlin, UTC+1): kratom until two days before admission;
admitted 08:00; baseline COWS 4 at 09:00; naltrexone 25 mg PO at 09:05 given despite the too-soon
warning; COWS 17 at 09:55 (precipitated withdrawal, high alert, acknowledged by the nurse with a reason);
ondansetron 4 mg PO at 10:00; vital signs at 10:00; a COWS at 11:00 amended (pupil size misread); a
COWS at 11:30 entered in error (wrong patient); a dose entered in error; a physician's sign-off at
12:00. Three current assessments remain (4, 17 and the amended 11:00 one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from monitor.domain.scales import COWS
from monitor.io.report_model import EpisodeReport
from monitor.services.clinical import ClinicalService
from monitor.services.views import AssessmentInput, DoseInput, SubstanceInput, VitalsInput
from tests.conftest import T0, FakeClock
from tests.helpers import admission

MINUTE = timedelta(minutes=1)
PATIENT_NAME = "Alex Example"
MRN = "K-1001"


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


@dataclass(frozen=True)
class Charted:
    episode: int
    report: EpisodeReport


def chart_sample_episode(service: ClinicalService, clock: FakeClock, nurse: str, physician: str) -> Charted:
    clock.current = T0 - 60 * MINUTE  # 08:00 UTC
    kratom = SubstanceInput("kratom", T0 - timedelta(days=2), "35 g/day", "oral")
    episode = service.admit(nurse, admission(clock.now(), MRN, PATIENT_NAME, "3B", substances=(kratom,)))
    clock.current = T0
    service.record_assessment(nurse, episode, AssessmentInput(T0, items_for_total(4)))
    clock.current = T0 + 5 * MINUTE
    service.record_dose(
        nurse,
        episode,
        DoseInput("naltrexone", "oral", 25, clock.now(), warning_reason="rapid induction, Dr Rao agreed"),
    )
    clock.current = T0 + 55 * MINUTE
    service.record_assessment(
        nurse, episode, AssessmentInput(clock.now(), items_for_total(17), note="sweating, gooseflesh")
    )
    [alert] = [a for a in service.alerts(episode_id=episode) if a.rule == "precipitated_withdrawal"]
    clock.current = T0 + 58 * MINUTE
    service.acknowledge_alert(nurse, alert.id, "Dr Rao informed, clonidine and ondansetron ordered")
    clock.current = T0 + 60 * MINUTE
    service.record_dose(nurse, episode, DoseInput("ondansetron", "oral", 4, clock.now()))
    service.record_vitals(
        nurse,
        episode,
        VitalsInput(
            clock.now(), pulse_bpm=104, systolic=142, diastolic=90, resp_rate=20, spo2=97, temp_c=37.4
        ),
    )
    wrong_dose = service.record_dose(nurse, episode, DoseInput("loperamide", "oral", 4, clock.now()))
    service.mark_dose_entered_in_error(nurse, wrong_dose.id, "charted on the wrong patient")
    clock.current = T0 + 120 * MINUTE
    first = service.record_assessment(nurse, episode, AssessmentInput(clock.now(), items_for_total(9)))
    clock.current = T0 + 125 * MINUTE
    service.amend_assessment(
        nurse, first.id, AssessmentInput(first.taken_at, items_for_total(11)), "pupil size misread"
    )
    clock.current = T0 + 150 * MINUTE
    wrong = service.record_assessment(nurse, episode, AssessmentInput(clock.now(), items_for_total(6)))
    service.mark_entered_in_error(nurse, wrong.id, "charted on the wrong patient")
    clock.current = T0 + 180 * MINUTE
    service.sign_off(physician, episode, "Precipitated withdrawal managed; continue comfort medicines.")
    return Charted(episode, service.episode_report(nurse, episode))
