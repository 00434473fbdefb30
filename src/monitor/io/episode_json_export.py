"""Writing the episode file, version 1 (shared/formats/episode-v1.md), from EpisodeReports.

"Export writes the current version of every record": each assessment as it stands after its last
amendment, and nothing entered in error. What the format has no field for (amendment history, alerts,
sign-offs, notes on doses and vital signs) stays out; the CSV tables and the PDF carry it.

Every key of the format is always written (null, or "" for text, when there is nothing), so the shape
of a file never depends on its data. Times are ISO 8601 in UTC with "Z"; a whole dose in mg is written
as an integer (25, not 25.0). Records are sorted by clinical time, then by id, so exporting the same
data twice gives the same file. Before anything is written the document is read back with the strict
parser, so the app never writes an episode file it would refuse to import.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from monitor.domain.scales import COWS
from monitor.io.episode_json import FORMAT_MANY, FORMAT_ONE, parse_document
from monitor.io.report_model import (
    EpisodeReport,
    ReportAssessment,
    ReportDose,
    ReportSubstance,
    ReportVitals,
)

# How the parser's messages name the document when an export would not read back.
EXPORT_SOURCE = "episode export"

__all__ = [
    "EXPORT_SOURCE",
    "episode_document",
    "episodes_document",
    "exported_record_count",
    "write_episode_json",
]


def episode_document(report: EpisodeReport) -> dict[str, Any]:
    """One episode as an `episode@1` document."""
    return {"format": FORMAT_ONE, **_episode(report)}


def episodes_document(reports: Sequence[EpisodeReport]) -> dict[str, Any]:
    """Several episodes as an `episodes@1` document (the episode objects carry no "format")."""
    return {"format": FORMAT_MANY, "episodes": [_episode(report) for report in reports]}


def exported_record_count(report: EpisodeReport) -> int:
    """How many assessments, doses and vital-sign sets the file holds for this episode."""
    return len(_assessments(report)) + len(_doses(report)) + len(_vitals(report))


def write_episode_json(reports: Sequence[EpisodeReport], target: Path | TextIO) -> int:
    """Write one report as `episode@1`, several (or none) as `episodes@1`; returns the records written.

    A path gets UTF-8 (the caller makes it appear complete or not at all: monitor.services.files);
    a stream gets the text as is. Raises EpisodeFileError, before writing anything, if the document
    would not import.
    """
    document = episode_document(reports[0]) if len(reports) == 1 else episodes_document(reports)
    parse_document(document, EXPORT_SOURCE)
    # allow_nan=False: a NaN would make a file that no JSON reader accepts; fail here instead.
    text = json.dumps(document, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
    if isinstance(target, Path):
        target.write_bytes(text.encode("utf-8"))
    else:
        target.write(text)
    return sum(exported_record_count(report) for report in reports)


# --- the parts of one episode -----------------------------------------------------------------------


def _episode(report: EpisodeReport) -> dict[str, Any]:
    return {
        "patient": {
            "mrn": report.mrn,
            "name": report.name,
            "birth_date": None if report.birth_date is None else report.birth_date.isoformat(),
            "sex": report.sex,
        },
        "episode": {
            "admitted_at": _time(report.admitted_at),
            "discharged_at": _time(report.discharged_at),
            "bed": report.bed,
            "substances": [_substance(use) for use in report.substances],
        },
        "assessments": [_assessment(a) for a in _assessments(report)],
        "doses": [_dose(d) for d in _doses(report)],
        "vitals": [_vital_signs(v) for v in _vitals(report)],
    }


def _assessments(report: EpisodeReport) -> list[ReportAssessment]:
    # root_id, not id: an assessment keeps its place among others at the same time when amended.
    return sorted(report.current_assessments(), key=lambda a: (a.taken_at, a.root_id))


def _doses(report: EpisodeReport) -> list[ReportDose]:
    return sorted((d for d in report.doses if not d.entered_in_error), key=lambda d: (d.given_at, d.id))


def _vitals(report: EpisodeReport) -> list[ReportVitals]:
    return sorted((v for v in report.vitals if not v.entered_in_error), key=lambda v: (v.taken_at, v.id))


def _substance(use: ReportSubstance) -> dict[str, Any]:
    return {
        "substance": use.substance,
        "last_use_at": _time(use.last_use_at),
        "amount": use.amount,
        "route": use.route,
    }


def _assessment(assessment: ReportAssessment) -> dict[str, Any]:
    return {
        "scale": COWS.code,  # the report model holds COWS only (its items are the COWS keys)
        "taken_at": _time(assessment.taken_at),
        "by": assessment.recorded_by,
        "items": {key: assessment.items[key] for key in COWS.keys},
        "pulse_bpm": assessment.pulse_bpm,
        "note": assessment.note,
    }


def _dose(dose: ReportDose) -> dict[str, Any]:
    return {
        "drug": dose.drug,
        "form": dose.form,
        "dose_mg": _mg(dose.dose_mg),
        "given_at": _time(dose.given_at),
        "by": dose.recorded_by,
    }


def _vital_signs(vitals: ReportVitals) -> dict[str, Any]:
    return {
        "taken_at": _time(vitals.taken_at),
        "pulse_bpm": vitals.pulse_bpm,
        "systolic": vitals.systolic,
        "diastolic": vitals.diastolic,
        "resp_rate": vitals.resp_rate,
        "spo2": vitals.spo2,
        "temp_c": vitals.temp_c,
        "by": vitals.recorded_by,
    }


# --- values -------------------------------------------------------------------------------------------


def _time(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive time {value!r} in a report: report times must be aware UTC")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _mg(value: float) -> int | float:
    """25 rather than 25.0: a whole dose reads as the nurse wrote it."""
    return int(value) if float(value).is_integer() else float(value)
