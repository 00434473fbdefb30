"""Import of episode files through the services: corrections stay corrected, every insert is audited."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

import pytest

from monitor.io.episode_json import parse_document
from monitor.services.clinical import ClinicalService
from monitor.services.importing import IMPORT_NOTE, ImportRefused, ImportReport
from monitor.services.views import AssessmentInput, DoseInput, VitalsInput
from tests.conftest import T0, FakeClock
from tests.io.test_episode_json import EXAMPLE

LATE = "back-charted from the paper chart"


def example() -> dict[str, Any]:
    """EXAMPLE: COWS at 09:00, naltrexone 25 mg PO at 09:05, vitals at 09:00, all by rn.lee."""
    return copy.deepcopy(EXAMPLE)


def load(
    service: ClinicalService, actor: str, data: dict[str, Any], *, create_users: bool = True
) -> ImportReport:
    return service.import_episodes(
        actor, parse_document(data, "test.json"), create_unknown_users=create_users, source="test.json"
    )


@pytest.fixture
def imported(service: ClinicalService, nurse: str, clock: FakeClock) -> int:
    """EXAMPLE imported at 12:00 by rn.lee; returns the episode id."""
    clock.current = T0 + timedelta(hours=3)
    report = load(service, nurse, example())
    assert (report.assessments, report.doses, report.vitals) == (1, 1, 1)
    [episode] = service.open_episodes()
    return episode.id


def items_of(data: dict[str, Any], **changes: int) -> dict[str, int | None]:
    items: dict[str, int | None] = dict(data["assessments"][0]["items"])
    items.update(changes)
    return items


# --- 1. re-import after corrections -------------------------------------------------------------------


def test_reimport_does_not_bring_back_an_assessment_entered_in_error(
    service: ClinicalService, nurse: str, imported: int
) -> None:
    [cows] = service.assessments(imported)
    service.mark_entered_in_error(nurse, cows.id, "charted on the wrong patient")
    report = load(service, nurse, example())
    assert (report.assessments, report.doses, report.vitals, report.skipped) == (0, 0, 0, 3)
    [still] = service.assessments(imported)
    assert (still.id, still.entered_in_error) == (cows.id, True)


def test_reimport_after_an_amendment_is_skipped_not_refused(
    service: ClinicalService, nurse: str, imported: int
) -> None:
    [cows] = service.assessments(imported)
    data = example()
    amended = AssessmentInput(cows.taken_at, items_of(data, yawning=0), pulse_bpm=88)
    service.amend_assessment(nurse, cows.id, amended, "yawning misread")
    report = load(service, nurse, data)  # the file holds the first version
    assert (report.assessments, report.skipped) == (0, 3)
    [current] = service.assessments(imported)
    assert (current.version, current.items["yawning"]) == (2, 0)
    # A file holding the amended version is already present too.
    data["assessments"][0]["items"]["yawning"] = 0
    assert load(service, nurse, data).skipped == 3


def test_a_different_assessment_at_the_time_of_a_current_one_is_still_refused(
    service: ClinicalService, nurse: str, imported: int
) -> None:
    data = example()
    data["assessments"][0]["items"]["yawning"] = 2
    with pytest.raises(ImportRefused, match=r"assessments\[0\]\.taken_at: a different COWS"):
        load(service, nurse, data)


def test_an_assessment_matching_no_version_where_only_voided_ones_exist_is_added(
    service: ClinicalService, nurse: str, imported: int
) -> None:
    [cows] = service.assessments(imported)
    service.mark_entered_in_error(nurse, cows.id, "charted on the wrong patient")
    data = example()
    data["assessments"][0]["items"]["yawning"] = 2
    report = load(service, nurse, data)
    assert report.assessments == 1
    assert [a.items["yawning"] for a in service.assessments(imported, include_entered_in_error=False)] == [2]


def test_reimport_does_not_bring_back_a_dose_entered_in_error(
    service: ClinicalService, nurse: str, clock: FakeClock, imported: int
) -> None:
    [dose] = service.doses(imported)
    service.mark_dose_entered_in_error(nurse, dose.id, "wrong strength charted")
    service.record_dose(
        nurse,
        imported,
        DoseInput("naltrexone", "oral", 50, dose.given_at, warning_reason="induction", late_reason=LATE),
    )
    report = load(service, nurse, example())  # 25 mg: the voided version
    assert (report.doses, report.skipped) == (0, 3)
    assert sorted((d.dose_mg, d.voided_at is not None) for d in service.doses(imported)) == [
        (25, True),
        (50, False),
    ]


def test_a_dose_where_only_a_different_voided_one_exists_is_added(
    service: ClinicalService, nurse: str, imported: int
) -> None:
    [dose] = service.doses(imported)
    service.mark_dose_entered_in_error(nurse, dose.id, "wrong strength charted")
    data = example()
    data["doses"][0]["dose_mg"] = 50
    assert load(service, nurse, data).doses == 1
    assert sorted(d.dose_mg for d in service.doses(imported) if d.voided_at is None) == [50]


def test_reimport_does_not_bring_back_vitals_entered_in_error(
    service: ClinicalService, nurse: str, imported: int
) -> None:
    [vitals] = service.vitals(imported)
    service.mark_vitals_entered_in_error(nurse, vitals.id, "another patient's readings")
    service.record_vitals(nurse, imported, VitalsInput(vitals.taken_at, pulse_bpm=72, late_reason=LATE))
    report = load(service, nurse, example())
    assert (report.vitals, report.skipped) == (0, 3)
    assert sorted((v.pulse_bpm, v.voided_at is not None) for v in service.vitals(imported)) == [
        (72, False),
        (88, True),
    ]


# --- 2. audit rows of an import ---------------------------------------------------------------------


def test_every_imported_record_and_created_user_is_audited(
    service: ClinicalService, nurse: str, clock: FakeClock
) -> None:
    clock.current = T0 + timedelta(hours=3)
    data = example()
    for kind in ("assessments", "doses", "vitals"):
        data[kind][0]["by"] = "rn.paper"
    report = load(service, nurse, data)
    assert report.users_created == ["rn.paper"]
    [episode] = service.open_episodes()
    entries = service.audit_entries(patient_id=episode.patient_id)
    by_action = {e.action: e for e in entries}
    assert {"assessment.record", "dose.record", "vitals.record", "episode.import"} <= set(by_action)
    for action in ("assessment.record", "dose.record", "vitals.record"):
        entry = by_action[action]
        # the importing user acts; the record keeps the file's author
        assert (entry.username, entry.reason, entry.patient_id) == (nurse, IMPORT_NOTE, episode.patient_id)
    cows = json.loads(by_action["assessment.record"].after_json)
    [view] = service.assessments(episode.id)
    assert view.recorded_by == "rn.paper"
    assert (cows["id"], cows["total"], cows["pulse_bpm"], cows["items"]) == (
        view.id,
        view.total,
        88,
        EXAMPLE["assessments"][0]["items"],
    )
    dose = json.loads(by_action["dose.record"].after_json)
    assert (dose["drug"], dose["form"], dose["dose_mg"], dose["given_at"]) == (
        "naltrexone",
        "oral",
        25,
        "2026-11-20T09:05:00+00:00",
    )
    vitals = json.loads(by_action["vitals.record"].after_json)
    assert (vitals["pulse_bpm"], vitals["systolic"], vitals["diastolic"], vitals["temp_c"]) == (
        88,
        128,
        82,
        36.9,
    )
    created = [e for e in service.audit_entries() if e.action == "user.create" and e.reason == IMPORT_NOTE]
    assert [(e.username, json.loads(e.after_json)["username"]) for e in created] == [(nurse, "rn.paper")]
    assert json.loads(created[0].after_json)["active"] is False
    assert service.verify_audit_chain().intact


def test_reimport_adds_no_audit_rows_for_skipped_records(
    service: ClinicalService, nurse: str, imported: int
) -> None:
    load(service, nurse, example())
    actions = [e.action for e in service.audit_entries()]
    assert actions.count("assessment.record") == 1
    assert actions.count("dose.record") == 1
    assert actions.count("vitals.record") == 1
    assert actions.count("episode.import") == 2


def test_a_many_record_import_keeps_one_audit_chain_and_one_account_per_unknown_author(
    service: ClinicalService, nurse: str, clock: FakeClock
) -> None:
    """Many audit rows in one import transaction: each links to the one before it, the next write
    continues the chain, and an unknown author named many times becomes one inactive account."""
    clock.current = T0 + timedelta(hours=3)
    data = example()
    first = data["assessments"][0]
    data["assessments"] = [
        {
            **copy.deepcopy(first),
            "taken_at": f"2026-11-20T{9 + n // 2:02d}:{(n % 2) * 30:02d}:00Z",
            "by": "rn.paper",
        }
        for n in range(5)
    ]
    data["doses"][0]["by"] = "rn.paper"
    report = load(service, nurse, data)
    assert (report.assessments, report.users_created) == (5, ["rn.paper"])
    [episode] = service.open_episodes()
    assert {v.recorded_by for v in service.assessments(episode.id)} == {"rn.paper"}
    service.record_assessment(
        nurse, episode.id, AssessmentInput(taken_at=clock.current, items=dict(first["items"]), pulse_bpm=88)
    )
    assert service.verify_audit_chain().intact
    ids = [e.id for e in service.audit_entries()]
    assert sorted(ids) == list(range(1, len(ids) + 1))


# --- discharged episodes take no new records --------------------------------------------------------


def test_a_discharged_episode_takes_no_new_records_from_a_file(
    service: ClinicalService, nurse: str, imported: int, clock: FakeClock
) -> None:
    """QA: an import added a COWS and naltrexone to an episode discharged days before, and raised an
    active HIGH alert on it, where the app refuses any record on a discharged episode."""
    service.discharge(nurse, imported, clock.now())
    later = example()
    later["assessments"].append({**later["assessments"][0], "taken_at": "2026-11-20T10:00:00Z"})
    with pytest.raises(ImportRefused, match="was discharged at 2026-11-20 12:00 UTC: records can no longer"):
        load(service, nurse, later)
    assert len(service.assessments(imported)) == 1
    report = load(service, nurse, example())  # the same file again: nothing new, nothing refused
    assert (report.assessments, report.doses, report.vitals, report.skipped) == (0, 0, 0, 3)
