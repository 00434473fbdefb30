"""Rules 6 and 7: withdrawal_severity and vital_signs (shared/domain.md section 4).

Severity: COWS >= 25 medium, >= 37 high (Wesson & Ling bands). Vital signs: systolic < 90 or diastolic
< 60 (hold clonidine/lofexidine); pulse < 50 or > 120; SpO2 < 92; respiratory rate < 10.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from monitor.domain.protocol import Protocol
from monitor.domain.rules import Finding, Priority
from monitor.domain.timeline import DoseRecord, VitalsRecord
from tests.domain.test_rules import T, at, dose, one, run, timeline
from tests.domain.test_rules import cows as cows_at

SEVERITY = "withdrawal_severity"
VITALS = "vital_signs"


def severity(totals: list[int], protocol: Protocol | None = None) -> list[tuple[str, Priority, int | None]]:
    """Findings for COWS totals taken hourly from T: (key, priority, index of the resolving COWS)."""
    tl = timeline([cows_at(i + 1, at(hours=i), total) for i, total in enumerate(totals)])
    now = at(hours=len(totals))
    found = run(tl, now, SEVERITY) if protocol is None else run(tl, now, SEVERITY, protocol)
    result = []
    for f in sorted(found, key=lambda f: (f.raised_at, f.key)):
        resolved = None if f.resolved_at is None else int((f.resolved_at - T) / timedelta(hours=1))
        result.append((f.key.removeprefix("withdrawal_severity:e12:"), f.priority, resolved))
    return result


M, H = Priority.MEDIUM, Priority.HIGH


@pytest.mark.parametrize(
    ("totals", "expected"),
    [
        ([24], []),
        ([25], [("a1:medium", M, None)]),
        ([36], [("a1:medium", M, None)]),
        ([37], [("a1:high", H, None), ("a1:medium", M, None)]),
        ([40], [("a1:high", H, None), ("a1:medium", M, None)]),  # one medium and one high
        ([27, 30, 33], [("a1:medium", M, None)]),  # disarmed until a score below 25
        ([27, 20, 30], [("a1:medium", M, 1), ("a3:medium", M, None)]),  # re-armed by the 20
        ([27, 24, 30], [("a1:medium", M, 1), ("a3:medium", M, None)]),
        ([27, 25, 30], [("a1:medium", M, None)]),  # 25 is not below 25
        ([27, 40], [("a1:medium", M, None), ("a2:high", H, None)]),
        ([40, 30, 38], [("a1:high", H, None), ("a1:medium", M, None)]),  # the high arm stays off at 30
        (
            [40, 30, 20, 38],
            [("a1:high", H, 2), ("a1:medium", M, 2), ("a4:high", H, None), ("a4:medium", M, None)],
        ),
        ([10, 12, 5], []),
    ],
)
def test_arming(totals: list[int], expected: list[tuple[str, Priority, int | None]]) -> None:
    assert severity(totals) == expected


def test_messages() -> None:
    tl = timeline([cows_at(1, datetime(2026, 11, 20, 14, 10, tzinfo=T.tzinfo), 27)])
    finding = one(run(tl, at(hours=6), SEVERITY))
    assert finding.message == "COWS 27 (moderately severe) at 14:10; alert level 25"
    assert finding.raised_at == datetime(2026, 11, 20, 14, 10, tzinfo=T.tzinfo)
    assert finding.evidence == {
        "assessment_id": 1,
        "total": 27,
        "band": "moderately severe",
        "taken_at": "2026-11-20T14:10:00+00:00",
        "level": "medium",
        "threshold": 25,
        "resolved_by_assessment_id": None,
    }
    both = run(timeline([cows_at(1, T, 40)]), at(1), SEVERITY)
    assert [(f.priority, f.message) for f in both] == [
        (H, "COWS 40 (severe) at 09:05; alert level 37"),
        (M, "COWS 40 (severe) at 09:05; alert level 25"),
    ]


def test_resolution_evidence() -> None:
    tl = timeline([cows_at(1, T, 27), cows_at(2, at(60), 12)])
    finding = one(run(tl, at(90), SEVERITY))
    assert finding.resolved_at == at(60)
    assert finding.evidence["resolved_by_assessment_id"] == 2


def test_levels_are_protocol_settings() -> None:
    protocol = Protocol.from_values({"severity_medium": 20, "severity_high": 30})
    assert severity([22, 31], protocol) == [("a1:medium", M, None), ("a2:high", H, None)]


# --- vital_signs ------------------------------------------------------------------------------------


def vitals_findings(
    *records: VitalsRecord, doses: tuple[DoseRecord, ...] = (), now: datetime | None = None
) -> list[Finding]:
    tl = timeline(vitals=records, doses=doses)
    return run(tl, now or at(hours=12), VITALS)


@pytest.mark.parametrize(
    ("kwargs", "priority", "text"),
    [
        ({"spo2": 91}, H, "SpO2 91% (below 92%)"),
        ({"spo2": 92}, None, ""),
        ({"resp_rate": 9}, H, "RR 9/min (below 10/min)"),
        ({"resp_rate": 10}, None, ""),
        ({"systolic": 89, "diastolic": 70}, M, "BP 89/70 (systolic below 90)"),
        ({"systolic": 90, "diastolic": 60}, None, ""),
        ({"systolic": 100, "diastolic": 59}, M, "BP 100/59 (diastolic below 60)"),
        ({"systolic": 84, "diastolic": 52}, M, "BP 84/52 (below 90/60)"),
        ({"systolic": 84}, M, "Systolic BP 84 (below 90)"),
        ({"diastolic": 52}, M, "Diastolic BP 52 (below 60)"),
        ({"pulse_bpm": 49}, M, "Pulse 49 bpm (below 50)"),
        ({"pulse_bpm": 50}, None, ""),
        ({"pulse_bpm": 120}, None, ""),
        ({"pulse_bpm": 121}, M, "Pulse 121 bpm (above 120)"),
        ({"temp_c": 39.5}, None, ""),  # no temperature rule
        ({}, None, ""),
    ],
)
def test_each_threshold(kwargs: dict[str, int], priority: Priority | None, text: str) -> None:
    found = vitals_findings(VitalsRecord(1, T, **kwargs))
    if priority is None:
        assert found == []
        return
    finding = one(found)
    assert finding.key == "vital_signs:e12:v1"
    assert finding.priority is priority
    assert finding.message == text
    assert finding.raised_at == T


def test_combined_message_with_clonidine() -> None:
    clonidine = dose(8, "clonidine", "oral", 0.1, at(hours=-2))
    found = vitals_findings(VitalsRecord(1, T, spo2=89, systolic=84, diastolic=52), doses=(clonidine,))
    finding = one(found)
    assert finding.priority is H
    assert finding.message == (
        "SpO2 89% (below 92%); BP 84/52 (below 90/60) within 6 h of clonidine 0.1 mg PO at 07:05: "
        "hold clonidine"
    )
    assert finding.evidence["abnormalities"] == [
        {"sign": "spo2", "value": 89, "threshold": 92, "direction": "below", "priority": "high"},
        {"sign": "systolic", "value": 84, "threshold": 90, "direction": "below", "priority": "high"},
        {"sign": "diastolic", "value": 52, "threshold": 60, "direction": "below", "priority": "high"},
    ]
    assert [d["dose_id"] for d in finding.evidence["alpha2_doses"]] == [8]


@pytest.mark.parametrize(
    ("given_at", "priority"),
    [
        (at(hours=-6), H),  # exactly 6 h before: inclusive
        (at(hours=-6, minutes=-1), M),  # 6 h + 1 min: outside
        (at(0), H),  # at the same time
        (at(1), M),  # after the reading
    ],
)
def test_clonidine_window(given_at: datetime, priority: Priority) -> None:
    clonidine = dose(8, "clonidine", "oral", 0.1, given_at)
    finding = one(vitals_findings(VitalsRecord(1, T, systolic=84, diastolic=70), doses=(clonidine,)))
    assert finding.priority is priority
    assert ("hold clonidine" in finding.message) is (priority is H)


def test_lofexidine_and_clonidine_both_named() -> None:
    doses = (
        dose(8, "clonidine", "oral", 0.1, at(hours=-5)),
        dose(9, "clonidine", "oral", 0.2, at(hours=-3)),
        dose(10, "lofexidine", "oral", 0.54, at(hours=-1)),
    )
    finding = one(vitals_findings(VitalsRecord(1, T, systolic=85, diastolic=55), doses=doses))
    assert finding.message == (
        "BP 85/55 (below 90/60) within 6 h of clonidine 0.2 mg PO at 06:05 and lofexidine 0.54 mg PO "
        "at 08:05: hold clonidine and lofexidine"
    )


def test_other_medicines_do_not_make_low_bp_high() -> None:
    doses = (dose(8, "lorazepam", "oral", 1, at(-30)), dose(9, "naltrexone", "oral", 25, at(-60)))
    assert one(vitals_findings(VitalsRecord(1, T, systolic=85), doses=doses)).priority is M


def test_clonidine_does_not_raise_other_signs() -> None:
    clonidine = dose(8, "clonidine", "oral", 0.1, at(-30))
    finding = one(vitals_findings(VitalsRecord(1, T, pulse_bpm=45), doses=(clonidine,)))
    assert finding.priority is M
    assert finding.message == "Pulse 45 bpm (below 50)"


def test_resolved_by_the_next_normal_record() -> None:
    records = (
        VitalsRecord(1, at(0), spo2=89),
        VitalsRecord(2, at(10), temp_c=37.0),  # does not re-measure SpO2: does not resolve
        VitalsRecord(3, at(20), spo2=90),  # still low: its own finding
        VitalsRecord(4, at(30), spo2=95, pulse_bpm=80),  # normal: resolves 1 and 3
    )
    found = {f.key: f for f in vitals_findings(*records)}
    assert sorted(found) == ["vital_signs:e12:v1", "vital_signs:e12:v3"]
    assert found["vital_signs:e12:v1"].resolved_at == at(30)
    assert found["vital_signs:e12:v1"].evidence["resolved_by_vitals_id"] == 4
    assert found["vital_signs:e12:v3"].resolved_at == at(30)
    # Before the normal record, nothing is resolved.
    early = vitals_findings(*records, now=at(25))
    assert all(f.resolved_at is None for f in early)


def test_thresholds_are_protocol_settings() -> None:
    protocol = Protocol.from_values({"spo2_low": 94, "pulse_high": 110, "alpha2_hypotension_window_hours": 2})
    tl = timeline(
        vitals=[VitalsRecord(1, T, spo2=93, pulse_bpm=115, systolic=85)],
        doses=[dose(8, "clonidine", "oral", 0.1, at(hours=-3))],
    )
    finding = one(run(tl, at(1), VITALS, protocol))
    assert finding.message == "SpO2 93% (below 94%); systolic BP 85 (below 90); pulse 115 bpm (above 110)"
    assert finding.priority is H  # from the SpO2; the clonidine 3 h before is outside the 2 h window
