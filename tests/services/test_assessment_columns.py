"""The column-wise read of an episode's assessments (issue 9): the bedside table and the trend read a
long stay as plain columns; they must say exactly what the view objects say."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from monitor.domain.scales import COWS
from monitor.services.clinical import ClinicalService
from monitor.services.views import AssessmentColumns, AssessmentInput
from tests.conftest import T0, FakeClock
from tests.helpers import admission, all_items, cows

MINUTE = timedelta(minutes=1)


def _chart(service: ClinicalService, nurse: str, physician: str, clock: FakeClock) -> int:
    """Five COWS by two authors (one with a note and seconds and microseconds in its time), one amended
    and one entered in error after a physician signed the period off, one amended before it."""
    episode = service.admit(nurse, admission(T0 - 6 * 60 * MINUTE))
    other = service.ensure_user("rn.kim", "Kim Park", "nurse").username

    def at(minutes_before_t0: int) -> None:
        clock.current = T0 - minutes_before_t0 * MINUTE

    at(299)
    a = service.record_assessment(nurse, episode, cows(T0 - 300 * MINUTE, sweating=1))
    at(290)
    service.amend_assessment(other, a.id, cows(a.taken_at, sweating=2), "sweat was soaking")
    at(239)
    b = service.record_assessment(other, episode, cows(T0 - 240 * MINUTE, sweating=2, tremor=2))
    at(229)
    odd = T0 - 230 * MINUTE + timedelta(seconds=7, microseconds=123_457)
    c = service.record_assessment(
        nurse, episode, AssessmentInput(taken_at=odd, items=all_items(0, yawning=1), note="asleep after")
    )
    at(199)
    service.record_assessment(nurse, episode, cows(T0 - 200 * MINUTE, gi_upset=5))
    at(195)
    service.sign_off(physician, episode, "Reviewed")
    at(190)
    service.amend_assessment(nurse, b.id, cows(b.taken_at, sweating=1, tremor=2), "sweating misread")
    service.mark_entered_in_error(nurse, c.id, "wrong patient")
    return episode


def test_the_columns_say_what_the_view_objects_say(
    service: ClinicalService, nurse: str, physician: str, clock: FakeClock
) -> None:
    episode = _chart(service, nurse, physician, clock)
    views = service.assessments(episode)
    columns = service.assessment_columns(episode)
    assert len(columns) == len(views) == 4
    assert columns.ids == tuple(v.id for v in views)
    assert columns.taken_at == tuple(v.taken_at.timestamp() for v in views)  # exactly, microseconds too
    assert [columns.taken_at_utc(i) for i in range(4)] == [v.taken_at for v in views]
    assert columns.totals == tuple(v.total for v in views)
    assert columns.band_keys == tuple(v.band_key for v in views)
    assert columns.band_labels == tuple(v.band_label for v in views)
    assert columns.versions == tuple(v.version for v in views)
    assert columns.entered_in_error == tuple(v.entered_in_error for v in views)
    assert [columns.status(i) for i in range(4)] == [v.status for v in views]
    assert [columns.recorded_by(i) for i in range(4)] == [v.recorded_by for v in views]
    assert [columns.recorded_by_name(i) for i in range(4)] == [v.recorded_by_name for v in views]
    assert columns.notes == tuple(v.note for v in views)
    assert columns.void_reasons == {v.id: v.void_reason for v in views if v.entered_in_error}
    assert columns.amend_reasons == {v.id: v.amend_reason for v in views if v.version > 1}
    assert columns.changed_after_sign_off == {v.id for v in views if v.changed_after_sign_off}
    # what the test charted: an amendment and a void after sign-off, an amendment before it
    assert [columns.status(i) for i in range(4)] == [
        "Amended",
        "Amended after sign-off",
        "Entered in error after sign-off",
        "Original",
    ]
    # the same columns made from the view objects (a stub source's path); authors may be numbered apart
    made = AssessmentColumns.from_views(episode, views)
    assert [(made.recorded_by(i), made.recorded_by_name(i)) for i in range(4)] == [
        (columns.recorded_by(i), columns.recorded_by_name(i)) for i in range(4)
    ]
    assert replace(made, authors=columns.authors, users=columns.users) == columns


def test_the_item_scores_of_every_version_in_one_read(
    service: ClinicalService, nurse: str, physician: str, clock: FakeClock
) -> None:
    episode = _chart(service, nurse, physician, clock)
    scores = service.assessment_item_columns(episode)
    read: dict[int, dict[str, int]] = {}
    for assessment_id, key, value in zip(scores.assessment_ids, scores.item_keys, scores.values, strict=True):
        read.setdefault(assessment_id, {})[key] = value
    for view in service.assessments(episode):
        assert read[view.id] == view.items
        assert sorted(read[view.id]) == sorted(COWS.keys)
    assert len(read) == 6  # the 4 current versions and the 2 they replaced


def test_an_episode_without_assessments_has_empty_columns(service: ClinicalService, nurse: str) -> None:
    episode = service.admit(nurse, admission(T0 - 60 * MINUTE))
    assert len(service.assessment_columns(episode)) == 0
    assert service.assessment_item_columns(episode).values == ()


def test_times_read_as_columns_are_exact_to_the_microsecond(
    service: ClinicalService, nurse: str, clock: FakeClock
) -> None:
    """The database computes the epoch microseconds: a half second or the last microsecond of a second
    must not round into the next second."""
    episode = service.admit(nurse, admission(T0 - 60 * MINUTE))
    fractions = (0, 1, 499_999, 500_000, 999_999)
    for n, micro in enumerate(fractions):
        taken = T0 - (50 - n) * MINUTE + timedelta(seconds=59, microseconds=micro)
        clock.current = taken + MINUTE
        service.record_assessment(nurse, episode, AssessmentInput(taken_at=taken, items=all_items(0)))
    columns = service.assessment_columns(episode)
    assert columns.taken_at == tuple(v.taken_at.timestamp() for v in service.assessments(episode))
    assert [round(t * 1_000_000) % 1_000_000 for t in columns.taken_at] == list(fractions)


def test_band_columns_give_each_rows_band_with_one_scale_or_several(monkeypatch: pytest.MonkeyPatch) -> None:
    from monitor.domain import scales
    from monitor.services.clinical import _band_columns

    totals = tuple(range(49)) * 3
    expected = tuple(COWS.band_for(t).key for t in totals), tuple(COWS.band_for(t).label for t in totals)
    assert _band_columns(("COWS",) * len(totals), totals) == expected
    monkeypatch.setattr(scales, "SCALES", {"COWS": COWS, "COWS-copy": COWS})  # the mixed-scale path
    mixed = tuple("COWS" if n % 2 else "COWS-copy" for n in range(len(totals)))
    assert _band_columns(mixed, totals) == expected


def test_many_amendments_are_read_by_episode_with_the_same_result(
    service: ClinicalService, nurse: str, physician: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the number of ids one statement takes, the amendments are read by episode instead."""
    from monitor.services import clinical

    episode = _chart(service, nurse, physician, clock)
    current = service.assessments(episode)[-1]
    clock.advance(minutes=1)
    service.amend_assessment(nurse, current.id, cows(current.taken_at, gi_upset=2), "re-scored")
    twice = service.assessments(episode)[-1]
    clock.advance(minutes=1)
    service.amend_assessment(nurse, twice.id, cows(current.taken_at, gi_upset=3), "re-scored again")
    by_id = service.assessment_columns(episode)
    assert len(by_id.amend_reasons) == 3  # the current versions amended: not the one amended twice over
    monkeypatch.setattr(clinical, "_IDS_PER_STATEMENT", 1)
    assert service.assessment_columns(episode) == by_id
