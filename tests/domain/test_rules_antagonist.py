"""Rules 2 and 3 (antagonist_too_soon, no_baseline_assessment) and preview_dose.

shared/domain.md section 3 and 4: opioid-free interval 7 days after short-acting opioids (kratom
included), 14 days after methadone or buprenorphine (labels; seed); baseline COWS not older than 4 h.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from monitor.domain.protocol import DEFAULT_PROTOCOL, Protocol
from monitor.domain.rules import Priority, preview_dose
from monitor.domain.timeline import DoseRecord, LastUse
from tests.domain.test_rules import T, at, cows, dose, naloxone, naltrexone, one, run, timeline

TOO_SOON = "antagonist_too_soon"
NO_BASELINE = "no_baseline_assessment"


def too_soon(
    uses: list[LastUse], doses: list[DoseRecord] | None = None, protocol: Protocol = DEFAULT_PROTOCOL
) -> list[dict[str, object]]:
    """The offending list of the finding for naltrexone 17 at T, or [] if none."""
    tl = timeline([cows(1, at(-10), 2)], [naltrexone(), *(doses or [])], substances=uses)
    found = [f for f in run(tl, at(1), TOO_SOON, protocol) if f.evidence["dose_id"] == 17]
    if not found:
        return []
    offending = one(found).evidence["offending"]
    assert isinstance(offending, list)
    return offending


@pytest.mark.parametrize(
    ("substance", "before", "interval_days", "expected"),
    [
        # Kratom is short-acting: 7 days (seed article; no guideline sets a kratom interval).
        ("kratom", timedelta(days=3), 7, True),  # a kratom patient on day 3
        ("kratom", timedelta(days=8), 7, False),  # day 8
        ("kratom", timedelta(days=7), 7, False),  # exactly the interval is enough
        ("kratom", timedelta(days=7) - timedelta(seconds=1), 7, True),
        ("heroin", timedelta(days=1), 7, True),
        ("fentanyl", timedelta(days=6, hours=23), 7, True),
        ("oxycodone", timedelta(days=9), 7, False),
        ("other_opioid", timedelta(days=2), 7, True),
        # Methadone and buprenorphine are long-acting: 14 days (Revia and Vivitrol labels).
        ("methadone", timedelta(days=10), 14, True),
        ("methadone", timedelta(days=14), 14, False),
        ("buprenorphine", timedelta(days=13, hours=23), 14, True),
        # Non-opioids never count.
        ("alcohol", timedelta(hours=2), None, False),
        ("benzodiazepine", timedelta(hours=2), None, False),
        ("stimulant", timedelta(hours=2), None, False),
    ],
)
def test_intervals(substance: str, before: timedelta, interval_days: int | None, expected: bool) -> None:
    offending = too_soon([LastUse(substance, T - before)])
    if not expected:
        assert offending == []
        return
    assert len(offending) == 1
    entry = offending[0]
    assert entry["substance"] == substance
    assert entry["interval_days"] == interval_days
    assert entry["elapsed_hours"] == round(before.total_seconds() / 3600, 1)
    assert entry["last_use_at"] == (T - before).isoformat()
    assert entry["source"] == "last_use"


def test_kratom_day_3_message_and_evidence() -> None:
    tl = timeline([cows(1, at(-10), 2)], [naltrexone()], substances=[LastUse("kratom", at(days=-3))])
    finding = one(run(tl, at(1), TOO_SOON))
    assert finding.key == "antagonist_too_soon:e12:d17"
    assert finding.priority is Priority.HIGH
    assert finding.raised_at == T
    assert finding.resolved_at is None
    assert finding.message == (
        "Naltrexone 25 mg PO at 09:05 given 3 days after the last kratom use (opioid-free interval 7 days)"
    )
    assert finding.evidence["dose"] == "naltrexone 25 mg PO"
    assert finding.evidence["offending"] == [
        {
            "substance": "kratom",
            "last_use_at": "2026-11-17T09:05:00+00:00",
            "elapsed_hours": 72.0,
            "interval_days": 7,
            "opioid_action": "short",
            "source": "last_use",
            "dose_id": None,
        }
    ]


def test_message_example_from_the_brief() -> None:
    tl = timeline(doses=[naltrexone()], substances=[LastUse("kratom", at(days=-2, hours=-12))])
    assert one(run(tl, at(1), TOO_SOON)).message == (
        "Naltrexone 25 mg PO at 09:05 given 2 days 12 h after the last kratom use "
        "(opioid-free interval 7 days)"
    )


def test_buprenorphine_dose_recorded_5_days_before() -> None:
    bup = dose(5, "buprenorphine", "sublingual", 8, at(days=-5))
    offending = too_soon([], [bup])
    assert offending == [
        {
            "substance": "buprenorphine",
            "last_use_at": at(days=-5).isoformat(),
            "elapsed_hours": 120.0,
            "interval_days": 14,
            "opioid_action": "long",
            "source": "dose",
            "dose_id": 5,
        }
    ]
    tl = timeline(doses=[naltrexone(), bup])
    assert one(run(tl, at(1), TOO_SOON)).message == (
        "Naltrexone 25 mg PO at 09:05 given 5 days after the last buprenorphine dose "
        "(opioid-free interval 14 days)"
    )


def test_methadone_dose_counts_as_long_acting() -> None:
    offending = too_soon([], [dose(5, "methadone", "oral", 30, at(days=-13))])
    assert [(o["substance"], o["interval_days"]) for o in offending] == [("methadone", 14)]
    assert too_soon([], [dose(5, "methadone", "oral", 30, at(days=-15))]) == []


def test_agonist_dose_after_the_antagonist_does_not_count() -> None:
    assert too_soon([], [dose(5, "buprenorphine", "sublingual", 8, at(10))]) == []


def test_reported_use_and_dose_of_the_same_substance_merge_to_the_latest() -> None:
    offending = too_soon(
        [LastUse("buprenorphine", at(days=-20))], [dose(5, "buprenorphine", "sublingual", 8, at(days=-5))]
    )
    assert [(o["substance"], o["source"]) for o in offending] == [("buprenorphine", "dose")]


def test_every_offending_substance_listed_most_recent_first() -> None:
    uses = [
        LastUse("methadone", at(days=-10)),
        LastUse("kratom", at(days=-3)),
        LastUse("heroin", at(days=-30)),  # long enough ago
        LastUse("alcohol", at(hours=-1)),  # not an opioid
        LastUse("fentanyl", None),  # unknown: nothing to compare
    ]
    offending = too_soon(uses)
    assert [(o["substance"], o["interval_days"]) for o in offending] == [("kratom", 7), ("methadone", 14)]
    tl = timeline(doses=[naltrexone()], substances=uses)
    assert one(run(tl, at(1), TOO_SOON)).message == (
        "Naltrexone 25 mg PO at 09:05 given 3 days after the last kratom use (opioid-free interval 7 days) "
        "and 10 days after the last methadone use (opioid-free interval 14 days)"
    )


def test_alcohol_only_gives_nothing() -> None:
    assert too_soon([LastUse("alcohol", at(hours=-2))]) == []


def test_last_use_after_the_dose_does_not_count_for_it() -> None:
    tl = timeline(
        doses=[naltrexone(1, at(0)), naltrexone(2, at(hours=2))],
        substances=[LastUse("heroin", at(60))],
    )
    found = run(tl, at(hours=3), TOO_SOON)
    assert [f.key for f in found] == ["antagonist_too_soon:e12:d2"]
    assert one(found).evidence["offending"][0]["elapsed_hours"] == 1.0


def test_naloxone_is_an_antagonist_too() -> None:
    tl = timeline(doses=[naloxone(form="sc", mg=0.8)], substances=[LastUse("heroin", at(days=-2))])
    assert one(run(tl, at(1), TOO_SOON)).message.startswith("Naloxone 0.8 mg SC at 09:05 given 2 days")


def test_one_finding_per_dose() -> None:
    tl = timeline(
        doses=[naltrexone(1, at(0)), naltrexone(2, at(hours=24), form="oral", mg=50)],
        substances=[LastUse("kratom", at(days=-3)), LastUse("heroin", at(days=-2))],
    )
    assert [f.key for f in run(tl, at(days=2), TOO_SOON)] == [
        "antagonist_too_soon:e12:d2",
        "antagonist_too_soon:e12:d1",
    ]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [({}, True), ({"opioid_free_short_days": 2}, False), ({"opioid_free_short_days": 10}, True)],
)
def test_interval_is_a_protocol_setting(settings: dict[str, float], expected: bool) -> None:
    assert (
        bool(too_soon([LastUse("kratom", at(days=-3))], protocol=Protocol.from_values(settings))) is expected
    )


def test_long_interval_is_a_protocol_setting() -> None:
    uses = [LastUse("methadone", at(days=-10))]
    assert too_soon(uses, protocol=Protocol.from_values({"opioid_free_long_days": 7})) == []


# --- no_baseline_assessment -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("assessment_at", "expected"),
    [
        (None, True),
        (at(0), False),  # at the dose time: inclusive
        (at(hours=-4), False),  # exactly 4 h before: inclusive
        (at(hours=-4, seconds=-1), True),
        (at(hours=-5), True),
        (at(10), True),  # after the dose is not a baseline
    ],
)
def test_no_baseline_boundaries(assessment_at: datetime | None, expected: bool) -> None:
    assessments = [] if assessment_at is None else [cows(1, assessment_at, 3)]
    tl = timeline(assessments, [naltrexone()])
    keys = [f.key for f in run(tl, at(20), NO_BASELINE)]
    assert keys == (["no_baseline_assessment:e12:d17"] if expected else [])


def test_no_baseline_message() -> None:
    tl = timeline([cows(1, at(hours=-5, minutes=-10), 3)], [naltrexone()])
    finding = one(run(tl, at(1), NO_BASELINE))
    assert finding.priority is Priority.MEDIUM
    assert finding.raised_at == T
    assert finding.message == (
        "Naltrexone 25 mg PO at 09:05 given without a baseline COWS in the 4 h before it "
        "(last COWS 5 h 10 min before the dose)"
    )
    assert finding.evidence["last_assessment_id"] == 1
    assert finding.evidence["baseline_max_age_hours"] == 4
    empty = one(run(timeline(doses=[naloxone()]), at(1), NO_BASELINE))
    assert empty.message == (
        "Naloxone 0.4 mg IM at 09:05 given without a baseline COWS in the 4 h before it (no COWS before it)"
    )
    assert empty.evidence["last_assessment_id"] is None


def test_no_baseline_only_for_antagonists() -> None:
    tl = timeline(doses=[dose(1, "clonidine", "oral", 0.1), dose(2, "methadone", "oral", 30)])
    assert run(tl, at(1), NO_BASELINE) == []


def test_baseline_age_is_a_protocol_setting() -> None:
    tl = timeline([cows(1, at(hours=-5), 3)], [naltrexone()])
    assert run(tl, at(1), NO_BASELINE, Protocol.from_values({"baseline_max_age_hours": 6})) == []


# --- preview_dose -----------------------------------------------------------------------------------


def test_preview_warns_before_saving() -> None:
    tl = timeline(substances=[LastUse("kratom", at(days=-3))])
    planned = naltrexone(id=0, given_at=T)
    found = preview_dose(tl, DEFAULT_PROTOCOL, planned, T)
    assert [(f.rule, f.key, f.priority) for f in found] == [
        (TOO_SOON, "antagonist_too_soon:e12:d0", Priority.HIGH),
        (NO_BASELINE, "no_baseline_assessment:e12:d0", Priority.MEDIUM),
    ]
    # The same findings evaluate gives once the dose is saved (with its real id).
    saved = run(tl.with_dose(naltrexone(id=0)), at(1))
    assert {f.key for f in saved if f.rule in (TOO_SOON, NO_BASELINE)} == {f.key for f in found}


def test_preview_with_a_baseline_and_a_clean_history_is_quiet() -> None:
    tl = timeline([cows(1, at(-10), 2)], substances=[LastUse("kratom", at(days=-8))])
    assert preview_dose(tl, DEFAULT_PROTOCOL, naltrexone(id=-1), T) == []


def test_preview_ignores_other_doses_and_non_antagonists() -> None:
    tl = timeline(doses=[naltrexone(5, at(hours=-1))], substances=[LastUse("kratom", at(days=-3))])
    assert preview_dose(tl, DEFAULT_PROTOCOL, dose(0, "clonidine", "oral", 0.1), T) == []
    found = preview_dose(tl, DEFAULT_PROTOCOL, naloxone(id=0), T)
    assert {f.evidence["dose_id"] for f in found} == {0}


def test_preview_of_a_dose_timed_just_after_now() -> None:
    # Clinical times up to 5 min ahead are accepted (clock drift): the preview still warns.
    tl = timeline(substances=[LastUse("heroin", at(days=-1))])
    found = preview_dose(tl, DEFAULT_PROTOCOL, naltrexone(id=0, given_at=at(3)), T)
    assert [f.rule for f in found] == [TOO_SOON, NO_BASELINE]
    assert found[0].raised_at == at(3)


def test_preview_ignores_records_after_now() -> None:
    # A baseline charted for later than now is not a baseline yet.
    tl = timeline([cows(1, at(10), 2)])
    found = preview_dose(tl, DEFAULT_PROTOCOL, naltrexone(id=0), T)
    assert [f.rule for f in found] == [NO_BASELINE]
