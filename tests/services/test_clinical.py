"""Clinical use cases as a nurse meets them: admit, chart COWS, correct, void, discharge.

Numbers come from shared/domain.md (COWS values and bands) and design.md (time rules: 5 minutes
ahead at most, a reason when charted more than 1 hour late).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.domain.scales import COWS
from monitor.io.episode_json import load_file
from monitor.services.base import WORKSTATION_USERNAME
from monitor.services.clinical import ClinicalService
from monitor.services.errors import Conflict, NotFound, ServiceError, ValidationError
from monitor.services.views import AdmissionRequest, AssessmentInput, SubstanceInput
from monitor.store.database import Database
from tests.conftest import T0, FakeClock
from tests.helpers import admission, all_items, cows, raw_count, raw_rows

MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)
HOUR = timedelta(hours=1)

# COWS bands, re-typed from shared/domain.md section 1 (0-4 is the app's own "below mild").
BANDS = [
    (0, "Below mild"),
    (4, "Below mild"),
    (5, "Mild"),
    (12, "Mild"),
    (13, "Moderate"),
    (24, "Moderate"),
    (25, "Moderately severe"),
    (36, "Moderately severe"),
    (37, "Severe"),
    (48, "Severe"),
]


def items_for_total(total: int) -> dict[str, int | None]:
    """A complete COWS answer set adding up to `total` (greedy; gooseflesh first as it has no 1 or 2)."""
    remaining = total
    chosen: dict[str, int | None] = {}
    order = sorted(COWS.items, key=lambda item: item.key != "gooseflesh")
    for item in order:
        value = max(v for v in item.allowed_values if v <= remaining)
        chosen[item.key] = value
        remaining -= value
    assert remaining == 0, total
    return chosen


def entry(taken_at: datetime, total: int = 0, **kwargs: object) -> AssessmentInput:
    return AssessmentInput(taken_at=taken_at, items=items_for_total(total), **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def episode(service: ClinicalService, nurse: str) -> int:
    return service.admit(nurse, admission(T0 - 6 * HOUR))


# --- admission ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"mrn": ""}, "MRN", "required"),
        ({"mrn": "   "}, "MRN", "required"),
        ({"mrn": "K" * 65}, "MRN", "too long"),
        ({"name": ""}, "Name", "required"),
        ({"name": " \t"}, "Name", "required"),
        ({"birth_date": date(2026, 11, 21)}, "Birth date", "future"),
        ({"birth_date": date(1899, 12, 31)}, "Birth date", "1900"),
        ({"sex": "x"}, "Sex", "female, male, other, unknown"),
        ({"admitted_at": T0 + 5 * MINUTE + SECOND}, "Admitted at", "future"),
        ({"admitted_at": datetime(2026, 11, 20, 8, 0)}, "Admitted at", "time zone"),
        ({"substances": (SubstanceInput("krat0m"),)}, "Substance", "allowed keys are heroin, fentanyl"),
        ({"substances": (SubstanceInput("heroin", T0 + HOUR),)}, "Last use", "future"),
        ({"substances": (SubstanceInput("heroin", datetime(2026, 11, 19, 8, 0)),)}, "Last use", "time zone"),
        ({"substances": (SubstanceInput("heroin", route="rectal-ish"),)}, "Route", "route"),
        # Text no record may keep (QA): stored, the episode export refused it, and a lone surrogate
        # failed the write with an encoding error instead of a message.
        ({"name": "N" * 10_000}, "Name", "Name is longer than 200 characters"),
        ({"name": "Alex\x00Example"}, "Name", "contains a control character, U+0000"),
        ({"mrn": "K-1\x1b001"}, "MRN", "contains a control character, U+001B"),
        ({"bed": "3B" * 20}, "Bed", "Bed is longer than 32 characters"),
        ({"bed": "bad\ud800"}, "Bed", "contains a lone surrogate (not valid Unicode), U+D800"),
        ({"substances": (SubstanceInput("kratom", amount="g" * 101),)}, "Amount", "longer than 100"),
    ],
)
def test_admission_refuses_bad_input_naming_the_field(
    service: ClinicalService, nurse: str, db: Database, change: dict[str, object], field: str, words: str
) -> None:
    fields: dict[str, object] = {"mrn": "K-1001", "name": "Alex Example", "admitted_at": T0 - HOUR}
    fields.update(change)
    with pytest.raises(ValidationError) as info:
        service.admit(nurse, AdmissionRequest(**fields))  # type: ignore[arg-type]
    assert info.value.field == field
    assert words in info.value.message
    assert service.open_episodes() == []
    assert raw_count(db, "patients") == 0


@pytest.mark.parametrize(
    "note", ["x" * 2001, "see chart\x07", "odd \udc80 text"], ids=["too long", "bell", "lone surrogate"]
)
def test_notes_no_record_may_keep_are_refused_in_words(
    service: ClinicalService, nurse: str, episode: int, db: Database, note: str
) -> None:
    entry = AssessmentInput(taken_at=T0, items=all_items(0), note=note)
    with pytest.raises(ValidationError) as info:
        service.record_assessment(nurse, episode, entry)
    assert info.value.field == "Note"
    assert info.value.message.startswith("Note ")
    assert raw_count(db, "assessments") == 0


def test_the_longest_texts_the_forms_take_export_and_import_again(
    service: ClinicalService, nurse: str, tmp_path: Path
) -> None:
    """Whatever the services keep, the episode file carries: the export refused over-long names."""
    long_name, long_bed, long_note = "N" * 200, "B" * 32, "n" * 2000
    request = admission(T0 - HOUR, mrn="M" * 64, name=long_name, bed=long_bed)
    episode = service.admit(nurse, request)
    service.record_assessment(
        nurse, episode, AssessmentInput(taken_at=T0, items=all_items(0), note=long_note)
    )
    target = tmp_path / "long.json"
    service.export(nurse, "json", target, episode_ids=[episode])
    [record] = load_file(target)
    assert (record.patient.name, record.bed, record.assessments[0].note) == (long_name, long_bed, long_note)


def test_unknown_substance_lists_every_allowed_one(service: ClinicalService, nurse: str) -> None:
    with pytest.raises(ValidationError) as info:
        service.admit(
            nurse, admission(T0 - HOUR, substances=(SubstanceInput("heroin"), SubstanceInput("spice")))
        )
    message = info.value.message
    assert "Substance 2" in message
    assert "'spice'" in message
    for key in ("heroin", "fentanyl", "kratom", "methadone", "buprenorphine", "alcohol"):
        assert key in message


@pytest.mark.parametrize("admitted", [T0 + 5 * MINUTE, T0, T0 - 72 * HOUR])
def test_admission_times_up_to_5_minutes_ahead_are_accepted(
    service: ClinicalService, nurse: str, admitted: datetime
) -> None:
    episode = service.admit(nurse, admission(admitted))
    assert service.episode(episode).admitted_at == admitted


def test_birth_date_today_is_accepted(service: ClinicalService, nurse: str) -> None:
    request = AdmissionRequest(
        mrn="K-1", name="Newborn Example", admitted_at=T0, birth_date=date(2026, 11, 20)
    )
    detail = service.episode(service.admit(nurse, request))
    assert detail.birth_date == date(2026, 11, 20)


def test_kratom_is_accepted_as_an_opioid_with_its_last_use_kept(
    service: ClinicalService, nurse: str, clock: FakeClock
) -> None:
    bangkok = timezone(timedelta(hours=7))
    last_use = datetime(2026, 11, 19, 10, 30, tzinfo=bangkok)  # 03:30 UTC
    episode = service.admit(
        nurse,
        AdmissionRequest(
            mrn="K-7",
            name="Kim Example",
            admitted_at=T0 - HOUR,
            birth_date=date(1990, 5, 1),
            sex="female",
            bed="2A",
            substances=(
                SubstanceInput("kratom", last_use, amount="4 g", route="oral"),
                SubstanceInput("alcohol"),
            ),
        ),
    )
    detail = service.episode(episode)
    kratom, alcohol = detail.substances
    assert (kratom.substance, kratom.is_opioid, kratom.amount, kratom.route) == (
        "kratom",
        True,
        "4 g",
        "oral",
    )
    assert kratom.last_use_at == datetime(2026, 11, 19, 3, 30, tzinfo=UTC)
    assert kratom.last_use_at is not None and kratom.last_use_at.utcoffset() == timedelta(0)
    assert "Kratom" in kratom.label
    assert (alcohol.substance, alcohol.is_opioid, alcohol.last_use_at) == ("alcohol", False, None)
    assert (detail.mrn, detail.name, detail.birth_date, detail.sex, detail.bed) == (
        "K-7",
        "Kim Example",
        date(1990, 5, 1),
        "female",
        "2A",
    )
    assert (detail.admitted_by, detail.tz_name, detail.is_open) == ("rn.lee", "Europe/Berlin", True)


def test_same_mrn_with_another_name_is_refused(service: ClinicalService, nurse: str, episode: int) -> None:
    service.discharge(nurse, episode, T0 - HOUR)
    with pytest.raises(ValidationError) as info:
        service.admit(nurse, admission(T0, name="Sam Other"))
    assert info.value.field == "Name"
    assert "K-1001 belongs to Alex Example, not Sam Other" in info.value.message
    assert service.open_episodes() == []


def test_second_open_episode_for_the_same_patient_is_a_conflict(
    service: ClinicalService, nurse: str, episode: int, db: Database
) -> None:
    with pytest.raises(Conflict) as info:
        service.admit(nurse, admission(T0, bed="9Z"))
    assert "already has an open episode in bed 3B" in info.value.message
    assert [e.id for e in service.open_episodes()] == [episode]
    assert raw_count(db, "episodes") == 1


def test_known_mrn_gets_a_new_episode_after_discharge(
    service: ClinicalService, nurse: str, episode: int
) -> None:
    first = service.episode(episode)
    service.discharge(nurse, episode, T0 - 2 * HOUR, "completed")
    # The name matches whatever the case.
    second_id = service.admit(nurse, admission(T0 - HOUR, name="alex example", bed="5C"))
    second = service.episode(second_id)
    assert second_id != episode
    assert second.patient_id == first.patient_id
    assert (second.name, second.bed, second.is_open) == ("Alex Example", "5C", True)
    assert [(e.id, e.bed) for e in service.open_episodes()] == [(second_id, "5C")]
    assert not service.episode(episode).is_open


# --- open episodes ----------------------------------------------------------------------------------------


def test_open_episodes_show_only_open_ones_with_the_latest_valid_total(
    service: ClinicalService, nurse: str, clock: FakeClock
) -> None:
    a = service.admit(nurse, admission(T0 - 6 * HOUR, mrn="K-1", name="Ann Example", bed="1A"))
    b = service.admit(nurse, admission(T0 - 6 * HOUR, mrn="K-2", name="Ben Example", bed="1B"))
    gone = service.admit(nurse, admission(T0 - 6 * HOUR, mrn="K-3", name="Cal Example", bed="1C"))
    service.record_assessment(nurse, gone, entry(T0 - 3 * HOUR, 30, late_reason="from paper"))
    service.discharge(nurse, gone, T0 - HOUR)

    service.record_assessment(nurse, a, entry(T0 - 2 * HOUR + MINUTE, 6, late_reason="from paper"))
    later = service.record_assessment(nurse, a, entry(T0 - 50 * MINUTE, 3))
    assert [(e.bed, e.latest_total, e.latest_band) for e in service.open_episodes()] == [
        ("1A", 3, "Below mild"),
        ("1B", None, ""),
    ]

    service.amend_assessment(nurse, later.id, entry(later.taken_at, 13), "gooseflesh missed")
    wrong = service.record_assessment(nurse, a, entry(T0 - 10 * MINUTE, 30))
    assert service.open_episodes()[0].latest_total == 30
    service.mark_entered_in_error(nurse, wrong.id, "charted on the wrong patient")

    summary = {e.id: e for e in service.open_episodes()}
    assert set(summary) == {a, b}
    assert (summary[a].latest_total, summary[a].latest_band, summary[a].latest_taken_at) == (
        13,
        "Moderate",
        T0 - 50 * MINUTE,
    )
    assert (summary[b].latest_total, summary[b].latest_band, summary[b].latest_taken_at) == (None, "", None)
    assert (summary[a].mrn, summary[a].name) == ("K-1", "Ann Example")


@pytest.mark.parametrize(("total", "band"), BANDS)
def test_open_episodes_show_the_band_of_the_latest_total(
    service: ClinicalService, nurse: str, episode: int, total: int, band: str
) -> None:
    view = service.record_assessment(nurse, episode, entry(T0, total))
    (summary,) = service.open_episodes()
    assert (view.total, view.band_label) == (total, band)
    assert (summary.latest_total, summary.latest_band) == (total, band)


# --- recording ------------------------------------------------------------------------------------------


def test_missing_item_is_refused_listing_it_and_nothing_is_saved(
    service: ClinicalService, nurse: str, episode: int, db: Database
) -> None:
    items = all_items(0, sweating=4, restlessness=5)
    items["tremor"] = None
    del items["gooseflesh"]
    with pytest.raises(ValidationError) as info:
        service.record_assessment(nurse, episode, AssessmentInput(taken_at=T0, items=items))
    assert info.value.field == "Items"
    assert "8 Tremor" in info.value.message
    assert "11 Gooseflesh skin" in info.value.message
    assert "Sweating" not in info.value.message
    assert service.assessments(episode) == []
    assert raw_count(db, "assessments") == 0
    assert raw_count(db, "assessment_items") == 0
    clinical = [e.action for e in service.audit_entries() if not e.action.startswith("alert.")]
    assert clinical == ["episode.admit", "patient.create", "user.create"]


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("restlessness", 2, "0, 1, 3, 5"),
        ("gooseflesh", 1, "0, 3, 5"),
        ("resting_pulse", 3, "0, 1, 2, 4"),
        ("sweating", 5, "0, 1, 2, 3, 4"),
        ("gi_upset", -1, "0, 1, 2, 3, 5"),
    ],
)
def test_value_not_on_the_scale_is_refused_naming_item_and_allowed_values(
    service: ClinicalService, nurse: str, episode: int, key: str, value: int, allowed: str
) -> None:
    with pytest.raises(ValidationError) as info:
        service.record_assessment(nurse, episode, cows(T0, **{key: value}))
    assert key in info.value.message
    assert f"allowed values are {allowed}" in info.value.message
    assert service.assessments(episode) == []


def test_unknown_item_is_refused(service: ClinicalService, nurse: str, episode: int) -> None:
    items = all_items()
    items["sweat"] = 1
    with pytest.raises(ValidationError) as info:
        service.record_assessment(nurse, episode, AssessmentInput(taken_at=T0, items=items))
    assert "'sweat'" in info.value.message
    assert service.assessments(episode) == []


@pytest.mark.parametrize(
    ("bpm", "item_1", "saved"),
    [
        (20, 0, True),
        (80, 0, True),
        (81, 1, True),
        (96, 1, True),
        (96, 0, False),  # 96 bpm scores 1, not 0
        (100, 1, True),
        (101, 2, True),
        (120, 2, True),
        (121, 4, True),
        (121, 2, False),
        (250, 4, True),
        (251, 4, False),  # not plausible
        (300, 4, False),
        (19, 0, False),
    ],
)
def test_measured_pulse_must_agree_with_item_1(
    service: ClinicalService, nurse: str, episode: int, bpm: int, item_1: int, saved: bool
) -> None:
    given_entry = cows(T0, pulse_bpm=bpm, resting_pulse=item_1)
    if saved:
        view = service.record_assessment(nurse, episode, given_entry)
        assert (view.pulse_bpm, view.items["resting_pulse"], view.total) == (bpm, item_1, item_1)
    else:
        with pytest.raises(ValidationError) as info:
            service.record_assessment(nurse, episode, given_entry)
        assert info.value.field == "Pulse (bpm)"
        assert str(bpm) in info.value.message
        assert service.assessments(episode) == []


def test_pulse_96_with_item_1_at_0_says_what_it_scores(
    service: ClinicalService, nurse: str, episode: int
) -> None:
    with pytest.raises(ValidationError) as info:
        service.record_assessment(nurse, episode, cows(T0, pulse_bpm=96))
    assert info.value.message == "A pulse of 96 bpm scores 1 on item 1, not 0."


@pytest.mark.parametrize(
    ("offset", "reason", "refused_field"),
    [
        (5 * MINUTE, "", None),
        (5 * MINUTE + SECOND, "", "Time taken"),
        (5 * MINUTE + SECOND, "clock drift", "Time taken"),
        (timedelta(0), "", None),
        (-HOUR, "", None),
        (-HOUR - SECOND, "", "Reason for late charting"),
        (-HOUR - SECOND, "   ", "Reason for late charting"),
        (-HOUR - SECOND, "charted after the emergency in 4B", None),
        (-5 * HOUR, "charted from the paper flowsheet", None),
    ],
    ids=[
        "5 min ahead",
        "5 min 1 s ahead",
        "5 min 1 s ahead with a reason",
        "now",
        "1 h late",
        "1 h 1 s late without reason",
        "1 h 1 s late with a blank reason",
        "1 h 1 s late with a reason",
        "5 h late with a reason",
    ],
)
def test_clinical_time_limits(
    service: ClinicalService,
    nurse: str,
    episode: int,
    clock: FakeClock,
    offset: timedelta,
    reason: str,
    refused_field: str | None,
) -> None:
    clock.advance(minutes=3)  # now 09:03
    taken = clock.now() + offset
    given_entry = AssessmentInput(taken_at=taken, items=all_items(0, sweating=1), late_reason=reason)
    if refused_field is None:
        view = service.record_assessment(nurse, episode, given_entry)
        assert view.taken_at == taken
        assert view.recorded_at == clock.now()
        assert view.late_reason == reason.strip()
        assert [v.id for v in service.assessments(episode)] == [view.id]
    else:
        with pytest.raises(ValidationError) as info:
            service.record_assessment(nurse, episode, given_entry)
        assert info.value.field == refused_field
        assert service.assessments(episode) == []


def test_naive_clinical_time_is_refused(service: ClinicalService, nurse: str, episode: int) -> None:
    with pytest.raises(ValidationError) as info:
        service.record_assessment(nurse, episode, cows(datetime(2026, 11, 20, 9, 0)))
    assert info.value.field == "Time taken"
    assert "time zone" in info.value.message


def test_record_keeps_clinical_time_system_time_zone_and_author(
    service: ClinicalService, nurse: str, episode: int, clock: FakeClock
) -> None:
    clock.advance(minutes=20)  # charted at 09:20 UTC
    berlin_wall_time = datetime(2026, 11, 20, 10, 5, tzinfo=timezone(timedelta(hours=1)))  # 09:05 UTC
    view = service.record_assessment(
        nurse,
        episode,
        AssessmentInput(taken_at=berlin_wall_time, items=all_items(0, yawning=2), note=" calm "),
    )
    assert view.taken_at == datetime(2026, 11, 20, 9, 5, tzinfo=UTC)
    assert view.taken_at.tzinfo is UTC
    assert view.recorded_at == datetime(2026, 11, 20, 9, 20, tzinfo=UTC)
    assert (view.tz_name, view.recorded_by, view.recorded_by_name) == ("Europe/Berlin", "rn.lee", "Robin Lee")
    assert (view.version, view.root_id, view.replaces_id, view.status) == (1, view.id, None, "Original")
    assert (view.total, view.band_label, view.note) == (2, "Below mild", "calm")
    (stored,) = service.assessments(episode)
    assert stored == view


def test_the_saved_assessment_shows_as_it_reads_back_later(
    service: ClinicalService, nurse: str, physician: str, episode: int, clock: FakeClock
) -> None:
    """What the form shows right after saving is what every later screen reads: pulse, item 1, a late
    reason, the band; also in a period a physician signed off (a new record there is not a change)."""
    first = service.record_assessment(nurse, episode, cows(T0 - timedelta(minutes=30), sweating=1))
    clock.advance(hours=2)
    service.sign_off(physician, episode, "Stable overnight")
    late = AssessmentInput(
        taken_at=T0 - timedelta(minutes=10),
        items=all_items(0, resting_pulse=2, sweating=3, gi_upset=5, tremor=2),
        pulse_bpm=110,
        late_reason="Charted after the emergency in bed 4",
    )
    view = service.record_assessment(nurse, episode, late)
    assert (view.total, view.pulse_bpm, view.items["resting_pulse"]) == (12, 110, 2)
    assert (view.late_reason, view.status) == (late.late_reason, "Original")
    assert not view.changed_after_sign_off
    assert service.assessments(episode) == [first, view]
    assert service.assessment_history(view.id) == [view]


def test_stored_item_is_the_score_value_not_the_option_position(
    service: ClinicalService, nurse: str, episode: int, db: Database
) -> None:
    view = service.record_assessment(nurse, episode, cows(T0, restlessness=5, gooseflesh=3, pupil_size=5))
    stored = dict(
        raw_rows(db, "SELECT item_key, value FROM assessment_items WHERE assessment_id = :id", id=view.id)
    )
    [(total,)] = raw_rows(db, "SELECT total FROM assessments WHERE id = :id", id=view.id)
    assert len(stored) == 11
    assert (stored["restlessness"], stored["gooseflesh"], stored["pupil_size"], stored["tremor"]) == (
        5,
        3,
        5,
        0,
    )
    assert total == 13


def test_discharged_episode_refuses_new_assessments(
    service: ClinicalService, nurse: str, episode: int, db: Database
) -> None:
    service.discharge(nurse, episode, T0 - 30 * MINUTE)
    with pytest.raises(Conflict) as info:
        service.record_assessment(nurse, episode, cows(T0, sweating=1))
    assert "discharged" in info.value.message
    assert raw_count(db, "assessments") == 0


def test_assessment_for_an_unknown_episode_is_not_found(service: ClinicalService, nurse: str) -> None:
    with pytest.raises(NotFound):
        service.record_assessment(nurse, 404, cows(T0))


def test_assessment_long_before_admission_is_refused(service: ClinicalService, nurse: str) -> None:
    episode = service.admit(nurse, admission(T0 - 30 * MINUTE))
    with pytest.raises(ValidationError) as info:
        service.record_assessment(nurse, episode, entry(T0 - 3 * HOUR, 0, late_reason="paper"))
    assert info.value.field == "Time taken"
    assert "before the admission" in info.value.message


# --- amendment ------------------------------------------------------------------------------------------


@pytest.fixture
def first(service: ClinicalService, nurse: str, episode: int, clock: FakeClock) -> int:
    view = service.record_assessment(nurse, episode, entry(T0 - 20 * MINUTE, 6))
    clock.advance(minutes=10)
    return view.id


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_amendment_needs_a_reason(
    service: ClinicalService, nurse: str, first: int, db: Database, reason: str | None
) -> None:
    with pytest.raises(ValidationError) as info:
        service.amend_assessment(nurse, first, entry(T0 - 20 * MINUTE, 10), reason)  # type: ignore[arg-type]
    assert info.value.field == "Reason for amendment"
    assert raw_count(db, "assessments") == 1


def test_amendment_is_a_new_version_and_the_old_one_stays(
    service: ClinicalService, nurse: str, episode: int, first: int, clock: FakeClock, db: Database
) -> None:
    assert (raw_count(db, "assessments"), raw_count(db, "assessment_items")) == (1, 11)
    service.ensure_user("rn.kim", "Kim Park")
    amended = service.amend_assessment("rn.kim", first, entry(T0 - 20 * MINUTE, 10), "restlessness misread")
    assert (amended.version, amended.replaces_id, amended.root_id, amended.total) == (2, first, first, 10)
    assert (amended.amend_reason, amended.recorded_by, amended.recorded_at) == (
        "restlessness misread",
        "rn.kim",
        clock.now(),
    )
    assert amended.status == "Amended"

    history = service.assessment_history(first)
    assert service.assessment_history(amended.id) == history
    assert [(v.id, v.version, v.total, v.is_current, v.status) for v in history] == [
        (first, 1, 6, False, "Replaced by amendment"),
        (amended.id, 2, 10, True, "Amended"),
    ]
    assert history[0].superseded_by_id == amended.id
    assert history[0].recorded_by == "rn.lee"

    # Views show the current version only.
    assert [(v.id, v.total) for v in service.assessments(episode)] == [(amended.id, 10)]
    # Nothing deleted or overwritten: rows only grew, the original's items are as charted.
    assert (raw_count(db, "assessments"), raw_count(db, "assessment_items")) == (2, 22)
    assert sum(history[0].items.values()) == 6


def test_amending_a_replaced_version_is_a_conflict_naming_who_amended(
    service: ClinicalService, nurse: str, first: int, db: Database
) -> None:
    service.ensure_user("rn.kim", "Kim Park")
    service.amend_assessment("rn.kim", first, entry(T0 - 20 * MINUTE, 10), "restlessness misread")
    with pytest.raises(Conflict) as info:
        service.amend_assessment(nurse, first, entry(T0 - 20 * MINUTE, 8), "my correction")
    assert "already amended by rn.kim" in info.value.message
    assert "2026-11-20 09:10 UTC" in info.value.message
    assert raw_count(db, "assessments") == 2


def test_amending_the_current_version_again_extends_the_line(
    service: ClinicalService, nurse: str, episode: int, first: int
) -> None:
    second = service.amend_assessment(nurse, first, entry(T0 - 20 * MINUTE, 10), "one")
    third = service.amend_assessment(nurse, second.id, entry(T0 - 20 * MINUTE, 14), "two")
    assert (third.version, third.root_id, third.replaces_id) == (3, first, second.id)
    assert [v.total for v in service.assessment_history(second.id)] == [6, 10, 14]
    assert [v.total for v in service.assessments(episode)] == [14]


def test_amending_an_unknown_assessment_is_not_found(
    service: ClinicalService, nurse: str, episode: int
) -> None:
    with pytest.raises(NotFound):
        service.amend_assessment(nurse, 404, entry(T0, 1), "typo")


# --- entered in error -----------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "  \n "])
def test_entered_in_error_needs_a_reason(
    service: ClinicalService, nurse: str, first: int, reason: str
) -> None:
    with pytest.raises(ValidationError) as info:
        service.mark_entered_in_error(nurse, first, reason)
    assert info.value.field == "Reason"
    assert not service.assessment_history(first)[0].entered_in_error


def test_entered_in_error_stays_visible_with_who_and_why(
    service: ClinicalService, nurse: str, episode: int, first: int, clock: FakeClock, db: Database
) -> None:
    kept = service.record_assessment(nurse, episode, entry(clock.now(), 4))
    service.ensure_user("rn.kim", "Kim Park")
    voided = service.mark_entered_in_error("rn.kim", first, " charted on the wrong patient ")
    assert (voided.entered_in_error, voided.void_reason, voided.voided_by, voided.voided_at) == (
        True,
        "charted on the wrong patient",
        "rn.kim",
        clock.now(),
    )
    assert voided.status == "Entered in error"
    assert voided.total == 6  # the values stay as charted

    shown = service.assessments(episode)
    assert [(v.id, v.entered_in_error, v.void_reason) for v in shown] == [
        (first, True, "charted on the wrong patient"),
        (kept.id, False, ""),
    ]
    assert [v.id for v in service.assessments(episode, include_entered_in_error=False)] == [kept.id]
    assert raw_count(db, "assessments") == 2


def test_entered_in_error_cannot_be_amended_or_voided_again(
    service: ClinicalService, nurse: str, first: int, db: Database
) -> None:
    service.mark_entered_in_error(nurse, first, "wrong patient")
    with pytest.raises(Conflict) as info:
        service.amend_assessment(nurse, first, entry(T0 - 20 * MINUTE, 10), "fix it anyway")
    assert "entered in error" in info.value.message
    with pytest.raises(Conflict):
        service.mark_entered_in_error(nurse, first, "again")
    assert (raw_count(db, "assessments"), raw_count(db, "assessment_voids")) == (1, 1)


def test_a_replaced_version_cannot_be_marked_entered_in_error(
    service: ClinicalService, nurse: str, first: int
) -> None:
    service.amend_assessment(nurse, first, entry(T0 - 20 * MINUTE, 10), "fix")
    with pytest.raises(Conflict) as info:
        service.mark_entered_in_error(nurse, first, "wrong")
    assert "already amended by rn.lee" in info.value.message


# --- users ----------------------------------------------------------------------------------------------


@pytest.fixture
def actions(service: ClinicalService, nurse: str, episode: int, first: int) -> dict[str, object]:
    return {
        "admit": lambda who: service.admit(who, admission(T0, mrn="K-9", name="Nia Example")),
        "record": lambda who: service.record_assessment(who, episode, entry(T0, 3)),
        "amend": lambda who: service.amend_assessment(who, first, entry(T0 - 20 * MINUTE, 9), "fix"),
        "void": lambda who: service.mark_entered_in_error(who, first, "wrong"),
        "discharge": lambda who: service.discharge(who, episode, T0),
    }


@pytest.mark.parametrize("action", ["admit", "record", "amend", "void", "discharge"])
@pytest.mark.parametrize("who", ["nobody", "rn.gone"])
def test_unknown_or_deactivated_actor_is_refused(
    service: ClinicalService,
    nurse: str,
    episode: int,
    first: int,
    actions: dict[str, object],
    db: Database,
    action: str,
    who: str,
) -> None:
    service.ensure_user("rn.gone", "Gone Away")
    raw_rows(db, "UPDATE users SET active = false WHERE username = 'rn.gone'")
    audit_rows = len(service.audit_entries())
    with pytest.raises(ServiceError) as info:
        actions[action](who)  # type: ignore[operator]
    assert not isinstance(info.value, ValidationError | Conflict | NotFound)
    assert who in info.value.message
    assert ("deactivated" if who == "rn.gone" else "Unknown user") in info.value.message
    assert len(service.audit_entries()) == audit_rows
    assert [e.id for e in service.open_episodes()] == [episode]
    assert [(v.id, v.version, v.entered_in_error) for v in service.assessments(episode)] == [
        (first, 1, False)
    ]


def test_workstation_user_is_created_once_and_flagged(service: ClinicalService, db: Database) -> None:
    first = service.ensure_workstation_user()
    again = service.ensure_workstation_user()
    assert first == again
    assert (first.username, first.is_workstation_default, first.active, first.role) == (
        WORKSTATION_USERNAME,
        True,
        True,
        "nurse",
    )
    assert first.username == "workstation"
    assert raw_count(db, "users") == 1
    assert [(e.action, e.username) for e in service.audit_entries()] == [("user.create", "workstation")]


def test_named_user_is_not_flagged_as_workstation_default(service: ClinicalService, nurse: str) -> None:
    view = service.ensure_user(nurse)
    assert (view.username, view.display_name, view.is_workstation_default) == ("rn.lee", "Robin Lee", False)


def test_records_by_the_workstation_account_say_so(service: ClinicalService, clock: FakeClock) -> None:
    who = service.ensure_workstation_user().username
    episode = service.admit(who, admission(T0 - HOUR))
    view = service.record_assessment(who, episode, entry(T0, 5))
    assert view.recorded_by == "workstation"
    assert service.episode(episode).admitted_by == "workstation"


def test_user_name_is_required(service: ClinicalService) -> None:
    with pytest.raises(ValidationError) as info:
        service.ensure_user("   ")
    assert info.value.field == "username"


# --- discharge ------------------------------------------------------------------------------------------


def test_discharge_records_who_when_and_note(
    service: ClinicalService, nurse: str, episode: int, clock: FakeClock
) -> None:
    clock.advance(minutes=15)
    service.discharge(nurse, episode, T0 + 10 * MINUTE, "  to outpatient naltrexone clinic ")
    detail = service.episode(episode)
    assert (detail.discharged_at, detail.discharged_by, detail.discharge_note, detail.is_open) == (
        T0 + 10 * MINUTE,
        "rn.lee",
        "to outpatient naltrexone clinic",
        False,
    )
    assert service.open_episodes() == []
    (row,) = [e for e in service.audit_entries() if e.action == "episode.discharge"]
    assert row.before_json == '{"discharged_at": null}'
    assert (
        row.after_json
        == '{"discharged_at": "2026-11-20T09:10:00+00:00", "note": "to outpatient naltrexone clinic"}'
    )
    assert (row.username, row.entity_id, row.at) == ("rn.lee", episode, clock.now())


def test_discharge_before_admission_is_refused(service: ClinicalService, nurse: str, episode: int) -> None:
    with pytest.raises(ValidationError) as info:
        service.discharge(nurse, episode, T0 - 6 * HOUR - SECOND)
    assert info.value.field == "Discharged at"
    assert "before the admission" in info.value.message
    assert service.episode(episode).is_open


def test_discharge_before_the_last_record_of_the_stay_is_refused(
    service: ClinicalService, nurse: str, episode: int
) -> None:
    """Nothing is charted after a discharge: an episode file with a record after it is refused, so an
    export of this stay would not import again."""
    service.record_assessment(nurse, episode, cows(T0 - 30 * MINUTE, sweating=1))
    with pytest.raises(ValidationError) as info:
        service.discharge(nurse, episode, T0 - 31 * MINUTE)
    assert info.value.field == "Discharged at"
    assert "before the last record of the stay" in info.value.message
    assert service.episode(episode).is_open
    service.discharge(nurse, episode, T0 - 30 * MINUTE)
    assert not service.episode(episode).is_open


def test_discharge_in_the_future_is_refused(service: ClinicalService, nurse: str, episode: int) -> None:
    with pytest.raises(ValidationError) as info:
        service.discharge(nurse, episode, T0 + 5 * MINUTE + SECOND)
    assert info.value.field == "Discharged at"
    assert service.episode(episode).is_open


def test_discharging_twice_is_a_conflict_and_keeps_the_first(
    service: ClinicalService, nurse: str, episode: int
) -> None:
    service.discharge(nurse, episode, T0 - HOUR, "first")
    with pytest.raises(Conflict):
        service.discharge(nurse, episode, T0, "second")
    detail = service.episode(episode)
    assert (detail.discharged_at, detail.discharge_note) == (T0 - HOUR, "first")
    assert [e.action for e in service.audit_entries()].count("episode.discharge") == 1


def test_discharging_an_unknown_episode_is_not_found(service: ClinicalService, nurse: str) -> None:
    with pytest.raises(NotFound):
        service.discharge(nurse, 404, T0)


# --- property: what is saved is what was charted --------------------------------------------------------

ANSWERS = st.fixed_dictionaries({item.key: st.sampled_from(item.allowed_values) for item in COWS.items})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answers=ANSWERS, minutes_ago=st.integers(min_value=-5, max_value=60))
def test_any_complete_answer_set_reads_back_unchanged(
    service: ClinicalService, nurse: str, episode: int, answers: dict[str, int], minutes_ago: int
) -> None:
    taken = T0 - minutes_ago * MINUTE
    items: dict[str, int | None] = dict(answers)
    view = service.record_assessment(nurse, episode, AssessmentInput(taken_at=taken, items=items))
    (stored,) = [v for v in service.assessments(episode) if v.id == view.id]
    assert stored.items == answers
    assert stored.total == sum(answers.values())
    assert 0 <= stored.total <= 48
    expected_band = next(label for low, label in reversed(BANDS) if stored.total >= low)
    assert stored.band_label == expected_band
    assert stored.taken_at == taken


@pytest.mark.parametrize("year", [1, 26, 1899])
def test_a_year_before_1900_is_a_typo_refused_naming_the_field(
    service: ClinicalService, nurse: str, year: int
) -> None:
    when = datetime(year, 11, 20, 9, 0, tzinfo=timezone(timedelta(hours=1)))
    with pytest.raises(ValidationError) as info:
        service.admit(nurse, admission(when))
    assert info.value.message.endswith("is before 1900; check the year.")
    assert service.open_episodes() == []
