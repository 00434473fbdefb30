"""The timer evaluates only the episodes whose findings can have changed (issue 9), and misses nothing.

Every write stores, in its own transaction, when the episode's findings next change with no new data
(AlertSchedule.due_at, from monitor.domain.rules.next_change_at); refresh_alerts builds the timelines of
the open episodes that are due (or have no schedule, or were evaluated at a later clock time) and checks
escalation for all of them from the alert tables. Observable here: which episodes' timelines the tick
builds (build_timelines is counted), the alerts it returns and the audit.

Times are UTC; the service runs in Europe/Berlin (UTC+1 in November), so messages read one hour later.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest

from monitor.services import alerting, timeline_builder
from monitor.services.clinical import ClinicalService
from monitor.services.views import DoseInput
from monitor.store.database import Database
from monitor.store.models import AlertSchedule, Episode
from tests.conftest import T0, FakeClock
from tests.helpers import admission, raw_count, raw_rows
from tests.services.test_alerting import (
    DOSE_AT,
    ESCALATES_AT,
    PW,
    RISE_AT,
    audit_rows,
    by_rule,
    chart_cows,
    precipitate,
    the,
)

SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
ROUTINE = "routine_assessment_overdue"


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """The episode ids of every build_timelines call the alerting code makes, one list per call."""
    calls: list[list[int]] = []
    real = timeline_builder.build_timelines  # what alerting imported

    def counting(session: object, episodes: Sequence[Episode]) -> object:
        calls.append(sorted(e.id for e in episodes))
        return real(session, episodes)  # type: ignore[arg-type]

    monkeypatch.setattr(alerting, "build_timelines", counting)
    return calls


def schedule(db: Database, episode_id: int) -> tuple[datetime | None, datetime] | None:
    with db.read() as session:
        row = session.get(AlertSchedule, episode_id)
        return None if row is None else (row.due_at, row.evaluated_at)


def ward(service: ClinicalService, nurse: str, count: int = 3) -> list[int]:
    """`count` patients admitted at 08:00 UTC, each with a COWS at 09:00 (T0): routine overdue at 13:15."""
    episodes = [
        service.admit(nurse, admission(T0 - HOUR, mrn=f"S-{n}", name=f"Sam Ward {n}", bed=f"{n}A"))
        for n in range(count)
    ]
    for episode in episodes:
        chart_cows(service, nurse, episode, 3, T0)
    return episodes


def test_a_write_stores_when_the_findings_next_change(
    service: ClinicalService, nurse: str, db: Database, clock: FakeClock
) -> None:
    [episode] = ward(service, nurse, 1)
    # Last COWS 09:00 UTC, routine every 4 h with 15 min grace: the next change is 13:15 UTC.
    assert schedule(db, episode) == (T0 + 4 * HOUR + 15 * MINUTE, T0)
    clock.advance(minutes=20)
    chart_cows(service, nurse, episode, 2, clock.now())
    assert schedule(db, episode) == (clock.now() + 4 * HOUR + 15 * MINUTE, clock.now())


def test_overdue_routine_alert_appears_on_the_first_tick_after_its_time_with_no_write(
    service: ClinicalService, nurse: str, clock: FakeClock, built: list[list[int]]
) -> None:
    episodes = ward(service, nurse)
    due = T0 + 4 * HOUR + 15 * MINUTE
    for moment in (T0 + MINUTE, T0 + 2 * HOUR, due - SECOND):
        clock.current = moment
        assert by_rule(service.refresh_alerts(), ROUTINE) == []
    assert built == []  # nothing was due: no timeline read on any of those ticks

    clock.current = due
    overdue = by_rule(service.refresh_alerts(), ROUTINE)
    assert sorted(v.episode_id for v in overdue) == episodes
    assert {v.message for v in overdue} == {"Last COWS at 10:00 (3): the next was due at 14:00 (every 4 h)"}
    assert built == [episodes]

    # Evaluated once: the following ticks read no timeline again (nothing more can change).
    for _ in range(3):
        clock.advance(minutes=5)
        assert len(by_rule(service.refresh_alerts(), ROUTINE)) == len(episodes)
    assert built == [episodes]


def test_escalation_happens_on_time_with_no_write_and_no_evaluation(
    service: ClinicalService, nurse: str, clock: FakeClock, db: Database, built: list[list[int]]
) -> None:
    episode = service.admit(nurse, admission(T0 - HOUR, mrn="K-1001", name="Alex Example", bed="3B"))
    precipitate(service, nurse, clock, episode)  # COWS 4 09:00, naltrexone 09:05, COWS 17 09:55
    # The next change of this episode's findings is the second post-dose slot (11:05 + 15 min), long
    # after the escalation (10:05): the escalation comes from the alert tables, not from the rules.
    due_at, _ = schedule(db, episode) or (None, None)
    assert due_at == DOSE_AT + 2 * HOUR + 15 * MINUTE

    clock.current = ESCALATES_AT - SECOND
    assert the(service.refresh_alerts(), PW).escalated_at is None
    clock.current = ESCALATES_AT
    escalated = the(service.refresh_alerts(), PW)
    assert (escalated.state, escalated.escalated_at, escalated.sound) == ("escalated", ESCALATES_AT, True)
    assert raw_count(db, "alert_events", "kind = 'escalate'") == 1
    [(who, _why, after)] = audit_rows(service, "alert.escalate")
    assert (who, after["escalated_at"]) == ("system", ESCALATES_AT.isoformat())
    for _ in range(3):
        clock.advance(minutes=1)
        service.refresh_alerts()
    assert raw_count(db, "alert_events", "kind = 'escalate'") == 1  # once
    assert built == []


def test_escalation_after_a_snooze_ends_with_no_write(
    service: ClinicalService, nurse: str, clock: FakeClock, db: Database, built: list[list[int]]
) -> None:
    episode = service.admit(nurse, admission(T0 - HOUR, mrn="K-1001", name="Alex Example", bed="3B"))
    precipitate(service, nurse, clock, episode)
    alert = the(service.alerts(), PW)
    clock.current = RISE_AT + 5 * MINUTE
    service.snooze_alert(nurse, alert.id, 10)  # until 10:10, past the 10:05 escalation
    clock.current = ESCALATES_AT
    assert the(service.refresh_alerts(), PW).state == "snoozed"
    clock.current = RISE_AT + 15 * MINUTE - SECOND
    assert the(service.refresh_alerts(), PW).state == "snoozed"
    assert raw_count(db, "alert_events", "kind = 'escalate'") == 0
    clock.current = RISE_AT + 15 * MINUTE  # the snooze ends: escalated at once
    ended = the(service.refresh_alerts(), PW)
    assert (ended.state, ended.escalated_at) == ("escalated", RISE_AT + 15 * MINUTE)
    assert raw_count(db, "alert_events", "kind = 'escalate'") == 1
    assert built == []


def test_a_tick_with_nothing_due_builds_no_timeline(
    service: ClinicalService, nurse: str, clock: FakeClock, built: list[list[int]]
) -> None:
    ward(service, nurse, 4)
    clock.advance(minutes=30)
    service.refresh_alerts()
    service.refresh_alerts()
    assert built == []


def test_episodes_without_a_schedule_are_all_evaluated_on_the_next_tick(
    service: ClinicalService, nurse: str, clock: FakeClock, db: Database, built: list[list[int]]
) -> None:
    # As after migrating a database from schema 0005 (or one written before the schedule existed).
    episodes = ward(service, nurse)
    raw_rows(db, "DELETE FROM alert_schedule")
    clock.current = T0 + 5 * HOUR  # the routine COWS are overdue since 13:15
    overdue = by_rule(service.refresh_alerts(), ROUTINE)
    assert sorted(v.episode_id for v in overdue) == episodes
    assert built == [episodes]
    assert all(schedule(db, e) == (None, clock.now()) for e in episodes)  # nothing more can change
    clock.advance(minutes=1)
    service.refresh_alerts()
    assert built == [episodes]


def test_a_clock_set_back_re_evaluates_what_was_evaluated_ahead_of_it(
    service: ClinicalService, nurse: str, clock: FakeClock, built: list[list[int]]
) -> None:
    [episode] = ward(service, nurse, 1)
    clock.current = T0 - 10 * MINUTE  # another workstation's clock, 10 min behind the one that charted
    service.refresh_alerts()
    assert built == [[episode]]


def test_full_refresh_evaluates_every_open_episode(
    service: ClinicalService, nurse: str, clock: FakeClock, built: list[list[int]]
) -> None:
    episodes = ward(service, nurse)
    clock.advance(minutes=1)
    service.refresh_alerts(full=True)
    assert built == [episodes]


def test_a_protocol_change_reschedules_every_open_episode(
    service: ClinicalService,
    nurse: str,
    physician: str,
    clock: FakeClock,
    db: Database,
    built: list[list[int]],
) -> None:
    episodes = ward(service, nurse, 2)
    clock.advance(minutes=10)
    service.set_protocol_setting(physician, "routine_interval_hours", 2, "ward policy: 2-hourly COWS")
    assert all(schedule(db, e) == (T0 + 2 * HOUR + 15 * MINUTE, clock.now()) for e in episodes)
    clock.current = T0 + 2 * HOUR + 15 * MINUTE
    assert len(by_rule(service.refresh_alerts(), ROUTINE)) == 2
    assert built == [episodes]


def test_discharge_updates_the_schedule_and_the_episode_is_no_longer_evaluated(
    service: ClinicalService, nurse: str, clock: FakeClock, db: Database, built: list[list[int]]
) -> None:
    first, second = ward(service, nurse, 2)
    clock.advance(hours=1)
    service.discharge(nurse, first, clock.now(), "home")
    assert schedule(db, first) == (None, clock.now())  # nothing can change after the discharge
    clock.current = T0 + 4 * HOUR + 15 * MINUTE
    assert [v.episode_id for v in by_rule(service.refresh_alerts(), ROUTINE)] == [second]
    assert built == [[second]]


def test_a_write_on_one_workstation_is_seen_by_the_tick_of_another(
    service: ClinicalService, nurse: str, clock: FakeClock, db: Database, built: list[list[int]]
) -> None:
    other_clock = FakeClock(T0)
    other = ClinicalService(db, clock=other_clock, zone_name="Europe/Berlin")
    [episode] = ward(service, nurse, 1)
    # A naltrexone dose charted on this workstation at 09:30 makes the +30 min slot due at 10:15.
    clock.current = T0 + 30 * MINUTE
    service.record_dose(
        nurse, episode, DoseInput("naltrexone", "oral", 25, clock.now(), warning_reason="plan")
    )
    other_clock.current = T0 + 75 * MINUTE - SECOND
    assert by_rule(other.refresh_alerts(), "reassessment_overdue") == []
    other_clock.current = T0 + 75 * MINUTE
    assert len(by_rule(other.refresh_alerts(), "reassessment_overdue")) == 1
    assert built == [[episode]]
