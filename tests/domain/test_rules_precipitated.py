"""Rule 1, precipitated_withdrawal (shared/domain.md sections 3 and 4: Dunn 2023, +6 COWS in the window)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from monitor.domain.protocol import Protocol
from monitor.domain.rules import Priority
from monitor.domain.timeline import DoseRecord, ScoredAssessment
from tests.domain.test_rules import T, at, cows, naloxone, naltrexone, one, run, timeline

RULE = "precipitated_withdrawal"


def raised(
    assessments: list[ScoredAssessment], dose: DoseRecord, now: datetime, protocol: Protocol | None = None
) -> list[str]:
    tl = timeline(assessments, [dose])
    if protocol is None:
        return [f.key for f in run(tl, now, RULE)]
    return [f.key for f in run(tl, now, RULE, protocol)]


# (case, baseline (time, total) or None, post-dose (time, total), dose, raises, no_baseline)
W = timedelta(minutes=60)
CASES: list[tuple[str, tuple[datetime, int] | None, tuple[datetime, int], DoseRecord, bool]] = [
    # The rise: exactly +6 raises, +5 does not (Dunn 2023).
    ("rise +6", (at(-10), 4), (at(50), 10), naltrexone(), True),
    ("rise +5", (at(-10), 4), (at(50), 9), naltrexone(), False),
    ("rise +13", (at(-10), 4), (at(50), 17), naltrexone(), True),
    ("fall", (at(-10), 20), (at(50), 10), naltrexone(), False),
    # Baseline age (local choice, 4 h): exactly 4 h before the dose counts ...
    ("baseline 4 h old, +6", (at(hours=-4), 4), (at(30), 10), naltrexone(), True),
    ("baseline 4 h old, +5", (at(hours=-4), 4), (at(30), 9), naltrexone(), False),
    # ... 4 h + 1 s does not: the no-baseline path (COWS >= 13, moderate band) applies.
    ("baseline 4 h 1 s old, 13", (at(hours=-4, seconds=-1), 4), (at(30), 13), naltrexone(), True),
    ("baseline 4 h 1 s old, 12", (at(hours=-4, seconds=-1), 4), (at(30), 12), naltrexone(), False),
    (
        "baseline 4 h 1 s old, 10 (+6 on the stale one)",
        (at(hours=-4, seconds=-1), 4),
        (at(30), 10),
        naltrexone(),
        False,
    ),
    ("no COWS at all, 13", None, (at(30), 13), naltrexone(), True),
    ("no COWS at all, 12", None, (at(30), 12), naltrexone(), False),
    # A baseline exactly at the dose time counts (both ends inclusive).
    ("baseline at the dose time", (at(0), 4), (at(30), 10), naltrexone(), True),
    # Windows: naloxone 60 min (Dunn 2023), inclusive.
    ("naloxone at +60 min", (at(-10), 4), (at(60), 10), naloxone(), True),
    ("naloxone at +60 min 1 s", (at(-10), 4), (at(60, seconds=1), 10), naloxone(), False),
    ("naloxone IV at +60 min", (at(-10), 4), (at(60), 10), naloxone(form="iv"), True),
    ("naloxone IN at +61 min", (at(-10), 4), (at(61), 10), naloxone(form="intranasal", mg=4), False),
    # Oral naltrexone 6 h; extended-release naltrexone 72 h (onset and peak times, domain.md section 3).
    ("oral naltrexone at +6 h", (at(-10), 4), (at(hours=6), 10), naltrexone(), True),
    ("oral naltrexone at +6 h 1 s", (at(-10), 4), (at(hours=6, seconds=1), 10), naltrexone(), False),
    (
        "XR naltrexone at +72 h",
        (at(-10), 4),
        (at(hours=72), 10),
        naltrexone(mg=380, form="extended_release_injection"),
        True,
    ),
    (
        "XR naltrexone at +72 h 1 s",
        (at(-10), 4),
        (at(hours=72, seconds=1), 10),
        naltrexone(mg=380, form="extended_release_injection"),
        False,
    ),
]


@pytest.mark.parametrize(
    ("baseline", "post", "dose", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_table(
    baseline: tuple[datetime, int] | None, post: tuple[datetime, int], dose: DoseRecord, expected: bool
) -> None:
    assessments = [cows(2, *post)]
    if baseline is not None:
        assessments.append(cows(1, *baseline))
    keys = raised(assessments, dose, post[0] + timedelta(days=4))
    assert keys == (["precipitated_withdrawal:e12:d17"] if expected else [])


def test_message_and_evidence_with_baseline() -> None:
    tl = timeline([cows(1, at(-10), 4), cows(2, at(50), 17)], [naltrexone()])
    finding = one(run(tl, at(55), RULE))
    assert finding.priority is Priority.HIGH
    assert finding.raised_at == at(50)
    assert finding.resolved_at is None
    assert finding.message == "COWS 4 -> 17 (+13) 50 min after naltrexone 25 mg PO at 09:05"
    assert finding.evidence == {
        "dose_id": 17,
        "drug": "naltrexone",
        "form": "oral",
        "dose_mg": 25,
        "dose": "naltrexone 25 mg PO",
        "given_at": "2026-11-20T09:05:00+00:00",
        "baseline_total": 4,
        "baseline_at": "2026-11-20T08:55:00+00:00",
        "baseline_assessment_id": 1,
        "trigger_total": 17,
        "trigger_at": "2026-11-20T09:55:00+00:00",
        "trigger_assessment_id": 2,
        "rise": 13,
        "threshold": 10,
        "minutes_after_dose": 50,
        "window_minutes": 360,
        "no_baseline": False,
        "peak_total": 17,
        "peak_at": "2026-11-20T09:55:00+00:00",
        "peak_assessment_id": 2,
    }


def test_message_and_evidence_without_baseline() -> None:
    tl = timeline([cows(1, at(hours=-5), 2), cows(2, at(25), 14)], [naloxone()])
    finding = one(run(tl, at(30), RULE))
    assert finding.message == (
        "COWS 14 25 min after naloxone 0.4 mg IM at 09:05, no baseline COWS "
        "(alert level 13 without a baseline)"
    )
    assert "no baseline COWS" in finding.message
    ev = finding.evidence
    assert ev["no_baseline"] is True
    assert ev["baseline_total"] is None
    assert ev["baseline_at"] is None
    assert ev["baseline_assessment_id"] is None
    assert ev["rise"] is None
    assert ev["threshold"] == 13
    assert ev["window_minutes"] == 60
    assert ev["trigger_assessment_id"] == 2


def test_baseline_is_the_latest_before_the_dose() -> None:
    # Two pre-dose COWS: the later one (8) is the baseline, so 13 is only +5.
    tl = timeline([cows(1, at(-60), 2), cows(2, at(-5), 8), cows(3, at(40), 13)], [naltrexone()])
    assert run(tl, at(hours=7), RULE) == []
    tl = timeline([cows(1, at(-60), 8), cows(2, at(-5), 2), cows(3, at(40), 8)], [naltrexone()])
    assert one(run(tl, at(hours=7), RULE)).evidence["baseline_assessment_id"] == 2


def test_first_qualifying_assessment_triggers_and_later_ones_update_the_peak() -> None:
    tl = timeline(
        [
            cows(1, at(-10), 4),
            cows(2, at(30), 8),  # +4: not yet
            cows(3, at(50), 17),  # +13: trigger
            cows(4, at(90), 24),  # higher: the peak
            cows(5, at(120), 20),  # lower: peak stays
            cows(6, at(hours=7), 40),  # outside the 6 h window: not this dose's
        ],
        [naltrexone()],
    )
    early = one(run(tl, at(60), RULE))
    assert early.evidence["peak_total"] == 17
    assert early.evidence["peak_assessment_id"] == 3
    late = one(run(tl, at(hours=8), RULE))
    assert late.key == early.key
    assert late.raised_at == early.raised_at == at(50)
    assert late.evidence["trigger_total"] == 17
    assert late.evidence["peak_total"] == 24
    assert late.evidence["peak_at"] == "2026-11-20T10:35:00+00:00"
    assert late.evidence["peak_assessment_id"] == 4
    assert (
        late.message == "COWS 4 -> 17 (+13) 50 min after naltrexone 25 mg PO at 09:05; peak COWS 24 at 10:35"
    )
    assert late.resolved_at is None  # never auto-resolves


def test_equal_later_score_keeps_the_first_peak() -> None:
    tl = timeline([cows(1, at(-10), 4), cows(2, at(50), 17), cows(3, at(80), 17)], [naltrexone()])
    assert one(run(tl, at(hours=2), RULE)).evidence["peak_assessment_id"] == 2


def test_two_doses_later_cows_belongs_to_the_second_only() -> None:
    # Naloxone at 09:05 with a baseline of 4; naltrexone at 09:35, whose baseline is the COWS 4 of 09:30.
    # COWS 12 at 09:45 belongs to the naltrexone only (+8 on its baseline); for the naloxone it would
    # also be +8 within 60 min, but it is not the naloxone's.
    tl = timeline(
        [cows(1, at(-10), 4), cows(2, at(25), 4), cows(3, at(40), 12)],
        [naloxone(1, at(0)), naltrexone(2, at(30))],
    )
    finding = one(run(tl, at(hours=2), RULE))
    assert finding.key == "precipitated_withdrawal:e12:d2"
    assert finding.evidence["baseline_assessment_id"] == 2
    assert finding.evidence["trigger_assessment_id"] == 3


def test_two_doses_one_finding_each_and_stable_keys() -> None:
    tl = timeline(
        [cows(1, at(-10), 2), cows(2, at(20), 9), cows(3, at(50), 20), cows(4, at(55), 30)],
        [naloxone(1, at(0)), naltrexone(2, at(30))],
    )
    found = run(tl, at(hours=3), RULE)
    assert sorted(f.key for f in found) == [
        "precipitated_withdrawal:e12:d1",
        "precipitated_withdrawal:e12:d2",
    ]
    by_dose = {f.evidence["dose_id"]: f for f in found}
    # The naloxone's peak stays at its own COWS (9): the 20 and 30 belong to the naltrexone.
    assert by_dose[1].evidence["trigger_total"] == 9
    assert by_dose[1].evidence["peak_total"] == 9
    assert by_dose[2].evidence["baseline_total"] == 9
    assert by_dose[2].evidence["trigger_total"] == 20
    assert by_dose[2].evidence["peak_total"] == 30
    # Re-evaluation, now or later, gives the same keys and raise times.
    again = run(tl, at(hours=3), RULE)
    assert again == found
    later = run(tl, at(days=2), RULE)
    assert [(f.key, f.raised_at) for f in later] == [(f.key, f.raised_at) for f in found]


def test_assessment_at_the_dose_time_is_baseline_not_response() -> None:
    tl = timeline([cows(1, at(0), 20)], [naltrexone()])
    assert run(tl, at(hours=1), RULE) == []


def test_assessment_before_the_dose_never_triggers() -> None:
    tl = timeline([cows(1, at(-30), 30)], [naltrexone()])
    assert run(tl, at(hours=1), RULE) == []


def test_agonist_and_comfort_doses_are_not_antagonists() -> None:
    tl = timeline(
        [cows(1, at(-10), 2), cows(2, at(30), 30)],
        [
            DoseRecord(1, "buprenorphine", "sublingual", 8, T),
            DoseRecord(2, "clonidine", "oral", 0.1, T),
        ],
    )
    assert run(tl, at(hours=1), RULE) == []


@pytest.mark.parametrize(
    ("settings", "total", "expected"),
    [
        ({}, 10, True),
        ({"pw_rise": 8}, 10, False),  # +6 no longer raises
        ({"pw_rise": 8}, 12, True),
        ({"pw_rise": 4}, 8, True),
    ],
)
def test_rise_is_a_protocol_setting(settings: dict[str, float], total: int, expected: bool) -> None:
    keys = raised(
        [cows(1, at(-10), 4), cows(2, at(50), total)], naltrexone(), at(60), Protocol.from_values(settings)
    )
    assert bool(keys) is expected


@pytest.mark.parametrize(
    ("settings", "post", "dose", "expected"),
    [
        ({"no_baseline_threshold": 15}, (at(30), 13), naltrexone(), False),
        ({"no_baseline_threshold": 10}, (at(30), 10), naltrexone(), True),
        ({"window_naloxone_minutes": 90}, (at(75), 20), naloxone(), True),
        ({"window_naltrexone_oral_hours": 2}, (at(hours=3), 20), naltrexone(), False),
        (
            {"window_naltrexone_er_hours": 96},
            (at(hours=90), 20),
            naltrexone(mg=380, form="extended_release_injection"),
            True,
        ),
        ({"baseline_max_age_hours": 6}, (at(30), 12), naltrexone(), True),  # the 5 h old 4 is a baseline
    ],
)
def test_windows_and_thresholds_are_protocol_settings(
    settings: dict[str, float], post: tuple[datetime, int], dose: DoseRecord, expected: bool
) -> None:
    assessments = [cows(1, at(hours=-5), 4), cows(2, *post)]
    keys = raised(assessments, dose, post[0] + timedelta(minutes=1), Protocol.from_values(settings))
    assert bool(keys) is expected
