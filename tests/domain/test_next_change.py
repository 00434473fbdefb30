"""next_change_at: the moment the rules' findings change with no new data (issue 9: the timer
re-evaluates an episode only when its moment has come, so this must never be late).

Examples a nurse would recognise (default protocol: routine COWS every 4 h with 15 min grace, post-dose
COWS at +30 min and +2 h within 15 min either side), then a property test over generated timelines:
from now up to next_change_at the findings stay exactly the same, and at next_change_at they differ.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from monitor.domain.protocol import DEFAULT_PROTOCOL, Protocol
from monitor.domain.rules import evaluate, evaluate_with_next_change, next_change_at
from monitor.domain.timeline import Timeline, VitalsRecord
from tests.domain.test_rules import at, cows, naltrexone, timeline
from tests.domain.test_rules_properties import PROTOCOLS, SETTINGS, timelines, times

ADMIT = at(0)  # 09:05 UTC


def ward_timeline(*assessments: datetime, discharged_at: datetime | None = None) -> Timeline:
    return timeline(
        [cows(i + 1, t, 3) for i, t in enumerate(assessments)], admitted_at=ADMIT, discharged_at=discharged_at
    )


def test_routine_cows_next_change_is_due_plus_grace() -> None:
    # Admitted 09:05, COWS at 09:05 and 10:00: the next is due at 14:00, overdue at 14:15.
    tl = ward_timeline(ADMIT, datetime(2026, 11, 20, 10, 0, tzinfo=UTC))
    now = datetime(2026, 11, 20, 11, 30, tzinfo=UTC)
    assert next_change_at(tl, DEFAULT_PROTOCOL, now) == datetime(2026, 11, 20, 14, 15, tzinfo=UTC)
    # Nothing before it, the overdue alert at it.
    assert evaluate(tl, DEFAULT_PROTOCOL, datetime(2026, 11, 20, 14, 14, 59, tzinfo=UTC)) == []
    [overdue] = evaluate(tl, DEFAULT_PROTOCOL, datetime(2026, 11, 20, 14, 15, tzinfo=UTC))
    assert overdue.rule == "routine_assessment_overdue"


def test_routine_interval_is_a_protocol_setting() -> None:
    tl = ward_timeline(ADMIT, datetime(2026, 11, 20, 10, 0, tzinfo=UTC))
    hourly = Protocol.from_values({"routine_interval_hours": 2, "routine_grace_minutes": 30})
    now = datetime(2026, 11, 20, 10, 5, tzinfo=UTC)
    assert next_change_at(tl, hourly, now) == datetime(2026, 11, 20, 12, 30, tzinfo=UTC)


def test_once_overdue_nothing_more_can_change_until_a_cows_comes() -> None:
    tl = ward_timeline(ADMIT, datetime(2026, 11, 20, 10, 0, tzinfo=UTC))
    now = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)  # overdue since 14:15: raised, still open
    found, change = evaluate_with_next_change(tl, DEFAULT_PROTOCOL, now)
    assert [f.rule for f in found] == ["routine_assessment_overdue"]
    assert change is None


def test_post_dose_slots_come_before_the_routine_one() -> None:
    # Naltrexone at 09:05 after a baseline COWS at 09:00: first post-dose COWS due 09:35 ± 15 min, so the
    # alert comes at 09:50; with that COWS charted at 09:35, the second slot (11:05) gives 11:20.
    baseline = cows(1, at(-5), 2)
    dose = naltrexone(given_at=at(0))
    tl = timeline([baseline], [dose], admitted_at=at(-60))
    assert next_change_at(tl, DEFAULT_PROTOCOL, at(5)) == at(45)
    charted = timeline([baseline, cows(2, at(30), 3)], [dose], admitted_at=at(-60))
    assert next_change_at(charted, DEFAULT_PROTOCOL, at(35)) == at(hours=2, minutes=15)


def test_discharged_with_nothing_pending_never_changes() -> None:
    tl = ward_timeline(ADMIT, at(hours=2), discharged_at=at(hours=3))
    assert next_change_at(tl, DEFAULT_PROTOCOL, at(hours=4)) is None
    assert next_change_at(tl, DEFAULT_PROTOCOL, at(days=30)) is None


def test_a_cows_timed_a_few_minutes_ahead_is_a_change() -> None:
    # COWS at 09:00; a COWS of 31 timed 09:08 is already saved at 09:03 (a clock a few minutes ahead).
    tl = timeline([cows(1, at(-5), 3), cows(2, at(3), 31)], admitted_at=at(-60))
    now = at(-2)
    assert evaluate(tl, DEFAULT_PROTOCOL, now) == []
    assert next_change_at(tl, DEFAULT_PROTOCOL, now) == at(3)
    assert {f.rule for f in evaluate(tl, DEFAULT_PROTOCOL, at(3))} == {"withdrawal_severity"}


def test_a_record_ahead_that_changes_nothing_is_skipped() -> None:
    # Normal vital signs timed 2 min ahead change no finding: the next change is still the routine COWS.
    tl = timeline(
        [cows(1, at(0), 3)],
        vitals=[VitalsRecord(1, at(2), pulse_bpm=80, spo2=98)],
        admitted_at=at(-60),
    )
    assert next_change_at(tl, DEFAULT_PROTOCOL, at(0)) == at(hours=4, minutes=15)


def test_a_cows_arriving_exactly_when_it_falls_due_prevents_the_alert() -> None:
    # COWS at 09:05; the next timed exactly at due + grace (13:20) and charted ahead of time.
    tl = ward_timeline(ADMIT, at(hours=4, minutes=15))
    # At 13:16 the 13:20 COWS is still ahead; at 13:20 it arrives in time: no alert, the next change is
    # that COWS's own due + grace.
    assert next_change_at(tl, DEFAULT_PROTOCOL, at(hours=4, minutes=11)) == at(hours=8, minutes=30)


# --- property: exact, never late, never early -----------------------------------------------------------


def _probe_times(now: datetime, change: datetime | None, fractions: list[float]) -> list[datetime]:
    end = change if change is not None else now + timedelta(days=30)
    span = end - now
    probes = [now + span * f for f in fractions]
    if change is not None and change - now > timedelta(microseconds=1):
        probes.append(change - timedelta(microseconds=1))
    return [t for t in probes if t < end or change is None]


@SETTINGS
@given(
    timelines(),
    times,
    st.sampled_from(PROTOCOLS),
    st.lists(st.floats(min_value=0, max_value=1, exclude_max=True), min_size=1, max_size=6),
)
def test_findings_stay_the_same_until_next_change_and_differ_at_it(
    tl: Timeline, now: datetime, protocol: Protocol, fractions: list[float]
) -> None:
    current = evaluate(tl, protocol, now)
    found, change = evaluate_with_next_change(tl, protocol, now)
    assert found == current
    assert change == next_change_at(tl, protocol, now)
    if change is not None:
        assert change > now
    for t in _probe_times(now, change, fractions):
        # The same keys, messages, evidence, raised_at and resolved_at: Finding compares them all.
        assert evaluate(tl, protocol, t) == current, t
    if change is not None:
        assert evaluate(tl, protocol, change) != current
