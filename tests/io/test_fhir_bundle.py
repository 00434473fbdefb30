"""The FHIR R4 export (issue 6): a collection Bundle that validates, says what happened, and is stable."""

from __future__ import annotations

import dataclasses
import io
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.domain.scales import COWS
from monitor.io.fhir_bundle import (
    ALERT_RULE_SYSTEM,
    COWS_BAND_SYSTEM,
    COWS_SYSTEM,
    MRN_SYSTEM,
    episode_bundle,
    write_fhir_bundle,
)
from monitor.io.report_model import (
    EpisodeReport,
    ReportAlert,
    ReportAlertEvent,
    ReportAssessment,
    ReportDose,
)
from tests.report_helpers import MRN, PATIENT_NAME, chart_sample_episode

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"

# The library checks structure and types but not required bindings, so the tests check the codes
# against the R4 value sets themselves.
OBSERVATION_STATUSES = {"registered", "preliminary", "final", "amended", "corrected", "cancelled"}
OBSERVATION_STATUSES |= {"entered-in-error", "unknown"}
ADMINISTRATION_STATUSES = {"in-progress", "not-done", "on-hold", "completed", "entered-in-error", "stopped"}
ADMINISTRATION_STATUSES |= {"unknown"}
ISSUE_STATUSES = OBSERVATION_STATUSES
EPISODE_STATUSES = {"planned", "waitlist", "active", "onhold", "finished", "cancelled", "entered-in-error"}
GENDERS = {"male", "female", "other", "unknown"}
SEVERITIES = {"high", "moderate", "low"}


@pytest.fixture
def report(service: Any, clock: Any, nurse: str, physician: str) -> EpisodeReport:
    return chart_sample_episode(service, clock, nurse, physician).report


def resources(bundle: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type]


def by_id(bundle: dict[str, Any], resource_id: str) -> dict[str, Any]:
    [found] = [e["resource"] for e in bundle["entry"] if e["resource"]["id"] == resource_id]
    return found


def references(value: Any) -> Iterator[str]:
    """Every Reference.reference anywhere in a resource."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "reference" and isinstance(inner, str):
                yield inner
            else:
                yield from references(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from references(inner)


def assert_valid(bundle: dict[str, Any]) -> None:
    """The whole bundle, and each entry with its own class, parse back; coded statuses are R4's."""
    parsed = Bundle.model_validate(bundle)
    assert parsed.type == "collection"
    assert parsed.model_dump(mode="json") == bundle
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    full_urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(set(full_urls)) == len(full_urls)
    assert all(url.startswith("urn:uuid:") for url in full_urls)
    assert set(references(bundle)) <= set(full_urls)
    for obs in resources(bundle, "Observation"):
        assert obs["status"] in OBSERVATION_STATUSES
    for dose in resources(bundle, "MedicationAdministration"):
        assert dose["status"] in ADMINISTRATION_STATUSES
    for issue in resources(bundle, "DetectedIssue"):
        assert issue["status"] in ISSUE_STATUSES
        assert issue.get("severity", "high") in SEVERITIES
    for episode in resources(bundle, "EpisodeOfCare"):
        assert episode["status"] in EPISODE_STATUSES
    for patient in resources(bundle, "Patient"):
        assert patient.get("gender", "unknown") in GENDERS


def item_components(observation: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in observation["component"] if c["code"]["coding"][0]["system"] == COWS_SYSTEM]


# --- The charted sample episode ---------------------------------------------------------------------


def test_sample_bundle_validates_as_a_whole_and_entry_by_entry(report: EpisodeReport) -> None:
    assert_valid(episode_bundle(report))


def test_sample_bundle_holds_one_resource_per_record(report: EpisodeReport) -> None:
    bundle = episode_bundle(report)
    kinds = Counter(e["resource"]["resourceType"] for e in bundle["entry"])
    assert kinds == {
        "Patient": 1,
        "EpisodeOfCare": 1,
        "Observation": 4,
        "MedicationAdministration": 3,
        "DetectedIssue": 3,
    }
    statuses = Counter(o["status"] for o in resources(bundle, "Observation"))
    assert statuses == {"final": 2, "amended": 1, "entered-in-error": 1}
    # The 9 that the amendment replaced is not exported; the amended 11 is.
    totals = {o["valueInteger"]: o["status"] for o in resources(bundle, "Observation")}
    assert totals == {4: "final", 17: "final", 11: "amended", 6: "entered-in-error"}


def test_bundle_says_what_it_is_and_when_it_was_made(report: EpisodeReport) -> None:
    bundle = episode_bundle(report)
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "collection"
    assert datetime.fromisoformat(bundle["timestamp"]) == report.exported_at
    [tag] = bundle["meta"]["tag"]
    assert tag["code"] == "withdrawal-monitor"
    assert report.app_version
    assert tag["display"] == f"withdrawal-monitor {report.app_version}"


def test_patient_and_open_episode(report: EpisodeReport) -> None:
    bundle = episode_bundle(report)
    [patient] = resources(bundle, "Patient")
    [identifier] = patient["identifier"]
    assert (identifier["system"], identifier["value"]) == (MRN_SYSTEM, MRN)
    assert identifier["type"]["coding"][0]["code"] == "MR"
    assert patient["name"] == [{"text": PATIENT_NAME}]
    [episode] = resources(bundle, "EpisodeOfCare")
    assert episode["status"] == "active"
    assert datetime.fromisoformat(episode["period"]["start"]) == report.admitted_at
    assert "end" not in episode["period"]
    [kind] = episode["type"]
    assert kind["text"] == "Opioid detoxification"
    assert {"system": SNOMED, "code": "87132004", "display": "Opioid withdrawal"} in kind["coding"]
    patient_url = bundle["entry"][0]["fullUrl"]
    assert episode["patient"]["reference"] == patient_url


def test_cows_17_observation(report: EpisodeReport) -> None:
    bundle = episode_bundle(report)
    [obs] = [o for o in resources(bundle, "Observation") if o["valueInteger"] == 17]
    assert obs["status"] == "final"
    assert obs["code"]["coding"] == [
        {"system": COWS_SYSTEM, "code": "cows-total", "display": "COWS total score"}
    ]
    assert obs["category"][0]["coding"][0]["code"] == "survey"
    assert obs["effectiveDateTime"] == "2026-11-20T09:55:00Z"
    assert obs["performer"] == [{"display": "rn.lee"}]
    items = item_components(obs)
    assert [c["code"]["coding"][0]["code"] for c in items] == list(COWS.keys)
    assert [c["code"]["text"] for c in items] == [item.label for item in COWS.items]
    assert sum(c["valueInteger"] for c in items) == 17
    [band] = obs["interpretation"]
    assert band["coding"] == [{"system": COWS_BAND_SYSTEM, "code": "moderate", "display": "Moderate"}]
    assert band["text"] == "Moderate"
    assert obs["note"] == [{"text": "sweating, gooseflesh"}]


def test_amended_and_entered_in_error_observations_say_why(report: EpisodeReport) -> None:
    observations = {o["status"]: o for o in resources(episode_bundle(report), "Observation")}
    assert {"text": "Amended: pupil size misread"} in observations["amended"]["note"]
    error_notes = [n["text"] for n in observations["entered-in-error"]["note"]]
    assert any("charted on the wrong patient" in text for text in error_notes)


def test_doses(report: EpisodeReport) -> None:
    bundle = episode_bundle(report)
    doses = {d["medicationCodeableConcept"]["text"]: d for d in resources(bundle, "MedicationAdministration")}
    assert set(doses) == {"Naltrexone", "Ondansetron", "Loperamide"}
    naltrexone = doses["Naltrexone"]
    assert naltrexone["status"] == "completed"
    assert "coding" not in naltrexone["medicationCodeableConcept"]  # no unverified RxNorm code
    assert naltrexone["effectiveDateTime"] == "2026-11-20T09:05:00Z"
    assert naltrexone["dosage"]["dose"] == {"value": 25, "unit": "mg", "system": UCUM, "code": "mg"}
    assert naltrexone["dosage"]["route"] == {"text": "oral"}
    assert naltrexone["performer"] == [{"actor": {"display": "rn.lee"}}]
    [note] = naltrexone["note"]
    assert note["text"].startswith("Given despite: ")
    assert note["text"].endswith(". Reason: rapid induction, Dr Rao agreed")
    [episode] = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "EpisodeOfCare"]
    assert naltrexone["context"]["reference"] == episode["fullUrl"]
    loperamide = doses["Loperamide"]
    assert loperamide["status"] == "entered-in-error"
    assert loperamide["statusReason"] == [{"text": "charted on the wrong patient"}]
    assert doses["Ondansetron"]["status"] == "completed"
    assert "statusReason" not in doses["Ondansetron"]


def test_alerts_become_detected_issues(report: EpisodeReport) -> None:
    bundle = episode_bundle(report)
    issues = resources(bundle, "DetectedIssue")
    assert len(issues) == len(report.alerts) == 3
    assert {i["severity"] for i in issues} == {"high", "moderate"}
    [precipitated] = [i for i in issues if i["code"]["text"] == "Possible precipitated withdrawal"]
    codings = precipitated["code"]["coding"]
    assert {"system": SNOMED, "code": "87132004", "display": "Opioid withdrawal"} in codings
    assert precipitated["severity"] == "high"
    assert precipitated["status"] == "final"
    assert precipitated["detail"].startswith("COWS 4 -> 17")
    assert precipitated["identifiedDateTime"] == "2026-11-20T09:55:00Z"
    [mitigation] = precipitated["mitigation"]
    assert mitigation["action"]["text"] == "Acknowledged: Dr Rao informed, clonidine and ondansetron ordered"
    assert mitigation["date"] == "2026-11-20T09:58:00Z"
    assert mitigation["author"] == {"display": "rn.lee"}
    others = [i for i in issues if i is not precipitated]
    for issue in others:
        assert [c["system"] for c in issue["code"]["coding"]] == [ALERT_RULE_SYSTEM]
        assert issue["code"]["coding"][0]["display"] == issue["code"]["text"]


def test_precipitated_withdrawal_rule_code(report: EpisodeReport) -> None:
    [issue] = [
        i
        for i in resources(episode_bundle(report), "DetectedIssue")
        if any(c["code"] == "precipitated_withdrawal" for c in i["code"]["coding"])
    ]
    rule = [c for c in issue["code"]["coding"] if c["system"] == ALERT_RULE_SYSTEM]
    assert rule == [
        {
            "system": ALERT_RULE_SYSTEM,
            "code": "precipitated_withdrawal",
            "display": "Possible precipitated withdrawal",
        }
    ]


def test_export_is_deterministic(report: EpisodeReport) -> None:
    first = episode_bundle(report)
    assert episode_bundle(report) == first
    rebuilt = dataclasses.replace(report)  # equal data in a new object gives the same bundle
    assert episode_bundle(rebuilt) == first
    assert json.dumps(episode_bundle(report), sort_keys=True) == json.dumps(first, sort_keys=True)


def test_ids_are_stable_and_named_after_the_records(report: EpisodeReport) -> None:
    bundle = episode_bundle(report)
    ids = [e["resource"]["id"] for e in bundle["entry"]]
    assert ids[:2] == [f"patient-{report.episode_id}", f"episode-{report.episode_id}"]
    observation_ids = {f"obs-{a.id}" for a in report.assessments if a.is_current or a.entered_in_error}
    assert {o["id"] for o in resources(bundle, "Observation")} == observation_ids
    assert {d["id"] for d in resources(bundle, "MedicationAdministration")} == {
        f"dose-{d.id}" for d in report.doses
    }
    assert {i["id"] for i in resources(bundle, "DetectedIssue")} == {f"alert-{a.id}" for a in report.alerts}


def test_write_to_path_and_to_text_stream(report: EpisodeReport, tmp_path: Path) -> None:
    target = tmp_path / "episode.fhir.json"
    assert write_fhir_bundle(report, target) == 12
    text = target.read_text(encoding="utf-8")
    assert text.startswith('{\n  "resourceType": "Bundle"')
    assert json.loads(text) == episode_bundle(report)
    stream = io.StringIO()
    assert write_fhir_bundle(report, stream) == 12
    assert stream.getvalue() == text


def test_non_ascii_text_is_written_as_utf8(report: EpisodeReport, tmp_path: Path) -> None:
    target = tmp_path / "episode.fhir.json"
    write_fhir_bundle(dataclasses.replace(report, name="Zoë Ångström"), target)
    assert "Zoë Ångström" in target.read_bytes().decode("utf-8")


def test_episode_without_assessments(report: EpisodeReport) -> None:
    bundle = episode_bundle(dataclasses.replace(report, assessments=()))
    assert_valid(bundle)
    assert resources(bundle, "Observation") == []
    assert len(resources(bundle, "MedicationAdministration")) == 3


def test_discharged_episode(report: EpisodeReport) -> None:
    discharged_at = report.exported_at - timedelta(minutes=30)
    bundle = episode_bundle(dataclasses.replace(report, discharged_at=discharged_at, discharged_by="dr.rao"))
    assert_valid(bundle)
    [episode] = resources(bundle, "EpisodeOfCare")
    assert episode["status"] == "finished"
    assert datetime.fromisoformat(episode["period"]["end"]) == discharged_at


# --- Hand-built reports: edge cases and properties --------------------------------------------------

ADMITTED = datetime(2026, 3, 1, 7, 30, tzinfo=UTC)


def plain_report(**changes: Any) -> EpisodeReport:
    base = EpisodeReport(
        episode_id=7,
        mrn="MRN/7 007",
        name="Sam Sample",
        birth_date=date(1990, 5, 17),
        sex="female",
        bed="1A",
        admitted_at=ADMITTED,
        admitted_by="rn.lee",
        discharged_at=None,
        discharged_by="",
        discharge_note="",
        zone_name="Europe/Berlin",
        exported_at=ADMITTED + timedelta(hours=6),
        exported_by="rn.lee",
        exported_by_name="Robin Lee",
        app_version="0.1.0",
    )
    return dataclasses.replace(base, **changes)


def assessment(items: dict[str, int], **changes: Any) -> ReportAssessment:
    total = sum(items.values())
    band = COWS.band_for(total)
    base = ReportAssessment(
        id=1,
        root_id=1,
        version=1,
        taken_at=ADMITTED + timedelta(hours=1),
        recorded_at=ADMITTED + timedelta(hours=1, minutes=2),
        recorded_by="rn.lee",
        items=items,
        total=total,
        band_key=band.key,
        band_label=band.label,
        pulse_bpm=None,
        note="",
        late_reason="",
        amend_reason="",
        is_current=True,
        status="Original",
    )
    return dataclasses.replace(base, **changes)


ZEROES = dict.fromkeys(COWS.keys, 0)


def test_patient_details() -> None:
    [patient] = resources(episode_bundle(plain_report()), "Patient")
    assert patient["birthDate"] == "1990-05-17"
    assert patient["gender"] == "female"
    assert patient["identifier"][0]["value"] == "MRN/7 007"  # any MRN text goes out as it is


@pytest.mark.parametrize(
    ("sex", "gender"),
    [("male", "male"), ("female", "female"), ("other", "other"), ("unknown", "unknown"), ("X", "unknown")],
)
def test_gender_mapping(sex: str, gender: str) -> None:
    bundle = episode_bundle(plain_report(sex=sex))
    assert_valid(bundle)
    assert resources(bundle, "Patient")[0]["gender"] == gender


def test_no_sex_and_no_birth_date_leave_the_fields_out() -> None:
    [patient] = resources(episode_bundle(plain_report(sex=None, birth_date=None)), "Patient")
    assert "gender" not in patient
    assert "birthDate" not in patient


def test_pulse_is_a_loinc_heart_rate_component() -> None:
    bundle = episode_bundle(plain_report(assessments=(assessment(ZEROES, pulse_bpm=104),)))
    assert_valid(bundle)
    [obs] = resources(bundle, "Observation")
    [pulse] = [c for c in obs["component"] if c["code"]["coding"][0]["system"] == LOINC]
    assert pulse["code"]["coding"] == [{"system": LOINC, "code": "8867-4", "display": "Heart rate"}]
    assert pulse["valueQuantity"] == {"value": 104, "unit": "/min", "system": UCUM, "code": "/min"}
    assert len(obs["component"]) == 12


def test_times_go_out_in_utc() -> None:
    berlin = datetime(2026, 3, 1, 11, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    bundle = episode_bundle(plain_report(assessments=(assessment(ZEROES, taken_at=berlin),)))
    [obs] = resources(bundle, "Observation")
    assert obs["effectiveDateTime"] == "2026-03-01T10:00:00Z"


def test_a_time_without_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="no offset"):
        episode_bundle(plain_report(exported_at=datetime(2026, 3, 1, 12, 0)))


def test_dose_forms_and_fractional_doses() -> None:
    dose = ReportDose(
        id=4,
        drug="naloxone",
        drug_label="Naloxone",
        role="antagonist",
        form="im",
        dose_mg=0.4,
        description="naloxone 0.4 mg IM",
        given_at=ADMITTED + timedelta(hours=2),
        recorded_at=ADMITTED + timedelta(hours=2),
        recorded_by="rn.lee",
        note="challenge",
        warnings=("First warning.", "Second warning"),
        warning_reason="",
    )
    bundle = episode_bundle(plain_report(doses=(dose,)))
    assert_valid(bundle)
    [given_dose] = resources(bundle, "MedicationAdministration")
    assert given_dose["dosage"]["dose"]["value"] == 0.4
    assert given_dose["dosage"]["route"] == {"text": "intramuscular"}
    assert [n["text"] for n in given_dose["note"]] == [
        "challenge",
        "Given despite: First warning; Second warning.",
    ]


def test_alert_acknowledgements_and_priorities() -> None:
    raised = ADMITTED + timedelta(hours=3)
    alerts = tuple(
        ReportAlert(
            id=n,
            rule="vitals_out_of_range",
            title="Vital signs out of range",
            priority=priority,
            raised_at=raised,
            message="",
            state="acknowledged",
            resolved_at=None,
            acknowledged_by="rn.lee",
            acknowledged_at=raised + timedelta(minutes=1),
            acknowledge_reason="rechecked",
            escalated_at=None,
            events=(
                ReportAlertEvent("snooze", raised, "rn.lee", "busy", until=raised + timedelta(minutes=10)),
                ReportAlertEvent("acknowledge", raised + timedelta(minutes=1), "rn.lee", "rechecked"),
                ReportAlertEvent("acknowledge", raised + timedelta(minutes=5), "rn.kim", ""),
            ),
        )
        for n, priority in enumerate(("high", "medium", "low"), start=1)
    )
    bundle = episode_bundle(plain_report(alerts=alerts))
    assert_valid(bundle)
    issues = resources(bundle, "DetectedIssue")
    assert [i["severity"] for i in issues] == ["high", "moderate", "low"]
    assert [m["action"]["text"] for m in issues[0]["mitigation"]] == [
        "Acknowledged: rechecked",
        "Acknowledged",
    ]
    assert "detail" not in issues[0]  # an empty message is left out rather than sent as ""


@st.composite
def scored_assessments(draw: st.DrawFn, index: int) -> ReportAssessment:
    items = {item.key: draw(st.sampled_from(item.allowed_values)) for item in COWS.items}
    voided = draw(st.booleans())
    return assessment(
        items,
        id=index + 1,
        root_id=index + 1,
        version=draw(st.integers(1, 3)),
        pulse_bpm=draw(st.none() | st.integers(30, 220)),
        note=draw(st.text(max_size=20)),
        voided_at=ADMITTED + timedelta(hours=4) if voided else None,
        void_reason="wrong patient" if voided else "",
    )


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 4).flatmap(lambda n: st.tuples(*(scored_assessments(i) for i in range(n)))))
def test_any_scored_assessments_give_a_valid_bundle(assessments: tuple[ReportAssessment, ...]) -> None:
    bundle = episode_bundle(plain_report(assessments=assessments))
    assert_valid(bundle)
    observations = resources(bundle, "Observation")
    assert len(observations) == len(assessments)
    for source, obs in zip(assessments, observations, strict=True):
        items = item_components(obs)
        assert len(items) == len(COWS.items)
        assert sum(c["valueInteger"] for c in items) == obs["valueInteger"] == source.total
        assert obs["interpretation"][0]["coding"][0]["code"] == COWS.band_for(source.total).key
        expected = (
            "entered-in-error" if source.entered_in_error else "amended" if source.version > 1 else "final"
        )
        assert obs["status"] == expected
        assert (len(obs["component"]) == 12) == (source.pulse_bpm is not None)
