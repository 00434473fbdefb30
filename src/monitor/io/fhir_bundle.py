"""FHIR R4 export of one episode (issue 6): a `collection` Bundle built from the fhir.resources models.

Every resource is built with the R4B model classes of fhir.resources, so construction validates it;
R4B is identical to R4 for every resource used here (Patient, EpisodeOfCare, Observation,
MedicationAdministration, DetectedIssue, Bundle).

What goes in:

- Patient: the MRN (under MRN_SYSTEM, which a clinic replaces with its own MRN system), the name as
  text only (the app does not split given and family names), birth date and gender.
- EpisodeOfCare: "active" while open, "finished" once discharged; typed as opioid detoxification.
- One Observation per assessment as it stands: "final", "amended" (version > 1) or "entered-in-error";
  versions replaced by an amendment are left out. COWS has no LOINC code we could verify, so the total,
  the items and the bands use the app's own code systems (COWS_SYSTEM, COWS_BAND_SYSTEM); only the pulse
  component carries a standard code (LOINC 8867-4 Heart rate). R4 gives an Observation no way to point
  at an EpisodeOfCare (`encounter` is Encounter only), so observations link to the patient only.
- One MedicationAdministration per dose, "completed" or "entered-in-error", with `context` pointing at
  the EpisodeOfCare. Medicines are named by text only: no RxNorm code is sent that we have not verified.
- One DetectedIssue per alert, with one mitigation per acknowledgement.

The standard codes used are SNOMED CT 87132004 "Opioid withdrawal", LOINC 8867-4 "Heart rate", the HL7
v2-0203 identifier type "MR", the HL7 observation category "survey" and UCUM units. People appear as
display-only references (their user names): the app has no Practitioner records to export.

Resource ids are stable ("obs-<assessment id>") and each entry's fullUrl is a UUID 5 of the app's
namespace and that id, so exporting the same data twice gives the same bundle.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from fhir.resources.R4B.annotation import Annotation
from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.detectedissue import DetectedIssue, DetectedIssueMitigation
from fhir.resources.R4B.episodeofcare import EpisodeOfCare
from fhir.resources.R4B.humanname import HumanName
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.medicationadministration import (
    MedicationAdministration,
    MedicationAdministrationDosage,
    MedicationAdministrationPerformer,
)
from fhir.resources.R4B.meta import Meta
from fhir.resources.R4B.observation import Observation, ObservationComponent
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.period import Period
from fhir.resources.R4B.quantity import Quantity
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource

from monitor.domain.medications import format_mg
from monitor.domain.scales import COWS
from monitor.io.report_model import EpisodeReport, ReportAlert, ReportAssessment, ReportDose

__all__ = [
    "ALERT_RULE_SYSTEM",
    "APP_NAME",
    "APP_SYSTEM",
    "COWS_BAND_SYSTEM",
    "COWS_SYSTEM",
    "MRN_SYSTEM",
    "episode_bundle",
    "full_url",
    "write_fhir_bundle",
]

APP_NAME = "withdrawal-monitor"

# Local code systems (urn: URIs, so they can never clash with a real web address). A clinic replaces
# MRN_SYSTEM with the identifier system of its own medical record numbers.
MRN_SYSTEM = "urn:withdrawal-monitor:mrn"
APP_SYSTEM = "urn:withdrawal-monitor:app"  # Bundle.meta.tag: which app (and version) wrote the bundle
# COWS has no LOINC code we could verify, so its total and items are coded in the app's own system.
COWS_SYSTEM = "urn:withdrawal-monitor:cows"
COWS_BAND_SYSTEM = "urn:withdrawal-monitor:cows-band"
ALERT_RULE_SYSTEM = "urn:withdrawal-monitor:alert-rule"

# Standard systems and codes.
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
OPIOID_WITHDRAWAL = ("87132004", "Opioid withdrawal")  # SNOMED CT
HEART_RATE = ("8867-4", "Heart rate")  # LOINC

COWS_TOTAL_CODE = "cows-total"
PRECIPITATED_WITHDRAWAL_RULE = "precipitated_withdrawal"

# UUID 5 namespace of the fullUrls: fixed, so a re-export gives the same urn:uuid for the same record.
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:withdrawal-monitor:fhir")

_GENDERS = frozenset({"male", "female", "other", "unknown"})
_SEVERITIES = {"high": "high", "medium": "moderate", "low": "low"}
# Human route text for the stored form keys (monitor.domain.medications.FORM_ABBREVIATIONS). An
# extended-release injection is IM for naltrexone but subcutaneous for buprenorphine: say only what we know.
_ROUTES = {
    "oral": "oral",
    "extended_release_injection": "extended-release injection",
    "iv": "intravenous",
    "im": "intramuscular",
    "sc": "subcutaneous",
    "intranasal": "intranasal",
    "sublingual": "sublingual",
    "buccal": "buccal",
    "transdermal": "transdermal",
}


def episode_bundle(report: EpisodeReport) -> dict[str, Any]:
    """The episode as a FHIR R4 collection Bundle, as a JSON-ready dict."""
    return _bundle(report).model_dump(mode="json")


def write_fhir_bundle(report: EpisodeReport, target: Path | TextIO) -> int:
    """Write the bundle as JSON (UTF-8, indent 2) to a path or an open text file; return the entry count."""
    bundle = _bundle(report)
    text = bundle.model_dump_json(indent=2) + "\n"
    if isinstance(target, Path):
        target.write_text(text, encoding="utf-8")
    else:
        target.write(text)
    return len(bundle.entry or [])


# --- Building ---------------------------------------------------------------------------------------


def full_url(resource_id: str) -> str:
    """The entry fullUrl of a resource id: the same id always gives the same urn:uuid."""
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, resource_id)}"


def _bundle(report: EpisodeReport) -> Bundle:
    patient_id = f"patient-{report.episode_id}"
    episode_id = f"episode-{report.episode_id}"
    patient = Reference(reference=full_url(patient_id))
    episode = Reference(reference=full_url(episode_id))
    resources: list[Resource] = [
        _patient(report, patient_id),
        _episode_of_care(report, episode_id, patient),
        *(_observation(a, patient) for a in _exported_assessments(report)),
        *(_administration(d, patient, episode) for d in report.doses),
        *(_detected_issue(a, patient) for a in report.alerts),
    ]
    version = f" {report.app_version}" if report.app_version else ""
    return Bundle(
        type="collection",
        timestamp=_utc(report.exported_at),
        meta=Meta(tag=[Coding(system=APP_SYSTEM, code=APP_NAME, display=f"{APP_NAME}{version}")]),
        entry=[BundleEntry(fullUrl=full_url(str(r.id)), resource=r) for r in resources],
    )


def _patient(report: EpisodeReport, resource_id: str) -> Patient:
    mrn_type = CodeableConcept(
        coding=[Coding(system=IDENTIFIER_TYPE, code="MR", display="Medical record number")]
    )
    return Patient(
        id=resource_id,
        identifier=[Identifier(type=mrn_type, system=MRN_SYSTEM, value=report.mrn)],
        name=[HumanName(text=report.name)],
        birthDate=report.birth_date,
        gender=_gender(report.sex),
    )


def _gender(sex: str | None) -> str | None:
    if sex is None:
        return None
    return sex if sex in _GENDERS else "unknown"


def _episode_of_care(report: EpisodeReport, resource_id: str, patient: Reference) -> EpisodeOfCare:
    discharged = report.discharged_at is not None
    return EpisodeOfCare(
        id=resource_id,
        status="finished" if discharged else "active",
        type=[
            CodeableConcept(
                coding=[_snomed_opioid_withdrawal()],
                text="Opioid detoxification",
            )
        ],
        patient=patient,
        period=Period(start=_utc(report.admitted_at), end=_utc(report.discharged_at)),
    )


def _exported_assessments(report: EpisodeReport) -> list[ReportAssessment]:
    """The current version of each assessment, entered-in-error ones included (so a receiver that had
    an earlier export learns of the error); versions replaced by an amendment are left out."""
    return [a for a in report.assessments if a.is_current or a.entered_in_error]


def _observation(assessment: ReportAssessment, patient: Reference) -> Observation:
    if assessment.entered_in_error:
        status = "entered-in-error"
    elif assessment.version > 1:
        status = "amended"
    else:
        status = "final"
    components = [
        ObservationComponent(
            code=_concept(COWS_SYSTEM, key, _item_label(key)),
            valueInteger=value,
        )
        for key, value in _items_in_form_order(assessment.items)
    ]
    if assessment.pulse_bpm is not None:
        components.append(
            ObservationComponent(
                code=_concept(LOINC, *HEART_RATE),
                valueQuantity=Quantity(
                    value=Decimal(assessment.pulse_bpm), unit="/min", system=UCUM, code="/min"
                ),
            )
        )
    notes = [assessment.note]
    if assessment.amend_reason:
        notes.append(f"Amended: {assessment.amend_reason}")
    if assessment.late_reason:
        notes.append(f"Recorded late: {assessment.late_reason}")
    if assessment.entered_in_error:
        by = f" by {assessment.voided_by}" if assessment.voided_by else ""
        reason = f": {assessment.void_reason}" if assessment.void_reason else ""
        notes.append(f"Entered in error{by}{reason}")
    return Observation(
        id=f"obs-{assessment.id}",
        status=status,
        category=[_concept(OBSERVATION_CATEGORY, "survey", "Survey")],
        code=CodeableConcept(
            coding=[Coding(system=COWS_SYSTEM, code=COWS_TOTAL_CODE, display="COWS total score")],
            text=f"{COWS.name} (COWS) total score",
        ),
        subject=patient,
        effectiveDateTime=_utc(assessment.taken_at),
        issued=_utc(assessment.recorded_at),
        performer=[Reference(display=assessment.recorded_by)],
        valueInteger=assessment.total,
        interpretation=[_concept(COWS_BAND_SYSTEM, assessment.band_key, assessment.band_label)],
        component=components,
        note=_annotations(notes),
    )


def _items_in_form_order(items: Mapping[str, int]) -> list[tuple[str, int]]:
    """The items as the COWS form lists them (the store may hand them over in any order)."""
    order = {key: n for n, key in enumerate(COWS.keys)}
    return sorted(items.items(), key=lambda pair: (order.get(pair[0], len(order)), pair[0]))


def _item_label(key: str) -> str:
    for item in COWS.items:
        if item.key == key:
            return item.label
    return key  # a key this version does not know is still exported, under its own name


def _administration(dose: ReportDose, patient: Reference, episode: Reference) -> MedicationAdministration:
    notes = [dose.note]
    if dose.warnings:
        reason = f" Reason: {dose.warning_reason}" if dose.warning_reason else ""
        warnings = "; ".join(w.rstrip(". ") for w in dose.warnings)
        notes.append(f"Given despite: {warnings}.{reason}")
    elif dose.warning_reason:
        notes.append(f"Reason: {dose.warning_reason}")
    voided = dose.entered_in_error
    return MedicationAdministration(
        id=f"dose-{dose.id}",
        status="entered-in-error" if voided else "completed",
        statusReason=[CodeableConcept(text=dose.void_reason)] if voided and dose.void_reason else None,
        # Text only: a wrong RxNorm code is worse than none.
        medicationCodeableConcept=CodeableConcept(text=dose.drug_label),
        subject=patient,
        context=episode,
        effectiveDateTime=_utc(dose.given_at),
        performer=[MedicationAdministrationPerformer(actor=Reference(display=dose.recorded_by))],
        dosage=MedicationAdministrationDosage(
            text=dose.description or None,
            route=CodeableConcept(text=_ROUTES.get(dose.form, dose.form.replace("_", " "))),
            # Decimal of the charted text, so 25 mg goes out as 25 and not as the float 25.0.
            dose=Quantity(value=Decimal(format_mg(dose.dose_mg)), unit="mg", system=UCUM, code="mg"),
        ),
        note=_annotations(notes),
    )


def _detected_issue(alert: ReportAlert, patient: Reference) -> DetectedIssue:
    codings = [Coding(system=ALERT_RULE_SYSTEM, code=alert.rule, display=alert.title)]
    if alert.rule == PRECIPITATED_WITHDRAWAL_RULE:
        codings.insert(0, _snomed_opioid_withdrawal())
    mitigations = [
        DetectedIssueMitigation(
            action=CodeableConcept(text=f"Acknowledged: {e.reason}" if e.reason else "Acknowledged"),
            date=_utc(e.at),
            author=Reference(display=e.by),
        )
        for e in alert.events
        if e.kind == "acknowledge"
    ]
    if not mitigations and alert.acknowledged_at is not None:
        # An alert acknowledged without an event log still says who acknowledged it and why.
        reason = alert.acknowledge_reason
        mitigations.append(
            DetectedIssueMitigation(
                action=CodeableConcept(text=f"Acknowledged: {reason}" if reason else "Acknowledged"),
                date=_utc(alert.acknowledged_at),
                author=Reference(display=alert.acknowledged_by) if alert.acknowledged_by else None,
            )
        )
    return DetectedIssue(
        id=f"alert-{alert.id}",
        status="final",
        code=CodeableConcept(coding=codings, text=alert.title),
        severity=_SEVERITIES.get(alert.priority),
        patient=patient,
        identifiedDateTime=_utc(alert.raised_at),
        detail=alert.message or None,
        mitigation=mitigations or None,
    )


# --- Small pieces -----------------------------------------------------------------------------------


def _snomed_opioid_withdrawal() -> Coding:
    code, display = OPIOID_WITHDRAWAL
    return Coding(system=SNOMED, code=code, display=display)


def _concept(system: str, code: str, display: str) -> CodeableConcept:
    return CodeableConcept(coding=[Coding(system=system, code=code, display=display)], text=display)


def _annotations(texts: Iterable[str]) -> list[Annotation] | None:
    notes = [Annotation(text=t) for t in texts if t]
    return notes or None


def _utc(moment: datetime | None) -> datetime | None:
    """Times go out in UTC ("Z"); a time without an offset is refused, never guessed."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError(f"time {moment.isoformat()} has no offset")
    return moment.astimezone(UTC)
