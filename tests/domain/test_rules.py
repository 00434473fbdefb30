"""Alert rules: shared builders, and what holds for every rule (ordering, keys, time, formatting).

Rule-by-rule tables live in test_rules_*.py; they import the builders from here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest

from monitor.domain.protocol import DEFAULT_PROTOCOL, Protocol
from monitor.domain.rules import (
    RULE_TITLES,
    RULES,
    Finding,
    Priority,
    evaluate,
    format_duration,
)
from monitor.domain.timeline import DoseRecord, LastUse, ScoredAssessment, Timeline, VitalsRecord

# The reference dose time: 09:05 UTC, not on a round hour so arithmetic mistakes show.
T = datetime(2026, 11, 20, 9, 5, tzinfo=UTC)
EPISODE = 12


def at(minutes: float = 0, *, hours: float = 0, days: float = 0, seconds: float = 0) -> datetime:
    return T + timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def cows(id: int, taken_at: datetime, total: int) -> ScoredAssessment:
    return ScoredAssessment(id=id, taken_at=taken_at, total=total)


def dose(id: int, drug: str, form: str, mg: float, given_at: datetime = T) -> DoseRecord:
    return DoseRecord(id=id, drug=drug, form=form, dose_mg=mg, given_at=given_at)


def naltrexone(id: int = 17, given_at: datetime = T, mg: float = 25, form: str = "oral") -> DoseRecord:
    return dose(id, "naltrexone", form, mg, given_at)


def naloxone(id: int = 17, given_at: datetime = T, mg: float = 0.4, form: str = "im") -> DoseRecord:
    return dose(id, "naloxone", form, mg, given_at)


def timeline(
    assessments: Iterable[ScoredAssessment] = (),
    doses: Iterable[DoseRecord] = (),
    vitals: Iterable[VitalsRecord] = (),
    substances: Iterable[LastUse] = (),
    *,
    admitted_at: datetime | None = None,
    discharged_at: datetime | None = None,
    tz: str = "UTC",
    episode_id: int = EPISODE,
) -> Timeline:
    return Timeline(
        episode_id=episode_id,
        admitted_at=admitted_at if admitted_at is not None else T - timedelta(days=1),
        discharged_at=discharged_at,
        tz_name=tz,
        assessments=tuple(assessments),
        doses=tuple(doses),
        vitals=tuple(vitals),
        substances=tuple(substances),
    )


def run(
    tl: Timeline, now: datetime, rule: str | None = None, protocol: Protocol = DEFAULT_PROTOCOL
) -> list[Finding]:
    """evaluate, optionally only one rule's findings."""
    found = evaluate(tl, protocol, now)
    return [f for f in found if rule is None or f.rule == rule]


def one(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, [f.key for f in findings]
    return findings[0]


# --- Priority and Finding ---------------------------------------------------------------------------


def test_priority_values_and_labels() -> None:
    assert [int(p) for p in (Priority.LOW, Priority.MEDIUM, Priority.HIGH)] == [1, 2, 3]
    assert [p.label for p in (Priority.LOW, Priority.MEDIUM, Priority.HIGH)] == ["low", "medium", "high"]
    assert Priority.HIGH > Priority.MEDIUM > Priority.LOW


def test_rule_names_in_order() -> None:
    assert RULES == (
        "precipitated_withdrawal",
        "antagonist_too_soon",
        "no_baseline_assessment",
        "reassessment_overdue",
        "routine_assessment_overdue",
        "withdrawal_severity",
        "vital_signs",
    )
    assert tuple(RULE_TITLES) == RULES


def test_finding_is_hashable_despite_evidence() -> None:
    finding = Finding("k", "r", 1, Priority.LOW, T, "m", {"a": [1]})
    assert hash(finding) == hash(Finding("k", "r", 1, Priority.LOW, T, "m", {"b": 2}))


# --- formatting -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=30), "0 min"),
        (timedelta(minutes=50), "50 min"),
        (timedelta(minutes=50, seconds=59), "50 min"),
        (timedelta(minutes=60), "1 h"),
        (timedelta(minutes=65), "1 h 05 min"),
        (timedelta(hours=4), "4 h"),
        (timedelta(hours=23, minutes=59), "23 h 59 min"),
        (timedelta(days=1), "1 day"),
        (timedelta(days=1, hours=4, minutes=30), "1 day 4 h"),
        (timedelta(days=2, hours=11), "2 days 11 h"),
        (timedelta(days=3), "3 days"),
        (timedelta(minutes=-5), "-5 min"),
    ],
)
def test_format_duration(delta: timedelta, text: str) -> None:
    assert format_duration(delta) == text


@pytest.mark.parametrize(
    ("zone", "shown"),
    [
        ("UTC", "09:05"),
        ("Europe/Berlin", "10:05"),  # CET in November
        ("America/New_York", "04:05"),
        ("Not/A_Zone", "09:05"),  # falls back to UTC
        ("", "09:05"),
        ("../etc/passwd", "09:05"),
    ],
)
def test_times_shown_in_episode_zone(zone: str, shown: str) -> None:
    tl = timeline([cows(1, at(-10), 4), cows(2, at(50), 17)], [naltrexone()], tz=zone)
    finding = one(run(tl, at(60), "precipitated_withdrawal"))
    assert finding.message == f"COWS 4 -> 17 (+13) 50 min after naltrexone 25 mg PO at {shown}"


def test_intervals_computed_in_utc_across_dst() -> None:
    # Spring forward in Berlin on 2027-03-28 at 02:00 local: 00:30 -> 03:30 local is 2 h, not 3 h.
    dose_at = datetime(2027, 3, 27, 23, 30, tzinfo=UTC)  # 00:30 CET
    tl = timeline(
        [cows(1, dose_at - timedelta(minutes=5), 0), cows(2, dose_at + timedelta(minutes=30), 0)],
        [naltrexone(given_at=dose_at)],
        tz="Europe/Berlin",
        admitted_at=dose_at - timedelta(hours=1),
    )
    finding = one(run(tl, dose_at + timedelta(hours=3), "reassessment_overdue"))
    assert finding.raised_at == dose_at + timedelta(minutes=135)
    assert finding.message == "No COWS 2 h after naltrexone 25 mg PO at 00:30: due 03:30 ± 15 min"


# --- evaluate: time, ordering, identity --------------------------------------------------------------


def _busy_timeline(discharged_at: datetime | None = None) -> Timeline:
    return timeline(
        [cows(1, at(-10), 4), cows(2, at(50), 17), cows(3, at(100), 40)],
        [naltrexone(), dose(18, "clonidine", "oral", 0.1, at(60))],
        [VitalsRecord(1, at(70), spo2=89, systolic=84, diastolic=52), VitalsRecord(2, at(80), pulse_bpm=130)],
        [LastUse("kratom", at(days=-3)), LastUse("alcohol", at(hours=-2))],
        admitted_at=at(-30),
        discharged_at=discharged_at,
    )


def test_sorted_by_priority_then_newest() -> None:
    found = run(_busy_timeline(), at(hours=9))
    pairs = [(f.priority, f.raised_at) for f in found]
    assert pairs == sorted(pairs, key=lambda p: (-p[0], -p[1].timestamp()))
    assert found[0].priority is Priority.HIGH
    assert found[-1].priority is Priority.LOW


def test_keys_name_rule_and_episode_and_are_stable() -> None:
    tl = _busy_timeline()
    first = run(tl, at(hours=9))
    again = run(tl, at(hours=9))
    assert first == again
    keys = [f.key for f in first]
    assert len(set(keys)) == len(keys)
    for f in first:
        assert f.key.startswith(f"{f.rule}:e{EPISODE}:")
        assert f.episode_id == EPISODE
    assert set(keys) >= {
        "precipitated_withdrawal:e12:d17",
        "antagonist_too_soon:e12:d17",
        "reassessment_overdue:e12:d17:second",
        "withdrawal_severity:e12:a3:medium",
        "withdrawal_severity:e12:a3:high",
        "vital_signs:e12:v1",
        "vital_signs:e12:v2",
    }
    other = run(timeline(tl.assessments, tl.doses, episode_id=13), at(hours=9))
    assert "precipitated_withdrawal:e13:d17" in {f.key for f in other}


def test_evidence_is_json() -> None:
    for finding in run(_busy_timeline(), at(hours=9)):
        assert json.loads(json.dumps(finding.evidence)) == finding.evidence


def test_records_after_now_are_ignored() -> None:
    tl = _busy_timeline()
    # At 09:54 the COWS 17 of 09:55 has not happened: no precipitated withdrawal yet.
    before = run(tl, at(49))
    assert not [f for f in before if f.rule == "precipitated_withdrawal"]
    assert run(tl, at(49)) == run(tl.as_of(at(49)), at(49))
    # At 09:55 it has.
    assert [f.key for f in run(tl, at(50), "precipitated_withdrawal")] == ["precipitated_withdrawal:e12:d17"]
    # A dose after now is not seen.
    assert run(tl, at(-1), "antagonist_too_soon") == []
    for now in (at(-1), at(49), at(50), at(hours=2), at(hours=9)):
        for f in run(tl, now):
            assert f.raised_at <= now
            assert f.resolved_at is None or f.resolved_at <= now


def test_discharge_after_now_is_ignored() -> None:
    tl = timeline([cows(1, at(0), 0)], admitted_at=at(0), discharged_at=at(hours=6))
    # At 4 h 15 min the patient is still in: the routine COWS is overdue.
    assert [f.key for f in run(tl, at(hours=4, minutes=15))] == ["routine_assessment_overdue:e12:a1"]
    assert tl.as_of(at(hours=5)).discharged_at is None
    assert tl.as_of(at(hours=6)).discharged_at == at(hours=6)


def test_naive_now_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate(timeline(), DEFAULT_PROTOCOL, datetime(2026, 11, 20, 9, 0))


# --- Timeline ---------------------------------------------------------------------------------------


def test_timeline_sorts_and_as_of_drops_later_records() -> None:
    tl = timeline(
        [cows(2, at(30), 5), cows(1, at(-10), 4)],
        [naltrexone(2, at(60)), naltrexone(1, at(0))],
        [VitalsRecord(2, at(20)), VitalsRecord(1, at(10))],
        [LastUse("heroin", at(days=-1)), LastUse("kratom", at(days=1)), LastUse("alcohol", None)],
    )
    assert [a.id for a in tl.assessments] == [1, 2]
    assert [d.id for d in tl.doses] == [1, 2]
    assert [v.id for v in tl.vitals] == [1, 2]
    past = tl.as_of(at(15))
    assert [a.id for a in past.assessments] == [1]
    assert [d.id for d in past.doses] == [1]
    assert [v.id for v in past.vitals] == [1]
    assert [u.substance for u in past.substances] == ["heroin", "alcohol"]
    # Inclusive: a record exactly at now is kept.
    assert [a.id for a in tl.as_of(at(30)).assessments] == [1, 2]


def test_clinical_times_after_now_are_the_records_a_later_cut_lets_in() -> None:
    tl = timeline(
        [cows(1, at(-10), 4), cows(2, at(5), 5), cows(3, at(5), 6)],
        [naltrexone(1, at(0)), naltrexone(2, at(3))],
        [VitalsRecord(1, at(-1)), VitalsRecord(2, at(8))],
        [LastUse("heroin", at(days=-1)), LastUse("kratom", at(4)), LastUse("alcohol", None)],
        discharged_at=at(9),
    )
    # Sorted, each moment once (two COWS at +5), none at or before now (the dose at 0).
    assert tl.clinical_times_after(at(0)) == [at(3), at(4), at(5), at(8), at(9)]
    assert tl.clinical_times_after(at(5)) == [at(8), at(9)]
    assert tl.clinical_times_after(at(9)) == []


def test_with_dose_inserts_in_order() -> None:
    tl = timeline(doses=[naltrexone(1, at(0)), naltrexone(3, at(60))]).with_dose(naloxone(0, at(30)))
    assert [d.id for d in tl.doses] == [1, 0, 3]


@pytest.mark.parametrize(
    "build",
    [
        lambda: ScoredAssessment(1, datetime(2026, 1, 1), 3),
        lambda: ScoredAssessment(1, T, 49),
        lambda: ScoredAssessment(1, T, -1),
        lambda: DoseRecord(1, "naltrexone", "iv", 25, T),
        lambda: DoseRecord(1, "naltrexon", "oral", 25, T),
        lambda: DoseRecord(1, "naltrexone", "oral", 0, T),
        lambda: DoseRecord(1, "naltrexone", "oral", 25, datetime(2026, 1, 1)),
        lambda: VitalsRecord(1, datetime(2026, 1, 1)),
        lambda: LastUse("krat0m", T),
        lambda: LastUse("kratom", datetime(2026, 1, 1)),
        lambda: timeline(admitted_at=datetime(2026, 1, 1)),
    ],
)
def test_bad_records_refused(build: object) -> None:
    assert callable(build)
    with pytest.raises(ValueError):
        build()
