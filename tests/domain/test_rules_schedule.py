"""Rules 4 and 5: reassessment_overdue and routine_assessment_overdue.

shared/domain.md section 4: after an antagonist, COWS at +30 min and +2 h, each due within 15 min either
side (flowsheet on the form); routine COWS every 4 h while the episode is open (common practice).
"""

from __future__ import annotations

from datetime import datetime

import pytest

from monitor.domain.protocol import Protocol
from monitor.domain.rules import Priority
from tests.domain.test_rules import at, cows, dose, naloxone, naltrexone, one, run, timeline

REASSESS = "reassessment_overdue"
ROUTINE = "routine_assessment_overdue"
FIRST = "reassessment_overdue:e12:d17:first"
SECOND = "reassessment_overdue:e12:d17:second"


def overdue_keys(
    post_dose: list[datetime],
    now: datetime,
    protocol: Protocol | None = None,
    discharged_at: datetime | None = None,
) -> list[str]:
    tl = timeline(
        [cows(1, at(-5), 2), *(cows(i + 2, t, 3) for i, t in enumerate(post_dose))],
        [naltrexone()],
        discharged_at=discharged_at,
    )
    found = run(tl, now, REASSESS) if protocol is None else run(tl, now, REASSESS, protocol)
    return sorted(f.key for f in found)


@pytest.mark.parametrize(
    ("assessment_at", "first_met"),
    [
        (at(15), True),  # 30 - 15: inclusive
        (at(30), True),
        (at(45), True),  # 30 + 15: inclusive
        (at(14, seconds=59), False),
        (at(45, seconds=1), False),
    ],
)
def test_first_slot_tolerance_inclusive(assessment_at: datetime, first_met: bool) -> None:
    keys = overdue_keys([assessment_at, at(120)], at(hours=3))
    assert keys == ([] if first_met else [FIRST])


@pytest.mark.parametrize(
    ("assessment_at", "second_met"),
    [(at(105), True), (at(120), True), (at(135), True), (at(104), False), (at(136), False)],
)
def test_second_slot_tolerance_inclusive(assessment_at: datetime, second_met: bool) -> None:
    keys = overdue_keys([at(30), assessment_at], at(hours=3))
    assert keys == ([] if second_met else [SECOND])


def test_raised_exactly_at_slot_plus_tolerance() -> None:
    assert overdue_keys([], at(45, seconds=-1)) == []
    assert overdue_keys([], at(45)) == [FIRST]
    assert overdue_keys([], at(135, seconds=-1)) == [FIRST]
    assert overdue_keys([], at(135)) == [FIRST, SECOND]


def test_overdue_message_evidence_and_resolution() -> None:
    tl = timeline([cows(1, at(-5), 2), cows(2, at(70), 3)], [naltrexone()])
    still = one(run(tl, at(60), REASSESS))
    assert still.key == FIRST
    assert still.priority is Priority.MEDIUM
    assert still.raised_at == at(45)
    assert still.resolved_at is None
    assert still.message == "No COWS 30 min after naltrexone 25 mg PO at 09:05: due 09:35 ± 15 min"
    # The next COWS (10:15) resolves it; the 10:15 COWS also is not within 15 min of the 2 h slot.
    found = {f.key: f for f in run(tl, at(hours=3), REASSESS)}
    assert found[FIRST].resolved_at == at(70)
    assert found[FIRST].raised_at == at(45)
    assert found[FIRST].evidence == {
        "dose_id": 17,
        "drug": "naltrexone",
        "form": "oral",
        "dose_mg": 25,
        "dose": "naltrexone 25 mg PO",
        "given_at": "2026-11-20T09:05:00+00:00",
        "slot": "first",
        "slot_at": "2026-11-20T09:35:00+00:00",
        "slot_minutes": 30,
        "tolerance_minutes": 15,
        "resolved_by_assessment_id": 2,
    }
    assert found[SECOND].message == "No COWS 2 h after naltrexone 25 mg PO at 09:05: due 11:05 ± 15 min"
    assert found[SECOND].resolved_at is None


def test_no_finding_for_slots_after_discharge() -> None:
    # Discharged at 09:25: the 09:35 slot is after it.
    assert overdue_keys([], at(hours=4), discharged_at=at(20)) == []
    # Discharged at 10:00: the 09:35 slot was due, the 11:05 one not.
    assert overdue_keys([], at(hours=4), discharged_at=at(55)) == [FIRST]


def test_each_antagonist_dose_has_its_own_slots() -> None:
    tl = timeline(
        [cows(1, at(-5), 2), cows(2, at(30), 2)],
        [naloxone(1, at(0)), naltrexone(2, at(hours=5)), dose(3, "clonidine", "oral", 0.1, at(10))],
    )
    keys = sorted(f.key for f in run(tl, at(hours=8), REASSESS))
    assert keys == [
        "reassessment_overdue:e12:d1:second",
        "reassessment_overdue:e12:d2:first",
        "reassessment_overdue:e12:d2:second",
    ]


def test_slots_are_protocol_settings() -> None:
    protocol = Protocol.from_values(
        {"reassess_first_minutes": 60, "reassess_second_minutes": 240, "reassess_tolerance_minutes": 10}
    )
    assert overdue_keys([at(30), at(120)], at(hours=5), protocol) == [FIRST, SECOND]
    assert overdue_keys([at(50), at(250)], at(hours=5), protocol) == []


# --- routine_assessment_overdue ---------------------------------------------------------------------

ADMIT = at(0)


def routine(
    times: list[datetime],
    now: datetime,
    discharged_at: datetime | None = None,
    protocol: Protocol | None = None,
) -> list[tuple[str, datetime, datetime | None]]:
    tl = timeline(
        [cows(i + 1, t, 3) for i, t in enumerate(times)], admitted_at=ADMIT, discharged_at=discharged_at
    )
    found = run(tl, now, ROUTINE) if protocol is None else run(tl, now, ROUTINE, protocol)
    return sorted((f.key, f.raised_at, f.resolved_at) for f in found)


def test_on_time_gives_nothing() -> None:
    # COWS at admission, then every 4 h, the last one exactly at due + grace (4 h 15 min).
    times = [ADMIT, at(hours=4), at(hours=8, minutes=15)]
    assert routine(times, at(hours=12)) == []


def test_raised_at_4_h_15_min_after_the_last_cows() -> None:
    times = [ADMIT, at(hours=1)]
    assert routine(times, at(hours=5, minutes=15, seconds=-1)) == []
    assert routine(times, at(hours=5, minutes=15)) == [
        ("routine_assessment_overdue:e12:a2", at(hours=5, minutes=15), None)
    ]


def test_resolved_when_the_cows_arrives() -> None:
    times = [ADMIT, at(hours=1), at(hours=6)]
    assert routine(times, at(hours=7)) == [
        ("routine_assessment_overdue:e12:a2", at(hours=5, minutes=15), at(hours=6))
    ]
    # A COWS one second after due + grace is late.
    times = [ADMIT, at(hours=1), at(hours=5, minutes=15, seconds=1)]
    assert routine(times, at(hours=7)) == [
        ("routine_assessment_overdue:e12:a2", at(hours=5, minutes=15), at(hours=5, minutes=15, seconds=1))
    ]


def test_message_and_evidence() -> None:
    tl = timeline([cows(1, ADMIT, 0), cows(2, at(hours=1), 7)], admitted_at=ADMIT)
    finding = one(run(tl, at(hours=6), ROUTINE))
    assert finding.priority is Priority.LOW
    assert finding.message == "Last COWS at 10:05 (7): the next was due at 14:05 (every 4 h)"
    assert finding.evidence == {
        "after_assessment_id": 2,
        "last_at": "2026-11-20T10:05:00+00:00",
        "due_at": "2026-11-20T14:05:00+00:00",
        "interval_hours": 4,
        "grace_minutes": 15,
        "resolved_by_assessment_id": None,
    }


def test_no_cows_since_admission() -> None:
    assert routine([], at(hours=4, minutes=14)) == []
    tl = timeline(admitted_at=ADMIT)
    finding = one(run(tl, at(hours=4, minutes=15), ROUTINE))
    assert finding.key == "routine_assessment_overdue:e12:admission"
    assert finding.message == "No COWS since admission at 09:05: the first was due at 13:05 (every 4 h)"
    assert finding.evidence["after_assessment_id"] is None


def test_whole_history_one_finding_per_gap() -> None:
    times = [at(hours=5), at(hours=6), at(hours=11), at(hours=12)]
    assert routine(times, at(hours=14)) == [
        ("routine_assessment_overdue:e12:a2", at(hours=10, minutes=15), at(hours=11)),
        ("routine_assessment_overdue:e12:admission", at(hours=4, minutes=15), at(hours=5)),
    ]
    # A long gap gives one finding, not one every 4 h.
    assert routine([ADMIT], at(days=2)) == [
        ("routine_assessment_overdue:e12:a1", at(hours=4, minutes=15), None)
    ]


def test_not_raised_after_discharge() -> None:
    # Discharged at 4 h 10 min: the 4 h 15 min alert would come after it.
    assert routine([ADMIT], at(hours=6), discharged_at=at(hours=4, minutes=10)) == []
    # Discharged exactly when it would be raised: not open any more.
    assert routine([ADMIT], at(hours=6), discharged_at=at(hours=4, minutes=15)) == []
    # Discharged later: the alert stands (it was raised while the episode was open).
    assert routine([ADMIT], at(hours=6), discharged_at=at(hours=5)) == [
        ("routine_assessment_overdue:e12:a1", at(hours=4, minutes=15), None)
    ]


def test_interval_and_grace_are_protocol_settings() -> None:
    protocol = Protocol.from_values({"routine_interval_hours": 2, "routine_grace_minutes": 0})
    assert routine([ADMIT], at(hours=2), protocol=protocol) == [
        ("routine_assessment_overdue:e12:a1", at(hours=2), None)
    ]


def test_assessment_before_admission_does_not_restart_the_clock() -> None:
    tl = timeline([cows(1, at(-30), 3)], admitted_at=ADMIT)
    assert [f.key for f in run(tl, at(hours=4, minutes=15), ROUTINE)] == [
        "routine_assessment_overdue:e12:admission"
    ]
