"""CSV tables for analysis: exact headers, every assessment version, spreadsheet-safe cells, filtering."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.domain.scales import COWS
from monitor.io.csv_safety import FORMULA_STARTS, spreadsheet_text
from monitor.io.csv_tables import (
    ALERT_HEADER,
    ASSESSMENT_HEADER,
    DOSE_HEADER,
    write_alerts_csv,
    write_assessments_csv,
    write_doses_csv,
)
from monitor.io.report_model import EpisodeReport
from monitor.services.clinical import ClinicalService
from tests.conftest import T0, FakeClock
from tests.report_helpers import MINUTE, chart_sample_episode

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def sample(service: ClinicalService, clock: FakeClock, nurse: str, physician: str) -> EpisodeReport:
    return chart_sample_episode(service, clock, nurse, physician).report


def table(
    writer: Callable[..., int], reports: list[EpisodeReport], **window: datetime
) -> tuple[int, list[dict[str, str]]]:
    """Write a table to a stream; returns the count and the rows as a spreadsheet-minded reader sees them."""
    stream = io.StringIO(newline="")
    count = writer(reports, stream, **window)
    rows = list(csv.DictReader(io.StringIO(stream.getvalue(), newline="")))
    assert len(rows) == count
    return count, rows


def test_headers_are_exact() -> None:
    assert ASSESSMENT_HEADER == (
        "mrn",
        "episode_id",
        "assessment_id",
        "root_id",
        "version",
        "status",
        "taken_at",
        "recorded_at",
        "recorded_by",
        "resting_pulse",
        "sweating",
        "restlessness",
        "pupil_size",
        "bone_joint_aches",
        "runny_nose_tearing",
        "gi_upset",
        "tremor",
        "yawning",
        "anxiety_irritability",
        "gooseflesh",
        "pulse_bpm",
        "total",
        "band",
        "note",
        "amend_reason",
        "void_reason",
    )
    assert ASSESSMENT_HEADER[9:20] == COWS.keys
    assert DOSE_HEADER == (
        "mrn",
        "episode_id",
        "dose_id",
        "given_at",
        "drug",
        "form",
        "dose_mg",
        "role",
        "recorded_by",
        "warnings",
        "warning_reason",
        "status",
        "void_reason",
    )
    assert ALERT_HEADER == (
        "mrn",
        "episode_id",
        "alert_id",
        "rule",
        "priority",
        "raised_at",
        "state",
        "message",
        "acknowledged_by",
        "acknowledged_at",
        "acknowledge_reason",
        "escalated_at",
        "resolved_at",
    )


def test_every_assessment_version_is_a_row(sample: EpisodeReport) -> None:
    count, rows = table(write_assessments_csv, [sample])
    assert count == 5
    assert [(r["taken_at"], r["version"], r["status"], r["total"], r["band"]) for r in rows] == [
        ("2026-11-20T09:00:00Z", "1", "current", "4", "below_mild"),
        ("2026-11-20T09:55:00Z", "1", "current", "17", "moderate"),
        ("2026-11-20T11:00:00Z", "1", "replaced", "9", "mild"),
        ("2026-11-20T11:00:00Z", "2", "current", "11", "mild"),
        ("2026-11-20T11:30:00Z", "1", "entered_in_error", "6", "mild"),
    ]
    for row in rows:
        assert sum(int(row[key]) for key in COWS.keys) == int(row["total"])
        assert (row["mrn"], row["episode_id"], row["recorded_by"]) == (
            "K-1001",
            str(sample.episode_id),
            "rn.lee",
        )
        assert row["pulse_bpm"] == ""  # not charted: an empty cell, not "None"
    replaced, amended = rows[2], rows[3]
    assert amended["root_id"] == replaced["root_id"] == replaced["assessment_id"] != amended["assessment_id"]
    assert (amended["amend_reason"], amended["recorded_at"]) == ("pupil size misread", "2026-11-20T11:05:00Z")
    assert replaced["amend_reason"] == ""
    assert (rows[4]["void_reason"], rows[3]["void_reason"]) == ("charted on the wrong patient", "")
    assert rows[1]["note"] == "sweating, gooseflesh"


def test_doses_with_warnings_and_entered_in_error(sample: EpisodeReport) -> None:
    count, rows = table(write_doses_csv, [sample])
    assert count == 3
    assert [(r["drug"], r["form"], r["dose_mg"], r["role"], r["status"]) for r in rows] == [
        ("naltrexone", "oral", "25", "antagonist", "current"),
        ("ondansetron", "oral", "4", "comfort", "current"),
        ("loperamide", "oral", "4", "comfort", "entered_in_error"),
    ]
    naltrexone = rows[0]
    assert naltrexone["given_at"] == "2026-11-20T09:05:00Z"
    assert (
        naltrexone["warnings"].startswith("Naltrexone 25 mg PO")
        and "opioid-free interval" in naltrexone["warnings"]
    )
    assert naltrexone["warning_reason"] == "rapid induction, Dr Rao agreed"
    assert rows[2]["void_reason"] == "charted on the wrong patient"


def test_several_warnings_are_joined(sample: EpisodeReport) -> None:
    dose = replace(sample.doses[0], warnings=("Too soon after kratom", "COWS not charted in the last hour"))
    _, rows = table(write_doses_csv, [replace(sample, doses=(dose,))])
    assert rows[0]["warnings"] == "Too soon after kratom | COWS not charted in the last hour"


def test_alerts_in_the_order_raised(sample: EpisodeReport) -> None:
    count, rows = table(write_alerts_csv, [sample])
    assert count == 3
    assert [(r["rule"], r["priority"], r["raised_at"], r["state"]) for r in rows] == [
        ("antagonist_too_soon", "high", "2026-11-20T09:05:00Z", "acknowledged"),
        ("reassessment_overdue", "medium", "2026-11-20T09:50:00Z", "resolved"),
        ("precipitated_withdrawal", "high", "2026-11-20T09:55:00Z", "acknowledged"),
    ]
    precipitated = rows[2]
    assert precipitated["message"] == "COWS 4 -> 17 (+13) 50 min after naltrexone 25 mg PO at 10:05"
    assert (precipitated["acknowledged_by"], precipitated["acknowledged_at"]) == (
        "rn.lee",
        "2026-11-20T09:58:00Z",
    )
    assert precipitated["acknowledge_reason"] == "Dr Rao informed, clonidine and ondansetron ordered"
    assert (precipitated["escalated_at"], precipitated["resolved_at"]) == ("", "")
    assert rows[1]["resolved_at"] == "2026-11-20T09:55:00Z"


def test_a_formula_looking_note_is_written_as_text(sample: EpisodeReport) -> None:
    first = replace(sample.assessments[0], note='=HYPERLINK("http://example.invalid","x")')
    report = replace(sample, assessments=(first, *sample.assessments[1:]))
    stream = io.StringIO(newline="")
    write_assessments_csv([report], stream)
    assert '\'=HYPERLINK(""http://example.invalid"",""x"")' in stream.getvalue()
    rows = list(csv.DictReader(io.StringIO(stream.getvalue(), newline="")))
    assert rows[0]["note"] == '\'=HYPERLINK("http://example.invalid","x")'


def test_every_formula_start_is_guarded_and_numbers_are_not(sample: EpisodeReport) -> None:
    for start in FORMULA_STARTS:
        assert spreadsheet_text(start + "1+1") == "'" + start + "1+1"
    assert spreadsheet_text("Dr Rao informed") == "Dr Rao informed"
    assert spreadsheet_text("") == ""
    # text columns are guarded wherever a person or a file could have put the text
    dose = replace(sample.doses[0], recorded_by="@nurse", warnings=("-1 day",), warning_reason="+ordered")
    _, [row] = table(write_doses_csv, [replace(sample, mrn="=K-1001", doses=(dose,))])
    assert (row["mrn"], row["recorded_by"], row["warnings"], row["warning_reason"]) == (
        "'=K-1001",
        "'@nurse",
        "'-1 day",
        "'+ordered",
    )
    assert row["dose_mg"] == "25"


@pytest.mark.parametrize(
    ("dose_mg", "cell"),
    [(25.0, "25"), (0.4, "0.4"), (2.88, "2.88"), (0.125, "0.125"), (1e-05, "0.00001"), (1500.0, "1500")],
)
def test_numbers_are_plain(sample: EpisodeReport, dose_mg: float, cell: str) -> None:
    dose = replace(sample.doses[0], dose_mg=dose_mg)
    _, [row] = table(write_doses_csv, [replace(sample, doses=(dose,))])
    assert row["dose_mg"] == cell


def test_a_file_has_a_bom_crlf_rows_and_reads_back(sample: EpisodeReport, tmp_path: Path) -> None:
    report = replace(sample, name="Zoë Ångström", mrn="K-1001-ü")
    target = tmp_path / "assessments.csv"
    assert write_assessments_csv([report], target) == 5
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.count(b"\r\n") == 6 and b"\n" not in raw.replace(b"\r\n", b"")
    with target.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.DictReader(stream)
        assert tuple(reader.fieldnames or ()) == ASSESSMENT_HEADER
        from_file = list(reader)
    _, from_stream = table(write_assessments_csv, [report])
    assert from_file == from_stream
    assert {r["mrn"] for r in from_file} == {"K-1001-ü"}


def test_a_note_with_newlines_and_quotes_survives(sample: EpisodeReport, tmp_path: Path) -> None:
    note = 'said "not again"\nvomited twice, 10:40'
    first = replace(sample.assessments[0], note=note)
    target = tmp_path / "a.csv"
    write_assessments_csv([replace(sample, assessments=(first,))], target)
    with target.open(encoding="utf-8-sig", newline="") as stream:
        [row] = list(csv.DictReader(stream))
    assert row["note"] == note


def test_several_episodes_in_one_table(sample: EpisodeReport) -> None:
    other = replace(sample, episode_id=42, mrn="K-2002")
    count, rows = table(write_doses_csv, [sample, other])
    assert count == 6
    assert [(r["mrn"], r["episode_id"]) for r in rows] == [("K-1001", str(sample.episode_id))] * 3 + [
        ("K-2002", "42")
    ] * 3


def test_since_and_until_keep_records_by_clinical_time_both_ends_included(sample: EpisodeReport) -> None:
    # 09:55 to 11:00 UTC, given as Berlin times (10:55 to 12:00)
    window = {"since": (T0 + 55 * MINUTE).astimezone(BERLIN), "until": (T0 + 120 * MINUTE).astimezone(BERLIN)}
    _, assessments = table(write_assessments_csv, [sample], **window)
    assert [(r["taken_at"], r["version"]) for r in assessments] == [
        ("2026-11-20T09:55:00Z", "1"),
        ("2026-11-20T11:00:00Z", "1"),
        ("2026-11-20T11:00:00Z", "2"),
    ]
    _, doses = table(write_doses_csv, [sample], **window)
    assert [r["drug"] for r in doses] == ["ondansetron", "loperamide"]
    _, alerts = table(write_alerts_csv, [sample], **window)
    assert [r["rule"] for r in alerts] == ["precipitated_withdrawal"]
    # either end may stay open
    assert table(write_doses_csv, [sample], since=T0 + 6 * MINUTE)[0] == 2
    assert table(write_alerts_csv, [sample], until=T0 + 50 * MINUTE)[0] == 2
    assert table(write_assessments_csv, [sample], since=T0 + timedelta(days=1))[0] == 0


def test_an_empty_table_still_has_its_header(sample: EpisodeReport) -> None:
    stream = io.StringIO(newline="")
    assert write_alerts_csv([], stream) == 0
    assert stream.getvalue() == ",".join(ALERT_HEADER) + "\r\n"


def test_a_window_needs_aware_times_in_order(sample: EpisodeReport) -> None:
    with pytest.raises(ValueError, match="since must be an aware datetime"):
        write_doses_csv([sample], io.StringIO(), since=datetime(2026, 11, 20, 9, 0))
    with pytest.raises(ValueError, match="is after until"):
        write_doses_csv([sample], io.StringIO(), since=T0 + MINUTE, until=T0)
