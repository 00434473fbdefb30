"""Ward board, physician review queue and sign-off (issue 4), through the services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from monitor.services.clinical import ClinicalService
from monitor.services.errors import Conflict, ValidationError
from monitor.services.views import DoseInput, SubstanceInput
from tests.conftest import FakeClock
from tests.helpers import admission, cows

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def ward(service: ClinicalService, nurse: str, clock: FakeClock) -> dict[str, int]:
    """Three open episodes: a kratom patient in precipitated withdrawal, a steady one, one with no COWS."""
    start = clock.now()
    kratom = (SubstanceInput("kratom", start - timedelta(days=3), "35 g/day", "oral"),)
    alex = service.admit(nurse, admission(start, "K-1", "Alex Example", "3B", kratom))
    sam = service.admit(nurse, admission(start, "K-2", "Sam Sample", "3A"))
    casey = service.admit(nurse, admission(start, "K-3", "Casey Demo", "4A"))
    clock.advance(minutes=5)
    service.record_assessment(
        nurse, alex, cows(clock.now(), restlessness=1, yawning=1, pupil_size=1, sweating=1)
    )
    service.record_assessment(nurse, sam, cows(clock.now(), sweating=2, yawning=2, tremor=2))
    clock.advance(minutes=5)
    service.record_dose(
        nurse, alex, DoseInput("naltrexone", "oral", 25, clock.now(), warning_reason="induction")
    )
    clock.advance(minutes=30)
    service.record_assessment(
        nurse,
        alex,
        cows(
            clock.now(),
            108,
            resting_pulse=2,
            sweating=2,
            restlessness=3,
            pupil_size=2,
            bone_joint_aches=2,
            gi_upset=2,
            yawning=2,
        ),
    )
    service.record_assessment(nurse, sam, cows(clock.now(), sweating=1, yawning=2))
    return {"alex": alex, "sam": sam, "casey": casey}


def test_ward_board_rows_have_the_numbers_and_the_worst_comes_first(
    service: ClinicalService, ward: dict[str, int], clock: FakeClock
) -> None:
    board = service.ward_board()
    assert [r.patient for r in board] == ["Alex Example", "Sam Sample", "Casey Demo"]
    alex, sam, casey = board
    assert (alex.latest_total, alex.latest_band, alex.change) == (15, "Moderate", 11)
    # precipitated withdrawal; the antagonist-too-soon alert was acknowledged with the reason at the dose
    assert (alex.alerts_high, alex.alerts_medium) == (1, 0)
    too_soon = next(a for a in service.alerts(include_inactive=True) if a.rule == "antagonist_too_soon")
    assert (too_soon.patient, too_soon.state, too_soon.acknowledge_reason) == (
        "Alex Example",
        "acknowledged",
        "induction",
    )
    assert "COWS 4 -> 15 (+11)" in alex.top_alert
    assert alex.last_antagonist == "naltrexone 25 mg PO"
    assert alex.last_antagonist_at == clock.now() - timedelta(minutes=30)
    # the +30 min slot was met by the COWS 30 min after the dose; next is the +2 h reassessment
    assert (alex.next_due_reason, alex.next_due_at) == ("post-dose +2 h", clock.now() + timedelta(minutes=90))
    assert [t for _, t in alex.sparkline] == [4, 15]
    assert (sam.latest_total, sam.change, sam.worst_priority) == (3, -3, 0)
    assert sam.next_due_at == clock.now() + 4 * HOUR
    assert (casey.latest_total, casey.change, casey.next_due_reason) == (None, None, "routine")
    assert casey.next_due_at == clock.now() - timedelta(minutes=40) + 4 * HOUR  # admission + 4 h


def test_post_dose_due_times_follow_the_protocol(
    service: ClinicalService, nurse: str, physician: str, ward: dict[str, int], clock: FakeClock
) -> None:
    dose_at = clock.now() - timedelta(minutes=30)  # the fixture's COWS was charted 30 min after it
    service.set_protocol_setting(physician, "reassess_first_minutes", 60, "local flowsheet: +1 h")
    alex = next(r for r in service.ward_board() if r.patient == "Alex Example")
    # the COWS at +30 min is outside +1 h +/- 15 min: the first reassessment is still due
    assert (alex.next_due_reason, alex.next_due_at) == ("post-dose +1 h", dose_at + timedelta(minutes=60))
    service.set_protocol_setting(physician, "reassess_tolerance_minutes", 30, "wider window")
    service.set_protocol_setting(physician, "reassess_second_minutes", 180, "local flowsheet: +3 h")
    alex = next(r for r in service.ward_board() if r.patient == "Alex Example")
    # +/- 30 min: the COWS at +30 min meets the +1 h slot; the second is due at +3 h
    assert (alex.next_due_reason, alex.next_due_at) == ("post-dose +3 h", dose_at + timedelta(minutes=180))


def test_a_missed_post_dose_slot_is_shown_until_its_tolerance_ends(
    service: ClinicalService, nurse: str, physician: str, clock: FakeClock
) -> None:
    start = clock.now()
    episode = service.admit(nurse, admission(start, "K-9", "Jo Sample", "5A"))
    service.record_assessment(nurse, episode, cows(start, yawning=1))
    service.record_dose(
        nurse, episode, DoseInput("naltrexone", "oral", 25, start, warning_reason="induction")
    )
    clock.advance(minutes=40)  # the +30 min COWS is 10 min late, still within 15 min
    [row] = service.ward_board()
    assert (row.next_due_reason, row.next_due_at) == ("post-dose +30 min", start + timedelta(minutes=30))
    service.set_protocol_setting(physician, "reassess_tolerance_minutes", 5, "strict window")
    [row] = service.ward_board()
    assert (row.next_due_reason, row.next_due_at) == ("post-dose +2 h", start + timedelta(minutes=120))


def test_sparkline_holds_only_the_last_24_hours(
    service: ClinicalService, nurse: str, ward: dict[str, int], clock: FakeClock
) -> None:
    clock.advance(hours=23, minutes=40)
    service.record_assessment(nurse, ward["sam"], cows(clock.now(), sweating=1))
    sam = next(r for r in service.ward_board() if r.patient == "Sam Sample")
    assert [t for _, t in sam.sparkline] == [3, 1]  # the 6 of 24 h ago has dropped off


def test_review_queue_lists_precipitated_withdrawal_and_unreviewed_episodes(
    service: ClinicalService, ward: dict[str, int], clock: FakeClock
) -> None:
    queue = service.review_queue()
    # the too-soon alert of the dose 30 min ago was acknowledged with its reason at the dose: it never
    # escalated, so only the precipitated withdrawal is waiting
    assert [(i.kind, i.patient, i.detail[:10]) for i in queue] == [
        ("precipitated withdrawal", "Alex Example", "COWS 4 -> "),
    ]
    clock.advance(minutes=11)  # the unacknowledged high alert escalates after 10 min
    service.refresh_alerts()
    queue = service.review_queue()
    assert [(i.kind, i.patient, i.detail[:10]) for i in queue] == [
        ("escalated alert", "Alex Example", "COWS 4 -> "),
    ]
    assert queue[0].since == clock.now() - timedelta(minutes=1)  # 10 min after the COWS 15 was charted
    clock.advance(hours=24)
    unreviewed = [i for i in service.review_queue() if i.kind == "not reviewed for 24 h"]
    assert sorted(i.patient for i in unreviewed) == ["Alex Example", "Casey Demo", "Sam Sample"]
    assert all(i.detail == "never signed off" for i in unreviewed)


def test_sign_off_covers_the_period_and_clears_the_queue(
    service: ClinicalService, ward: dict[str, int], clock: FakeClock
) -> None:
    physician = service.ensure_user("dr.park", "Dr Jamie Park", "physician").username
    signed = service.sign_off(physician, ward["alex"], "Seen; clonidine started, naltrexone paused")
    assert signed.period_start == clock.now() - timedelta(minutes=40)  # admission
    assert signed.period_end == clock.now()
    assert signed.signed_by == "dr.park"
    assert [i.patient for i in service.review_queue()] == []
    with pytest.raises(Conflict):
        service.sign_off(physician, ward["alex"], "again")
    with pytest.raises(ValidationError) as info:
        service.sign_off(physician, ward["alex"], "   ")
    assert info.value.field == "Comment"
    clock.advance(hours=2)
    second = service.sign_off(physician, ward["alex"], "Stable")
    assert second.period_start == signed.period_end
    assert [s.comment for s in service.sign_offs(ward["alex"])] == [
        "Seen; clonidine started, naltrexone paused",
        "Stable",
    ]
    audit = [e for e in service.audit_entries() if e.action == "episode.sign_off"]
    assert [e.username for e in audit] == ["dr.park", "dr.park"]


def test_an_amendment_after_sign_off_is_marked(
    service: ClinicalService, nurse: str, ward: dict[str, int], clock: FakeClock
) -> None:
    physician = service.ensure_user("dr.park", "Dr Jamie Park", "physician").username
    first, second = service.assessments(ward["sam"])
    service.sign_off(physician, ward["sam"], "Reviewed")
    clock.advance(minutes=20)
    amended = service.amend_assessment(
        nurse, first.id, cows(first.taken_at, sweating=2, yawning=2), "tremor was 0"
    )
    assert amended.changed_after_sign_off and amended.status == "Amended after sign-off"
    voided = service.mark_entered_in_error(nurse, second.id, "wrong patient")
    assert voided.status == "Entered in error after sign-off"
    # a change before any sign-off of its period is not marked
    alex_first = service.assessments(ward["alex"])[0]
    plain = service.amend_assessment(nurse, alex_first.id, cows(alex_first.taken_at, sweating=1), "recount")
    assert not plain.changed_after_sign_off and plain.status == "Amended"


def test_a_long_stays_board_row_is_the_same_read_from_its_last_day(
    service: ClinicalService, nurse: str, clock: FakeClock
) -> None:
    """The board reads a long stay's COWS from when its row needs them (the sparkline's day, the newest
    two, the last antagonist's reassessment slots) and its last antagonist alone: the row is the one the
    whole record gives, however the COWS lie (an old pair, a dose days ago whose +2 h slot was met, a
    dose whose +30 min slot was met and whose +2 h slot is still open)."""
    from monitor.services.review import _ward_row
    from monitor.services.timeline_builder import EpisodeFacts, build_timelines, load_protocol
    from monitor.store.models import Episode, Patient

    start = clock.now()
    quiet = service.admit(nurse, admission(start, "L-1", "Lee Long", "5A"))
    dosed = service.admit(nurse, admission(start, "L-2", "Dana Dosed", "5B"))
    silent = service.admit(nurse, admission(start, "L-3", "Sol Silent", "5C"))
    charting: list[tuple[timedelta, Callable[[], object]]] = [
        (HOUR, lambda: service.record_assessment(nurse, silent, cows(clock.now(), gooseflesh=3))),
        (2 * HOUR, lambda: service.record_assessment(nurse, silent, cows(clock.now(), gooseflesh=5))),
        (26 * HOUR, lambda: service.record_dose(
            nurse, dosed, DoseInput("naltrexone", "oral", 25, clock.now(), warning_reason="induction")
        )),
        (28 * HOUR, lambda: service.record_assessment(nurse, dosed, cows(clock.now(), sweating=3, tremor=2))),
    ]  # fmt: skip
    for hour in range(4, 96, 4):  # four days of COWS every 4 h on two of them
        charting.append((hour * HOUR, lambda h=hour: service.record_assessment(
            nurse, quiet, cows(clock.now(), sweating=h % 3)
        )))  # fmt: skip
        charting.append((hour * HOUR + 10 * MINUTE, lambda: service.record_assessment(
            nurse, dosed, cows(clock.now(), yawning=1)
        )))  # fmt: skip
    for offset, chart in sorted(charting, key=lambda entry: entry[0]):
        clock.current = start + offset
        chart()
    clock.advance(days=1)  # the newest COWS of two of them are over a day old
    fresh = service.admit(nurse, admission(clock.now() - HOUR, "L-4", "Fay Fresh", "5D"))
    service.record_dose(nurse, fresh, DoseInput("naltrexone", "oral", 25, clock.now(), warning_reason="test"))
    clock.advance(minutes=25)
    service.record_assessment(nurse, fresh, cows(clock.now(), yawning=1))  # meets the +30 min slot
    clock.advance(minutes=75)

    board = {row.episode_id: row for row in service.ward_board()}
    with service.db.read() as session:
        protocol = load_protocol(session)
        pairs = session.execute(
            select(Episode, Patient).join(Patient, Patient.id == Episode.patient_id)
        ).all()
        whole = build_timelines(session, [EpisodeFacts.of(episode, patient) for episode, patient in pairs])
        expected = {}
        for episode, patient in pairs:
            timeline = whole[episode.id]
            antagonists = [d for d in timeline.doses if d.drug in ("naltrexone", "naloxone")]
            last = antagonists[-1] if antagonists else None
            expected[episode.id] = _ward_row(
                timeline.assessments, last, episode, patient, [], protocol, clock.now()
            )
    for episode_id in (quiet, dosed, silent, fresh):
        assert board[episode_id] == expected[episode_id]
    assert board[fresh].next_due_reason == "post-dose +2 h"  # the open slot, not the one met
    assert board[silent].latest_total == 5 and board[silent].change == 2  # the old pair still counts
    assert board[dosed].last_antagonist == "naltrexone 25 mg PO"
    assert len(board[quiet].sparkline) == 0  # nothing in the last 24 h: no sparkline, same as before
