"""Parsing the episode file (shared/formats/episode-v1.md): exact, strict, errors name record and field."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from monitor.io.episode_json import EpisodeFileError, load_file, parse_document

# The example of the format document, verbatim.
EXAMPLE: dict[str, Any] = {
    "format": "withdrawal-monitor/episode@1",
    "patient": {"mrn": "K-1001", "name": "Alex Example", "birth_date": "1988-03-14", "sex": "male"},
    "episode": {
        "admitted_at": "2026-11-20T08:00:00Z",
        "discharged_at": None,
        "bed": "3B",
        "substances": [
            {
                "substance": "kratom",
                "last_use_at": "2026-11-19T21:00:00Z",
                "amount": "35 g/day",
                "route": "oral",
            }
        ],
    },
    "assessments": [
        {
            "scale": "COWS",
            "taken_at": "2026-11-20T09:00:00Z",
            "by": "rn.lee",
            "items": {
                "resting_pulse": 1,
                "sweating": 0,
                "restlessness": 1,
                "pupil_size": 1,
                "bone_joint_aches": 1,
                "runny_nose_tearing": 0,
                "gi_upset": 0,
                "tremor": 0,
                "yawning": 1,
                "anxiety_irritability": 1,
                "gooseflesh": 0,
            },
            "pulse_bpm": 88,
            "note": "",
        }
    ],
    "doses": [
        {
            "drug": "naltrexone",
            "form": "oral",
            "dose_mg": 25,
            "given_at": "2026-11-20T09:05:00Z",
            "by": "rn.lee",
        }
    ],
    "vitals": [
        {
            "taken_at": "2026-11-20T09:00:00Z",
            "pulse_bpm": 88,
            "systolic": 128,
            "diastolic": 82,
            "resp_rate": 16,
            "spo2": 98,
            "temp_c": 36.9,
            "by": "rn.lee",
        }
    ],
}


def example() -> dict[str, Any]:
    return copy.deepcopy(EXAMPLE)


def test_the_format_documents_example_parses_with_every_value() -> None:
    [episode] = parse_document(example(), "example.json")
    assert episode.patient.mrn == "K-1001" and episode.patient.sex == "male"
    assert str(episode.patient.birth_date) == "1988-03-14"
    assert episode.admitted_at == datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    assert episode.bed == "3B"
    assert [(s.substance, s.amount, s.route) for s in episode.substances] == [("kratom", "35 g/day", "oral")]
    [cows] = episode.assessments
    assert sum(cows.items.values()) == 6 and cows.pulse_bpm == 88 and cows.by == "rn.lee"
    [dose] = episode.doses
    assert (dose.drug, dose.form, dose.dose_mg, dose.given_at.minute) == ("naltrexone", "oral", 25.0, 5)
    [vitals] = episode.vitals
    assert (vitals.systolic, vitals.diastolic, vitals.spo2, vitals.temp_c) == (128, 82, 98, 36.9)


def test_offsets_are_converted_to_utc() -> None:
    data = example()
    data["assessments"][0]["taken_at"] = "2026-11-20T10:00:00+01:00"
    [episode] = parse_document(data)
    assert episode.assessments[0].taken_at == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def test_a_list_of_episodes_in_one_file() -> None:
    first = example()
    del first["format"]
    second = copy.deepcopy(first)
    second["patient"]["mrn"] = "K-1002"
    episodes = parse_document({"format": "withdrawal-monitor/episodes@1", "episodes": [first, second]})
    assert [e.patient.mrn for e in episodes] == ["K-1001", "K-1002"]
    assert [e.where for e in episodes] == ["episodes[0]", "episodes[1]"]


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    target: Any = data
    parts = path.split(".")
    for part in parts[:-1]:
        target = target[int(part)] if isinstance(target, list) else target[part]
    last = parts[-1]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value


_DELETE = object()

BAD = [
    ("assessments.0.items.sweating", 5, "assessments[0].items.sweating", "allowed: 0, 1, 2, 3, 4"),
    ("assessments.0.items.restlessness", 2, "assessments[0].items.restlessness", "allowed: 0, 1, 3, 5"),
    ("assessments.0.items.gooseflesh", _DELETE, "assessments[0].items.gooseflesh", "is missing"),
    ("assessments.0.items.sweatng", 0, "assessments[0].items.sweatng", "unknown item"),
    ("assessments.0.taken_at", "2026-11-20T09:00:00", "assessments[0].taken_at", "has no offset"),
    ("assessments.0.taken_at", "yesterday", "assessments[0].taken_at", "not an ISO 8601 time"),
    ("assessments.0.pulse_bpm", 130, "assessments[0].items.resting_pulse", "scores 4"),
    ("assessments.0.pulse_bpm", 400, "assessments[0].pulse_bpm", "not plausible"),
    ("assessments.0.scale", "CIWA", "assessments[0].scale", "must be one of COWS"),
    ("assessments.0.colour", "red", "assessments[0].colour", "unknown key"),
    ("doses.0.dose_mg", 0, "doses[0].dose_mg", "more than 0 mg"),
    ("doses.0.dose_mg", "25", "doses[0].dose_mg", "must be a number"),
    ("doses.0.form", "iv", "doses[0].form", "oral"),
    ("doses.0.drug", "naltrexon", "doses[0].drug", "naltrexone"),
    ("vitals.0.diastolic", 140, "vitals[0].diastolic", "below systolic"),
    ("vitals.0.pulse_bpm", 0, "vitals[0].pulse_bpm", "not plausible"),
    ("episode.substances.0.substance", "krattom", "episode.substances[0].substance", "kratom"),
    ("episode.discharged_at", "2026-11-19T08:00:00Z", "episode.discharged_at", "before admitted_at"),
    ("episode.discharged_at", "2026-11-20T09:02:00Z", "doses[0].given_at", "is after the discharge"),
    ("patient.name", "", "patient.name", "must not be empty"),
    ("patient.mrn", _DELETE, "patient.mrn", "is required"),
    ("patient.sex", "M", "patient.sex", "female, male, other, unknown"),
    ("format", "withdrawal-monitor/episode@2", "format", "must be"),
]


@pytest.mark.parametrize(("path", "value", "where", "says"), BAD)
def test_bad_input_names_the_record_and_the_field(path: str, value: Any, where: str, says: str) -> None:
    data = example()
    _set(data, path, value)
    with pytest.raises(EpisodeFileError) as error:
        parse_document(data, "ward.json")
    assert error.value.where == where
    assert says in error.value.problem
    assert str(error.value).startswith(f"ward.json: {where}: ")


def test_broken_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"format": "withdrawal-monitor/episode@1",\n  "patient": {,}\n}')
    with pytest.raises(EpisodeFileError) as error:
        load_file(path)
    assert error.value.where == "line 2 column 15"  # the stray comma


def test_file_round_trip_through_disk(tmp_path: Path) -> None:
    path = tmp_path / "alex.json"
    path.write_text(json.dumps(example()), encoding="utf-8")
    [episode] = load_file(path)
    assert episode.patient.name == "Alex Example"
